"""Score a model on a labelled dataset of the spec: a checkpoint (.pth) or an ONNX / int8 ONNX file (no
PyTorch needed for those).

Prints the spec's metrics pooled over the split with the success criteria, the hierarchy error per
role and the largest colour confusions; writes OUT/val.json and OUT/worst.png (the samples with the
most wrong pixels: image, truth, prediction, errors). OUT defaults to RUN/val; the model to the run's
exports/encoder.onnx, or its checkpoints/encoder_best.pth when it has no export.
"""

from __future__ import annotations

import argparse

from ftensor.data.layout import DEFAULT_DATA_DIR
from ftensor.runs import add_run_argument


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_run_argument(parser)
    parser.add_argument("--model", default=None, help="a .pth checkpoint or an .onnx file (default: from the run)")
    parser.add_argument("--data_dir", default=DEFAULT_DATA_DIR, help="any labelled dataset directory of the spec")
    parser.add_argument(
        "--split", default="all", choices=("all", "val", "train"), help="all for a held-out set; val on a training set"
    )
    parser.add_argument("--val_fraction", type=float, default=0.1, help="with --split val/train: the split's size")
    parser.add_argument("--batch_size", type=int, default=8, help="images per model call")
    parser.add_argument("--max_images", type=int, default=None, help="score only the first N images of the split")
    parser.add_argument("--worst", type=int, default=8, help="samples shown in worst.png")
    parser.add_argument("--output", default=None, help="folder for val.json and worst.png (default: RUN/val)")
    parser.add_argument("--json", dest="json_path", default=None, metavar="PATH", help="also write the report here")


def run(args: argparse.Namespace) -> int:
    import json
    from pathlib import Path

    from ftensor.errors import FTensorError
    from ftensor.evaluation import evaluate_model, format_report, worst_grid
    from ftensor.files import atomic_write_bytes
    from ftensor.runs import RunFolder

    run_folder = RunFolder(Path(args.run))
    model = Path(args.model) if args.model else run_folder.onnx if run_folder.onnx.is_file() else run_folder.best
    if args.batch_size < 1 or args.worst < 0:
        raise FTensorError("--batch_size must be at least 1 and --worst 0 or more.")
    output = Path(args.output) if args.output else run_folder.val
    report, worst = evaluate_model(
        model, Path(args.data_dir), args.split, args.val_fraction, args.batch_size, args.max_images, args.worst
    )
    worst_grid(worst, output / "worst.png")
    report["worst_grid"] = str(output / "worst.png") if worst else None
    for path in {output / "val.json", *([Path(args.json_path)] if args.json_path else [])}:
        atomic_write_bytes(path, json.dumps(report, indent=1).encode())
    print(format_report(report))
    print(f"wrote {output / 'val.json'}" + (f" and {report['worst_grid']}" if worst else ""))
    return 0
