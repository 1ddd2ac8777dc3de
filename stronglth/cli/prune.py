"""``stronglth prune``: a ticket finder of :data:`stronglth.pruning.FINDERS` from the command line.

    stronglth prune imp --data mnist-sample --model lenet --density 0.07 --iterations 1000
    stronglth prune synflow --data digits --model conv2 --width 0.5 --density 0.1 --scope global --out masks.pt

Prints the kept weights per layer and the test accuracy of the ticket: as found for the strong finders
(supermask, edge-popup), after training its kept weights from the ticket's weights otherwise. ``--out`` saves
``{"method", "masks", "state_dict"}`` with ``torch.save`` (load with ``weights_only=True``). Torch is
imported only when the command runs.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from stronglth import _validate
from stronglth._io import atomic_write, check_output_path
from stronglth.cli._parser import OneLineParser, run_parsed
from stronglth.cli._table import columns
from stronglth.errors import InvalidInputError

__all__ = ["add_parser", "main"]

MODELS = ("lenet", "conv2", "conv4")
DATA = ("digits", "mnist1d", "mnist-sample", "mnist")


def _cmd_prune(args: argparse.Namespace) -> int:
    import torch

    from stronglth.baselines.classification import resolve_device
    from stronglth.baselines.data import load_dataset
    from stronglth.pruning import FINDERS, prune
    from stronglth.pruning.models import conv2, conv4, lenet_300_100
    from stronglth.pruning.training import TrainSettings, copy_model, train, with_validation

    if args.method not in FINDERS:
        raise InvalidInputError(f"unknown pruning method {args.method!r}; choose one of {sorted(FINDERS)}")
    seed = _validate.seed(args.seed, "--seed")
    iterations = _validate.positive_int(args.iterations, "--iterations")
    _validate.positive_float(args.width, "--width")
    _validate.positive_float(args.lr, "--lr")
    if not 0 < args.density <= 1:
        raise InvalidInputError(f"--density is the fraction of weights kept, in (0, 1]; got {args.density}")
    if args.out is not None:
        check_output_path(args.out, kind="file", suffix=".pt")
    device = resolve_device(args.device)
    raw = load_dataset(args.data, data_dir=args.data_dir)
    data = with_validation(raw, max(1, len(raw.y_train) // 10), seed=0)
    shape = data.input_shape
    if args.model == "lenet":
        model = lenet_300_100(
            seed=seed, in_features=int(torch.tensor(shape).prod()), num_classes=raw.num_classes, width=args.width
        )
    else:
        if len(shape) != 3 or shape[1] != shape[2]:
            raise InvalidInputError(
                f"{args.model} needs square images, {args.data} has inputs of shape {shape}; use --model lenet"
            )
        build = conv2 if args.model == "conv2" else conv4
        model = build(seed=seed, in_channels=shape[0], image_size=shape[1], num_classes=raw.num_classes, width=args.width)
    finder = FINDERS[args.method]
    settings = TrainSettings(iterations=iterations, batch_size=60, lr=args.lr, eval_every=max(1, iterations // 10))
    options = {} if args.method in ("synflow", "snip", "magnitude", "random") else {"settings": settings}
    if finder.kind == "strong":
        options["settings"] = TrainSettings(
            iterations=iterations, lr=100.0 if args.method == "supermask" else 0.1, optimizer="sgd", schedule="cosine"
        )
    result = prune(args.method, model, data, args.density, seed=seed, scope=args.scope, device=device, **options)
    ticket = copy_model(result.model)
    if finder.kind == "weak":
        summary = train(ticket, data, settings, seed=seed, masks=result.masks, device=device, progress=not args.quiet).summary()
        accuracy, how = summary["early_stop_test_accuracy"], "after training the kept weights (at early stop)"
    else:
        from stronglth.pruning.training import evaluate

        accuracy, how = evaluate(ticket.to(device), data.x_test, data.y_test)[1], "as found (weights untouched)"
    rows = [
        [str(i), f"{k:,}", f"{m.numel():,}", f"{100 * k / m.numel():.2f}"]
        for i, (k, m) in enumerate(zip(result.kept, result.masks, strict=True))
    ]
    print(f"{args.method} on {args.model}, {args.data}; scope {result.scope}; device {device}")
    print(columns(["layer", "kept", "weights", "kept %"], rows))
    print(f"  density {100 * result.achieved_density:.3f}% kept; test accuracy {100 * accuracy:.2f}% {how}")
    if result.collapsed:
        print(f"  layer collapse: layers {result.collapsed} keep no weight")
    if args.out is not None:
        state = {k: v.detach().cpu() for k, v in result.model.state_dict().items()}
        with atomic_write(args.out, "wb") as f:
            torch.save({"method": args.method, "masks": [m.cpu() for m in result.masks], "state_dict": state}, f)
        print(f"  masks and ticket written to {args.out}")
    return 0


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register ``prune`` on the main parser."""
    parser = subparsers.add_parser("prune", help="find a ticket with a pruning algorithm (IMP, SynFlow, SNIP, ...)")
    parser.add_argument(
        "method", help="imp, imp-one-shot, imp-lr-rewind, early-bird, synflow, snip, magnitude, random, supermask, edge-popup"
    )
    parser.add_argument("--data", choices=DATA, default="digits", help="data set (default digits)")
    parser.add_argument("--data-dir", default=None, help="directory of the MNIST idx files (--data mnist)")
    parser.add_argument("--model", choices=MODELS, default="lenet", help="LeNet-300-100, Conv-2 or Conv-4 (default lenet)")
    parser.add_argument("--width", type=float, default=1.0, help="width multiplier of the model (default 1)")
    parser.add_argument("--density", type=float, required=True, help="fraction of the weights kept, in (0, 1]")
    parser.add_argument(
        "--scope", choices=("layer", "global"), default=None, help="rank per layer or globally (default: the finder's)"
    )
    parser.add_argument("--iterations", type=int, default=1000, help="training steps per training (default 1000)")
    parser.add_argument("--lr", type=float, default=1.2e-3, help="Adam's learning rate for weight training (default 1.2e-3)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the weights, batches and finder (default 0)")
    parser.add_argument("--device", default="auto", help="auto (CUDA when present), cpu or cuda (default auto)")
    parser.add_argument("--out", default=None, help="write the masks and the ticket's weights here (.pt)")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    parser.set_defaults(run=_cmd_prune)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``prune`` alone: ``python -m stronglth.cli.prune imp --density 0.2``."""
    parser = OneLineParser(prog="stronglth")
    add_parser(parser.add_subparsers(dest="command", required=True, parser_class=OneLineParser))
    return run_parsed(parser.parse_args(["prune", *(sys.argv[1:] if argv is None else argv)]))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
