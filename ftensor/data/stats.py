"""Dataset statistics read from the files themselves, so they double as an integrity check."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from tqdm import tqdm

from ftensor.data.layout import dataset_paths, sample_paths
from ftensor.data.reader import load_sample, read_dataset_info
from ftensor.errors import FTensorError
from ftensor.spec import CLASS_NAMES, NUM_CLASSES


def dataset_stats(data_dir: Path, progress: bool = True) -> dict:
    """Decode every sample; count classes, mask coverage and roles; list samples that fail to load."""
    info = read_dataset_info(data_dir)
    paths = dataset_paths(data_dir)
    indices = sorted(
        {
            int(p.stem)
            for folder in ("images", "f_tensors", "metadata")
            for p in paths[folder].iterdir()
            if p.stem.isdigit()
        }
    )
    class_pixels = np.zeros(NUM_CLASSES, np.int64)
    text_pixels = image_pixels = 0
    roles: dict[str, int] = {}
    sizes: dict[tuple[int, int], int] = {}
    corrupt: list[dict] = []
    for index in tqdm(indices, desc="check", unit="sample", disable=not progress):
        try:
            _, f_tensor = load_sample(data_dir, index)
            meta_path = sample_paths(data_dir, index)["metadata"]
            try:
                meta = json.loads(meta_path.read_text())
            except (OSError, ValueError) as error:
                raise FTensorError(f"{meta_path} is missing or not valid JSON ({error})") from error
            if meta.get("index") != index:
                raise FTensorError(f"{meta_path} says index {meta.get('index')}, expected {index}")
        except (FTensorError, OSError) as error:
            corrupt.append({"index": index, "problem": str(error)})
            continue
        size = (f_tensor.shape[2], f_tensor.shape[1])
        sizes[size] = sizes.get(size, 0) + 1
        class_pixels += np.bincount(f_tensor[2].ravel(), minlength=NUM_CLASSES)
        text_pixels += int(f_tensor[0].sum(dtype=np.int64))
        image_pixels += int(f_tensor[1].sum(dtype=np.int64))
        for element in meta.get("elements", []):
            roles[element["role"]] = roles.get(element["role"], 0) + 1
    good = len(indices) - len(corrupt)
    total = max(1, sum(w * h * n for (w, h), n in sizes.items()))
    return {
        "spec_version": info["spec_version"],
        "image_size": info["image_size"],
        "sizes": [{"size": list(size), "count": n} for size, n in sorted(sizes.items())],
        "num_samples": good,
        "seed": info.get("seed"),
        "stats": {
            "class_fraction": (class_pixels / total).round(5).tolist(),
            "text_coverage": round(text_pixels / total, 5),
            "image_coverage": round(image_pixels / total, 5),
            "role_counts": dict(sorted(roles.items())),
        },
        "corrupt": corrupt,
    }


def format_info(info: dict, data_dir: str | Path) -> str:
    """A short human-readable report of `dataset.json`-style statistics."""
    stats = info["stats"]
    sizes = info.get("sizes") or [{"size": [info["image_size"]] * 2, "count": info["num_samples"]}]
    lines = [
        f"dataset      {data_dir}",
        f"samples      {info['num_samples']}, S = {info['image_size']} px "
        f"(spec v{info['spec_version']}, seed {info['seed']})",
        "sizes        " + ", ".join(f"{item['size'][0]}×{item['size'][1]}: {item['count']}" for item in sizes),
        f"text pixels  {stats['text_coverage']:.1%}   image pixels {stats['image_coverage']:.1%}",
        "colour classes (share of pixels):",
    ]
    fractions = stats["class_fraction"]
    peak = max(max(fractions), 1e-9)
    for name, fraction in zip(CLASS_NAMES, fractions):
        lines.append(f"  {name:<7} {fraction:6.1%} {'█' * int(round(30 * fraction / peak))}")
    lines.append("roles: " + ", ".join(f"{role} {count}" for role, count in stats["role_counts"].items()))
    corrupt = info.get("corrupt", [])
    if corrupt:
        lines.append(f"CORRUPT samples: {len(corrupt)}")
        lines += [f"  {item['index']:06d}: {item['problem']}" for item in corrupt[:20]]
        if len(corrupt) > 20:
            lines.append(f"  … and {len(corrupt) - 20} more")
    elif "corrupt" in info:
        lines.append("corrupt samples: none")
    return "\n".join(lines)
