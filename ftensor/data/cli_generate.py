"""Generate a synthetic dataset that follows docs/FTENSOR_SPEC.md.

Sample i depends only on (--seed, i): the same command writes byte-identical files, a rerun after an
interruption completes what is missing, and ranges made elsewhere with --start_index merge into one
dataset.
"""

from __future__ import annotations

import argparse
import os

from ftensor.data.layout import DEFAULT_DATA_DIR
from ftensor.data.variety import VARIETIES
from ftensor.spec import DEFAULT_ASPECTS, DEFAULT_IMAGE_SIZE


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--num_samples", type=int, default=1000, help="how many samples to make")
    parser.add_argument("--data_dir", default=DEFAULT_DATA_DIR, help="dataset directory (created if missing)")
    parser.add_argument(
        "--image_size",
        type=int,
        default=DEFAULT_IMAGE_SIZE,
        help="reference size S = the shorter side in pixels: a multiple of 16, ≥ 64",
    )
    parser.add_argument(
        "--aspects",
        default=",".join(DEFAULT_ASPECTS),
        help="W:H proportions to draw each sample's size from, S being the shorter side (a repeat weighs more); "
        "1:1 for squares only",
    )
    parser.add_argument(
        "--sizes", help="explicit WxH sizes instead of --aspects, e.g. 256x256,448x256,256x384 (repeats weigh more)"
    )
    parser.add_argument(
        "--variety",
        default="all",
        choices=VARIETIES,
        help="typefaces, layouts and picture kinds to draw from: all, or the seen / held_out parts "
        "(disjoint: train on seen, measure on held_out)",
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
    from ftensor.data.generate import generate_dataset, mix_sizes
    from ftensor.data.stats import format_info
    from ftensor.errors import FTensorError
    from ftensor.spec import check_image_size, parse_size

    if args.workers < 1:
        raise FTensorError(f"--workers must be at least 1, got {args.workers}.")
    if args.sizes:
        sizes = tuple(parse_size(text) for text in args.sizes.split(","))
    else:
        sizes = mix_sizes(check_image_size(args.image_size), tuple(args.aspects.split(",")))
    info = generate_dataset(
        args.data_dir,
        args.num_samples,
        sizes=sizes,
        variety=args.variety,
        seed=args.seed,
        workers=args.workers,
        start_index=args.start_index,
    )
    print(format_info(info, args.data_dir))
    return 0
