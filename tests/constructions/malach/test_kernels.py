"""The compiled filter (constructions/malach/_kernels.py, numba) against the numpy path of the scan
(constructions/malach/scan.py): the same candidates bit for bit, and the same ticket bytes."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from stronglth import RandomNetwork, random_target
from stronglth.constructions import construct
from stronglth.constructions.malach import scan as scan_module
from stronglth.errors import InvalidInputError

from .test_scan import small_scan


def scan_with(kernel: str, piece: scan_module.Piece) -> scan_module.Candidates:
    old = scan_module.KERNEL
    scan_module.KERNEL = kernel
    try:
        assert scan_module.scan_kernel() == kernel
        return scan_module.scan_piece(piece)
    finally:
        scan_module.KERNEL = old


def assert_same_candidates(a: scan_module.Candidates, b: scan_module.Candidates) -> None:
    for name in ("error", "unit", "u", "v", "found"):
        x, y = getattr(a, name), getattr(b, name)
        assert x.dtype == y.dtype and x.tobytes() == y.tobytes(), name  # bit for bit, NaN/-0.0 included
    assert a.values_read == b.values_read


# weights of the block's column: ordinary ones, and the edges of the windows (0, tiny, +-eta)
WEIGHTS = st.one_of(
    st.floats(-1.0, 1.0, allow_nan=False, width=64),
    st.sampled_from([0.0, -0.0, 1e-300, -1e-12, 0.1, -0.1, 0.02, 0.4, 1.0, -1.0]),
)


@settings(max_examples=120, deadline=None)
@example(
    n_out=2, length=300, offset=0, seed=0, rule="best", selection="best", eta=0.1, sides=2, chunk=64, sub=7,
    weights=[0.0, 1e-300], subset=False,
)  # fmt: skip
@given(
    n_out=st.integers(1, 4),
    length=st.integers(1, 400),
    offset=st.integers(0, 1000),
    seed=st.integers(0, 2**32),
    rule=st.sampled_from(["best", "matching"]),
    selection=st.sampled_from(["best", "first"]),
    eta=st.sampled_from([0.005, 0.02, 0.1, 0.4]),
    sides=st.sampled_from([1, 2]),
    chunk=st.integers(1, 128),
    sub=st.integers(1, 40),
    weights=st.lists(WEIGHTS, min_size=4, max_size=4),
    subset=st.booleans(),
)
def test_compiled_filter_keeps_the_numpy_candidates_bit_for_bit(
    n_out, length, offset, seed, rule, selection, eta, sides, chunk, sub, weights, subset
):
    """Any piece (rule, selection, sides, rows, offset, chunk and sub-chunk sizes; weights at the
    windows' edges): the numba kernel keeps exactly the numpy path's candidates, errors, values,
    found flags and reads."""
    target = random_target(2, [n_out], seed=seed % 1000)
    network = RandomNetwork.for_target(target, [offset + length], seed=seed)
    w = np.asarray(weights[:n_out], dtype=np.float64)
    rows = np.arange(0, n_out, 2, dtype=np.int64) if subset else None
    piece = scan_module.Piece(network, 1, 1, offset, length, w, eta, rule, selection, sides, rows)
    with pytest.MonkeyPatch.context() as patch:
        small_scan(patch, chunk, sub, 1)
        assert_same_candidates(scan_with("numba", piece), scan_with("numpy", piece))


@pytest.mark.parametrize(
    "rule, selection, dims, eps, block_sizes, jobs",
    [
        ("best", "best", (5, [4, 2]), 0.1, "theorem", 1),
        ("best", "first", (5, [4, 2]), 0.1, "theorem", 2),
        ("matching", "best", (3, [3, 1]), 0.2, "theorem", 2),
        ("matching", "first", (3, [3, 1]), 0.2, "theorem", 1),
        ("best", "best", (3, [3, 2]), 0.05, [40, 30], 1),  # blocks too small: failures, best effort
        ("matching", "best", (3, [3, 2]), 0.05, [60, 50], 1),
        ("best", "best", (3, [9, 2]), 0.1, [70_000, 40_000], 2),  # full chunks, several row blocks a chunk
        ("matching", "best", (3, [9, 2]), 0.1, [70_000, 40_000], 1),
    ],
)
def test_ticket_files_are_the_same_bytes_with_either_filter(tmp_path, monkeypatch, rule, selection, dims, eps, block_sizes, jobs):
    """Fixed targets, through ``construct`` (worker processes read the environment variable): the
    saved ticket files are byte for byte equal."""
    target = random_target(dims[0], dims[1], seed=7)
    kwargs = dict(
        eps=eps, seed=7, rule=rule, selection=selection, block_sizes=block_sizes, jobs=jobs, progress=False,
        on_failure="best_effort",
    )  # fmt: skip
    files = {}
    for kernel in scan_module.KERNELS:
        monkeypatch.setenv(scan_module.KERNEL_ENV, kernel)
        files[kernel] = construct(target, **kwargs).save(tmp_path / f"{kernel}.npz").read_bytes()
    assert files["numba"] == files["numpy"]


def test_the_switch_chooses_and_refuses(monkeypatch):
    monkeypatch.setattr(scan_module, "KERNEL", None)
    monkeypatch.setenv(scan_module.KERNEL_ENV, "numpy")
    assert scan_module.scan_kernel() == "numpy"
    monkeypatch.delenv(scan_module.KERNEL_ENV)
    assert scan_module.scan_kernel() == "numba"  # importable here
    monkeypatch.setattr(scan_module, "KERNEL", "numpy")
    assert scan_module.scan_kernel() == "numpy"  # the module switch wins over the environment
    monkeypatch.setattr(scan_module, "KERNEL", None)
    monkeypatch.setenv(scan_module.KERNEL_ENV, "cython")
    with pytest.raises(InvalidInputError, match="STRONGLTH_SCAN_KERNEL"):
        scan_module.scan_kernel()


NO_NUMBA = """
import sys
sys.modules["numba"] = None  # as if numba were not installed
import stronglth.constructions.malach.scan as scan
from stronglth import random_target
from stronglth.constructions import construct
from stronglth.errors import MissingExtraError
assert scan.scan_kernel() == "numpy"
ticket = construct(random_target(3, [2], seed=0), eps=0.3, seed=0, progress=False)
scan.KERNEL = "numba"
try:
    scan.scan_kernel()
except MissingExtraError as error:
    assert "stronglth[fast]" in str(error), error
else:
    raise AssertionError("forcing numba without numba must fail")
print("ok", ticket.nnz)
"""


def test_without_numba_the_numpy_filter_runs_and_forcing_numba_names_the_extra():
    env = {k: v for k, v in os.environ.items() if k != scan_module.KERNEL_ENV}
    out = subprocess.run([sys.executable, "-c", NO_NUMBA], capture_output=True, text=True, env=env, check=True)
    assert out.stdout.startswith("ok")


def test_the_core_does_not_import_numba_at_import_time():
    code = "import sys, stronglth, stronglth.constructions.malach.scan, stronglth.constructions.malach.layer;"
    code += "print('numba' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


NO_CACHE = """
import numba
compile_with = numba.njit
def njit(function=None, *, cache=False):
    if cache:  # what numba does where no cache location is writable (a read-only install)
        raise RuntimeError("cannot cache function: no locator available")
    return compile_with(function)
numba.njit = njit
import stronglth.constructions.malach.scan as scan
from stronglth.constructions.malach._kernels import kernels
from stronglth import random_target
from stronglth.constructions import construct
assert scan.scan_kernel() == "numba" and kernels() is kernels()
print("ok", construct(random_target(3, [2], seed=0), eps=0.3, seed=0, progress=False).nnz)
"""


def test_without_a_writable_cache_the_kernels_compile_in_the_process():
    env = {k: v for k, v in os.environ.items() if k != scan_module.KERNEL_ENV}
    out = subprocess.run([sys.executable, "-c", NO_CACHE], capture_output=True, text=True, env=env, check=True)
    assert out.stdout.startswith("ok")
