"""The spec's metrics over a whole split, on encoded F_Tensors (numpy only, so serving can use it too).

Sums are accumulated over every pixel of every image, not averaged per image (docs/FTENSOR_SPEC.md, Metrics).
"""

from __future__ import annotations

import numpy as np

from ftensor.spec import HIERARCHY_SCALE, SUCCESS_CRITERIA


class SpecMetrics:
    """Accumulates text/image IoU, colour accuracy and hierarchy MSE over batches of encoded F_Tensors."""

    def __init__(self) -> None:
        self.intersection = np.zeros(2, np.int64)
        self.union = np.zeros(2, np.int64)
        self.correct = 0
        self.squared_error = 0.0
        self.pixels = 0

    def update(self, pred: np.ndarray, true: np.ndarray) -> None:
        """Add uint8 F_Tensors of shape (4, H, W) or (N, 4, H, W) in the spec's encoding."""
        pred, true = pred.reshape(-1, 4, *pred.shape[-2:]), true.reshape(-1, 4, *true.shape[-2:])
        for channel in (0, 1):  # masks are 0/1, so bitwise and/or are the set operations
            p, t = pred[:, channel], true[:, channel]
            self.intersection[channel] += np.count_nonzero(p & t)
            self.union[channel] += np.count_nonzero(p | t)
        self.correct += int(np.count_nonzero(pred[:, 2] == true[:, 2]))
        diff = pred[:, 3].astype(np.int64) - true[:, 3]  # exact integer squares, scaled once
        self.squared_error += float((diff * diff).sum()) / HIERARCHY_SCALE**2
        self.pixels += pred[:, 2].size

    def compute(self) -> dict[str, float]:
        iou = [float(i / u) if u else 1.0 for i, u in zip(self.intersection, self.union)]
        pixels = max(self.pixels, 1)
        return {
            "text_iou": iou[0],
            "image_iou": iou[1],
            "color_accuracy": self.correct / pixels,
            "hierarchy_mse": self.squared_error / pixels,
        }


def criteria_met(metrics: dict[str, float]) -> dict[str, bool]:
    """Each success criterion of the original module plan, met or not."""
    return {
        name: (metrics[name] > threshold if op == ">" else metrics[name] < threshold)
        for name, op, threshold in SUCCESS_CRITERIA
    }
