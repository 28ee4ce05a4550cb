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

from ftensor.data.layout import dataset_paths, sample_paths
from ftensor.data.render import render_sample
from ftensor.data.variety import variety_named
from ftensor.errors import FTensorError
from ftensor.files import atomic_write_bytes, npy_bytes, png_bytes
from ftensor.spec import (
    DEFAULT_ASPECTS,
    DEFAULT_IMAGE_SIZE,
    NUM_CLASSES,
    SPEC_VERSION,
    aspect_size,
    check_image_size,
)

Size = tuple[int, int]

NUM_VISUALIZATIONS = 8
CHUNK = 16  # samples per task: large enough to amortise inter-process traffic


REQUIRED_FILES = ("image", "f_tensor", "metadata")


def is_complete(data_dir: Path, index: int) -> bool:
    paths = sample_paths(data_dir, index)
    return all(paths[name].is_file() for name in REQUIRED_FILES)


def mix_sizes(image_size: int, aspects: tuple[str, ...] = DEFAULT_ASPECTS) -> tuple[Size, ...]:
    """The W×H of each aspect ratio at reference size S = `image_size` (repeats kept: they are weights)."""
    return tuple(aspect_size(aspect, image_size) for aspect in aspects)


def design_size(seed: int, index: int, sizes: tuple[Size, ...]) -> Size:
    """The size of sample `index`: chosen from (seed, index) alone, on a stream of its own."""
    if len(sizes) == 1:
        return sizes[0]
    return sizes[int(np.random.default_rng([seed, index, 1]).integers(len(sizes)))]


def write_sample(data_dir: Path, seed: int, index: int, sizes: tuple[Size, ...], variety: str) -> None:
    """Render sample `index` and write its image, F_Tensor and metadata (metadata last)."""
    sample = render_sample(seed, index, *design_size(seed, index, sizes), variety_named(variety))
    sample.metadata["size_mix"] = [list(size) for size in sizes]
    paths = sample_paths(data_dir, index)
    atomic_write_bytes(paths["image"], png_bytes(sample.image))
    atomic_write_bytes(paths["f_tensor"], npy_bytes(sample.f_tensor))
    atomic_write_bytes(paths["metadata"], json.dumps(sample.metadata, indent=1).encode())
    if index < NUM_VISUALIZATIONS:
        from ftensor.data.visualize import sample_panel

        atomic_write_bytes(paths["visualization"], png_bytes(sample_panel(sample.image, sample.f_tensor)))


def _write_chunk(args: tuple[Path, int, list[int], tuple[Size, ...], str]) -> int:
    data_dir, seed, indices, sizes, variety = args
    for index in indices:
        write_sample(data_dir, seed, index, sizes, variety)
    return len(indices)


def _chunks(indices: list[int], size: int) -> Iterable[list[int]]:
    for start in range(0, len(indices), size):
        yield indices[start : start + size]


def check_dataset_config(data_dir: Path, sizes: tuple[Size, ...], seed: int, variety: str) -> None:
    """Refuse to mix samples of another size mix, seed or variety into an existing dataset: its
    `dataset.json` says what it was made with, or, after an interrupted run that never wrote one, any
    sample's metadata."""
    info_path = dataset_paths(data_dir)["info"]
    sources = [info_path] if info_path.is_file() else sorted(dataset_paths(data_dir)["metadata"].glob("[0-9]*.json"))
    for source in sources[:1]:
        try:
            made = json.loads(source.read_text())
        except (OSError, ValueError) as error:
            raise FTensorError(f"{source} is unreadable ({error}); delete it and rerun the same command.") from error
        made_sizes = [tuple(size) for size in made.get("size_mix", [])]
        if made_sizes != list(sizes) or made.get("seed") != seed or made.get("variety", "all") != variety:
            shown = ",".join(f"{w}x{h}" for w, h in made_sizes) or f"{made.get('image_size')} (square)"
            raise FTensorError(
                f"{data_dir} already holds samples made with sizes {shown}, seed={made.get('seed')} and "
                f"variety={made.get('variety', 'all')}; use the same values to extend it, or another --data_dir."
            )


def generate_dataset(
    data_dir: str | Path,
    num_samples: int,
    image_size: int = DEFAULT_IMAGE_SIZE,
    seed: int = 0,
    workers: int | None = None,
    start_index: int = 0,
    progress: bool = True,
    sizes: tuple[Size, ...] | None = None,
    variety: str = "all",
) -> dict:
    """Make samples start_index .. start_index + num_samples - 1 (skipping complete ones) and
    rewrite `dataset.json`. Each sample's W×H is drawn from `sizes` (repeats weigh more; by default
    the default aspect mix at S = `image_size`). Returns the dataset summary."""
    if num_samples < 1:
        raise FTensorError(f"--num_samples must be at least 1, got {num_samples}.")
    if start_index < 0:
        raise FTensorError(f"--start_index must be 0 or more, got {start_index}.")
    sizes = tuple(sizes or mix_sizes(check_image_size(image_size)))
    variety_named(variety)  # fail early, in this process, on an unknown variety or when no font is found
    data_dir = Path(data_dir)
    check_dataset_config(data_dir, sizes, seed, variety)
    for directory in dataset_paths(data_dir)["dirs"]:
        directory.mkdir(parents=True, exist_ok=True)

    wanted = range(start_index, start_index + num_samples)
    todo = [i for i in wanted if not is_complete(data_dir, i)]
    workers = max(1, min(workers or os.cpu_count() or 1, max(1, len(todo) // CHUNK)))
    tasks = [(data_dir, seed, chunk, sizes, variety) for chunk in _chunks(todo, CHUNK)]
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
    return write_dataset_info(data_dir, sizes, seed, variety)


def write_dataset_info(data_dir: Path, size_mix: tuple[Size, ...], seed: int, variety: str) -> dict:
    """Summarise every complete sample in the directory into `dataset.json` (from metadata alone)."""
    class_pixels = np.zeros(NUM_CLASSES, np.int64)
    text_pixels = image_pixels = 0
    roles: dict[str, int] = {}
    layouts: dict[str, int] = {}
    fonts: dict[str, int] = {}
    sizes: dict[Size, int] = {}
    indices = complete_indices(data_dir)
    for index in indices:
        meta = json.loads(sample_paths(data_dir, index)["metadata"].read_text())
        size = (meta["width"], meta["height"])
        sizes[size] = sizes.get(size, 0) + 1
        class_pixels += meta["stats"]["class_pixels"]
        text_pixels += meta["stats"]["text_pixels"]
        image_pixels += meta["stats"]["image_pixels"]
        layouts[meta["layout"]] = layouts.get(meta["layout"], 0) + 1
        for element in meta["elements"]:
            roles[element["role"]] = roles.get(element["role"], 0) + 1
            if "font" in element:
                fonts[element["font"]] = fonts.get(element["font"], 0) + 1
    total = max(1, sum(w * h * n for (w, h), n in sizes.items()))
    info = {
        "spec_version": SPEC_VERSION,
        "image_size": min((min(size) for size in sizes), default=min(min(size) for size in size_mix)),
        "sizes": [{"size": list(size), "count": n} for size, n in sorted(sizes.items())],
        "num_samples": len(indices),
        "seed": seed,
        "size_mix": [list(size) for size in size_mix],
        "variety": variety,
        "index_range": [indices[0], indices[-1]] if indices else None,
        "stats": {
            "class_fraction": (class_pixels / total).round(5).tolist(),
            "text_coverage": round(text_pixels / total, 5),
            "image_coverage": round(image_pixels / total, 5),
            "role_counts": dict(sorted(roles.items())),
            "layout_counts": dict(sorted(layouts.items())),
            "font_counts": dict(sorted(fonts.items())),
        },
    }
    atomic_write_bytes(dataset_paths(data_dir)["info"], json.dumps(info, indent=1).encode())
    return info


def complete_indices(data_dir: Path) -> list[int]:
    """Indices whose three files all exist, in order."""
    metadata_dir = dataset_paths(data_dir)["metadata"]
    found = sorted(int(p.stem) for p in metadata_dir.glob("[0-9]*.json") if p.stem.isdigit())
    return [i for i in found if is_complete(data_dir, i)]
