"""Hostile and careless ticket files (the reliability issue): each is refused with one package error
naming the problem, before anything it does not really hold is inflated or allocated.

The files are written here, small, with zipfile and numpy.lib.format. Those that cost gigabytes
before (zip bombs, lying npy headers, huge shapes, huge meta) are loaded, audited and, when they
load, verified in a subprocess under a 1 GiB address-space cap (torch is not imported there), which
must end with the package error, never a MemoryError.
"""

from __future__ import annotations

import io
import json
import os
import re
import struct
import subprocess
import sys
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stronglth import RandomNetwork, StrongLTHError, Ticket, TicketAuditError, TicketFormatError, TooLargeError, random_target

MiB = 2**20
DROP = object()


def good_ticket() -> Ticket:
    network = RandomNetwork([(6, 2), (2, 6)], seed=8)
    positions = [([0, 3], [0, 1]), ([0, 1], [3, 0])]
    return Ticket.from_positions(network, positions, target=random_target(2, [2], seed=0), meta={"method": "test"})


@pytest.fixture(scope="module")
def good(tmp_path_factory) -> dict[str, np.ndarray]:
    path = good_ticket().save(tmp_path_factory.mktemp("good") / "good.npz")
    with np.load(path) as z:
        return {k: z[k] for k in z.files}


def npy(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, np.asanyarray(array), allow_pickle=True)
    return buffer.getvalue()


def write(path: Path, members: dict[str, object], compression: int = zipfile.ZIP_STORED) -> Path:
    """A zip of ``members``: arrays become ``<key>.npy``, bytes are written under the name as given."""
    with zipfile.ZipFile(path, "w", compression=compression) as zf, warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # a member written twice, on purpose
        for name, value in members.items():
            if isinstance(value, bytes):
                zf.writestr(name, value)
            else:
                zf.writestr(f"{name}.npy", npy(value))  # type: ignore[arg-type]
    return path


def swap(members: dict[str, np.ndarray], key: str, raw: bytes) -> dict[str, object]:
    """``members`` with member ``key`` replaced by the bytes ``raw``."""
    return {**{k: v for k, v in members.items() if k != key}, f"{key}.npy": raw}


def with_meta(members: dict[str, np.ndarray], raw: str | None = None, **changes: object) -> dict[str, object]:
    meta = json.loads(str(members["meta"]))
    meta.update(changes)
    meta = {k: v for k, v in meta.items() if v is not DROP}
    return {**members, "meta": np.array(raw if raw is not None else json.dumps(meta))}


def patch_directory(path: Path, name: str, *, size: int | None = None, flags: int | None = None, method: int | None = None):
    """Rewrite the central-directory entry of member ``name``: what a reader sees before opening it."""
    data = bytearray(path.read_bytes())
    end = data.rfind(b"PK\x05\x06")
    count, _, offset = struct.unpack_from("<HII", data, end + 10)
    pos = offset
    for _ in range(count):
        n, m, k = struct.unpack_from("<HHH", data, pos + 28)
        if bytes(data[pos + 46 : pos + 46 + n]).decode() == name:
            if flags is not None:
                struct.pack_into("<H", data, pos + 8, flags)
            if method is not None:
                struct.pack_into("<H", data, pos + 10, method)
            if size is not None:
                struct.pack_into("<I", data, pos + 24, size)
        pos += 46 + n + m + k
    path.write_bytes(bytes(data))
    return path


def bomb(path: Path, members: dict[str, object], name: str, head: bytes = b"", size: int = 200 * MiB) -> Path:
    """``members`` plus member ``name``: ``head`` then zeros, ``size`` bytes in all, deflated (~200 KB)."""
    write(path, members)
    with zipfile.ZipFile(path, "a") as zf:
        info = zipfile.ZipInfo(name)
        info.compress_type = zipfile.ZIP_DEFLATED
        with zf.open(info, "w") as f:
            f.write(head)
            left = size - len(head)
            while left:
                f.write(bytes(min(left, MiB)))
                left -= min(left, MiB)
    return path


def npy_head(dtype: str, shape: tuple[int, ...]) -> bytes:
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(buffer, {"descr": dtype, "fortran_order": False, "shape": shape})
    return buffer.getvalue()


CAPPED = """
import json, resource, sys
resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))
from stronglth import StrongLTHError, Ticket, verify
out = {}
try:
    ticket = Ticket.load(sys.argv[1])  # audits
    ticket.audit()
    out["live_widths"] = ticket.live_widths
    if ticket.target is not None:
        out["sampled"] = verify(ticket, samples=100).sampled
    out["outcome"] = "loaded"
except StrongLTHError as exc:
    out.update(outcome="refused", error=type(exc).__name__, message=str(exc))
except MemoryError:
    out["outcome"] = "MemoryError"
try:  # the peak resident memory of this process (ru_maxrss would count the parent's, from before exec)
    out["peak_mib"] = int(open("/proc/self/status").read().split("VmHWM:")[1].split()[0]) / 1024
except (OSError, IndexError):
    out["peak_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps(out))
"""


def run_capped(path: Path) -> dict:
    """Load, audit and (when it loads with a target) verify ``path`` under a 1 GiB address-space cap."""
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    done = subprocess.run([sys.executable, "-c", CAPPED, str(path)], capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "torch" not in done.stderr
    return json.loads(done.stdout.splitlines()[-1])


def big_shapes(rows: object, seed: int = 8) -> dict[str, object]:
    """A file claiming G's hidden width ``rows`` (one entry per matrix, no target)."""
    entries = [([0], [0]), ([0], [0])]
    network = RandomNetwork([(6, 2), (2, 6)], seed=seed)
    ticket = Ticket.from_positions(network, entries)
    members: dict[str, object] = {"meta": np.array("")}
    for t, e in enumerate(ticket.entries, start=1):
        members.update({f"rows_{t}": e.rows, f"cols_{t}": e.cols, f"vals_{t}": e.vals})
    meta = {"format": "stronglth-ticket/1", "generator": "pcg64-seedseq-v1", "seed": seed, "shapes": [[rows, 2], [2, rows]]}
    meta.update(method=None, eps=None, delta=None, certified_error=None)
    members["meta"] = np.array(json.dumps(meta))
    return members


# (id, builder(path, good) -> written path, error, message, run under the memory cap)
CASES = [
    # -- not an .npz at all
    ("empty-file", lambda p, g: (p.write_bytes(b""), p)[1], TicketFormatError, "empty file", False),
    ("random-bytes", lambda p, g: (p.write_bytes(np.random.default_rng(0).bytes(4096)), p)[1], TicketFormatError,
     "not an .npz archive: a zip file is expected", False),
    ("plain-npy-renamed", lambda p, g: (p.write_bytes(npy(np.arange(5))), p)[1], TicketFormatError, "plain .npy", False),
    ("a-pickle", lambda p, g: (p.write_bytes(b"\x80\x04\x95" + bytes(20)), p)[1], TicketFormatError, "pickle", False),
    # -- the zip directory, checked before anything is inflated
    ("member-without-npy-suffix", lambda p, g: write(p, {**g, "notes.txt": b"hello"}), TicketFormatError,
     "'notes.txt' is not a .npy array", False),
    ("member-twice", lambda p, g: write(p, {**g, "rows_1.npy": npy(g["rows_1"])}), TicketFormatError, "appears twice", False),
    ("encrypted-member", lambda p, g: patch_directory(write(p, g), "vals_1.npy", flags=0x1), TicketFormatError,
     "'vals_1.npy' is encrypted", False),
    ("bzip2-member", lambda p, g: patch_directory(write(p, g), "rows_2.npy", method=12), TicketFormatError,
     r"compression method 12 \(bzip2\)", False),
    ("unknown-compression", lambda p, g: patch_directory(write(p, g), "rows_2.npy", method=99), TicketFormatError,
     r"compression method 99 \(unknown\)", False),
    ("member-declares-3-GiB", lambda p, g: patch_directory(write(p, g), "vals_2.npy", size=3 * 2**30), TooLargeError,
     "'vals_2.npy' declares 3 GiB .* above the limit of 1 GiB", True),
    ("members-declare-5-GiB", lambda p, g: [patch_directory(write(p, g) if i == 1 else p, f"{k}_{i}.npy", size=2**30 - 1)
                                             for i in (1, 2) for k in ("rows", "cols", "vals")][-1], TooLargeError,
     "together, above the limit of 4 GiB", True),
    # -- zip bombs: 200 MB of zeros deflated to ~200 KB, with the size declared in the directory
    ("bomb-junk-key", lambda p, g: bomb(p, g, "junk.npy"), TicketFormatError, "unexpected keys junk", True),
    ("bomb-no-npy-magic", lambda p, g: bomb(p, {k: v for k, v in g.items() if k != "rows_1"}, "rows_1.npy"),
     TicketFormatError, "rows_1.npy is not a readable .npy array", True),
    ("bomb-length-differs", lambda p, g: bomb(p, {k: v for k, v in g.items() if k != "rows_1"}, "rows_1.npy",
                                              npy_head("<i8", ((200 * MiB - 128) // 8,))), TicketFormatError,
     r"rows_1, cols_1, vals_1 differ in length \(26214384, 2, 2\)", True),
    ("bomb-more-entries-than-positions", lambda p, g: _three_bombs(p, g), TicketFormatError,
     r"M_1 keeps 8,388,607 entries but has only 6 x 2 positions", True),
    ("npy-header-declares-8-TiB", lambda p, g: write(p, swap(g, "vals_1", npy_head("<f8", (2**40,)) + bytes(16))),
     TicketFormatError, r"vals_1.npy: its npy header declares shape \(1099511627776,\) of float64 = 8 TiB", True),
    ("npy-header-declares-more", lambda p, g: write(p, swap(g, "rows_1", npy_head("<i8", (3,)) + g["rows_1"].tobytes())),
     TicketFormatError, "declares shape .3,. of int64 = 24 bytes of data, but the member holds 16 bytes", False),
    ("npy-version-9", lambda p, g: write(p, swap(g, "cols_1", b"\x93NUMPY\x09\x00" + npy(g["cols_1"])[8:])),
     TicketFormatError, r"npy format version \(9, 0\)", False),
    ("pickled-object-member", lambda p, g: write(p, {**g, "rows_1": np.array([0, "x"], dtype=object)}), TicketFormatError,
     "pickled objects", False),
    ("corrupt-member-crc", lambda p, g: _flip_last_data_byte(write(p, g), "vals_2.npy"), TicketFormatError,
     "vals_2.npy is not a readable .npy array .Bad CRC-32", False),
    # -- meta: bounded JSON
    ("meta-not-a-string", lambda p, g: write(p, {**g, "meta": np.float64(1.0)}), TicketFormatError,
     "'meta' must be a 0-d unicode string", False),
    ("meta-over-1-MiB", lambda p, g: write(p, with_meta(g, padding="x" * MiB), zipfile.ZIP_DEFLATED), TicketFormatError,
     r"'meta' must be a 0-d unicode string of at most 1,048,576 characters .a JSON text., got dtype <U1048\d\d\d", True),
    ("meta-nested-100000-deep", lambda p, g: write(p, with_meta(g, raw='{"a": ' + "[" * 100_000 + "]" * 100_000 + "}")),
     TicketFormatError, "nests more levels deep than the parser's recursion limit; the limit is 32", True),
    ("meta-nested-40-deep", lambda p, g: write(p, with_meta(g, deep=json.loads("[" * 40 + "]" * 40))), TicketFormatError,
     "'meta' nests 41 levels deep, above the limit of 32", False),
    ("meta-500000-escaped-quotes", lambda p, g: write(p, with_meta(g, raw='{"a": "' + '\\"' * 500_000), zipfile.ZIP_DEFLATED),
     TicketFormatError,
     "'meta' is not valid JSON .Unterminated string", False),
    ("meta-a-json-list", lambda p, g: write(p, with_meta(g, raw="[1, 2]")), TicketFormatError, "not a JSON object", False),
    ("meta-NaN", lambda p, g: write(p, with_meta(g, raw=str(g["meta"]).replace('"delta": null', '"delta": NaN'))),
     TicketFormatError, "NaN is not a JSON number", False),
    ("meta-Infinity", lambda p, g: write(p, with_meta(g, raw=str(g["meta"]).replace('"eps": null', '"eps": -Infinity'))),
     TicketFormatError, "-Infinity is not a JSON number", False),
    ("meta-1e999", lambda p, g: write(p, with_meta(g, raw=str(g["meta"]).replace('"eps": null', '"eps": 1e999'))),
     TicketFormatError, "the number '1e999' is not finite", False),
    ("meta-key-twice", lambda p, g: write(p, with_meta(g, raw=str(g["meta"]).replace('"seed": 8', '"seed": 8, "seed": 9'))),
     TicketFormatError, "the key 'seed' appears twice", False),
    ("meta-lacks-format", lambda p, g: write(p, with_meta(g, format=DROP)), TicketFormatError, "meta lacks format", False),
    # -- meta fields of the wrong type or value
    ("certified-error-abc", lambda p, g: write(p, with_meta(g, certified_error="abc")), TicketFormatError,
     "certified_error must be None .null. or a finite number >= 0, got 'abc'", False),
    ("certified-error-list", lambda p, g: write(p, with_meta(g, certified_error=[1])), TicketFormatError,
     r"certified_error must be None .null. or a finite number >= 0, got \[1\]", False),
    ("certified-error-string-number", lambda p, g: write(p, with_meta(g, certified_error="0.5")), TicketFormatError,
     "certified_error must be None .null. or a finite number >= 0, got '0.5'", False),
    ("certified-error-true", lambda p, g: write(p, with_meta(g, certified_error=True)), TicketFormatError,
     "certified_error must be None .null. or a finite number >= 0, got True", False),
    ("certified-error-negative", lambda p, g: write(p, with_meta(g, certified_error=-0.5)), TicketFormatError,
     "certified_error must be None .null. or a finite number >= 0, got -0.5", False),
    ("certified-error-Infinity", lambda p, g: write(p, with_meta(g, raw=str(g["meta"]).replace('"certified_error": null',
                                                                                               '"certified_error": Infinity'))),
     TicketFormatError, "Infinity is not a JSON number", False),
    ("certified-error-huge-int", lambda p, g: write(p, with_meta(g, certified_error=10**400)), TicketFormatError,
     "certified_error must be None .null. or a finite number >= 0, got 1000000", False),
    ("version-a-list", lambda p, g: write(p, with_meta(g, version=[0, 1])), TicketFormatError,
     r"version must be a string when present, got \[0, 1\]", False),
    ("seed-true", lambda p, g: write(p, with_meta(g, seed=True)), TicketFormatError,
     "seed must be a non-negative integer, got True", False),
    ("seed-float", lambda p, g: write(p, with_meta(g, seed=8.0)), TicketFormatError,
     "seed must be a non-negative integer, got 8.0", False),
    ("seed-string", lambda p, g: write(p, with_meta(g, seed="8")), TicketFormatError,
     "seed must be a non-negative integer, got '8'", False),
    ("eps-zero", lambda p, g: write(p, with_meta(g, eps=0)), TicketFormatError,
     "eps must be None .null. or a finite number > 0, got 0", False),
    ("eps-string", lambda p, g: write(p, with_meta(g, eps="0.1")), TicketFormatError,
     "eps must be None .null. or a finite number > 0, got '0.1'", False),
    ("delta-above-one", lambda p, g: write(p, with_meta(g, delta=1.5)), TicketFormatError,
     r"delta must be None .null. or a number in \(0, 1\), got 1.5", False),
    ("method-a-number", lambda p, g: write(p, with_meta(g, method=5)), TicketFormatError,
     "method must be a string or None .null., got 5", False),
    # -- shapes and target_depth
    ("shapes-2**70", lambda p, g: write(p, big_shapes(2**70)), TicketFormatError,
     "M_1 rows must be at most MAX_WIDTH = 2..40", True),
    ("shapes-1e10-float", lambda p, g: write(p, big_shapes(1e10)), TicketFormatError,
     r"M_1 rows must be a positive integer, got 10000000000.0 \(float\)", True),
    ("shapes-3-million", lambda p, g: write(p, with_meta(g, raw=str(g["meta"]).replace(
        '"shapes": [[6, 2], [2, 6]]', '"shapes": [' + "[1, 1], " * 2_999_999 + "[1, 1]]")), zipfile.ZIP_DEFLATED),
     TicketFormatError, "at most 1,048,576 characters .a JSON text., got dtype <U24000", True),
    ("shapes-2002", lambda p, g: write(p, with_meta(g, shapes=[[1, 1]] * 2002)), TicketFormatError,
     "at most 2000 matrices .* got 2002 shapes", True),
    ("shapes-a-string", lambda p, g: write(p, with_meta(g, shapes="6x2")), TicketFormatError, "shapes must be a sequence", False),
    ("shapes-not-pairs", lambda p, g: write(p, with_meta(g, shapes=[[6], [2, 6]])), TicketFormatError,
     r"shape of M_1 must be a \(rows, cols\) pair, got \[6\]", False),
    ("shapes-zero-rows", lambda p, g: write(p, with_meta(g, shapes=[[0, 2], [2, 0]])), TicketFormatError,
     "M_1 rows must be a positive integer, got 0", False),
    ("target-depth-1e7", lambda p, g: write(p, with_meta(g, target_depth=10_000_000)), TicketFormatError,
     r"bad target_depth 10000000: the number of target layers, 0 \(none\) to 1000", True),
    ("target-depth-without-its-layers", lambda p, g: write(p, with_meta(g, target_depth=2)), TicketFormatError,
     "missing keys target_2", False),
    ("target-layers-do-not-chain", lambda p, g: write(p, with_meta({**g, "target_2": np.ones((2, 4))}, target_depth=2)),
     TicketFormatError,
     r"target_2 has shape \(2, 4\): the target must map R\^2 -> R\^2 as G does", False),
    ("target-depth-true", lambda p, g: write(p, with_meta(g, target_depth=True)), TicketFormatError, "bad target_depth True",
     False),
    # -- the arrays
    ("entries-unsorted", lambda p, g: write(p, {**g, "rows_1": g["rows_1"][::-1].copy(), "cols_1": g["cols_1"][::-1].copy(),
                                                "vals_1": g["vals_1"][::-1].copy()}), TicketFormatError,
     r"M_1: entries not sorted by \(row, col\): \(3, 1\) before \(0, 0\)", False),
    ("position-twice", lambda p, g: write(p, {**g, "rows_2": np.array([1, 1]), "cols_2": np.array([0, 0])}), TicketFormatError,
     r"M_2: position \(1, 0\) is kept twice", False),
    ("vals-float32", lambda p, g: write(p, {**g, "vals_1": g["vals_1"].astype(np.float32)}), TicketFormatError,
     "vals_1 must be float64 .'<f8'., got float32", False),
    ("rows-big-endian", lambda p, g: write(p, {**g, "rows_1": g["rows_1"].astype(">i8")}), TicketFormatError,
     "rows_1 must be int64 .'<i8'., got >i8", False),
    ("rows-2-d", lambda p, g: write(p, {**g, "rows_1": g["rows_1"][:, None]}), TicketFormatError,
     r"rows_1 must be 1-D, got shape \(2, 1\)", False),
    ("target-float32", lambda p, g: write(p, {**g, "target_1": g["target_1"].astype(np.float32)}), TicketFormatError,
     "target_1 must be float64 .'<f8'., got float32", False),
    ("target-1-d", lambda p, g: write(p, {**g, "target_1": g["target_1"].ravel()}), TicketFormatError, "target_1 must be 2-D",
     False),
    ("target-not-in-G-layout", lambda p, g: _layout_mismatch(p, g), TicketFormatError,
     r"target_1 has shape \(2, 2\), but G's layout \(M_1, M_2\) needs \(3, 2\)", False),
    ("vals-NaN", lambda p, g: write(p, {**g, "vals_1": np.array([np.nan, 0.5])}), TicketFormatError, "non-finite kept value nan",
     False),
    ("target-NaN", lambda p, g: write(p, {**g, "target_1": np.array([[np.nan, 0.0], [0.0, 0.0]])}), TicketFormatError,
     "non-finite entry", False),
]  # fmt: skip


def _three_bombs(path: Path, good: dict[str, np.ndarray]) -> Path:
    """rows_1, cols_1, vals_1 each a consistent 64 MiB member of zeros (8,388,607 entries): more kept
    entries than M_1 (6 x 2) has positions, refused from the headers alone."""
    n = 8 * MiB - 1
    rest = {k: v for k, v in good.items() if not k.endswith("_1") or k == "target_1"}
    write(path, rest)
    with zipfile.ZipFile(path, "a") as zf:
        for kind, dtype in (("rows", "<i8"), ("cols", "<i8"), ("vals", "<f8")):
            info = zipfile.ZipInfo(f"{kind}_1.npy")
            info.compress_type = zipfile.ZIP_DEFLATED
            head = npy_head(dtype, (n,))
            with zf.open(info, "w") as f:
                f.write(head)
                for _ in range(n * 8 // MiB):
                    f.write(bytes(MiB))
                f.write(bytes(n * 8 % MiB))
    return path


def _flip_last_data_byte(path: Path, name: str) -> Path:
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo(name)
    data = bytearray(path.read_bytes())
    n, m = struct.unpack_from("<HH", data, info.header_offset + 26)
    data[info.header_offset + 30 + n + m + info.compress_size - 1] ^= 0xFF
    path.write_bytes(bytes(data))
    return path


def _layout_mismatch(path: Path, good: dict[str, np.ndarray]) -> Path:
    """G of widths (2, 6, 3): its M_2 has 3 rows, so the target's one layer must be 3 x 2; the file's is 2 x 2."""
    network = RandomNetwork([(6, 2), (3, 6)], seed=8)
    ticket = Ticket.from_positions(network, [([0, 3], [0, 1]), ([0, 1], [3, 0])])
    members: dict[str, object] = dict(good)
    for t, e in enumerate(ticket.entries, start=1):
        members.update({f"rows_{t}": e.rows, f"cols_{t}": e.cols, f"vals_{t}": e.vals})
    return write(path, with_meta(members, shapes=[[6, 2], [3, 6]]))  # type: ignore[arg-type]


def test_there_are_many_distinct_cases():
    assert len({case[0] for case in CASES}) == len(CASES) >= 55


@pytest.mark.parametrize("name, build, error, message, capped", CASES, ids=[case[0] for case in CASES])
def test_a_hostile_file_is_refused(tmp_path, good, name, build, error, message, capped):
    path = build(tmp_path / "hostile.npz", good)
    assert path.stat().st_size < 2 * MiB + 64 * 1024  # every hostile file is small
    if capped:  # under a 1 GiB address-space cap, in a subprocess: the package error, not MemoryError
        result = run_capped(path)
        assert result["outcome"] == "refused", result
        assert result["error"] == error.__name__, result
        assert re.search(message, result["message"]), result
        assert result["peak_mib"] < 160, result  # the interpreter and numpy take ~80 MiB; the file, nothing more
    else:
        with pytest.raises(error, match=message):
            Ticket.load(path)


def test_a_huge_lazy_G_loads_audits_and_verifies_under_the_cap(tmp_path):
    """Hidden width 1e10 (an int) is a legitimate G: 2e10 weights, none stored. Under the cap the file
    loads, audits, reports its live widths and verifies, all in memory of the kept entries."""
    network = RandomNetwork([(10**10, 2), (1, 10**10)], seed=3)
    positions = [([5, 9_999_999_999], [0, 1]), ([0, 0], [5, 9_999_999_999])]
    ticket = Ticket.from_positions(network, positions, target=random_target(2, [1], seed=0))
    result = run_capped(ticket.save(tmp_path / "huge.npz"))
    assert result["outcome"] == "loaded", result
    assert result["live_widths"] == [2] and result["peak_mib"] < 200


def test_a_target_of_another_architecture_loads(tmp_path):
    """G of depth 2 for a target of depth 2 (docs/guide.md's |x| lemma): not G's layout for that
    target, so only what G maps from and to is checked, and the file reads back."""
    target = random_target(1, [2, 1], seed=0)
    ticket = Ticket.from_positions(RandomNetwork([(4, 1), (1, 4)], seed=0), [([0, 1], [0, 0]), ([0, 0], [0, 1])], target=target)
    loaded = Ticket.load(ticket.save(tmp_path / "abs.npz"))
    assert loaded.target.dims == (1, 2, 1) and loaded.nnz == 4


class _Planted:
    """Unpickling this creates a directory: a reader that ran a pickle would leave it behind."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (os.mkdir, (str(self.marker),))


def test_a_pickled_member_is_refused_without_running_it(tmp_path, good):
    marker = tmp_path / "the-pickle-ran"
    path = write(tmp_path / "planted.npz", {**good, "vals_1": np.array([_Planted(marker)], dtype=object)})
    with pytest.raises(TicketFormatError, match="vals_1.npy holds pickled objects .dtype object., which are refused"):
        Ticket.load(path)
    assert not marker.exists()
    with np.load(path, allow_pickle=True) as z:  # the plant works: numpy with pickles allowed runs it
        z["vals_1"]
    assert marker.exists()


def test_a_compressed_npz_from_another_writer_loads(tmp_path, good):
    """np.savez_compressed (deflated members, zip64 extras) is a valid ticket file."""
    path = tmp_path / "compressed.npz"
    np.savez_compressed(path, **good)
    assert Ticket.load(path).nnz == 4


@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_flipped_bytes_give_a_package_error_or_a_ticket(tmp_path_factory, data):
    """Any byte of a valid file changed: the load raises a package error or returns a ticket, never
    a raw exception from zipfile, numpy or json."""
    raw = bytearray(good_ticket().save(tmp_path_factory.mktemp("f") / "t.npz").read_bytes())
    for _ in range(data.draw(st.integers(1, 4))):
        i = data.draw(st.integers(0, len(raw) - 1))
        raw[i] = data.draw(st.integers(0, 255))
    path = tmp_path_factory.mktemp("g") / "flipped.npz"
    path.write_bytes(bytes(raw))
    try:
        Ticket.load(path)
    except StrongLTHError:
        pass


# -- format "stronglth-ticket/2": every new key checked like the old ones ---------------------------


def good_v2_ticket() -> Ticket:
    """G with distributions and bias lines on both matrices, kept biases, a target with a bias, a scale."""
    network = RandomNetwork([(6, 2), (2, 6)], seed=8, distributions=["normal", "hyperbolic(0.01)"], biases=["uniform", "normal"])
    positions = [([0, 3], [0, 1]), ([0, 1], [3, 0])]
    target = random_target(2, [2], seed=0, biases=True)
    return Ticket.from_positions(
        network, positions, bias_positions=[[0, 3], [1]], target=target, output_scale=2.0, meta={"method": "t"}
    )


@pytest.fixture(scope="module")
def good_v2(tmp_path_factory) -> dict[str, np.ndarray]:
    path = good_v2_ticket().save(tmp_path_factory.mktemp("good_v2") / "good.npz")
    with np.load(path) as z:
        return {k: z[k] for k in z.files}


def drop(members: dict[str, np.ndarray], key: str) -> dict[str, np.ndarray]:
    return {k: v for k, v in members.items() if k != key}


V2_CASES = [
    ("v2-missing-bias-rows", lambda g: drop(g, "bias_rows_1"), TicketFormatError, "missing keys bias_rows_1"),
    ("v2-missing-bias-vals", lambda g: drop(g, "bias_vals_2"), TicketFormatError, "missing keys bias_vals_2"),
    ("v2-bias-key-without-line", lambda g: {**g, "bias_rows_3": g["bias_rows_1"]}, TicketFormatError,
     "unexpected keys bias_rows_3"),
    ("v2-bias-line-dropped-from-meta", lambda g: with_meta(g, biases=["uniform", None]), TicketFormatError,
     "unexpected keys bias_rows_2, bias_vals_2"),
    ("v2-bias-rows-int32", lambda g: {**g, "bias_rows_1": g["bias_rows_1"].astype(np.int32)}, TicketFormatError,
     "bias_rows_1 must be int64 .'<i8'., got int32"),
    ("v2-bias-vals-float32", lambda g: {**g, "bias_vals_1": g["bias_vals_1"].astype(np.float32)}, TicketFormatError,
     "bias_vals_1 must be float64 .'<f8'., got float32"),
    ("v2-bias-vals-2-d", lambda g: {**g, "bias_vals_1": g["bias_vals_1"][:, None]}, TicketFormatError,
     r"bias_vals_1 must be 1-D, got shape \(2, 1\)"),
    ("v2-bias-lengths-differ", lambda g: {**g, "bias_vals_1": g["bias_vals_1"][:1]}, TicketFormatError,
     r"bias_rows_1, bias_vals_1 differ in length \(2, 1\)"),
    ("v2-bias-more-than-rows", lambda g: {**g, "bias_rows_2": np.arange(3), "bias_vals_2": np.zeros(3)}, TicketFormatError,
     "the bias of M_2 keeps 3 entries but has only 2"),
    ("v2-bias-unsorted", lambda g: {**g, "bias_rows_1": g["bias_rows_1"][::-1].copy(),
     "bias_vals_1": g["bias_vals_1"][::-1].copy()},
     TicketFormatError, "the bias of M_1: bias rows not sorted: 3 before 0"),
    ("v2-bias-twice", lambda g: {**g, "bias_rows_1": np.array([3, 3])}, TicketFormatError,
     "the bias of M_1: bias row 3 is kept twice"),
    ("v2-bias-out-of-range", lambda g: {**g, "bias_rows_1": np.array([0, 6])}, TicketFormatError,
     r"bias of M_1: kept row 6 out of range \[0, 6\)"),
    ("v2-bias-NaN", lambda g: {**g, "bias_vals_2": np.array([np.nan])}, TicketFormatError,
     "bias of M_2: non-finite kept value nan"),
    ("v2-bias-not-Gs", lambda g: {**g, "bias_vals_1": g["bias_vals_1"] * 0.5}, TicketAuditError,
     r"bias of M_1\[0\] is .* in the ticket but .* in G"),
    ("v2-weights-of-another-distribution", lambda g: with_meta(g, distributions=["uniform", "hyperbolic(0.01)"]),
     TicketAuditError,
     "kept values of M_1 are not G's"),
    ("v2-target-bias-float32", lambda g: {**g, "target_bias_1": g["target_bias_1"].astype(np.float32)}, TicketFormatError,
     "target_bias_1 must be float64"),
    ("v2-target-bias-wrong-length", lambda g: {**g, "target_bias_1": np.zeros(3)}, TicketFormatError,
     r"target_bias_1 has shape \(3,\), target layer 1 has 2 outputs"),
    ("v2-target-bias-of-no-layer", lambda g: {**g, "target_bias_2": g["target_bias_1"]}, TicketFormatError,
     "unexpected keys target_bias_2"),
    ("v2-target-bias-NaN", lambda g: {**g, "target_bias_1": np.array([np.nan, 0.0])}, TicketFormatError,
     "layer 1 bias has a non-finite"),
    ("v2-meta-lacks-distributions", lambda g: with_meta(g, distributions=DROP), TicketFormatError, "meta lacks distributions"),
    ("v2-meta-lacks-biases", lambda g: with_meta(g, biases=DROP), TicketFormatError, "meta lacks biases"),
    ("v2-unknown-distribution", lambda g: with_meta(g, distributions=["cauchy", "normal"]), TicketFormatError,
     r"bad distributions or biases in meta: distributions\[0\] \(M_1\): unknown distribution 'cauchy'"),
    ("v2-distributions-too-few", lambda g: with_meta(g, distributions=["normal"]), TicketFormatError,
     "distributions has 1 entries, G has 2 matrices"),
    ("v2-biases-a-number", lambda g: with_meta(g, biases=[1, None]), TicketFormatError, "must be a spec string"),
    ("v2-hyperbolic-out-of-range", lambda g: with_meta(g, distributions=["normal", "hyperbolic(1.5)"]), TicketFormatError,
     "needs 1e-300 <= a < 1"),
    ("v2-generator-v1", lambda g: with_meta(g, generator="pcg64-seedseq-v1"), TicketFormatError,
     "unknown generator 'pcg64-seedseq-v1'; format 'stronglth-ticket/2' uses 'pcg64-seedseq-v2'"),
    ("v1-generator-v2", lambda g: with_meta(g, format="stronglth-ticket/1"), TicketFormatError,
     "unknown generator 'pcg64-seedseq-v2'; format 'stronglth-ticket/1' uses 'pcg64-seedseq-v1'"),
    ("v2-output-scale-zero", lambda g: with_meta(g, output_scale=0), TicketFormatError,
     "output_scale must be a finite number > 0, got 0"),
    ("v2-output-scale-bool", lambda g: with_meta(g, output_scale=True), TicketFormatError,
     "output_scale must be a finite number > 0"),
    ("v2-output-scale-string", lambda g: with_meta(g, output_scale="2"), TicketFormatError,
     "output_scale must be a finite number > 0"),
    ("v2-output-scale-huge-int", lambda g: with_meta(g, output_scale=10**400), TicketFormatError,
     "output_scale must be a finite"),
]  # fmt: skip


@pytest.mark.parametrize("name, build, error, message", V2_CASES, ids=[case[0] for case in V2_CASES])
def test_a_hostile_v2_file_is_refused(tmp_path, good_v2, name, build, error, message):
    path = write(tmp_path / "hostile.npz", build(dict(good_v2)))
    with pytest.raises(error, match=message):
        Ticket.load(path)


def test_the_good_v2_file_loads_and_v1_files_refuse_v2_fields(tmp_path, good, good_v2):
    loaded = Ticket.load(write(tmp_path / "good_v2.npz", dict(good_v2)))
    assert loaded.bias_nnz == 3 and loaded.output_scale == 2.0 and loaded.target.has_biases
    for key, value in (("output_scale", 2.0), ("distributions", ["uniform", "uniform"]), ("biases", [None, None])):
        with pytest.raises(TicketFormatError, match=f"meta field {key} belongs to format 'stronglth-ticket/2'"):
            Ticket.load(write(tmp_path / f"v1-{key}.npz", with_meta(good, **{key: value})))
    with pytest.raises(TicketFormatError, match="unexpected keys bias_rows_1"):
        Ticket.load(write(tmp_path / "v1-bias.npz", {**good, "bias_rows_1": np.zeros(0, dtype=np.int64)}))
    with pytest.raises(TicketFormatError, match="unexpected keys target_bias_1"):
        Ticket.load(write(tmp_path / "v1-target-bias.npz", {**good, "target_bias_1": np.zeros(2)}))
    with pytest.raises(TicketFormatError, match="format 'stronglth-ticket/1' has G of depth 2l, got 3 shapes"):
        Ticket.load(write(tmp_path / "v1-odd.npz", with_meta(good, shapes=[[6, 2], [2, 6], [2, 2]])))
