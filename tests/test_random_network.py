"""RandomNetwork: the generator spec "pcg64-seedseq-v1", block views, statistics, bad input."""

from __future__ import annotations

import hashlib
import subprocess
import sys
import tracemalloc

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats
from strategies import seeds, small_networks, spec_line

from stronglth import InvalidInputError, RandomNetwork, ShapeError, TooLargeError, random_target
from stronglth.distributions import parse
from stronglth.random_network import draw_uniform, line_bit_generator

# First values of a few lines of G for seed 0, as (t, line): values. Any change of G breaks this.
TEST_VECTOR = {
    (1, 0): [0.7794775825562685, 0.11427610041245262, 0.6018161737839443, 0.9130276349506772],
    (1, 1): [0.6973000865775454, -0.49148434502183846, -0.5456043835856108, 0.8507878191229497],
    (2, 0): [-0.838351921653625, -0.1951244160128256, 0.20257841247553188, -0.7097995295690449],
    (3, 5): [-0.2829222645066165, -0.5787429364690051, -0.279699913232734, -0.7687499549779373],
}


def test_committed_test_vector():
    network = RandomNetwork([(10, 10)] * 4, seed=0)
    for (t, line), expected in TEST_VECTOR.items():
        assert network.segment(t, line, 0, 4).tolist() == expected


@given(seed=seeds, t=st.integers(1, 4), line=st.integers(0, 30), start=st.integers(0, 200), size=st.integers(0, 300))
def test_segment_equals_spec_bit_for_bit(seed, t, line, start, size):
    length = start + size + 1
    network = RandomNetwork([(length, 31), (31, length)] * 2, seed=seed)
    expected = spec_line(seed, t, line, start + size)[start:]
    assert network.segment(t, line, start, start + size).tobytes() == expected.tobytes()


@given(seed=seeds, size=st.integers(0, 1000))
def test_draw_uniform_equals_generator_uniform(seed, size):
    ours = draw_uniform(line_bit_generator(seed, 1, 0), size)
    assert ours.tobytes() == spec_line(seed, 1, 0, size).tobytes()


@given(network=small_networks(), data=st.data())
def test_dense_equals_block_view(network, data):
    t = data.draw(st.integers(1, network.depth))
    rows, cols = network.shapes[t - 1]
    r0 = data.draw(st.integers(0, rows))
    r1 = data.draw(st.integers(r0, rows))
    c0 = data.draw(st.integers(0, cols))
    c1 = data.draw(st.integers(c0, cols))
    dense = network.dense(t)
    assert dense.shape == (rows, cols)
    assert network.block(t, slice(r0, r1), slice(c0, c1)).tobytes() == np.ascontiguousarray(dense[r0:r1, c0:c1]).tobytes()
    # negative and open slices mean what they mean in numpy
    assert np.array_equal(network.block(t, slice(-1, None), slice(None, 1)), dense[-1:, :1])


@given(network=small_networks(), data=st.data())
def test_values_at_equals_dense(network, data):
    t = data.draw(st.integers(1, network.depth))
    rows, cols = network.shapes[t - 1]
    n = data.draw(st.integers(0, 40))
    r = np.array(data.draw(st.lists(st.integers(0, rows - 1), min_size=n, max_size=n)), dtype=np.int64)
    c = np.array(data.draw(st.lists(st.integers(0, cols - 1), min_size=n, max_size=n)), dtype=np.int64)
    assert network.values_at(t, r, c).tobytes() == network.dense(t)[r, c].tobytes()


def test_values_at_far_apart_offsets_on_a_huge_line():
    network = RandomNetwork([(10**9, 2), (1, 10**9)], seed=7)
    offsets = np.array([0, 1, 5, 300, 10**6, 10**9 - 1, 10**6 + 3])
    got = network.values_at(2, np.zeros_like(offsets), offsets)
    for p, value in zip(offsets, got, strict=False):
        assert value == network.segment(2, 0, int(p), int(p) + 1)[0]


def test_odd_matrices_are_generated_by_column_even_by_row():
    network = RandomNetwork([(6, 3), (2, 6)], seed=11)
    assert np.array_equal(network.dense(1)[:, 2], spec_line(11, 1, 2, 6))
    assert np.array_equal(network.dense(2)[1, :], spec_line(11, 2, 1, 6))


def test_ten_billion_weights_cost_no_memory_and_blocks_are_fast():
    tracemalloc.start()
    network = RandomNetwork([(100_000, 100_000), (100_000, 100_000)], seed=3)
    block = network.block(2, slice(99_990, 100_000), slice(50_000, 50_016))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert network.parameter_count == 2 * 10**10
    assert block.shape == (10, 16)
    assert peak < 1_000_000  # bytes: the block, not the network
    assert np.array_equal(block[3], spec_line(3, 2, 99_993, 50_016)[50_000:])


def test_values_identical_across_processes():
    code = (
        "import hashlib, numpy as np; from stronglth import RandomNetwork;"
        "n = RandomNetwork([(50, 7), (9, 50)], seed=123);"
        "print(hashlib.sha256(n.dense(1).tobytes() + n.dense(2).tobytes()).hexdigest())"
    )
    other = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    network = RandomNetwork([(50, 7), (9, 50)], seed=123)
    here = hashlib.sha256(network.dense(1).tobytes() + network.dense(2).tobytes()).hexdigest()
    assert other == here


def test_entries_are_uniform_on_minus_one_one():
    network = RandomNetwork([(50_000, 4), (3, 50_000)], seed=0)
    values = np.concatenate([network.segment(1, j, 0, 50_000) for j in range(4)])
    assert values.min() >= -1.0 and values.max() < 1.0
    # KS against U[-1, 1]: a generator drawing U[0, 1], or skewed, fails by a wide margin
    assert stats.kstest(values, stats.uniform(loc=-1, scale=2).cdf).pvalue > 1e-4
    assert abs(values.mean()) < 5 * np.sqrt(1 / 3 / values.size)
    assert abs(values.var() - 1 / 3) < 0.01


def test_lines_are_independent():
    network = RandomNetwork([(100_000, 3), (3, 100_000)] * 2, seed=1)
    streams = [network.segment(t, line, 0, 100_000) for t in (1, 2, 3) for line in (0, 1)]
    bound = 5 / np.sqrt(100_000)  # five standard errors of a correlation under independence
    for a in range(len(streams)):
        for b in range(a + 1, len(streams)):
            assert abs(np.corrcoef(streams[a], streams[b])[0, 1]) < bound
    # and within a line, consecutive values are uncorrelated
    assert abs(np.corrcoef(streams[0][:-1], streams[0][1:])[0, 1]) < bound


def test_seed_changes_every_value():
    a = RandomNetwork([(20, 5), (5, 20)], seed=1).dense(1)
    b = RandomNetwork([(20, 5), (5, 20)], seed=2).dense(1)
    assert not np.any(a == b)


def test_for_target_shapes():
    target = random_target(3, [5, 2], seed=0)
    network = RandomNetwork.for_target(target, [4, 7], seed=9)
    assert network.shapes == ((12, 3), (5, 12), (35, 5), (2, 35))
    assert network.hidden_widths == (12, 35)
    assert network.dims == (3, 12, 5, 35, 2)


@pytest.mark.parametrize(
    "shapes, error",
    [
        ([], ShapeError),
        ([(3, 2), (4, 4)], ShapeError),  # does not chain
        ([(3, 0), (2, 3)], InvalidInputError),  # empty layer
        ([(3, 2.0), (2, 3)], InvalidInputError),  # non-integer
        ([(3, 2, 1), (2, 3)], ShapeError),
        ("abc", InvalidInputError),
    ],
)
def test_bad_shapes(shapes, error):
    with pytest.raises(error):
        RandomNetwork(shapes, seed=0)


@pytest.mark.parametrize("seed", [-1, 1.5, "3", None, True])
def test_bad_seeds(seed):
    with pytest.raises(InvalidInputError, match="seed"):
        RandomNetwork([(2, 2), (2, 2)], seed=seed)


def test_seed_is_keyword_only():
    with pytest.raises(TypeError):
        RandomNetwork([(2, 2), (2, 2)], 0)  # type: ignore[misc]


@pytest.mark.parametrize("block_sizes", [[0, 3], [-2, 3], [2.5, 3], [3], 4])
def test_bad_block_sizes(block_sizes):
    with pytest.raises(InvalidInputError):
        RandomNetwork.for_target(random_target(2, [3, 1], seed=0), block_sizes, seed=0)


def test_dense_refuses_huge_matrix():
    network = RandomNetwork([(10**6, 10**4), (1, 10**6)], seed=0)
    with pytest.raises(TooLargeError, match="block"):
        network.dense(1)


def test_bad_indices():
    network = RandomNetwork([(5, 3), (2, 5)], seed=0)
    with pytest.raises(InvalidInputError):
        network.block(3)
    with pytest.raises(InvalidInputError):
        network.block(1, slice(0, 4, 2))
    with pytest.raises(ShapeError):
        network.segment(1, 3, 0, 2)  # line 3 of a 3-column matrix
    with pytest.raises(ShapeError):
        network.values_at(1, [5], [0])


# -- bounded cost and careless input (the reliability issue) ---------------------------------------


@given(seed=seeds, t=st.integers(1, 2), data=st.data())
def test_values_at_far_apart_runs_and_repeats_equal_the_spec(seed, t, data):
    """Offsets sought with advance over long gaps, drawn through short ones (up to 64 values),
    adjacent ones as runs, across the 65,536-offset blocks, repeats drawn once: bit for bit the
    spec's stream (one 64-bit draw per value)."""
    length = 140_000
    network = RandomNetwork([(length, 3), (3, length)], seed=seed)
    start = data.draw(st.sampled_from([0, 65_536 - 300, 131_072 - 200, 7]))
    gaps = data.draw(st.lists(st.sampled_from([0, 1, 1, 2, 63, 64, 65, 66, 300, 5000]), min_size=1, max_size=60))
    offsets = np.minimum(start + np.cumsum(gaps), length - 1)
    lines = np.array(data.draw(st.lists(st.integers(0, 2), min_size=offsets.size, max_size=offsets.size)))
    rows, cols = (offsets, lines) if t % 2 else (lines, offsets)
    streams = {line: spec_line(seed, t, line, int(offsets.max()) + 1) for line in set(lines.tolist())}
    expected = np.array([streams[int(line)][p] for line, p in zip(lines, offsets, strict=True)])
    assert network.values_at(t, rows, cols).tobytes() == expected.tobytes()


def test_values_at_costs_the_entries_not_the_gaps():
    """20,000 offsets 256 apart drew every gap (5.1 million values, 41 MB); now only the entries."""
    network = RandomNetwork([(10**9, 1), (1, 10**9)], seed=0)
    offsets = np.arange(20_000, dtype=np.int64) * 256
    tracemalloc.start()
    values = network.values_at(1, offsets, np.zeros_like(offsets))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 8_000_000
    for i in (0, 1, 14_321, 19_999):
        assert values[i] == network.segment(1, 0, int(offsets[i]), int(offsets[i]) + 1)[0]


@pytest.mark.parametrize(
    "rows, error, message",
    [
        (
            [1.7],
            InvalidInputError,
            r"rows of M_1 must be integers .*floats are refused, even 1.0.*got dtype float64 \(e.g. 1.7\)",
        ),
        ([2.0], InvalidInputError, r"got dtype float64 \(e.g. 2.0\)"),
        ([np.nan], InvalidInputError, r"\(e.g. nan\)"),
        ("1", InvalidInputError, "got '1'"),
        (["a"], InvalidInputError, "got dtype <U1"),
        ([True], InvalidInputError, "got dtype bool"),
        ([1, None], InvalidInputError, r"got the entry None \(NoneType\)"),
        ([2**63], ShapeError, "rows of M_1: index 9223372036854775808 is out of range"),
        ([-(2**70)], ShapeError, "index -1180591620717411303424 is out of range"),
        ([5], ShapeError, r"row index 5 out of range \[0, 5\) for M_1 of shape \(5, 3\)"),
        ([-1], ShapeError, r"row index -1 out of range \[0, 5\)"),
    ],
)
def test_values_at_refuses_what_is_not_an_index(rows, error, message):
    with pytest.raises(error, match=message):
        RandomNetwork([(5, 3), (2, 5)], seed=0).values_at(1, rows, [0] * (1 if isinstance(rows, str) else len(rows)))


@pytest.mark.parametrize(
    "shapes, message",
    [
        (
            [(2**40 + 1, 2), (1, 2**40 + 1)],
            "M_1 rows must be at most MAX_WIDTH = 2..40 = 1,099,511,627,776, got 1,099,511,627,777",
        ),
        ([(2, 2**70), (1, 2)], "M_1 cols must be at most MAX_WIDTH"),
        ([(2**40, 2**40)] * 2, "at most MAX_PARAMETERS = 2..62 weights, these shapes give 2.42e.24"),
        ([(1, 1)] * 2002, "G may have at most 2000 matrices .1000 layers of the target., got 2002 shapes"),
    ],
)
def test_shapes_beyond_the_limits_are_refused(shapes, message):
    with pytest.raises(ShapeError, match=message):
        RandomNetwork(shapes, seed=0)


def test_shapes_at_the_limits_are_fine_and_cost_nothing():
    network = RandomNetwork([(2**40, 1), (1, 2**40)], seed=0)
    assert network.values_at(2, [0], [2**40 - 1])[0] == network.segment(2, 0, 2**40 - 1, 2**40)[0]
    assert RandomNetwork([(1, 1)] * 2000, seed=0).depth == 2000


# -- generator "pcg64-seedseq-v2": distributions, bias lines, any depth (docs/theory.md §12) --------

SPECS = ["uniform", "normal", "hyperbolic(0.001)", "hyperbolic(0.5)"]


def raw_line(seed: int, t: int, line: int, size: int) -> np.ndarray:
    """A weight line's raw 64-bit draws, from the spec written out (not the package's streams)."""
    return np.random.PCG64(np.random.SeedSequence([seed, t, line])).random_raw(size)


def raw_bias_line(seed: int, t: int, size: int) -> np.ndarray:
    return np.random.PCG64(np.random.SeedSequence([seed, t, 0], spawn_key=(1,))).random_raw(size)


def test_v1_is_unchanged_bit_for_bit_when_spelled_out():
    network = RandomNetwork([(10, 10)] * 4, seed=0, distributions=["uniform"] * 4, biases=[None] * 4)
    assert network == RandomNetwork([(10, 10)] * 4, seed=0)
    assert network.generator == "pcg64-seedseq-v1" and network.is_v1 and not network.has_biases
    for (t, line), expected in TEST_VECTOR.items():
        assert network.segment(t, line, 0, 4).tolist() == expected
    assert repr(network) == "RandomNetwork(dims=(10, 10, 10, 10, 10), seed=0, parameters=400)"


@pytest.mark.parametrize(
    "distributions, biases, generator",
    [
        (None, None, "pcg64-seedseq-v1"),
        (["uniform", "normal"], None, "pcg64-seedseq-v2"),
        (None, [None, "uniform"], "pcg64-seedseq-v2"),
        (["hyperbolic(1e-3)", "uniform"], [None, None], "pcg64-seedseq-v2"),
    ],
)
def test_generator_names_the_spec(distributions, biases, generator):
    network = RandomNetwork([(4, 3), (2, 4)], seed=1, distributions=distributions, biases=biases)
    assert network.generator == generator
    assert len(network.distributions) == len(network.biases) == 2
    if distributions is not None:
        assert network.distributions[0] == (
            "hyperbolic(0.001)" if distributions[0].startswith("hyperbolic") else distributions[0]
        )


@given(
    seed=seeds,
    spec=st.sampled_from(SPECS),
    t=st.integers(1, 3),
    line=st.integers(0, 4),
    start=st.integers(0, 300),
    size=st.integers(0, 100),
)
def test_segment_of_every_distribution_is_its_formula_at_the_offset(seed, spec, t, line, start, size):
    """Offset p of a line is the p-th 64-bit draw of the line's stream: advance(p) reaches it."""
    length = start + size + 1
    network = RandomNetwork([(length, 5), (5, length), (length, 5)], seed=seed, distributions=[spec] * 3)
    expected = parse(spec).from_raw(raw_line(seed, t, line, start + size)[start:])
    assert network.segment(t, line, start, start + size).tobytes() == expected.tobytes()


@given(seed=seeds, specs=st.lists(st.sampled_from(SPECS), min_size=3, max_size=3), data=st.data())
def test_values_at_dense_and_blocks_agree_for_every_distribution(seed, specs, data):
    network = RandomNetwork([(7, 3), (4, 7), (2, 4)], seed=seed, distributions=specs)
    t = data.draw(st.integers(1, 3))
    rows, cols = network.shapes[t - 1]
    dense = network.dense(t)
    for c in range(cols) if t % 2 else range(rows):  # lines: columns for odd t, rows for even t
        line = dense[:, c] if t % 2 else dense[c, :]
        assert line.tobytes() == parse(specs[t - 1]).from_raw(raw_line(seed, t, c, line.size)).tobytes()
    n = data.draw(st.integers(0, 30))
    r = np.array(data.draw(st.lists(st.integers(0, rows - 1), min_size=n, max_size=n)), dtype=np.int64)
    c = np.array(data.draw(st.lists(st.integers(0, cols - 1), min_size=n, max_size=n)), dtype=np.int64)
    assert network.values_at(t, r, c).tobytes() == dense[r, c].tobytes()
    assert network.block(t, slice(1, None), slice(0, 2)).tobytes() == np.ascontiguousarray(dense[1:, :2]).tobytes()


@given(seed=seeds, spec=st.sampled_from(SPECS), data=st.data())
def test_bias_lines_are_their_own_streams(seed, spec, data):
    network = RandomNetwork([(6, 3), (5, 6), (2, 5)], seed=seed, biases=[spec, None, "normal"])
    assert network.has_biases and network.generator == "pcg64-seedseq-v2" and network.bias_count == 8
    for t, rows, bias_spec in ((1, 6, spec), (3, 2, "normal")):
        vector = network.bias_vector(t)
        assert vector.tobytes() == parse(bias_spec).from_raw(raw_bias_line(seed, t, rows)).tobytes()
        index = np.array(data.draw(st.lists(st.integers(0, rows - 1), max_size=12)), dtype=np.int64)
        assert network.bias_values_at(t, index).tobytes() == vector[index].tobytes()
    # distinct from every weight line: the raw streams share no value at the same offset
    bias_raw = raw_bias_line(seed, 1, 6)
    for t, lines in ((1, 3), (2, 5), (3, 5)):
        for line in range(lines):
            assert not np.any(raw_line(seed, t, line, 6) == bias_raw)


def test_bias_requests_are_checked():
    network = RandomNetwork([(6, 3), (2, 6)], seed=0, biases=["uniform", None])
    with pytest.raises(InvalidInputError, match=r"M_2 has no bias line \(G's bias lines: \[1\]\)"):
        network.bias_vector(2)
    with pytest.raises(InvalidInputError, match="no bias line .* none"):
        RandomNetwork([(6, 3), (2, 6)], seed=0).bias_values_at(1, [0])
    with pytest.raises(ShapeError, match=r"bias row 6 out of range \[0, 6\) for the bias of M_1"):
        network.bias_values_at(1, [6])
    with pytest.raises(InvalidInputError, match="floats are refused"):
        network.bias_values_at(1, [1.0])
    with pytest.raises(TooLargeError, match="bias of M_1 has 1e.06 entries"):
        RandomNetwork([(10**6, 1)], seed=0, biases=["normal"]).bias_vector(1, max_entries=1000)


@pytest.mark.parametrize("shapes", [[(3, 2)], [(3, 2), (4, 3), (1, 4)], [(2, 2)] * 5])
def test_any_depth(shapes):
    network = RandomNetwork(shapes, seed=4)
    assert network.depth == len(shapes) and network.generator == "pcg64-seedseq-v1"
    assert np.array_equal(network.dense(1)[:, 0], spec_line(4, 1, 0, shapes[0][0]))


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        (dict(distributions=["uniform"]), ShapeError, "distributions has 1 entries, G has 2 matrices"),
        (dict(distributions="normal"), InvalidInputError, "must be None or a list"),
        (
            dict(distributions=["normal", "cauchy"]),
            InvalidInputError,
            r"distributions\[1\] \(M_2\): unknown distribution 'cauchy'",
        ),
        (dict(distributions=["normal", None]), InvalidInputError, "must be a spec string"),
        (dict(biases=["normal"]), ShapeError, "biases has 1 entries"),
        (dict(biases=[None, "hyperbolic(2)"]), InvalidInputError, r"biases\[1\] \(M_2\): 'hyperbolic\(2\)' needs"),
    ],
)
def test_bad_distribution_and_bias_specs(kwargs, error, message):
    with pytest.raises(error, match=message):
        RandomNetwork([(3, 2), (2, 3)], seed=0, **kwargs)


def test_for_target_passes_the_spec_and_repr_states_it():
    target = random_target(2, [3], seed=0)
    network = RandomNetwork.for_target(
        target, [2], seed=1, distributions=["hyperbolic(1e-2)", "normal"], biases=[None, "uniform"]
    )
    assert network.distributions == ("hyperbolic(0.01)", "normal") and network.biases == (None, "uniform")
    assert "distributions=['hyperbolic(0.01)', 'normal'], biases=[None, 'uniform']" in repr(network)
    assert network != RandomNetwork.for_target(target, [2], seed=1)
