"""Benchmark dataset generation and loading on this machine.

    .venv/bin/python benchmarks/bench_data.py --num_samples 10000

Generation: samples/s of `generate_dataset` with all cores (images + F_Tensors + metadata written).
Loading: samples/s of a DataLoader with 2 workers over the same files (PNG + .npy decode, tensors
built and batched), after one warm-up batch. Prints a markdown table for the README.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

import torch
from machine import describe

from ftensor.data import FTensorDataset, generate_dataset


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--num_samples", type=int, default=10000)
    parser.add_argument("--image_size", type=int, default=256)
    parser.add_argument("--batch_size", type=int, default=32)
    parser.add_argument("--num_workers", type=int, default=2)
    args = parser.parse_args()

    data_dir = Path(tempfile.mkdtemp(prefix="ftensor-bench-"))
    try:
        start = time.perf_counter()
        generate_dataset(data_dir, args.num_samples, image_size=args.image_size, seed=0)
        generation = args.num_samples / (time.perf_counter() - start)

        dataset = FTensorDataset(data_dir, "all")
        loader = torch.utils.data.DataLoader(
            dataset, batch_size=args.batch_size, num_workers=args.num_workers, shuffle=True, prefetch_factor=4
        )
        batches = iter(loader)
        next(batches)
        start, seen = time.perf_counter(), 0
        for images, _ in batches:
            seen += len(images)
        loading = seen / (time.perf_counter() - start)
        size = sum(p.stat().st_size for p in data_dir.rglob("*") if p.is_file()) / args.num_samples / 1024
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)

    print(f"\n{describe()}\n{args.num_samples} samples at {args.image_size} px, {size:.0f} KiB per sample\n")
    print("| step | samples/s |")
    print("|---|---|")
    print(f"| generate (all cores) | {generation:.0f} |")
    print(f"| load (decode + tensors, {args.num_workers} workers, batch {args.batch_size}) | {loading:.0f} |")


if __name__ == "__main__":
    main()
