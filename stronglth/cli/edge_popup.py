"""``stronglth edge-popup``: the edge-popup baseline (Ramanujan et al., CVPR 2020) from the command line.

    stronglth edge-popup classify --data digits --arch mlp --widths 256 256 --density 0.5 0.1 --dense
    stronglth edge-popup approximate --d 4 --widths 8 8 1 --block-size 64 --density 0.05 0.2 --compare

``add_parser(subparsers)`` registers the command on the main parser; ``main(argv)`` runs it alone
(``python -m stronglth.cli.edge_popup``). Torch is imported only when the command runs.
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Sequence
from typing import Any

from stronglth import _validate
from stronglth._io import check_output_path
from stronglth.cli._parser import OneLineParser, run_parsed
from stronglth.cli._table import columns
from stronglth.cli._target import add_target_arguments, check_target_args, target_from_args
from stronglth.errors import InvalidInputError

__all__ = ["add_parser", "main"]


def _fmt(value: Any, spec: str = ".4g") -> str:
    return "-" if value is None else format(value, spec)


def _cmd_classify(args: argparse.Namespace) -> int:
    import torch

    from stronglth.baselines.classification import resolve_device, train_classifier
    from stronglth.baselines.data import load_dataset
    from stronglth.baselines.models import conv_net, mlp, save_model

    if args.out is not None and (len(args.density) != 1 or args.dense):
        raise InvalidInputError("--out saves one model: give a single --density and no --dense")
    _validate.seed(args.data_seed, "--data-seed")
    _validate.non_negative_int(args.limit, "--limit")
    for width in args.widths:
        _validate.positive_int(width, "--widths")
    _validate.positive_float(args.width, "--width")
    _validate.positive_int(args.epochs, "--epochs")
    _validate.non_negative_float(args.weight_decay, "--weight-decay")
    _validate.positive_float(args.dense_lr, "--dense-lr")
    if args.out is not None:
        check_output_path(args.out, kind="file", suffix=".pt")
    device = resolve_device(args.device)
    if args.threads:
        torch.set_num_threads(args.threads)
    data = load_dataset(args.data, data_dir=args.data_dir, seed=args.data_seed)
    if args.limit:
        data = data.limit(args.limit, seed=args.seed)

    def build(mode: str, density: float):
        if args.arch == "mlp":
            return mlp(
                data.in_features,
                args.widths,
                data.num_classes,
                mode=mode,
                density=density,
                weight_init=args.weight_init,
                scale_fan=args.scale_fan,
                seed=args.seed,
            )
        shape = data.input_shape
        if len(shape) != 3 or shape[1] != shape[2]:
            raise InvalidInputError(f"{args.arch} needs square images, {args.data} has inputs of shape {shape}; use --arch mlp")
        return conv_net(
            int(args.arch[4:]),
            in_channels=shape[0],
            image_size=shape[1],
            num_classes=data.num_classes,
            width=args.width,
            mode=mode,
            density=density,
            weight_init=args.weight_init,
            scale_fan=args.scale_fan,
            seed=args.seed,
        )

    runs = [("edge-popup", d) for d in args.density] + ([("dense", 1.0)] if args.dense else [])
    print(
        f"{args.data}: {len(data.y_train):,} train / {len(data.y_test):,} test, inputs {data.input_shape};"
        f" {args.arch}; device {device}"
    )
    from tqdm.auto import tqdm

    rows, model = [], None
    for mode, density in tqdm(runs, desc="runs", unit="run", disable=args.quiet or len(runs) == 1):
        model = build(mode, density)
        lr = args.lr if mode == "edge-popup" else args.dense_lr
        result = train_classifier(
            model,
            data,
            epochs=args.epochs,
            batch_size=args.batch_size,
            lr=lr,
            momentum=args.momentum,
            weight_decay=args.weight_decay,
            seed=args.seed,
            device=device,
            progress=not args.quiet,
            desc=f"{mode} {density:g}",
        )
        rows.append(
            [
                mode,
                f"{density:g}",
                f"{result.kept:,}",
                f"{result.total:,}",
                f"{100 * result.train_accuracy:.1f}",
                f"{100 * result.test_accuracy:.1f}",
                f"{result.final_loss:.3f}",
                f"{result.seconds:.1f}",
            ]
        )
    print(columns(["mode", "density", "kept", "weights", "train %", "test %", "loss", "seconds"], rows))
    print(
        f"  chance: {100 / data.num_classes:.1f}%; weight init {args.weight_init}"
        f"{' (scaled 1/sqrt(density))' if args.scale_fan else ''}"
    )
    if args.out is not None and model is not None:
        print(f"  model written to {save_model(model, args.out)} (load with stronglth.baselines.load_model)")
    return 0


def _cmd_approximate(args: argparse.Namespace) -> int:
    import torch

    from stronglth.baselines.approximation import approximate_target, construction_errors
    from stronglth.baselines.classification import resolve_device
    from stronglth.verification.sampled import check_samples

    for k in args.block_size:
        _validate.positive_int(k, "--block-size")
    _validate.positive_int(args.steps, "--steps")
    check_samples(args.samples, "--samples")
    _validate.positive_float(args.eps, "--eps")
    check_target_args(args)
    device = resolve_device(args.device)
    if args.threads:
        torch.set_num_threads(args.threads)
    target = target_from_args(args)
    target.check()
    ks = args.block_size * target.depth if len(args.block_size) == 1 else args.block_size
    if len(ks) != target.depth:
        raise InvalidInputError(f"--block-size needs 1 or {target.depth} values (one per target layer), got {len(ks)}")
    from stronglth.verification import sampled_error

    zero = sampled_error(_zero_network(target), target, n=args.samples, seed=args.seed)[0]
    rows = []
    densities: list[Any] = list(args.density)
    if args.compare:
        _, row = construction_errors(target, block_sizes=ks, seed=args.seed, eps=args.eps, samples=args.samples)
        rows.append(row)
        densities.append(row["layer_density"])  # edge-popup with the construction's own per-matrix densities
    from tqdm.auto import tqdm

    for density in tqdm(densities, desc="densities", unit="run", disable=args.quiet or len(densities) == 1):
        result = approximate_target(
            target,
            block_sizes=ks,
            density=density,
            seed=args.seed,
            steps=args.steps,
            batch_size=args.batch_size,
            lr=args.lr,
            optimizer=args.optimizer,
            momentum=args.momentum,
            weight_scale=args.weight_scale,
            samples=args.samples,
            exact=args.exact,
            device=device,
            progress=not args.quiet,
        )
        row = result.row()
        row["method"] = "edge-popup" + (" @ construction's" if isinstance(density, list) else "")
        rows.append(row)
    print(
        f"target {' x '.join(map(str, target.dims))}; G of depth {2 * target.depth}, block sizes {list(ks)},"
        f" seed {args.seed}; device {device}"
    )
    header = [
        "method",
        "density",
        "nnz",
        "G weights",
        "output factor",
        "train mse",
        "sampled",
        "adversarial",
        "certified",
        "zero fn",
        "seconds",
    ]
    table = [
        [
            r["method"],
            _fmt(r["density"], ".3g"),
            f"{r['nnz']:,}",
            f"{r['g_parameters']:,}",
            _fmt(r.get("output_factor", 1.0), ".3g"),
            _fmt(r["train_mse"], ".3g"),
            _fmt(r["sampled_error"]),
            _fmt(r["adversarial_error"]),
            _fmt(r["certified_error"]),
            "YES" if r.get("zero_network") else "no",
            _fmt(r["seconds"], ".1f"),
        ]
        for r in rows
    ]
    print(columns(header, table))
    if any(r.get("zero_network") for r in rows):
        print("  zero fn YES: the mask collapsed to the zero function; its error is the target's sup norm, not a result")
    print(
        f"  sup error of the zero network (the target's own sup norm): {zero:.4g};"
        f" errors are sup over the unit ball ({args.samples:,} points)"
    )
    print(
        "  output factor: the edge-popup ticket is this constant times a true subnetwork of G"
        " (1: G's own values; --weight-scale 1)"
    )
    return 0


def _zero_network(target: Any) -> Any:
    import numpy as np

    from stronglth.relu import ReLUNetwork

    return ReLUNetwork([np.zeros((1, target.d)), np.zeros((target.dims[-1], 1))])


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``edge-popup`` (with tasks ``classify`` and ``approximate``) on ``subparsers``."""
    parser = subparsers.add_parser(
        "edge-popup",
        help="the edge-popup baseline: train masks over frozen random weights",
        description="Edge-popup (Ramanujan et al., CVPR 2020): a trained top-k mask over frozen random weights.",
    )
    tasks = parser.add_subparsers(dest="task", required=True, parser_class=type(parser))

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--density", type=float, nargs="+", default=[0.5], help="fraction(s) of weights kept per layer (default 0.5)"
        )
        p.add_argument("--seed", type=int, default=0, help="seed of weights, scores and batches (default 0)")
        p.add_argument("--device", default="auto", help="auto (CUDA when present), cpu or cuda (default auto)")
        p.add_argument("--threads", type=int, default=0, help="torch CPU threads (default: torch's choice)")
        p.add_argument("--lr", type=float, default=None, help="learning rate of the scores")
        p.add_argument("--momentum", type=float, default=0.9, help="SGD momentum (default 0.9)")
        p.add_argument("--batch-size", type=int, default=128, help="batch size (default 128)")
        p.add_argument("--quiet", action="store_true", help="no progress bars")

    cls = tasks.add_parser("classify", help="edge-popup classification (digits, mnist1d, mnist, cifar10)")
    common(cls)
    cls.add_argument(
        "--data", default="digits", choices=["digits", "mnist1d", "mnist", "cifar10"], help="data set (default digits)"
    )
    cls.add_argument("--data-dir", help="directory with the MNIST idx files or cifar-10-batches-bin/")
    cls.add_argument("--data-seed", type=int, default=0, help="seed of the digits split / mnist1d generation (default 0)")
    cls.add_argument("--limit", type=int, default=0, help="use at most this many training examples (default all)")
    cls.add_argument("--arch", default="mlp", choices=["mlp", "conv2", "conv4", "conv6"], help="model (default mlp)")
    cls.add_argument("--widths", type=int, nargs="+", default=[256, 256], help="MLP hidden widths (default 256 256)")
    cls.add_argument("--width", type=float, default=1.0, help="Conv-2/4/6 width multiplier (default 1)")
    cls.add_argument(
        "--weight-init",
        default="signed_constant",
        choices=["signed_constant", "kaiming_normal", "uniform"],
        help="frozen weights (default signed_constant)",
    )
    cls.add_argument("--scale-fan", action="store_true", help="scale the weights by 1/sqrt(density)")
    cls.add_argument("--epochs", type=int, default=20, help="epochs (default 20)")
    cls.add_argument("--weight-decay", type=float, default=5e-4, help="weight decay (default 5e-4)")
    cls.add_argument("--dense", action="store_true", help="also train the dense network of the same architecture")
    cls.add_argument("--dense-lr", type=float, default=0.05, help="learning rate of the dense network (default 0.05)")
    cls.add_argument("--out", help="save the trained model here (.pt, loaded with weights_only=True)")
    cls.set_defaults(run=_run(_cmd_classify, lr=0.1))

    app = tasks.add_parser(
        "approximate", help="edge-popup inside the theorem's G against a target (sup error, as for constructions)"
    )
    common(app)
    add_target_arguments(app)
    app.add_argument(
        "--block-size", type=int, nargs="+", default=[64], help="k (one for all layers, or one per layer; default 64)"
    )
    app.add_argument("--steps", type=int, default=2000, help="training steps (default 2000)")
    app.add_argument("--optimizer", default="adam", choices=["sgd", "adam"], help="optimizer of the scores (default adam)")
    app.add_argument(
        "--weight-scale",
        type=_scale,
        default="calibrated",
        help="G's weights times: a number (1 keeps a true subnetwork of G), auto (Kaiming's variance) or calibrated"
        " (auto, output matched to the target's scale; the default)",
    )
    app.add_argument("--samples", type=int, default=100_000, help="sphere points for the sampled error (default 100000)")
    app.add_argument("--exact", action="store_true", help="also the exact sup error (small networks)")
    app.add_argument(
        "--compare", action="store_true", help="also the Malach construction in the same G, and edge-popup at its densities"
    )
    app.add_argument("--eps", type=float, default=0.1, help="eps of the construction (its failure budget; default 0.1)")
    app.set_defaults(run=_run(_cmd_approximate, lr=1e-3))
    parser.set_defaults(run=lambda args: parser.error("choose a task: classify or approximate"))
    return parser


def _scale(text: str) -> float | str:
    if text in ("auto", "calibrated"):
        return text
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, 'auto' or 'calibrated', got {text!r}") from None
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"expected a finite positive number, 'auto' or 'calibrated', got {text!r}")
    return value


def _run(command, *, lr: float):
    def run(args: argparse.Namespace) -> int:
        if args.lr is None:
            args.lr = lr
        for d in args.density:
            if not 0 < d <= 1:
                raise InvalidInputError(f"--density is the fraction of weights kept, in (0, 1]; got {d}")
        _validate.seed(args.seed, "--seed")
        _validate.non_negative_int(args.threads, "--threads")
        _validate.positive_float(args.lr, "--lr")
        _validate.non_negative_float(args.momentum, "--momentum")
        _validate.positive_int(args.batch_size, "--batch-size")
        return command(args)

    return run


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``edge-popup`` alone: ``python -m stronglth.cli.edge_popup classify ...``."""
    parser = OneLineParser(prog="stronglth")
    add_parser(parser.add_subparsers(dest="command", required=True, parser_class=OneLineParser))
    return run_parsed(parser.parse_args(["edge-popup", *(sys.argv[1:] if argv is None else argv)]))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
