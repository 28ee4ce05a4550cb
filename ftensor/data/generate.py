"""Write synthetic samples to a dataset directory: parallel, resumable, byte-for-byte reproducible.

Each file is written to a temporary name and renamed into place, so a killed run never leaves a
half-written file under a valid name; rerunning the same command makes only what is missing.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
from tqdm import tqdm

from ftensor.data.fonts import font_files
from ftensor.data.layout import dataset_paths, sample_paths
from ftensor.data.render import render_sample
from ftensor.errors import FTensorError
from ftensor.files import atomic_write_bytes, npy_bytes, png_bytes
from ftensor.spec import DEFAULT_IMAGE_SIZE, NUM_CLASSES, SPEC_VERSION, check_image_size

NUM_VISUALIZATIONS = 8
CHUNK = 16  # samples per task: large enough to amortise inter-process traffic


REQUIRED_FILES = ("image", "f_tensor", "metadata")


def is_complete(data_dir: Path, index: int) -> bool:
    paths = sample_paths(data_dir, index)
    return all(paths[name].is_file() for name in REQUIRED_FILES)


def write_sample(data_dir: Path, seed: int, index: int, image_size: int) -> None:
    """Render sample `index` and write its image, F_Tensor and metadata (metadata last)."""
    sample = render_sample(seed, index, image_size)
    paths = sample_paths(data_dir, index)
    atomic_write_bytes(paths["image"], png_bytes(sample.image))
    atomic_write_bytes(paths["f_tensor"], npy_bytes(sample.f_tensor))
    atomic_write_bytes(paths["metadata"], json.dumps(sample.metadata, indent=1).encode())
    if index < NUM_VISUALIZATIONS:
        from ftensor.data.visualize import sample_panel

        atomic_write_bytes(paths["visualization"], png_bytes(sample_panel(sample.image, sample.f_tensor)))


def _write_chunk(args: tuple[Path, int, list[int], int]) -> int:
    data_dir, seed, indices, image_size = args
    for index in indices:
        write_sample(data_dir, seed, index, image_size)
    return len(indices)


def _chunks(indices: list[int], size: int) -> Iterable[list[int]]:
    for start in range(0, len(indices), size):
        yield indices[start : start + size]


def check_dataset_config(data_dir: Path, image_size: int, seed: int) -> None:
    """Refuse to mix samples of another size or seed into an existing dataset: its `dataset.json` says
    what it was made with, or, after an interrupted run that never wrote one, any sample's metadata."""
    info_path = dataset_paths(data_dir)["info"]
    sources = [info_path] if info_path.is_file() else sorted(dataset_paths(data_dir)["metadata"].glob("[0-9]*.json"))
    for source in sources[:1]:
        try:
            made = json.loads(source.read_text())
        except (OSError, ValueError) as error:
            raise FTensorError(f"{source} is unreadable ({error}); delete it and rerun the same command.") from error
        if made.get("image_size") != image_size or made.get("seed") != seed:
            raise FTensorError(
                f"{data_dir} already holds samples made with image_size={made.get('image_size')} and "
                f"seed={made.get('seed')}; use the same values to extend it, or another --data_dir."
            )


def generate_dataset(
    data_dir: str | Path,
    num_samples: int,
    image_size: int = DEFAULT_IMAGE_SIZE,
    seed: int = 0,
    workers: int | None = None,
    start_index: int = 0,
    progress: bool = True,
) -> dict:
    """Make samples start_index .. start_index + num_samples - 1 (skipping complete ones) and
    rewrite `dataset.json`. Returns the dataset summary."""
    if num_samples < 1:
        raise FTensorError(f"--num_samples must be at least 1, got {num_samples}.")
    if start_index < 0:
        raise FTensorError(f"--start_index must be 0 or more, got {start_index}.")
    check_image_size(image_size)
    font_files()  # fail early, in this process, with a clear message if no font is found
    data_dir = Path(data_dir)
    check_dataset_config(data_dir, image_size, seed)
    for directory in dataset_paths(data_dir)["dirs"]:
        directory.mkdir(parents=True, exist_ok=True)

    wanted = range(start_index, start_index + num_samples)
    todo = [i for i in wanted if not is_complete(data_dir, i)]
    workers = max(1, min(workers or os.cpu_count() or 1, max(1, len(todo) // CHUNK)))
    tasks = [(data_dir, seed, chunk, image_size) for chunk in _chunks(todo, CHUNK)]
    bar = tqdm(
        total=num_samples,
        initial=num_samples - len(todo),
        unit="sample",
        desc="generate",
        disable=not progress,
        smoothing=0.1,
    )
    with bar:
        if workers == 1:
            for task in tasks:
                bar.update(_write_chunk(task))
        else:
            with ProcessPoolExecutor(workers) as pool:
                for done in pool.map(_write_chunk, tasks):
                    bar.update(done)
    return write_dataset_info(data_dir, image_size, seed)


def write_dataset_info(data_dir: Path, image_size: int, seed: int) -> dict:
    """Summarise every complete sample in the directory into `dataset.json` (from metadata alone)."""
    class_pixels = np.zeros(NUM_CLASSES, np.int64)
    text_pixels = image_pixels = 0
    roles: dict[str, int] = {}
    layouts: dict[str, int] = {}
    indices = complete_indices(data_dir)
    for index in indices:
        meta = json.loads(sample_paths(data_dir, index)["metadata"].read_text())
        class_pixels += meta["stats"]["class_pixels"]
        text_pixels += meta["stats"]["text_pixels"]
        image_pixels += meta["stats"]["image_pixels"]
        layouts[meta["layout"]] = layouts.get(meta["layout"], 0) + 1
        for element in meta["elements"]:
            roles[element["role"]] = roles.get(element["role"], 0) + 1
    total = max(1, len(indices) * image_size * image_size)
    info = {
        "spec_version": SPEC_VERSION,
        "image_size": image_size,
        "num_samples": len(indices),
        "seed": seed,
        "index_range": [indices[0], indices[-1]] if indices else None,
        "fonts": {weight: path.name for weight, path in font_files().items()},
        "stats": {
            "class_fraction": (class_pixels / total).round(5).tolist(),
            "text_coverage": round(text_pixels / total, 5),
            "image_coverage": round(image_pixels / total, 5),
            "role_counts": dict(sorted(roles.items())),
            "layout_counts": dict(sorted(layouts.items())),
        },
    }
    atomic_write_bytes(dataset_paths(data_dir)["info"], json.dumps(info, indent=1).encode())
    return info


def complete_indices(data_dir: Path) -> list[int]:
    """Indices whose three files all exist, in order."""
    metadata_dir = dataset_paths(data_dir)["metadata"]
    found = sorted(int(p.stem) for p in metadata_dir.glob("[0-9]*.json") if p.stem.isdigit())
    return [i for i in found if is_complete(data_dir, i)]
