"""Summarise a dataset directory and check every sample's files against the spec.

Prints counts, image size, the colour-class histogram, mask coverage, role counts, and any corrupt
or inconsistent samples found; exits 1 when there are any.
"""

from __future__ import annotations

import argparse
import json

from ftensor.data.layout import DEFAULT_DATA_DIR


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data_dir", default=DEFAULT_DATA_DIR, help="dataset directory")
    parser.add_argument("--json", dest="json_path", default=None, help="also write the statistics to this JSON file")


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from ftensor.data.stats import dataset_stats, format_info
    from ftensor.files import atomic_write_bytes

    stats = dataset_stats(Path(args.data_dir))
    print(format_info(stats, args.data_dir))
    if args.json_path:
        atomic_write_bytes(Path(args.json_path), json.dumps(stats, indent=1).encode())
    return 1 if stats["corrupt"] else 0
