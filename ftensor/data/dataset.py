"""A torch Dataset over a dataset directory written by `ftensor generate` (or any spec-conforming tool).

Normalisation: the image is returned as float32 (3, S, S) RGB in [0, 1], i.e. pixels / 255, with no
mean/std shift; the exported ONNX model does the same division inside its graph.
"""

from __future__ import annotations

from pathlib import Path

import torch

from ftensor.data.reader import list_indices, load_sample, read_dataset_info
from ftensor.errors import FTensorError

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


class FTensorDataset(torch.utils.data.Dataset):
    """(image, f_tensor) pairs: image float32 (3, S, S) in [0, 1]; f_tensor the stored uint8 (4, S, S)
    F_Tensor as it is, in the spec's encoding, which the loss and the metrics take directly (a quarter
    of the bytes of floats until the loss decodes it on the training device)."""

    def __init__(self, data_dir: str | Path, split: str = "all", val_fraction: float = 0.1) -> None:
        self.data_dir = Path(data_dir)
        info = read_dataset_info(self.data_dir)
        self.image_size: int = int(info["image_size"])
        self.indices = split_indices(list_indices(self.data_dir), split, val_fraction)

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, item: int) -> tuple[torch.Tensor, torch.Tensor]:
        image, f_tensor = load_sample(self.data_dir, self.indices[item], self.image_size)
        return torch.from_numpy(image).permute(2, 0, 1).contiguous().float().div_(255.0), torch.from_numpy(f_tensor)
