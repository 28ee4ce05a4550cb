"""Predict F_Tensors for a folder, file or glob of images with an exported model (no PyTorch needed).

Writes OUT/<name>.npy (uint8, shape (4, H, W), the spec's encoding, at each image's own size); OUT
defaults to RUN/predictions and the model to RUN/exports/encoder.onnx. Unreadable images are skipped
and listed; a rerun skips finished outputs; --shard k/n takes every n-th image starting at k (k from 0)
of the sorted inputs, for job arrays across machines.
"""

from __future__ import annotations

import argparse

from ftensor.runs import add_run_argument


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_run_argument(parser)
    parser.add_argument("--model", default=None, help="ONNX file (default: RUN/exports/encoder.onnx)")
    parser.add_argument("--input", required=True, help="a directory (searched recursively), an image, or a glob")
    parser.add_argument("--output", default=None, help="directory for the .npy files (default: RUN/predictions)")
    parser.add_argument("--batch_size", type=int, default=8, help="images per onnxruntime call")
    parser.add_argument("--save_viz", action="store_true", help="also write OUT/viz/<name>.png panels")
    parser.add_argument("--shard", default=None, metavar="k/n", help="process only shard k of n (0 ≤ k < n)")
    parser.add_argument("--providers", nargs="+", default=None, help="onnxruntime providers (default: best available)")


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from ftensor.runs import RunFolder, chosen
    from ftensor.serving.predict import predict_files
    from ftensor.serving.runtime import Runtime

    run = RunFolder(Path(args.run))
    model, output = chosen(args.model, run.onnx), chosen(args.output, run.predictions)
    runtime = Runtime(model, providers=args.providers)
    print(f"model {model} ({runtime.metadata.get('preset')}, {runtime.image_size}px) on {runtime.providers}")
    summary = predict_files(runtime, args.input, output, args.batch_size, args.save_viz, args.shard)
    print(
        f"wrote {summary.written} F_Tensors to {output}, skipped {summary.skipped_existing} already done, "
        f"{len(summary.failed)} failed (unreadable input or unwritable output); report: {summary.report}"
    )
    for failure in summary.failed[:20]:
        print(f"  skipped {failure['path']}: {failure['error']}")
    return 0
