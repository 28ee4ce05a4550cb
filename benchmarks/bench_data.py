"""Benchmark dataset generation and loading on this machine.

    .venv/bin/python benchmarks/bench_data.py --num_samples 10000              # the default size mix
    .venv/bin/python benchmarks/bench_data.py --num_samples 10000 --aspects 1:1  # squares, as version 1

Generation: samples/s of `generate_dataset` with all cores (images + F_Tensors + metadata written), and
per core, and the pixels made per second (a 16:9 design has 1.75× a square's).
Loading: samples/s of a DataLoader with 2 workers over the same files (PNG + .npy decode, tensors
built and batched), after one warm-up batch. Prints a markdown table for the README.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from pathlib import Path

import torch
from machine import describe

from ftensor.data import FTensorDataset, generate_dataset
from ftensor.data.dataset import SizeBatchSampler
from ftensor.data.generate import mix_sizes
from ftensor.spec import DEFAULT_ASPECTS


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--num_samples", type=int, default=10000)
    parser.add_argument("--image_size", type=int, default=256)
    parser.add_argument("--batch_size", type=int, default=32)
    parser.add_argument("--num_workers", type=int, default=2)
    parser.add_argument("--aspects", default=",".join(DEFAULT_ASPECTS), help="as `ftensor generate --aspects`")
    args = parser.parse_args()
    sizes = mix_sizes(args.image_size, tuple(args.aspects.split(",")))

    data_dir = Path(tempfile.mkdtemp(prefix="ftensor-bench-"))
    try:
        start = time.perf_counter()
        generate_dataset(data_dir, args.num_samples, seed=0, sizes=sizes)
        generation = args.num_samples / (time.perf_counter() - start)

        dataset = FTensorDataset(data_dir, "all")
        megapixels = sum(w * h for w, h in dataset.sizes) / 1e6 / args.num_samples * generation
        sampler = SizeBatchSampler(dataset.sizes, args.batch_size, shuffle=True)
        loader = torch.utils.data.DataLoader(
            dataset, batch_sampler=sampler, num_workers=args.num_workers, prefetch_factor=4
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

    cores = os.cpu_count() or 1
    print(f"\n{describe()}\n{args.num_samples} samples, S = {args.image_size} px, aspects {args.aspects}, ", end="")
    print(f"{size:.0f} KiB per sample\n")
    print("| step | samples/s | per core | megapixels/s |")
    print("|---|---|---|---|")
    print(f"| generate ({cores} cores) | {generation:.0f} | {generation / cores:.0f} | {megapixels:.1f} |")
    print(f"| load (decode + tensors, {args.num_workers} workers, batch {args.batch_size}) | {loading:.0f} | | |")


if __name__ == "__main__":
    main()
