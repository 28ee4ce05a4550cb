"""Images to the model's input and its answers back to the images, at their own proportions.

A design is read at its own proportions: scaled so its shorter side is the model's reference size S
(the size it was trained at), padded, never squashed, to multiples of 16 for the fully convolutional
U-Net, and the answer cropped and resized back to the image's pixels. Every path (in-process, batch,
HTTP, `ftensor val`) goes through these functions. numpy and Pillow only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image


@dataclass
class Prediction:
    f_tensor: np.ndarray  # uint8 (4, H, W), the spec's encoding
    probabilities: dict[str, np.ndarray] | None = None  # float32 (C, H, W) per output, on request


def fitted_size(width: int, height: int, image_size: int) -> tuple[int, int]:
    """(w, h) of an image scaled so its shorter side is `image_size`, its proportions kept."""
    scale = image_size / min(width, height)
    return max(1, round(width * scale)), max(1, round(height * scale))


def padded(side: int) -> int:
    """The next multiple of 16: the U-Net halves each side four times."""
    return -(-side // 16) * 16


def model_input(images: list[Image.Image], image_size: int) -> tuple[np.ndarray, tuple[int, int]]:
    """The model's input for RGB images of one size: uint8 (N, H', W', 3), each scaled bilinearly so its
    shorter side is `image_size` and padded at the right and bottom with its edge pixels to multiples of
    16; and the (w, h) of the scaled image inside the padding. Every path (in-process, batch, HTTP, val)
    prepares images this one way."""
    w, h = fitted_size(*images[0].size, image_size)
    batch = np.empty((len(images), padded(h), padded(w), 3), np.uint8)
    for k, image in enumerate(images):
        scaled = np.asarray(image if image.size == (w, h) else image.resize((w, h), Image.Resampling.BILINEAR))
        batch[k] = np.pad(scaled, ((0, batch.shape[1] - h), (0, batch.shape[2] - w), (0, 0)), mode="edge")
    return batch, (w, h)


def crop_prediction(prediction: Prediction, size: tuple[int, int]) -> Prediction:
    """The part of a padded prediction that covers the scaled image, (width, height) from the top left."""
    width, height = size
    probs = prediction.probabilities
    if probs is not None:
        probs = {name: values[:, :height, :width] for name, values in probs.items()}
    return Prediction(prediction.f_tensor[:, :height, :width], probs)


def resize_prediction(prediction: Prediction, size: tuple[int, int]) -> Prediction:
    """Resize to (width, height): nearest for the encoded channels, bilinear for probabilities."""
    width, height = size
    if prediction.f_tensor.shape[-2:] == (height, width):
        return prediction
    nearest = [Image.fromarray(c).resize(size, Image.Resampling.NEAREST) for c in prediction.f_tensor]
    f_tensor = np.stack([np.asarray(c) for c in nearest])
    probs = None
    if prediction.probabilities is not None:
        probs = {
            name: np.stack(
                [np.asarray(Image.fromarray(c, "F").resize(size, Image.Resampling.BILINEAR)) for c in values]
            )
            for name, values in prediction.probabilities.items()
        }
    return Prediction(f_tensor, probs)
