"""Synthetic dataset generation (numpy + Pillow) and the torch dataset loader.

`FTensorDataset` is imported lazily so that generating data never needs torch.
"""

from ftensor.data.generate import generate_dataset
from ftensor.data.layout import DEFAULT_DATA_DIR
from ftensor.data.reader import split_indices

__all__ = ["DEFAULT_DATA_DIR", "FTensorDataset", "generate_dataset", "split_indices"]


def __getattr__(name: str):
    if name == "FTensorDataset":
        from ftensor.data import dataset

        return getattr(dataset, name)
    raise AttributeError(name)
