"""Generate a synthetic dataset that follows docs/FTENSOR_SPEC.md.

Sample i depends only on (--seed, i): the same command writes byte-identical files, a rerun after an
interruption completes what is missing, and ranges made elsewhere with --start_index merge into one
dataset.
"""

from __future__ import annotations

import argparse
import os

from ftensor.data.layout import DEFAULT_DATA_DIR
from ftensor.spec import DEFAULT_IMAGE_SIZE


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--num_samples", type=int, default=1000, help="how many samples to make")
    parser.add_argument("--data_dir", default=DEFAULT_DATA_DIR, help="dataset directory (created if missing)")
    parser.add_argument(
        "--image_size", type=int, default=DEFAULT_IMAGE_SIZE, help="side S in pixels: a multiple of 16, ≥ 64"
    )
    parser.add_argument("--seed", type=int, default=0, help="dataset seed; sample i depends on (seed, i) only")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="worker processes")
    parser.add_argument(
        "--start_index",
        type=int,
        default=0,
        help="first sample index; shard across machines with disjoint ranges, then copy into one directory",
    )


def run(args: argparse.Namespace) -> int:
    from ftensor.data.generate import generate_dataset
    from ftensor.data.stats import format_info
    from ftensor.errors import FTensorError

    if args.workers < 1:
        raise FTensorError(f"--workers must be at least 1, got {args.workers}.")
    info = generate_dataset(
        args.data_dir,
        args.num_samples,
        image_size=args.image_size,
        seed=args.seed,
        workers=args.workers,
        start_index=args.start_index,
    )
    print(format_info(info, args.data_dir))
    return 0
