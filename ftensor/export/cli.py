"""Export a checkpoint to one self-contained ONNX file, then prove parity with PyTorch.

Each file is written under a temporary name and put in place only once it passes its check, so a
failed export leaves the previous model untouched. The export fails (exit 1) when parity does not
pass. With --int8, an int8 QDQ copy calibrated on dataset images is judged on the task against fp32
and written beside it only if it passes; fp32 is the product, so an int8 copy that fails is reported
and skipped without failing the export.
"""

from __future__ import annotations

import argparse
import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

from ftensor.runs import add_run_argument


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_run_argument(parser)
    parser.add_argument("--checkpoint", default=None, help="checkpoint (default: RUN/checkpoints/encoder_best.pth)")
    parser.add_argument("--output", default=None, help="ONNX file to write (default: RUN/exports/encoder.onnx)")
    parser.add_argument("--opset", type=int, default=20, help="ONNX opset version")
    parser.add_argument("--atol", type=float, default=1e-4, help="parity tolerance on every float head")
    parser.add_argument("--data_dir", default=None, help="dataset: real images for parity and int8 calibration")
    parser.add_argument("--int8", action="store_true", help="also write OUTPUT with .int8.onnx (needs --data_dir)")
    parser.add_argument("--calibration_images", type=int, default=64, help="train images used to calibrate int8")


def run(args: argparse.Namespace) -> int:
    from ftensor.data.reader import split_groups, square_crops
    from ftensor.errors import FTensorError
    from ftensor.export.onnx import export_graph, model_metadata
    from ftensor.export.parity import check_int8, check_parity, format_int8, format_parity
    from ftensor.runs import RunFolder, chosen
    from ftensor.training.checkpoint import load_trained_model

    if args.int8 and not args.data_dir:
        raise FTensorError("--int8 calibrates on real images: add --data_dir data/synthetic_dataset.")
    data_dir = Path(args.data_dir) if args.data_dir else None
    run = RunFolder(Path(args.run))
    model, info = load_trained_model(chosen(args.checkpoint, run.best))
    output = chosen(args.output, run.onnx)
    metadata = model_metadata(info["image_size"], info["preset"], info["parameters"], info.get("val_metrics"))
    with unchecked_path(output) as candidate:
        export_graph(model, candidate, info["image_size"], metadata, opset=args.opset)
        size_mb = candidate.stat().st_size / 2**20
        print(f"exported {size_mb:.1f} MB (opset {args.opset}, onnx.checker full check passed)")
        report = check_parity(
            model, candidate, info["image_size"], args.atol, data_dir, val_fraction=info["val_fraction"]
        )
        print(format_parity(report))
        if not report.passed:
            print(f"{output} not written{' (the previous file is untouched)' if output.exists() else ''}.")
            return 1
        int8_path = output.with_suffix(".int8.onnx")
        if int8_path.exists():  # quantised from the model being replaced: removed first, so that no crash
            int8_path.unlink()  # between the two steps can leave it beside the new model
            print(f"removed {int8_path}, quantised from the previous model")
        os.replace(candidate, output)
    print(f"wrote {output}")
    if args.int8:
        from ftensor.export.quantize import quantize_int8

        groups = split_groups(data_dir, args.calibration_images, "train", info["val_fraction"])
        calibration = square_crops(groups, info["image_size"])
        print(f"quantising to int8, calibrated on {len(calibration)} train images (their centred squares) …")
        with unchecked_path(int8_path) as candidate:
            quantize_int8(output, candidate, calibration)
            results = check_int8(output, candidate, data_dir, info["val_fraction"])
            print(format_int8(results))
            if not results["passed"]:
                print(f"{int8_path} not written: serve the fp32 model {output}.")
                return 0
            os.replace(candidate, int8_path)
        print(f"wrote {int8_path}")
    return 0


@contextlib.contextmanager
def unchecked_path(path: Path) -> Iterator[Path]:
    """A hidden name beside `path` for a file still to be checked, removed unless moved into place."""
    candidate = path.with_name(f".{path.name}.{os.getpid()}.unchecked")
    try:
        yield candidate
    finally:
        candidate.unlink(missing_ok=True)
