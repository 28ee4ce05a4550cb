"""Pictures of F_Tensors for people: the P_Image beside its four channels (numpy + Pillow only)."""

from __future__ import annotations

import numpy as np

from ftensor.spec import PALETTE


def channel_images(f_tensor: np.ndarray) -> list[np.ndarray]:
    """The four channels of an encoded F_Tensor as RGB pictures: masks in white, classes in their
    palette colours, hierarchy as grey levels."""
    grey = lambda channel: np.repeat(channel[..., None], 3, axis=2)  # noqa: E731
    return [
        grey(f_tensor[0] * 255).astype(np.uint8),
        grey(f_tensor[1] * 255).astype(np.uint8),
        PALETTE[f_tensor[2]].astype(np.uint8),
        grey(f_tensor[3]).astype(np.uint8),
    ]


def sample_panel(image: np.ndarray, f_tensor: np.ndarray, gap: int = 4) -> np.ndarray:
    """One row: the image, then text, image, colour and hierarchy channels, separated by white gaps."""
    tiles = [image, *channel_images(f_tensor)]
    h, w = image.shape[:2]
    row = np.full((h, len(tiles) * (w + gap) - gap, 3), 255, np.uint8)
    for k, tile in enumerate(tiles):
        row[:, k * (w + gap) : k * (w + gap) + w] = tile
    return row
