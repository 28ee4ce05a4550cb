"""File layout of a dataset directory (docs/FTENSOR_SPEC.md, "Files")."""

from __future__ import annotations

from pathlib import Path

DEFAULT_DATA_DIR = "data/synthetic_dataset"


def dataset_paths(data_dir: Path) -> dict:
    """The dataset's sub-directories and its `dataset.json`."""
    dirs = [data_dir / name for name in ("images", "f_tensors", "metadata", "visualizations")]
    return {
        "dirs": dirs,
        "images": dirs[0],
        "f_tensors": dirs[1],
        "metadata": dirs[2],
        "visualizations": dirs[3],
        "info": data_dir / "dataset.json",
    }


def sample_paths(data_dir: Path, index: int) -> dict[str, Path]:
    """The three files of sample `index` (six-digit names), plus its optional visualisation."""
    name = f"{index:06d}"
    return {
        "image": data_dir / "images" / f"{name}.png",
        "f_tensor": data_dir / "f_tensors" / f"{name}.npy",
        "metadata": data_dir / "metadata" / f"{name}.json",
        "visualization": data_dir / "visualizations" / f"{name}.png",
    }
