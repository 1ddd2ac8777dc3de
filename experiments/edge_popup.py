"""Edge-popup beside the constructions (issue 7): two experiments, pure functions of their configs.

1. ``construction-vs-edge-popup``: one admissible target, the same G (same seed, same block sizes
   ``k``) for the Malach construction (Malach et al., ICML 2020) and for edge-popup (Ramanujan et
   al., CVPR 2020) trained on the squared error over the unit ball; both measured by
   :mod:`stronglth.verification` (sampled and adversarial sup error). Sup error against density, and
   against the size of G; where each wins.
2. ``edge-popup-classification``: edge-popup MLPs on digits and MNIST-1D: accuracy against density
   beside the trained dense network, against width, and against width at a fixed number of kept weights.

:func:`construction_vs_edge_popup` and :func:`edge_popup_classification` take a config dict and
return rows (dicts); :func:`write_results` writes ``<name>.csv``, ``<name>.png`` and ``<name>.md``
(names contain "edge") under ``experiments/results/``.

    python experiments/edge_popup.py [--full] [--only cve|classification] [--out-dir DIR]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import time
from pathlib import Path
from typing import Any

import numpy as np

RESULTS = Path(__file__).resolve().parent / "results"
CVE_NAME = "construction_vs_edge_popup"
CLS_NAME = "edge_popup_classification"

CVE_SMALL: dict[str, Any] = {
    "d": 4, "widths": [8, 8, 1], "family": "gaussian", "target_seed": 0, "seed": 1,
    "block_sizes": [16, 64, 256], "densities": [0.05, 0.2, 0.5], "unscaled_densities": [0.2],
    "steps": 800, "batch_size": 256, "optimizer": "adam", "lrs": [1e-3], "samples": 20_000, "eps": 0.1,
}
CVE_FULL: dict[str, Any] = CVE_SMALL | {
    "block_sizes": [8, 16, 32, 64, 128, 256, 512], "densities": [0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 0.8],
    "unscaled_densities": [0.05, 0.2, 0.5], "steps": 3000, "lrs": [3e-4, 1e-3, 3e-3], "samples": 100_000,
}
CLS_SMALL: dict[str, Any] = {
    "datasets": ["digits", "mnist1d"], "seeds": [0], "epochs": 15, "batch_size": 64, "lr": 0.1, "dense_lr": 0.05,
    "weight_decay": 5e-4, "weight_init": "signed_constant", "width": 256,
    "densities": [0.01, 0.03, 0.1, 0.3, 0.5, 0.7, 0.9], "width_density": 0.5, "widths": [32, 64, 128, 256, 512],
    "fixed_kept": 5_000, "fixed_widths": [64, 128, 256, 512, 1024],
}
CLS_FULL: dict[str, Any] = CLS_SMALL | {
    "seeds": [0, 1, 2], "epochs": 40, "densities": [0.005, 0.01, 0.03, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9],
    "widths": [16, 32, 64, 128, 256, 512, 1024], "fixed_widths": [64, 128, 256, 512, 1024, 2048],
}


# -- 1. construction vs edge-popup ------------------------------------------------------------------


def construction_vs_edge_popup(config: dict[str, Any], *, progress: bool = True) -> list[dict[str, Any]]:
    """Rows: per block size ``k``, the Malach ticket, edge-popup at each density (weights scaled to
    Kaiming's variance, output calibrated: ``"calibrated"``), edge-popup at the construction's own
    per-matrix densities, and edge-popup on G's unscaled values at ``unscaled_densities``. For each
    edge-popup cell the learning rate with the lowest final training MSE among ``lrs`` is kept."""
    from tqdm.auto import tqdm

    from stronglth import random_target
    from stronglth.baselines.tasks import approximate_target, construction_errors
    from stronglth.verification import sampled_error
    from stronglth.relu import ReLUNetwork

    target = random_target(config["d"], config["widths"], seed=config["target_seed"], family=config["family"]).check()
    zero = ReLUNetwork([np.zeros((1, target.d)), np.zeros((target.dims[-1], 1))])
    zero_error = sampled_error(zero, target, n=config["samples"], seed=config["seed"])[0]
    base = {"target": "x".join(map(str, target.dims)), "family": config["family"], "zero_error": zero_error}
    rows: list[dict[str, Any]] = []
    cells = []
    for k in config["block_sizes"]:
        cells += [(k, "calibrated", d) for d in config["densities"]] + [(k, "calibrated", "construction")]
        cells += [(k, 1.0, d) for d in config["unscaled_densities"]]
    bar = tqdm(total=len(cells) + len(config["block_sizes"]), desc=CVE_NAME, unit="cell", disable=not progress)
    for k in config["block_sizes"]:
        ks = [k] * target.depth
        _, row = construction_errors(target, block_sizes=ks, seed=config["seed"], eps=config["eps"], samples=config["samples"])
        layer_density = row.pop("layer_density")
        rows.append(base | row | {"variant": "malach", "requested_density": None, "lr": None, "output_factor": 1.0})
        bar.update()
        for kk, scale, density in [c for c in cells if c[0] == k]:
            requested = layer_density if density == "construction" else density
            best = None
            for lr in config["lrs"]:
                result = approximate_target(target, block_sizes=ks, density=requested, seed=config["seed"], steps=config["steps"],
                                            batch_size=config["batch_size"], optimizer=config["optimizer"], lr=lr, weight_scale=scale,
                                            samples=config["samples"], progress=False)
                if best is None or result.final_loss < best[0].final_loss:
                    best = (result, lr)
            result, lr = best
            variant = "edge-popup" if scale == "calibrated" else "edge-popup (G's values)"
            if density == "construction":
                variant += " @ construction's densities"
            rows.append(base | result.row() | {"variant": variant, "requested_density": None if density == "construction" else density,
                                               "lr": lr})
            bar.update()
    bar.close()
    return rows


def _plot_cve(rows: list[dict[str, Any]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.8))
    ks = sorted({r["block_size"] for r in rows})
    colors = {k: plt.cm.viridis(i / max(1, len(ks) - 1)) for i, k in enumerate(ks)}
    for k in ks:
        ep = sorted((r for r in rows if r["block_size"] == k and r["variant"] == "edge-popup"), key=lambda r: r["density"])
        left.plot([r["density"] for r in ep], [r["adversarial_error"] for r in ep], "o-", color=colors[k], label=f"edge-popup, k={k}")
        for r in rows:
            if r["block_size"] == k and r["variant"] == "malach":
                left.plot(r["density"], r["adversarial_error"], "*", ms=14, color=colors[k], markeredgecolor="k", label=f"Malach, k={k}")
            if r["block_size"] == k and r["variant"].startswith("edge-popup @"):
                left.plot(r["density"], r["adversarial_error"], "s", ms=8, mfc="none", color=colors[k])
            if r["block_size"] == k and r["variant"] == "edge-popup (G's values)":
                left.plot(r["density"], r["adversarial_error"], "x", ms=8, color=colors[k])
    zero = rows[0]["zero_error"]
    for ax in (left, right):
        ax.axhline(zero, color="gray", ls="--", lw=1, label="zero network (sup |F|)")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.grid(True, which="both", alpha=0.3)
    left.set_xlabel("density (fraction of G's weights kept)")
    left.set_ylabel("sup error over the unit ball (adversarial)")
    left.set_title("same target, same G: error vs density\n(squares: edge-popup at the construction's densities; x: unscaled G)", fontsize=9)
    left.legend(fontsize=7, ncol=2)
    by_k = {k: [r for r in rows if r["block_size"] == k] for k in ks}
    params = [by_k[k][0]["g_parameters"] for k in ks]
    malach = [next(r["adversarial_error"] for r in by_k[k] if r["variant"] == "malach") for k in ks]
    best_ep = [min(r["adversarial_error"] for r in by_k[k] if r["variant"].startswith("edge-popup")) for k in ks]
    matched = [next((r["adversarial_error"] for r in by_k[k] if r["variant"].startswith("edge-popup @")), np.nan) for k in ks]
    right.plot(params, malach, "*-", ms=12, label="Malach construction")
    right.plot(params, best_ep, "o-", label="edge-popup, best density")
    right.plot(params, matched, "s--", mfc="none", label="edge-popup at the construction's densities")
    right.set_xlabel("size of G (weights)")
    right.set_ylabel("sup error over the unit ball (adversarial)")
    right.set_title("error vs size of G", fontsize=9)
    right.legend(fontsize=8)
    fig.suptitle(f"target {rows[0]['target']} ({rows[0]['family']}): Malach construction vs edge-popup inside the same G")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def _summary_cve(rows: list[dict[str, Any]], config: dict[str, Any]) -> str:
    lines = [f"# Construction vs edge-popup (same target, same G)\n",
             f"Target {rows[0]['target']} ({rows[0]['family']}, seed {config['target_seed']}), G = RandomNetwork.for_target(target, [k]*l, "
             f"seed={config['seed']}). Errors: sup over the unit ball, adversarial (gradient ascent from the best of "
             f"{config['samples']:,} sphere points). The zero network's error (sup |F|) is {rows[0]['zero_error']:.4g}. Edge-popup: "
             f"{config['steps']} steps of {config['optimizer']} (lr from {config['lrs']} by final training MSE), batch {config['batch_size']}, "
             "weights scaled to Kaiming's variance with the output calibrated to the target's scale (so its ticket is a subnetwork of G "
             "times a constant); 'G's values' is edge-popup on G unscaled.\n",
             "| k | G weights | Malach density | Malach error | Malach certified | edge-popup at Malach's densities | best edge-popup (density) | G's values, best | winner |",
             "|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    for k in sorted({r["block_size"] for r in rows}):
        rk = [r for r in rows if r["block_size"] == k]
        m = next(r for r in rk if r["variant"] == "malach")
        matched = next((r for r in rk if r["variant"].startswith("edge-popup @")), None)
        scaled = [r for r in rk if r["variant"] == "edge-popup"]
        best = min(scaled, key=lambda r: r["adversarial_error"])
        unscaled = [r for r in rk if r["variant"] == "edge-popup (G's values)"]
        best_unscaled = min((r["adversarial_error"] for r in unscaled), default=float("nan"))
        winner = "Malach" if m["adversarial_error"] <= best["adversarial_error"] else f"edge-popup (at {best['density']:.3g}, {best['density'] / m['density']:.0f}x Malach's density)"
        lines.append(f"| {k} | {m['g_parameters']:,} | {m['density']:.3g} | {m['adversarial_error']:.3g} | {m['certified_error']:.3g} | "
                     f"{matched['adversarial_error'] if matched else float('nan'):.3g} | {best['adversarial_error']:.3g} ({best['density']:.3g}) | "
                     f"{best_unscaled:.3g} | {winner} |")
    zero = rows[0]["zero_error"]
    dead = [r["block_size"] for r in rows if r["variant"].startswith("edge-popup @") and r["adversarial_error"] >= 0.99 * zero]
    lines.append("")
    ratios = []
    for k in sorted({r["block_size"] for r in rows}):
        rk = [r for r in rows if r["block_size"] == k]
        m = next(r for r in rk if r["variant"] == "malach")
        b = min((r for r in rk if r["variant"] == "edge-popup"), key=lambda r: r["adversarial_error"])
        ratios.append(b["density"] / m["density"])
    lines.append(f"Reading: edge-popup's best error comes at {min(ratios):.0f}x to {max(ratios):.0f}x the construction's density. "
                 + (f"At the construction's own per-matrix densities edge-popup ends at the zero network (error = sup |F|) for k = {dead}: "
                    "with so few weights kept at random the initial network is (nearly) dead, and the straight-through gradient of a dead "
                    "network is zero. " if dead else "")
                 + "On G's unscaled U[-1, 1] values the first steps kill every path for the same reason.\n")
    return "\n".join(lines)


# -- 2. edge-popup classification -------------------------------------------------------------------


def edge_popup_classification(config: dict[str, Any], *, progress: bool = True) -> list[dict[str, Any]]:
    """Rows for three sweeps of MLPs with two hidden layers of ``width``: ``density`` (edge-popup at each
    density, and the dense network), ``width`` (edge-popup at ``width_density`` and dense, per width),
    and ``fixed_kept`` (edge-popup keeping ``fixed_kept`` weights in all, per width)."""
    from tqdm.auto import tqdm

    from stronglth.baselines.data import load_dataset
    from stronglth.baselines.models import mlp, prunable_weights
    from stronglth.baselines.tasks import train_classifier

    runs = []
    for name in config["datasets"]:
        for seed in config["seeds"]:
            runs += [(name, seed, "density", config["width"], "edge-popup", d) for d in config["densities"]]
            runs += [(name, seed, "density", config["width"], "dense", 1.0)]
            for w in config["widths"]:
                runs += [(name, seed, "width", w, "edge-popup", config["width_density"]), (name, seed, "width", w, "dense", 1.0)]
            runs += [(name, seed, "fixed_kept", w, "edge-popup", None) for w in config["fixed_widths"]]
    rows: list[dict[str, Any]] = []
    datasets: dict[str, Any] = {}
    for name, seed, sweep, width, mode, density in tqdm(runs, desc=CLS_NAME, unit="run", disable=not progress):
        if name not in datasets:
            datasets[name] = load_dataset(name)
        data = datasets[name]
        if density is None:  # a fixed number of kept weights, spread evenly: the same density in every layer
            total = prunable_weights(mlp(data.in_features, [width, width], data.num_classes, mode="dense", seed=0))
            if config["fixed_kept"] >= total:
                continue  # the network has fewer weights than the budget: not a subnetwork question
            density = config["fixed_kept"] / total
        model = mlp(data.in_features, [width, width], data.num_classes, mode=mode, density=density, weight_init=config["weight_init"],
                    seed=seed)
        result = train_classifier(model, data, epochs=config["epochs"], batch_size=config["batch_size"],
                                  lr=config["lr"] if mode == "edge-popup" else config["dense_lr"], weight_decay=config["weight_decay"],
                                  seed=seed, progress=False)
        rows.append({"dataset": name, "seed": seed, "sweep": sweep, "width": width, "mode": mode, "requested_density": density,
                     "density": result.density, "kept": result.kept, "weights": result.total, "test_accuracy": result.test_accuracy,
                     "train_accuracy": result.train_accuracy, "final_loss": result.final_loss, "seconds": result.seconds})
    return rows


def _mean_by(rows: list[dict[str, Any]], key: str) -> tuple[list[float], list[float], list[float]]:
    xs = sorted({r[key] for r in rows})
    means = [float(np.mean([r["test_accuracy"] for r in rows if r[key] == x])) for x in xs]
    stds = [float(np.std([r["test_accuracy"] for r in rows if r[key] == x])) for x in xs]
    return xs, means, stds


def _plot_cls(rows: list[dict[str, Any]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = sorted({r["dataset"] for r in rows})
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.5))
    for i, name in enumerate(names):
        color = f"C{i}"
        sel = lambda sweep, mode: [r for r in rows if r["dataset"] == name and r["sweep"] == sweep and r["mode"] == mode]  # noqa: E731
        x, m, s = _mean_by(sel("density", "edge-popup"), "requested_density")
        axes[0].errorbar(x, m, yerr=s, fmt="o-", color=color, label=f"{name}: edge-popup")
        dense = sel("density", "dense")
        axes[0].axhline(float(np.mean([r["test_accuracy"] for r in dense])), color=color, ls="--", label=f"{name}: dense, trained")
        x, m, s = _mean_by(sel("width", "edge-popup"), "width")
        axes[1].errorbar(x, m, yerr=s, fmt="o-", color=color, label=f"{name}: edge-popup")
        x, m, s = _mean_by(sel("width", "dense"), "width")
        axes[1].errorbar(x, m, yerr=s, fmt="s--", color=color, mfc="none", label=f"{name}: dense")
        fixed = sel("fixed_kept", "edge-popup")
        x, m, s = _mean_by(fixed, "width")
        axes[2].errorbar(x, m, yerr=s, fmt="o-", color=color, label=f"{name}: about {fixed[0]['kept']:,} kept weights")
    width = rows[0]["width"] if rows else 0
    axes[0].set(xscale="log", xlabel="density (fraction kept per layer)", ylabel="test accuracy",
                title=f"accuracy vs density (MLP, 2 hidden layers of {next((r['width'] for r in rows if r['sweep'] == 'density'), width)})")
    axes[1].set(xscale="log", xlabel="hidden width", ylabel="test accuracy", title="accuracy vs width (edge-popup at density 0.5)")
    axes[2].set(xscale="log", xlabel="hidden width", ylabel="test accuracy", title="width varied, number of kept weights fixed")
    for ax in axes[1:]:
        ticks = sorted({r["width"] for r in rows if r["sweep"] != "density"})
        ax.set_xscale("log", base=2)
        ax.set_xticks(ticks, [str(t) for t in ticks])
        ax.minorticks_off()
    for ax in axes:
        ax.axhline(0.1, color="gray", lw=0.8, ls=":")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=7)
    fig.suptitle("edge-popup (Ramanujan et al. 2020): subnetworks of random MLPs (signed-constant weights)")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def _summary_cls(rows: list[dict[str, Any]], config: dict[str, Any]) -> str:
    lines = ["# Edge-popup classification\n",
             f"MLPs with two hidden layers, bias-free, signed-constant weights; edge-popup: SGD lr {config['lr']}, momentum 0.9, "
             f"weight decay {config['weight_decay']}, cosine, batch {config['batch_size']}, {config['epochs']} epochs; the dense network: "
             f"the same with lr {config['dense_lr']}. Seeds {config['seeds']}; mean test accuracy. Chance: 10%.\n"]
    for name in sorted({r["dataset"] for r in rows}):
        sel = [r for r in rows if r["dataset"] == name]
        dense = np.mean([r["test_accuracy"] for r in sel if r["sweep"] == "density" and r["mode"] == "dense"])
        x, m, _ = _mean_by([r for r in sel if r["sweep"] == "density" and r["mode"] == "edge-popup"], "requested_density")
        best = int(np.argmax(m))
        lines.append(f"## {name}\n")
        lines.append(f"- dense, trained (width {config['width']}): {100 * dense:.1f}%; edge-popup best {100 * m[best]:.1f}% at density {x[best]:g}.")
        lines.append("- accuracy vs density: " + ", ".join(f"{d:g}: {100 * a:.1f}%" for d, a in zip(x, m)))
        xw, mw, _ = _mean_by([r for r in sel if r["sweep"] == "width" and r["mode"] == "edge-popup"], "width")
        _, md, _ = _mean_by([r for r in sel if r["sweep"] == "width" and r["mode"] == "dense"], "width")
        lines.append("- accuracy vs width (edge-popup / dense): " + ", ".join(f"{w}: {100 * a:.1f}/{100 * b:.1f}%" for w, a, b in zip(xw, mw, md)))
        xf, mf, _ = _mean_by([r for r in sel if r["sweep"] == "fixed_kept"], "width")
        lines.append(f"- about {config['fixed_kept']:,} kept weights (the same density in every layer), width varied: " + ", ".join(f"{w}: {100 * a:.1f}%" for w, a in zip(xf, mf)) + "\n")
    return "\n".join(lines)


# -- files ----------------------------------------------------------------------------------------


def write_results(name: str, rows: list[dict[str, Any]], config: dict[str, Any], out_dir: Path = RESULTS) -> list[Path]:
    """``<name>.csv`` (one row per run), ``<name>.png`` and ``<name>.md`` (summary, with the config) in ``out_dir``."""
    if "edge" not in name:
        raise ValueError(f"result names must contain 'edge', got {name!r}")
    out_dir.mkdir(parents=True, exist_ok=True)
    csv_path, png_path, md_path = (out_dir / f"{name}.{ext}" for ext in ("csv", "png", "md"))
    fields = list(dict.fromkeys(k for r in rows for k in r))
    tmp = csv_path.with_suffix(".csv.tmp")
    with open(tmp, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=fields)
        writer.writeheader()
        for r in rows:
            writer.writerow({k: json.dumps(v) if isinstance(v, list) else v for k, v in r.items()})
    os.replace(tmp, csv_path)
    if name == CVE_NAME:
        _plot_cve(rows, png_path)
        summary = _summary_cve(rows, config)
    else:
        _plot_cls(rows, png_path)
        summary = _summary_cls(rows, config)
    md_path.write_text(summary + f"\nConfig: `{json.dumps(config)}`\n\nFiles: `{csv_path.name}`, `{png_path.name}`.\n")
    return [csv_path, png_path, md_path]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Edge-popup experiments: construction-vs-edge-popup and edge-popup-classification.")
    parser.add_argument("--full", action="store_true", help="the full grid (hours on 2 cores) instead of the small default (minutes)")
    parser.add_argument("--only", choices=["cve", "classification"], help="run one experiment")
    parser.add_argument("--out-dir", type=Path, default=RESULTS, help=f"where to write (default {RESULTS})")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    args = parser.parse_args(argv)
    suffix = "_full" if args.full else ""
    if args.only in (None, "cve"):
        config = CVE_FULL if args.full else CVE_SMALL
        started = time.perf_counter()
        rows = construction_vs_edge_popup(config, progress=not args.quiet)
        paths = write_results(CVE_NAME, rows, config | {"grid": "full" if args.full else "small"}, args.out_dir)
        if suffix:
            paths = [p.rename(p.with_name(p.stem + suffix + p.suffix)) for p in paths]
        print(f"{CVE_NAME}: {len(rows)} rows in {time.perf_counter() - started:.0f} s -> {', '.join(p.name for p in paths)}")
        print(_summary_cve(rows, config))
    if args.only in (None, "classification"):
        config = CLS_FULL if args.full else CLS_SMALL
        started = time.perf_counter()
        rows = edge_popup_classification(config, progress=not args.quiet)
        paths = write_results(CLS_NAME, rows, config | {"grid": "full" if args.full else "small"}, args.out_dir)
        if suffix:
            paths = [p.rename(p.with_name(p.stem + suffix + p.suffix)) for p in paths]
        print(f"{CLS_NAME}: {len(rows)} rows in {time.perf_counter() - started:.0f} s -> {', '.join(p.name for p in paths)}")
        print(_summary_cls(rows, config))


if __name__ == "__main__":
    main()
