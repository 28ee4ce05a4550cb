"""Export a checkpoint to one self-contained ONNX file, then prove parity with PyTorch.

The export fails (exit 1) when the parity check does not pass. With --int8, an int8 QDQ copy
calibrated on dataset images is written beside it and judged on the task against fp32.
"""

from __future__ import annotations

import argparse

DEFAULT_OUTPUT = "exports/encoder.onnx"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--checkpoint", default="checkpoints/encoder_best.pth", help="checkpoint from `ftensor train`")
    parser.add_argument("--output", default=DEFAULT_OUTPUT, help="ONNX file to write")
    parser.add_argument("--opset", type=int, default=20, help="ONNX opset version")
    parser.add_argument("--atol", type=float, default=1e-4, help="parity tolerance on every float head")
    parser.add_argument("--data_dir", default=None, help="dataset: real images for parity and int8 calibration")
    parser.add_argument("--int8", action="store_true", help="also write OUTPUT with .int8.onnx (needs --data_dir)")
    parser.add_argument("--calibration_images", type=int, default=64, help="train images used to calibrate int8")


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from ftensor.errors import FTensorError
    from ftensor.export.onnx import export_graph, model_metadata
    from ftensor.export.parity import check_int8, check_parity, format_int8, format_parity, split_images
    from ftensor.training.checkpoint import load_trained_model

    if args.int8 and not args.data_dir:
        raise FTensorError("--int8 calibrates on real images: add --data_dir data/synthetic_dataset.")
    data_dir = Path(args.data_dir) if args.data_dir else None
    model, info = load_trained_model(Path(args.checkpoint))
    output = Path(args.output)
    metadata = model_metadata(info["image_size"], info["preset"], info["parameters"], info.get("val_metrics"))
    export_graph(model, output, info["image_size"], metadata, opset=args.opset)
    print(
        f"wrote {output} ({output.stat().st_size / 2**20:.1f} MB, opset {args.opset}, onnx.checker full check passed)"
    )
    report = check_parity(model, output, info["image_size"], atol=args.atol, data_dir=data_dir)
    print(format_parity(report))
    if not report.passed:
        return 1
    if args.int8:
        from ftensor.export.quantize import quantize_int8

        int8_path = output.with_suffix(".int8.onnx")
        calibration = split_images(data_dir, args.calibration_images, split="train")[0]
        print(f"quantising to int8, calibrated on {len(calibration)} train images …")
        quantize_int8(output, int8_path, calibration)
        print(f"wrote {int8_path}")
        results = check_int8(output, int8_path, data_dir)
        print(format_int8(results))
        if not results["passed"]:
            return 1
    return 0
