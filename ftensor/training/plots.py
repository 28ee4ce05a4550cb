"""Pictures people look at during training: validation predictions per epoch and the training curves."""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from ftensor.data.visualize import channel_images  # noqa: E402
from ftensor.files import atomic_write_bytes  # noqa: E402
from ftensor.spec import CHANNELS, SUCCESS_CRITERIA  # noqa: E402


def save_figure(figure: plt.Figure, path: Path) -> None:
    """Save as PNG atomically and free the figure."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=80)
    plt.close(figure)
    atomic_write_bytes(path, buffer.getvalue())


def prediction_grid(
    images: Sequence[np.ndarray], truth: Sequence[np.ndarray], predicted: Sequence[np.ndarray], path: Path, title: str
) -> None:
    """One row per sample: the input, then truth and prediction of each of the four channels."""
    rows = len(images)
    figure, axes = plt.subplots(rows, 9, figsize=(18, 2.1 * rows + 0.4), squeeze=False)
    for row in range(rows):
        tiles = [images[row]]
        for true_tile, pred_tile in zip(channel_images(truth[row]), channel_images(predicted[row])):
            tiles += [true_tile, pred_tile]
        for col, (ax, tile) in enumerate(zip(axes[row], tiles)):
            ax.imshow(tile, interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
            if row == 0:
                name = "input" if col == 0 else f"{CHANNELS[(col - 1) // 2]} {'true' if col % 2 else 'pred'}"
                ax.set_title(name, fontsize=9)
    figure.suptitle(title)
    figure.tight_layout()
    save_figure(figure, path)


def training_curves(history: list[dict], path: Path) -> None:
    """Losses and the four spec metrics over epochs, with the success thresholds drawn in."""
    epochs = [entry["epoch"] for entry in history]
    figure, axes = plt.subplots(1, 5, figsize=(20, 3.6))
    axes[0].plot(epochs, [e["train_loss"] for e in history], marker="o", label="train")
    axes[0].plot(epochs, [e["val_loss"] for e in history], marker="o", label="val")
    axes[0].set_title("loss")
    axes[0].legend()
    for ax, (name, op, threshold) in zip(axes[1:], SUCCESS_CRITERIA):
        ax.plot(epochs, [e["train_metrics"][name] for e in history], marker="o", label="train")
        ax.plot(epochs, [e["val_metrics"][name] for e in history], marker="o", label="val")
        ax.axhline(threshold, color="gray", linestyle="--", label=f"criterion {op} {threshold}")
        ax.set_title(name)
        ax.legend(fontsize=8)
    for ax in axes:
        ax.set_xlabel("epoch")
        ax.grid(alpha=0.3)
    figure.tight_layout()
    save_figure(figure, path)
