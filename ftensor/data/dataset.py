"""A torch Dataset over a dataset directory written by `ftensor generate` (or any spec-conforming tool).

Normalisation: the image is returned as float32 (3, S, S) RGB in [0, 1], i.e. pixels / 255, with no
mean/std shift; the exported ONNX model does the same division inside its graph.
"""

from __future__ import annotations

from pathlib import Path

import torch

from ftensor.data.reader import list_indices, load_sample, read_dataset_info, split_indices


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
