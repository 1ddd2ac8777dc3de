"""Bad input to the API (the reliability issue): every value that is not what its type or range says
is refused with a package error naming the argument; nothing is coerced from strings or truthiness,
nothing allocates without bound, and output paths are checked before anything is written."""

from __future__ import annotations

import errno
import os
import zipfile
from pathlib import Path

import numpy as np
import pytest

from stronglth import _validate, random_target
from stronglth._io import atomic_write, check_input_file, check_output_path, write_csv, write_text
from stronglth.cli.demo import run_demo
from stronglth.errors import InvalidInputError, StrongLTHError, TicketFormatError, TooLargeError
from stronglth.target import MAX_TARGET_PARAMETERS, load_target
from stronglth.verification import adversarial_search, sampled_error, unit_sphere_points
from stronglth.verification.sampled import MAX_SAMPLES, sphere_point_batches

# -- booleans ----------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["no", "yes", "True", 0, 1, None, 1.0, [True], np.array([True])])
def test_boolean_refuses_what_is_not_a_bool(value):
    with pytest.raises(InvalidInputError, match="negative_half_everywhere must be True or False"):
        _validate.boolean(value, "negative_half_everywhere")


def test_boolean_and_optional_boolean_accept_bools():
    assert _validate.boolean(True, "x") is True and _validate.boolean(np.bool_(False), "x") is False
    assert _validate.optional_boolean(None, "progress") is None and _validate.optional_boolean(True, "progress") is True
    with pytest.raises(InvalidInputError, match="progress must be True, False or None"):
        _validate.optional_boolean("auto", "progress")


@pytest.mark.parametrize("value", [-1, 2.0, True, "3"])
def test_non_negative_int_refuses(value):
    with pytest.raises(InvalidInputError, match="steps must be a non-negative integer"):
        _validate.non_negative_int(value, "steps")


@pytest.mark.parametrize("value", [-0.5, float("nan"), float("inf"), "0.1", False])
def test_non_negative_float_refuses(value):
    with pytest.raises(InvalidInputError, match="momentum must be a"):
        _validate.non_negative_float(value, "momentum")


# -- targets -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(d=True), "d must be a positive integer"),
        (dict(d=4.0), "d must be a positive integer"),
        (dict(d="4"), "d must be a positive integer"),
        (dict(d=-1), "d must be a positive integer"),
        (dict(widths="88"), "widths must be a sequence"),
        (dict(widths={8}), "widths must be a sequence"),
        (dict(widths=[8.0]), r"widths\[0\] must be a positive integer"),
        (dict(widths=[True]), r"widths\[0\] must be a positive integer"),
        (dict(widths=[[8]]), r"widths\[0\] must be a positive integer"),
        (dict(widths=np.array([8.0, 1.0])), r"widths\[0\] must be a positive integer"),
        (dict(family=None), "unknown target family"),
        (dict(family=["gaussian"]), "unknown target family"),
        (dict(family="Gaussian"), "unknown target family"),
        (dict(seed=1.0), "seed must be a non-negative integer"),
        (dict(seed=True), "seed must be a non-negative integer"),
        (dict(seed="0"), "seed must be a non-negative integer"),
    ],
)
def test_random_target_refuses_every_bad_argument(kwargs, message):
    arguments = dict(d=4, widths=[8, 1], seed=0) | kwargs
    with pytest.raises(InvalidInputError, match=message):
        random_target(**arguments)


@pytest.mark.parametrize("d, widths", [(10**6, [10**6]), (2**13, [2**13, 2**13]), (1, [MAX_TARGET_PARAMETERS + 1])])
def test_random_target_refuses_more_than_the_limit_before_allocating(d, widths):
    with pytest.raises(TooLargeError, match=f"more than the limit of {MAX_TARGET_PARAMETERS:,}"):
        random_target(d, widths, seed=0)


def test_max_norm_target_of_a_wide_power_of_two_stays_small():
    # the Sylvester-Hadamard rows are computed, not cut out of an n x n matrix (2**40 entries here)
    target = random_target(2**20, [2], seed=0, family="max_norm")
    assert np.all(np.abs(target.weights[0]) == 2.0**-10)


def test_load_target_refuses_a_file_that_inflates_beyond_the_limit(tmp_path):
    header = {"descr": "<f8", "fortran_order": False, "shape": (2**20, 2**20)}
    path = tmp_path / "bomb.npz"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive, archive.open("W_1.npy", "w") as member:
        np.lib.format.write_array_header_1_0(member, header)
        member.write(b"\0" * 1024)
    assert path.stat().st_size < 10_000
    with pytest.raises(TooLargeError, match="1,099,511,627,776 weights"):
        load_target(path)


@pytest.mark.parametrize("content", [b"", b"not an archive", b"\x93NUMPY garbage"])
def test_load_target_refuses_unreadable_files(tmp_path, content):
    (tmp_path / "t.npz").write_bytes(content)
    with pytest.raises(TicketFormatError, match="not a readable .npz"):
        load_target(tmp_path / "t.npz")


@pytest.mark.parametrize("dtype", ["float16", "double", "int64", 64, float, None.__class__])
def test_to_torch_refuses_what_is_not_a_float_dtype(dtype):
    pytest.importorskip("torch")
    with pytest.raises(InvalidInputError, match="dtype must be a torch floating-point dtype"):
        random_target(3, [2], seed=0).to_torch(dtype)


def test_to_torch_refuses_integer_and_complex_torch_dtypes_and_takes_the_two_names():
    torch = pytest.importorskip("torch")
    target = random_target(3, [2], seed=0)
    for dtype in (torch.int64, torch.complex64, torch.bool):
        with pytest.raises(InvalidInputError, match="dtype"):
            target.to_torch(dtype)
    assert target.to_torch("float64")[0].weight.dtype == torch.float64
    assert target.to_torch("float32")[0].weight.dtype == torch.float32
    assert target.to_torch(torch.float32)[0].weight.dtype == torch.float32


# -- sampled and adversarial errors: counts, and bounded memory -----------------------------------


@pytest.fixture(scope="module")
def pair():
    return random_target(3, [4, 1], seed=0), random_target(3, [4, 1], seed=1)


@pytest.mark.parametrize(
    "options, error, message",
    [
        (dict(n=0), InvalidInputError, "n must be a positive integer"),
        (dict(n=-5), InvalidInputError, "n must be a positive integer"),
        (dict(n=1.5), InvalidInputError, "n must be a positive integer"),
        (dict(n=True), InvalidInputError, "n must be a positive integer"),
        (dict(n="100"), InvalidInputError, "n must be a positive integer"),
        (dict(n=10**9 * 11), TooLargeError, "more than the limit"),
        (dict(seed=-1), InvalidInputError, "seed"),
        (dict(batch=0), InvalidInputError, "batch must be a positive integer"),
        (dict(norm="L2"), InvalidInputError, "norm must be one of"),
    ],
)
def test_sampled_error_refuses(pair, options, error, message):
    with pytest.raises(error, match=message):
        sampled_error(*pair, **options)


@pytest.mark.parametrize(
    "options, error, message",
    [
        (dict(starts=0), InvalidInputError, "starts must be a positive integer"),
        (dict(starts=2.0), InvalidInputError, "starts must be a positive integer"),
        (dict(steps=-1), InvalidInputError, "steps must be a non-negative integer"),
        (dict(steps=0.5), InvalidInputError, "steps must be a non-negative integer"),
        (dict(n=MAX_SAMPLES + 1), TooLargeError, "MAX_SAMPLES"),
        (dict(n=10**9, starts=10**9), TooLargeError, "fewer starts"),
    ],
)
def test_adversarial_search_refuses(pair, options, error, message):
    with pytest.raises(error, match=message):
        adversarial_search(*pair, **options)


def test_unit_sphere_points_refuses_more_than_it_may_hold():
    with pytest.raises(TooLargeError, match="sphere_point_batches"):
        unit_sphere_points(20_000, 10**5, seed=0)
    with pytest.raises(InvalidInputError, match="rows must be a positive integer"):
        next(sphere_point_batches(3, 10, seed=0, rows=0))


def test_a_billion_samples_is_not_refused_for_memory(pair, monkeypatch):
    """n = 10**9 once raised MemoryError; now the points come in blocks: stop after the first two."""
    import stronglth.verification.sampled as sampled

    drawn = []
    real = sampled.draw_blocks

    def two_blocks(*args, **kwargs):
        for i, item in enumerate(real(*args, **kwargs)):
            drawn.append(item[2].shape)
            if i == 1:
                return
            yield item

    monkeypatch.setattr(sampled, "draw_blocks", two_blocks)
    value, point = sampled_error(*pair, n=10**9)
    assert value >= 0 and point.shape == (3,) and drawn[0] == (65_536, 3)


# -- run_demo ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs, message", [(dict(jobs=0), "jobs"), (dict(jobs=-1), "jobs"), (dict(jobs=2.0), "jobs"), (dict(seed=-1), "seed")]
)
def test_run_demo_refuses_before_running(kwargs, message, capsys):
    with pytest.raises(InvalidInputError, match=message):
        run_demo(**kwargs)
    assert capsys.readouterr().out == ""


# -- output paths --------------------------------------------------------------------------------


@pytest.fixture
def place(tmp_path: Path) -> Path:
    (tmp_path / "file.npz").write_text("mine")
    (tmp_path / "dir").mkdir()
    return tmp_path


@pytest.mark.parametrize(
    "relative, options, message",
    [
        ("dir", dict(), "it is a directory"),
        ("file.npz/t.npz", dict(), "under a file"),
        ("missing/t.npz", dict(), "does not exist"),
        ("t.txt", dict(suffix=".npz"), "must be a .npz file"),
        ("t", dict(suffix=".npz"), "must be a .npz file"),
        ("file.npz", dict(kind="directory"), "not a directory"),
        ("file.npz/sub/deeper", dict(kind="directory"), "under a file"),
        ("t.npz", dict(kind="dir"), "kind must be"),
        ("t.npz", dict(suffix="npz"), "suffix must be"),
        ("out", dict(kind="directory", suffix=".npz"), "suffix is for kind='file'"),
    ],
)
def test_check_output_path_refuses(place, relative, options, message):
    before = sorted(place.rglob("*"))
    with pytest.raises(InvalidInputError, match=message) as info:
        check_output_path(place / relative, **options)
    assert str(place / relative) in str(info.value) or "kind" in message or "suffix" in message
    assert sorted(place.rglob("*")) == before, "nothing is created"


@pytest.mark.parametrize("path", [None, 3, b"t.npz", ""])
def test_check_output_path_refuses_what_is_not_a_path(path):
    with pytest.raises(InvalidInputError, match="output path"):
        check_output_path(path)


def test_check_output_path_refuses_a_device():
    with pytest.raises(InvalidInputError, match="not a regular file"):
        check_output_path(os.devnull)


def test_check_output_path_accepts_what_can_be_written(place):
    assert check_output_path(place / "file.npz", suffix=".npz") == place / "file.npz"  # replaced atomically
    assert check_output_path(place / "dir" / "t.npz") == place / "dir" / "t.npz"
    assert check_output_path(place / "dir", kind="directory") == place / "dir"
    assert check_output_path(place / "new" / "deeper", kind="directory") == place / "new" / "deeper"
    assert not (place / "new").exists()


@pytest.mark.parametrize("kind, relative", [("file", "dir/t.npz"), ("directory", "dir"), ("directory", "dir/new/deeper")])
def test_check_output_path_refuses_a_read_only_directory(place, monkeypatch, kind, relative):
    """What chmod 0o555 gives a user (root ignores it; so ``os.access``, the check made, is patched)."""
    real = os.access
    monkeypatch.setattr(os, "access", lambda p, mode, **kw: False if Path(p) == place / "dir" else real(p, mode, **kw))
    with pytest.raises(InvalidInputError, match=f"{place / 'dir'} is not writable"):
        check_output_path(place / relative, kind=kind)


@pytest.mark.parametrize("relative, message", [("dir", "is a directory"), ("absent.npz", "no such"), ("file.npz/x", "no such")])
def test_check_input_file_refuses(place, relative, message):
    with pytest.raises(InvalidInputError, match=message):
        check_input_file(place / relative, what="ticket file")


def test_check_input_file_refuses_a_device_and_an_unreadable_file(place, monkeypatch):
    with pytest.raises(InvalidInputError, match="not a regular file"):
        check_input_file(os.devnull)
    monkeypatch.setattr(os, "access", lambda p, mode, **kw: False)
    with pytest.raises(InvalidInputError, match="not readable"):
        check_input_file(place / "file.npz")


# -- atomic writes in a hostile environment ------------------------------------------------------


def _oserror(code: int):
    def fail(*args, **kwargs):
        raise OSError(code, os.strerror(code))

    return fail


@pytest.mark.parametrize("where", ["os.replace", "os.fsync", "tempfile.mkstemp", "write"])
@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EROFS, errno.EACCES])
def test_atomic_write_turns_os_errors_into_one_package_error_and_leaves_nothing(tmp_path, monkeypatch, where, code):
    import tempfile

    path = tmp_path / "out.txt"
    if where == "os.replace":
        monkeypatch.setattr(os, "replace", _oserror(code))
    elif where == "os.fsync":
        monkeypatch.setattr(os, "fsync", _oserror(code))
    elif where == "tempfile.mkstemp":
        monkeypatch.setattr(tempfile, "mkstemp", _oserror(code))
    with pytest.raises(InvalidInputError, match=f"{path}: cannot write: {os.strerror(code)}") as info:
        with atomic_write(path) as f:
            if where == "write":
                raise OSError(code, os.strerror(code))
            f.write("text")
    assert isinstance(info.value, StrongLTHError) and isinstance(info.value.__cause__, OSError)
    assert list(tmp_path.iterdir()) == [], "no file, no temporary file"


def test_atomic_write_keeps_the_old_file_when_the_disk_is_full(tmp_path, monkeypatch):
    path = write_text(tmp_path / "out.txt", "old\n")
    monkeypatch.setattr(os, "replace", _oserror(errno.ENOSPC))
    with pytest.raises(InvalidInputError, match="No space left on device"):
        write_csv(path, [{"a": 1.0}])
    assert path.read_text() == "old\n" and list(tmp_path.iterdir()) == [path]


def test_atomic_write_onto_a_directory_or_under_a_file(tmp_path):
    (tmp_path / "dir").mkdir()
    (tmp_path / "file").write_text("")
    with pytest.raises(InvalidInputError, match="cannot write"):
        write_text(tmp_path / "dir", "x")
    with pytest.raises(InvalidInputError, match="cannot write"):
        write_text(tmp_path / "file" / "x.txt", "x")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dir", "file"] and list((tmp_path / "dir").iterdir()) == []


def test_atomic_write_lets_other_errors_through_and_cleans_up(tmp_path):
    with pytest.raises(KeyError):
        with atomic_write(tmp_path / "out.txt") as f:
            f.write("partial")
            raise KeyError("boom")
    assert list(tmp_path.iterdir()) == []
