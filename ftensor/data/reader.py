"""Read and check a dataset directory without torch: its `dataset.json`, sample list and files."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from PIL import Image

from ftensor.data.layout import dataset_paths, sample_paths
from ftensor.errors import FTensorError
from ftensor.spec import NUM_CLASSES, READABLE_SPEC_VERSIONS, check_design_size


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
    if info.get("spec_version") not in READABLE_SPEC_VERSIONS:
        raise FTensorError(
            f"{info_path} has spec_version {info.get('spec_version')!r}, but this ftensor reads versions "
            f"{' and '.join(map(str, READABLE_SPEC_VERSIONS))}; regenerate the dataset or use a matching "
            "ftensor release."
        )
    return info


def dataset_sizes(info: dict) -> list[tuple[int, int]]:
    """The W×H sizes a dataset declares (version 2 `sizes`; a version-1 dataset is all S×S)."""
    if "sizes" not in info:
        return [(int(info["image_size"]), int(info["image_size"]))]
    try:
        return [(int(item["size"][0]), int(item["size"][1])) for item in info["sizes"]]
    except (KeyError, TypeError, ValueError, IndexError) as error:
        raise FTensorError(
            f"dataset.json `sizes` is not a list of {{size: [W, H], count: n}} ({error}); rerun `ftensor generate`."
        ) from error


def sample_sizes(data_dir: Path, indices: list[int], info: dict) -> list[tuple[int, int]]:
    """The W×H of each sample: from `dataset.json` when it declares one size, else from each PNG's header
    (a few microseconds each, no pixels decoded)."""
    declared = dataset_sizes(info)
    if len(declared) == 1:
        return declared * len(indices)
    sizes = []
    for index in indices:
        path = sample_paths(data_dir, index)["image"]
        try:
            with Image.open(path) as picture:
                sizes.append(picture.size)
        except (OSError, SyntaxError, ValueError) as error:
            raise FTensorError(
                f"{path} is not a readable PNG ({error}); delete it and rerun `ftensor generate`."
            ) from error
    return sizes


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


def load_sample(data_dir: Path, index: int) -> tuple[np.ndarray, np.ndarray]:
    """The P_Image (H, W, 3) uint8 and encoded F_Tensor (4, H, W) uint8 of one sample, checked."""
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
    height, width = image.shape[:2]
    try:
        check_design_size(width, height)
    except FTensorError as error:
        raise FTensorError(f"{paths['image']}: {error}") from error
    expected = (4, height, width)
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


def group_by_size(sizes: list[tuple[int, int]]) -> dict[tuple[int, int], list[int]]:
    """The positions of each design size, sizes in order."""
    groups: dict[tuple[int, int], list[int]] = {}
    for position, size in enumerate(sizes):
        groups.setdefault(size, []).append(position)
    return dict(sorted(groups.items()))


def size_batches(sizes: list[tuple[int, int]], batch_size: int) -> list[list[int]]:
    """Positions grouped into batches of one size each (a batch is one array), sizes in order."""
    return [
        members[k : k + batch_size]
        for members in group_by_size(sizes).values()
        for k in range(0, len(members), batch_size)
    ]


def load_samples(data_dir: Path, indices: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """The images (uint8 NHWC) and true F_Tensors (uint8 N×4×H×W) of samples of one size, stacked."""
    pairs = [load_sample(data_dir, index) for index in indices]
    return np.stack([p[0] for p in pairs]), np.stack([p[1] for p in pairs])


def split_groups(
    data_dir: Path, max_images: int, split: str = "val", val_fraction: float = 0.1
) -> list[tuple[np.ndarray, np.ndarray]]:
    """The first `max_images` samples of a split as (images uint8 NHWC, true F_Tensors) per design size."""
    info = read_dataset_info(data_dir)
    indices = split_indices(list_indices(data_dir), split, val_fraction)[:max_images]
    groups = group_by_size(sample_sizes(data_dir, indices, info)).values()
    return [load_samples(data_dir, [indices[k] for k in positions]) for positions in groups]


def square_crops(groups: list[tuple[np.ndarray, np.ndarray]], size: int) -> np.ndarray:
    """The centred size×size crop of every image in `groups` (of designs whose shorter side is `size`):
    one array of the mix's content, as int8 calibration needs (its collector stacks what it sees)."""
    crops = []
    for images, _ in groups:
        height, width = images.shape[1:3]
        top, left = (height - size) // 2, (width - size) // 2
        crops.append(images[:, top : top + size, left : left + size])
    return np.concatenate(crops)


def split_images(
    data_dir: Path, max_images: int, split: str = "val", val_fraction: float = 0.1
) -> tuple[np.ndarray, np.ndarray]:
    """Up to `max_images` images (uint8 NHWC) of a split (as the model was trained with) and their true
    F_Tensors, all of the split's most common size (a batch has one size)."""
    info = read_dataset_info(data_dir)
    indices = split_indices(list_indices(data_dir), split, val_fraction)
    groups = group_by_size(sample_sizes(data_dir, indices, info))
    common = max(groups, key=lambda size: (len(groups[size]), size))
    return load_samples(data_dir, [indices[k] for k in groups[common][:max_images]])
