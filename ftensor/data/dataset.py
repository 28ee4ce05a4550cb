"""A torch Dataset over a dataset directory written by `ftensor generate` (or any spec-conforming tool),
and the batch sampler that keeps each batch to one design size.

Normalisation: the image is returned as float32 (3, H, W) RGB in [0, 1], i.e. pixels / 255, with no
mean/std shift; the exported ONNX model does the same division inside its graph.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import torch

from ftensor.data.degrade import Degradations, degrade
from ftensor.data.reader import (
    group_by_size,
    list_indices,
    load_sample,
    read_dataset_info,
    sample_sizes,
    size_batches,
    split_indices,
)

Key = int | tuple[int, int]  # a sample's position, or (position, epoch) when it is degraded for training


class FTensorDataset(torch.utils.data.Dataset):
    """(image, f_tensor) pairs: image float32 (3, H, W) in [0, 1]; f_tensor the stored uint8 (4, H, W)
    F_Tensor as it is, in the spec's encoding, which the loss and the metrics take directly (a quarter
    of the bytes of floats until the loss decodes it on the training device).

    With `degradations`, an item asked for as (position, epoch) comes back as a capture would (JPEG,
    blur, resampling, colour noise), the same way for the same (seed, epoch, sample): labels unchanged.
    """

    def __init__(
        self,
        data_dir: str | Path,
        split: str = "all",
        val_fraction: float = 0.1,
        degradations: Degradations | None = None,
        seed: int = 0,
    ) -> None:
        self.data_dir = Path(data_dir)
        info = read_dataset_info(self.data_dir)
        self.image_size: int = int(info["image_size"])
        self.indices = split_indices(list_indices(self.data_dir), split, val_fraction)
        self.sizes = sample_sizes(self.data_dir, self.indices, info)
        self.degradations = degradations
        self.seed = seed

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, key: Key) -> tuple[torch.Tensor, torch.Tensor]:
        item, epoch = key if isinstance(key, tuple) else (key, None)
        image, f_tensor = load_sample(self.data_dir, self.indices[item])
        if self.degradations is not None and epoch is not None:
            rng = np.random.default_rng([self.seed, epoch, self.indices[item]])
            image = degrade(image, rng, self.degradations)
        return torch.from_numpy(image).permute(2, 0, 1).contiguous().float().div_(255.0), torch.from_numpy(f_tensor)


class SizeBatchSampler(torch.utils.data.Sampler[list[Key]]):
    """Batches of one design size each (a batch is one tensor), spread over `world` processes.

    Training (`shuffle`): samples are shuffled within their size, cut into full batches, and the batches
    shuffled, all from (seed, epoch) alone, so a resumed run sees the same order as one that never
    stopped; every process takes every world-th batch, and each gets as many. Items are (position,
    epoch), so degradations follow the epoch too. Evaluation: every sample once, in order of size.
    """

    def __init__(
        self,
        sizes: list[tuple[int, int]],
        batch_size: int,
        shuffle: bool = False,
        seed: int = 0,
        world: int = 1,
        rank: int = 0,
    ) -> None:
        self.sizes, self.batch_size, self.shuffle = sizes, batch_size, shuffle
        self.seed, self.world, self.rank = seed, world, rank
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def batches(self) -> list[list[int]]:
        if not self.shuffle:
            return size_batches(self.sizes, self.batch_size)
        generator = torch.Generator().manual_seed(self.seed + self.epoch)
        batches = []
        for group in group_by_size(self.sizes).values():
            members = [group[k] for k in torch.randperm(len(group), generator=generator).tolist()]
            batches += [
                members[k : k + self.batch_size]
                for k in range(0, len(members) // self.batch_size * self.batch_size, self.batch_size)
            ]
        batches = [batches[k] for k in torch.randperm(len(batches), generator=generator).tolist()]
        return batches[: len(batches) // self.world * self.world][self.rank :: self.world]

    def __iter__(self) -> Iterator[list[Key]]:
        for batch in self.batches():
            yield [(position, self.epoch) for position in batch] if self.shuffle else batch

    def __len__(self) -> int:
        if not self.shuffle:
            return len(self.batches())
        return sum(len(group) // self.batch_size for group in group_by_size(self.sizes).values()) // self.world
