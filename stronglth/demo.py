"""``stronglth demo``: the main job on a built-in default target, in well under a minute."""

from __future__ import annotations

import time

import numpy as np

from stronglth.random_network import RandomNetwork
from stronglth.target import random_target

DEMO_D = 4
DEMO_WIDTHS = (8, 8, 1)
DEMO_BLOCK_SIZES = (6_000, 6_000, 2_000)


def run_demo(*, seed: int = 0) -> None:
    target = random_target(DEMO_D, DEMO_WIDTHS, seed=seed, family="gaussian").check()
    print(f"target F: dims {target.dims}, {target.parameter_count} weights; assumptions of Malach et al. hold:")
    for n in target.layer_norms():
        print(f"  layer {n.layer}: ||W||_2 = {n.spectral_norm:.3f} <= 1, max|W| = {n.max_abs:.3f} <= 1/sqrt(fan_in) = {n.max_abs_bound:.3f}")
    network = RandomNetwork.for_target(target, DEMO_BLOCK_SIZES, seed=seed)
    print(f"random network G (depth {network.depth}, U[-1,1], generated lazily from seed {seed}):")
    print(f"  widths {' x '.join(str(n) for n in network.dims)}, {network.parameter_count:,} weights, none stored")
    start = time.perf_counter()
    block = network.block(3, slice(0, 4), slice(0, 4))
    print(f"  M_3[0:4, 0:4] generated alone in {1e3 * (time.perf_counter() - start):.1f} ms:")
    print(np.array2string(block, precision=4, prefix="    "))
