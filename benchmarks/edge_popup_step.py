"""Edge-popup training step: top-k selection against the public code's full sort (issue 7).

One 1000 x 1000 supermask layer, batch 128, forward + backward (Ramanujan et al., CVPR 2020):
:class:`stronglth.baselines.SupermaskLinear` (mask by ``torch.topk``, fused straight-through
backward) against the same layer with the mask built as the public code builds it (a full sort of
``|scores|`` on every forward pass, gradients through ``abs`` and the product by autograd), same
weights, scores, inputs and kept count, timed interleaved in the same run (median of many steps).
The ratio ours / full sort must be <= 0.7 on the CPU.

    python -m benchmarks.edge_popup_step [--density 0.5] [--steps 60] [--device auto]
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
import torch.nn.functional as F

from stronglth.baselines.classification import resolve_device
from stronglth.baselines.edge_popup import SupermaskLinear, full_sort_mask

SIZE, BATCH = 1000, 128


class _SortSubnet(torch.autograd.Function):
    """The public code's ``GetSubnet``: full sort, straight-through backward."""

    @staticmethod
    def forward(ctx, scores: torch.Tensor, density: float) -> torch.Tensor:  # type: ignore[override]
        return full_sort_mask(scores, density)

    @staticmethod
    def backward(ctx, grad: torch.Tensor):  # type: ignore[override]
        return grad, None


def full_sort_forward(layer: SupermaskLinear, x: torch.Tensor) -> torch.Tensor:
    """The same layer, the public code's way: ``w * GetSubnet(|scores|)``."""
    return F.linear(x, layer.weight * _SortSubnet.apply(layer.scores.abs(), layer.density))


def _step(forward, layer: SupermaskLinear, x: torch.Tensor, sync) -> float:
    start = time.perf_counter()
    layer.scores.grad = None
    forward(layer, x).square().mean().backward()
    sync()
    return time.perf_counter() - start


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--density", type=float, nargs="+", default=[0.5, 0.1], help="fractions kept (default 0.5 0.1)")
    parser.add_argument("--steps", type=int, default=60, help="timed steps per implementation and density (default 60)")
    parser.add_argument("--device", default="cpu", help="cpu (the issue's setting), cuda or auto")
    args = parser.parse_args(argv)
    from benchmarks._record import write_record

    device = resolve_device(args.device)
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    x = torch.randn(BATCH, SIZE, generator=torch.Generator().manual_seed(0)).to(device)
    print(
        f"Edge-popup step, {SIZE} x {SIZE} layer, batch {BATCH}, forward + backward, {device}, {torch.get_num_threads()} threads"
    )
    results = []
    for density in args.density:
        layer = SupermaskLinear(SIZE, SIZE, density, seed=0).to(device)
        ours = lambda lay, inp: lay(inp)  # noqa: E731
        g_ours = torch.autograd.grad(ours(layer, x).square().mean(), layer.scores)[0]
        g_sort = torch.autograd.grad(full_sort_forward(layer, x).square().mean(), layer.scores)[0]
        assert torch.allclose(g_ours, g_sort, rtol=1e-5, atol=1e-9), "the two implementations disagree"
        assert torch.equal(layer.mask(), full_sort_mask(layer.scores, density))
        times: dict[str, list[float]] = {"topk": [], "full_sort": []}
        for _ in range(5):  # warm-up
            _step(ours, layer, x, sync)
            _step(full_sort_forward, layer, x, sync)
        for i in range(args.steps):  # interleaved, alternating order, so that load changes hit both alike
            pair = [("topk", ours), ("full_sort", full_sort_forward)]
            for name, forward in pair if i % 2 == 0 else pair[::-1]:
                times[name].append(_step(forward, layer, x, sync))
        med = {name: statistics.median(v) for name, v in times.items()}
        ratio = med["topk"] / med["full_sort"]
        results.append(
            {
                "density": density,
                "kept": layer.k,
                "topk_ms": 1e3 * med["topk"],
                "full_sort_ms": 1e3 * med["full_sort"],
                "ratio": ratio,
            }
        )
        print(
            f"  density {density:g} ({layer.k:,} kept): top-k {1e3 * med['topk']:.2f} ms/step,"
            f" full sort {1e3 * med['full_sort']:.2f} ms/step,"
            f" ratio {ratio:.2f} (target <= 0.7)"
        )
    worst = max(r["ratio"] for r in results)
    print(f"  worst ratio top-k / full sort: {worst:.2f}")
    record = {
        "device": str(device),
        "threads": torch.get_num_threads(),
        "size": SIZE,
        "batch": BATCH,
        "steps": args.steps,
        "ratio": worst,
        "results": results,
    }
    path = write_record("edge_popup_step", record)
    print(f"  record: {path}")
    return record


if __name__ == "__main__":
    main()
