"""Check that an ONNX file computes what a checkpoint computes.

Runs PyTorch and onnxruntime on random images at batch 1, a larger batch and a non-square size,
and on real val images when --data_dir is given; prints the max abs diff per head, F_Tensor
agreement and both models' spec metrics. Exits 0 only when every head is within --atol.
"""

from __future__ import annotations

import argparse

from ftensor.runs import add_run_argument


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_run_argument(parser)
    parser.add_argument("--checkpoint", default=None, help="checkpoint (default: RUN/checkpoints/encoder_best.pth)")
    parser.add_argument("--onnx", default=None, help="ONNX file (default: RUN/exports/encoder.onnx)")
    parser.add_argument("--data_dir", default=None, help="dataset whose val images are compared too")
    parser.add_argument("--atol", type=float, default=1e-4, help="tolerance on every float head")
    parser.add_argument("--max_images", type=int, default=32, help="val images compared when --data_dir is given")


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from ftensor.export.parity import check_parity, format_parity, read_onnx
    from ftensor.runs import RunFolder, chosen
    from ftensor.training.checkpoint import load_trained_model

    run = RunFolder(Path(args.run))
    onnx_path = read_onnx(chosen(args.onnx, run.onnx))
    model, info = load_trained_model(chosen(args.checkpoint, run.best))
    report = check_parity(
        model,
        onnx_path,
        info["image_size"],
        atol=args.atol,
        data_dir=Path(args.data_dir) if args.data_dir else None,
        max_images=args.max_images,
        val_fraction=info["val_fraction"],
    )
    print(format_parity(report))
    return 0 if report.passed else 1
