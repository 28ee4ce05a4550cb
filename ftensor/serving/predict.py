"""Batch offline predictions: F_Tensors for a folder, file or glob of images, resumable and shardable.

Each output is OUT/<path relative to the input root>.npy in the spec's encoding, written
atomically; a rerun skips outputs that exist. Unreadable images are skipped, listed in the summary
and in OUT/predict_report[_shard-k-of-n].json, and never stop the run.
"""

from __future__ import annotations

import glob
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from tqdm import tqdm

from ftensor.data.visualize import sample_panel
from ftensor.errors import FTensorError
from ftensor.files import atomic_write_bytes, npy_bytes, png_bytes
from ftensor.serving.runtime import ImageError, Runtime, open_image

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff", ".gif"}


@dataclass
class PredictSummary:
    written: int = 0
    skipped_existing: int = 0
    failed: list[dict] = field(default_factory=list)
    report: Path | None = None


def find_inputs(spec: str) -> tuple[list[Path], Path]:
    """The images named by a directory (searched recursively), a file or a glob, sorted, and the root
    their output names are taken relative to."""
    path = Path(spec)
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())
        root = path
    elif path.is_file():
        files, root = [path], path.parent
    else:
        files = sorted(Path(p) for p in glob.glob(spec, recursive=True) if Path(p).is_file())
        root = Path(os.path.commonpath([p.parent for p in files])) if files else Path(".")
    if not files:
        raise FTensorError(f"no images found at {spec!r}: give a directory, an image file or a glob like 'imgs/*.png'.")
    return files, root


def output_names(files: list[Path], root: Path) -> dict[Path, Path]:
    """<relative path>.npy per input; where two inputs share a stem (a.png, a.jpg), both keep their
    extension (a.png.npy, a.jpg.npy) so neither overwrites the other."""
    relative = {f: f.relative_to(root) for f in files}
    stems: dict[Path, int] = {}
    for rel in relative.values():
        stems[rel.with_suffix("")] = stems.get(rel.with_suffix(""), 0) + 1
    return {
        f: rel.with_suffix(".npy") if stems[rel.with_suffix("")] == 1 else rel.with_name(rel.name + ".npy")
        for f, rel in relative.items()
    }


def parse_shard(text: str | None) -> tuple[int, int]:
    """'k/n' (0 ≤ k < n) → (k, n); None → the whole input (0, 1)."""
    if text is None:
        return 0, 1
    try:
        k, n = (int(part) for part in text.split("/"))
    except ValueError:
        raise FTensorError(f"--shard {text!r} must look like k/n, e.g. 0/4 (k counts from 0).") from None
    if not 0 <= k < n:
        raise FTensorError(f"--shard {text}: k must satisfy 0 ≤ k < n.")
    return k, n


def predict_files(
    runtime: Runtime,
    spec: str,
    output: Path,
    batch_size: int = 8,
    save_viz: bool = False,
    shard: str | None = None,
    progress: bool = True,
) -> PredictSummary:
    """Write the F_Tensor of every (shard of the) input images under `output`."""
    if batch_size < 1:
        raise FTensorError(f"--batch_size must be at least 1, got {batch_size}.")
    k, n = parse_shard(shard)
    files, root = find_inputs(spec)
    files = [f for f in files if not f.resolve().is_relative_to(output.resolve())]  # never our own viz PNGs
    names = output_names(files, root)
    mine = files[k::n]
    summary = PredictSummary()
    todo = [f for f in mine if not (output / names[f]).is_file()]
    summary.skipped_existing = len(mine) - len(todo)
    bar = tqdm(total=len(mine), initial=summary.skipped_existing, unit="image", desc="predict", disable=not progress)
    with bar:
        for start in range(0, len(todo), batch_size):
            batch, images = [], []
            for path in todo[start : start + batch_size]:
                try:
                    images.append(open_image(path))
                    batch.append(path)
                except ImageError as error:
                    summary.failed.append({"path": str(path), "error": str(error)})
                    bar.update(1)
            if not batch:
                continue
            for path, image, prediction in zip(batch, images, runtime.predict_batch(images)):
                atomic_write_bytes(output / names[path], npy_bytes(prediction.f_tensor))
                if save_viz:
                    panel = sample_panel(np.asarray(image), prediction.f_tensor)
                    atomic_write_bytes((output / "viz" / names[path]).with_suffix(".png"), png_bytes(panel))
                summary.written += 1
                bar.update(1)
    suffix = "" if n == 1 else f"_shard-{k}-of-{n}"
    summary.report = output / f"predict_report{suffix}.json"
    report = {
        "inputs": spec,
        "shard": f"{k}/{n}",
        "images": len(mine),
        "written": summary.written,
        "skipped_existing": summary.skipped_existing,
        "failed": summary.failed,
        "model": runtime.metadata.get("preset"),
        "spec_version": runtime.metadata.get("spec_version"),
    }
    atomic_write_bytes(summary.report, json.dumps(report, indent=1).encode())
    return summary
