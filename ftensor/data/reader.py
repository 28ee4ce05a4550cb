"""Read and check a dataset directory without torch: its `dataset.json`, sample list and files."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from PIL import Image

from ftensor.data.layout import dataset_paths, sample_paths
from ftensor.errors import FTensorError
from ftensor.spec import NUM_CLASSES, SPEC_VERSION


def read_dataset_info(data_dir: Path) -> dict:
    """`dataset.json` after checking that the directory exists and speaks a spec version we know."""
    if not data_dir.is_dir():
        raise FTensorError(f"Dataset not found at {data_dir} — run `ftensor generate --num_samples 1000`.")
    info_path = dataset_paths(data_dir)["info"]
    if not info_path.is_file():
        raise FTensorError(
            f"{info_path} is missing, so {data_dir} is not a complete dataset — run "
            f"`ftensor generate --data_dir {data_dir} --num_samples N` to finish it."
        )
    try:
        info = json.loads(info_path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise FTensorError(f"{info_path} is corrupt ({error}); rerun `ftensor generate` to rewrite it.") from error
    if info.get("spec_version") != SPEC_VERSION:
        raise FTensorError(
            f"{info_path} has spec_version {info.get('spec_version')!r}, but this ftensor reads version "
            f"{SPEC_VERSION} only; regenerate the dataset or use a matching ftensor release."
        )
    return info


def list_indices(data_dir: Path) -> list[int]:
    """Indices of the samples in a dataset, after checking that each one has all three files."""
    paths = dataset_paths(data_dir)
    kinds = {"image": ("images", ".png"), "f_tensor": ("f_tensors", ".npy"), "metadata": ("metadata", ".json")}
    found = {
        kind: {int(p.stem) for p in paths[folder].glob(f"*{suffix}") if p.stem.isdigit()}
        for kind, (folder, suffix) in kinds.items()
    }
    everything = set().union(*found.values())
    for kind, indices in found.items():
        missing = sorted(everything - indices)
        if missing:
            raise FTensorError(
                f"{sample_paths(data_dir, missing[0])[kind]} is missing ({len(missing)} {kind} files missing "
                f"in all); rerun `ftensor generate` with the same flags to complete the dataset."
            )
    return sorted(everything)


def load_sample(data_dir: Path, index: int, image_size: int) -> tuple[np.ndarray, np.ndarray]:
    """The P_Image (S, S, 3) uint8 and encoded F_Tensor (4, S, S) uint8 of one sample, checked."""
    paths = sample_paths(data_dir, index)
    try:
        with Image.open(paths["image"]) as picture:
            image = np.array(picture.convert("RGB") if picture.mode != "RGB" else picture)
    except (OSError, SyntaxError, ValueError) as error:
        raise FTensorError(
            f"{paths['image']} is not a readable PNG ({error}); delete it and rerun `ftensor generate`."
        ) from error
    try:
        f_tensor = np.load(paths["f_tensor"], allow_pickle=False)
    except (OSError, ValueError, EOFError) as error:
        raise FTensorError(
            f"{paths['f_tensor']} is not a readable .npy ({error}); delete it and rerun `ftensor generate`."
        ) from error
    expected = (4, image_size, image_size)
    if image.shape[:2] != expected[1:]:
        raise FTensorError(f"{paths['image']} is {image.shape[1]}×{image.shape[0]}, but the dataset is {image_size}px.")
    if f_tensor.shape != expected or f_tensor.dtype != np.uint8:
        raise FTensorError(
            f"{paths['f_tensor']} has shape {f_tensor.shape} and dtype {f_tensor.dtype}; "
            f"the spec wants uint8 {expected}."
        )
    if f_tensor[2].max() >= NUM_CLASSES or f_tensor[:2].max() > 1:
        raise FTensorError(f"{paths['f_tensor']} holds values outside the spec's ranges (masks 0/1, classes 0..11).")
    return image, f_tensor


SPLITS = ("train", "val", "all")
_GOLDEN = 0x9E3779B1  # Fibonacci hashing: consecutive indices spread evenly over [0, 1)


def is_val_index(index: int, val_fraction: float) -> bool:
    """Whether sample `index` is in the validation split. Depends on the index alone, so a sample
    keeps its split when the dataset grows or is merged from ranges made elsewhere."""
    return ((index * _GOLDEN) % 2**32) / 2**32 < val_fraction


def split_indices(indices: list[int], split: str, val_fraction: float) -> list[int]:
    """The deterministic train/val split (about `val_fraction` of samples in val)."""
    if split not in SPLITS:
        raise FTensorError(f"unknown split {split!r}; choose one of {', '.join(SPLITS)}.")
    if not 0.0 < val_fraction < 1.0:
        raise FTensorError(f"--val_fraction must lie strictly between 0 and 1, got {val_fraction}.")
    if split == "all":
        return list(indices)
    val = [i for i in indices if is_val_index(i, val_fraction)]
    if not val and len(indices) > 1:  # tiny datasets: still hold one sample out
        val = [min(indices, key=lambda i: (i * _GOLDEN) % 2**32)]
    chosen = set(val)
    return val if split == "val" else [i for i in indices if i not in chosen]


def split_images(
    data_dir: Path, max_images: int, split: str = "val", val_fraction: float = 0.1
) -> tuple[np.ndarray, np.ndarray]:
    """Up to `max_images` images (uint8 NHWC) of a split (as the model was trained with) and their true
    F_Tensors."""
    size = int(read_dataset_info(data_dir)["image_size"])
    indices = split_indices(list_indices(data_dir), split, val_fraction)[:max_images]
    pairs = [load_sample(data_dir, i, size) for i in indices]
    return np.stack([p[0] for p in pairs]), np.stack([p[1] for p in pairs])
