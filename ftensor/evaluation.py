"""Score a model on any labelled dataset directory of the spec: how anyone (Module 6 included) checks a
model on designs of their own.

The model may be a checkpoint (.pth, needs torch) or an exported ONNX file, fp32 or int8 (onnxruntime
only, no torch). Reported: the spec's metrics pooled over every pixel of the chosen split, the
hierarchy error per role (each role has its own hierarchy value, so the true channel 3 names the role
of every pixel), the largest colour confusions, and the samples the model gets most wrong.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from ftensor.data.reader import list_indices, load_samples, read_dataset_info, sample_sizes, size_batches, split_indices
from ftensor.data.visualize import channel_images
from ftensor.errors import FTensorError
from ftensor.files import atomic_write_bytes, png_bytes
from ftensor.metrics import SpecMetrics, criteria_met
from ftensor.serving.resize import Prediction, crop_prediction, model_input, resize_prediction
from ftensor.spec import CLASS_NAMES, HIERARCHY_SCALE, NUM_CLASSES, ROLES

ROLE_OF_LEVEL = {int(round(role.hierarchy * HIERARCHY_SCALE)): name for name, role in ROLES.items()}
Predictor = Callable[[np.ndarray], np.ndarray]  # uint8 (N, H, W, 3) → encoded F_Tensors uint8 (N, 4, H, W)


@dataclass
class Model:
    """A model to score: its predictor on inputs of multiples of 16, its reference size S, what it is."""

    run: Predictor
    image_size: int
    kind: str

    def predict(self, images: np.ndarray) -> np.ndarray:
        """Encoded F_Tensors of a batch of one size, read at its own proportions as every path reads it."""
        pictures = [Image.fromarray(image) for image in images]
        pixels, fitted = model_input(pictures, self.image_size)
        if pixels.shape[1:3] == images.shape[1:3]:  # already at the model's scale: nothing to map back
            return self.run(pixels)
        size = (images.shape[2], images.shape[1])
        return np.stack(
            [resize_prediction(crop_prediction(Prediction(f), fitted), size).f_tensor for f in self.run(pixels)]
        )


@dataclass
class Worst:
    """The samples with the highest error so far (a bounded heap: memory does not grow with the split)."""

    keep: int
    heap: list = field(default_factory=list)  # (error, index, image, truth, prediction)

    def offer(self, error: float, index: int, image: np.ndarray, truth: np.ndarray, prediction: np.ndarray) -> None:
        item = (error, -index, image, truth, prediction)  # -index: ties keep the lower index, deterministically
        if len(self.heap) < self.keep:
            heapq.heappush(self.heap, item)
        elif self.keep and item[:2] > self.heap[0][:2]:
            heapq.heapreplace(self.heap, item)

    def ranked(self) -> list[tuple]:
        return sorted(self.heap, key=lambda item: item[:2], reverse=True)


def load_model(model: Path) -> Model:
    """A checkpoint (torch) or an ONNX file (onnxruntime, no torch) ready to score."""
    if not model.is_file():
        raise FTensorError(
            f"model not found at {model}: give a checkpoint (.pth) or an ONNX file from `ftensor export`."
        )
    if model.suffix == ".pth":
        import torch

        from ftensor.export.onnx import ClientGraph
        from ftensor.training.checkpoint import load_trained_model

        network, info = load_trained_model(model)
        graph = ClientGraph(network).eval()

        def run_checkpoint(images: np.ndarray) -> np.ndarray:
            with torch.no_grad():
                return graph(torch.from_numpy(images))[0].numpy()

        return Model(run_checkpoint, info["image_size"], "checkpoint (PyTorch)")
    from ftensor.serving.runtime import Runtime

    runtime = Runtime(model)
    kind = "int8 ONNX" if "quantization" in runtime.metadata else "ONNX"
    return Model(lambda images: runtime.run(images)[0], runtime.image_size, f"{kind} (onnxruntime)")


def evaluate_model(
    model: Path,
    data_dir: Path,
    split: str = "all",
    val_fraction: float = 0.1,
    batch_size: int = 8,
    max_images: int | None = None,
    worst: int = 8,
    progress: bool = True,
) -> tuple[dict, list[tuple]]:
    """(report, the `worst` samples as (error, -index, image, truth, prediction)); see the module doc."""
    from tqdm import tqdm

    scorer = load_model(model)
    info = read_dataset_info(data_dir)
    indices = split_indices(list_indices(data_dir), split, val_fraction)[:max_images]
    if not indices:
        raise FTensorError(f"{data_dir} has no samples in its {split!r} split: use --split all.")
    sizes = sample_sizes(data_dir, indices, info)
    metrics, confusion = SpecMetrics(), np.zeros((NUM_CLASSES, NUM_CLASSES), np.int64)
    by_size: dict[tuple[int, int], SpecMetrics] = {}
    levels = HIERARCHY_SCALE + 1  # per true channel-3 value: pixels, squared error, absolute error
    pixels, squared, absolute = np.zeros(levels, np.int64), np.zeros(levels), np.zeros(levels)
    worst_samples = Worst(worst)
    for positions in tqdm(size_batches(sizes, batch_size), desc="val", unit="batch", disable=not progress):
        chunk = [indices[k] for k in positions]
        images, truth = load_samples(data_dir, chunk)
        predicted = scorer.predict(images)
        metrics.update(predicted, truth)
        by_size.setdefault(sizes[positions[0]], SpecMetrics()).update(predicted, truth)
        confusion += np.bincount(
            truth[:, 2].ravel().astype(np.int64) * NUM_CLASSES + predicted[:, 2].ravel(), minlength=NUM_CLASSES**2
        ).reshape(NUM_CLASSES, NUM_CLASSES)
        level = truth[:, 3].ravel()
        diff = (predicted[:, 3].ravel().astype(np.int64) - level) / HIERARCHY_SCALE
        pixels += np.bincount(level, minlength=levels)
        squared += np.bincount(level, weights=diff * diff, minlength=levels)
        absolute += np.bincount(level, weights=np.abs(diff), minlength=levels)
        wrong = (predicted[:, :3] != truth[:, :3]).any(axis=1).mean(axis=(1, 2))
        for k, index in enumerate(chunk):
            worst_samples.offer(float(wrong[k]), index, images[k], truth[k], predicted[k])
    scores = metrics.compute()
    report = {
        "model": str(model),
        "kind": scorer.kind,
        "model_image_size": scorer.image_size,
        "data_dir": str(data_dir),
        "split": split,
        "images": len(indices),
        "metrics": scores,
        "criteria_met": criteria_met(scores),
        "by_size": {
            f"{w}x{h}": {"images": sizes.count((w, h)), **part.compute()} for (w, h), part in sorted(by_size.items())
        },
        "hierarchy_by_role": {
            role: {
                "pixels": int(pixels[level]),
                "mse": float(squared[level] / pixels[level]),
                "mean_abs_error": float(absolute[level] / pixels[level]),
            }
            for level, role in sorted(ROLE_OF_LEVEL.items())
            if pixels[level]
        },
        "color_confusions": largest_confusions(confusion),
        "worst": [{"index": -negative, "wrong_pixels": error} for error, negative, *_ in worst_samples.ranked()],
    }
    return report, worst_samples.ranked()


def largest_confusions(confusion: np.ndarray, top: int = 5) -> list[dict]:
    """The `top` (true, predicted) class pairs with the most wrongly classed pixels."""
    off_diagonal = confusion.copy()
    np.fill_diagonal(off_diagonal, 0)
    pairs = np.argsort(off_diagonal.ravel())[::-1][:top]
    return [
        {
            "true": CLASS_NAMES[t],
            "predicted": CLASS_NAMES[p],
            "pixels": int(off_diagonal[t, p]),
            "share_of_true": float(off_diagonal[t, p] / max(confusion[t].sum(), 1)),
        }
        for t, p in (divmod(int(pair), NUM_CLASSES) for pair in pairs)
        if off_diagonal[t, p]
    ]


def worst_grid(samples: list[tuple], path: Path, gap: int = 4) -> None:
    """One row per sample: image | truth: text, image, colour, hierarchy | prediction: the same | wrong
    pixels in red (a mask or the class differs)."""
    rows = []
    for error, negative, image, truth, prediction in samples:
        wrong = (prediction[:3] != truth[:3]).any(axis=0)
        errors = np.where(wrong[..., None], np.array([220, 30, 30], np.uint8), np.uint8(235))
        tiles = [image, *channel_images(truth), *channel_images(prediction), errors.astype(np.uint8)]
        h, w = image.shape[:2]
        row = np.full((h + 14, len(tiles) * (w + gap) - gap, 3), 200, np.uint8)  # grey: white tiles show
        for k, tile in enumerate(tiles):
            row[14:, k * (w + gap) : k * (w + gap) + w] = tile
        canvas = Image.fromarray(row)
        ImageDraw.Draw(canvas).text(
            (2, 1), f"sample {-negative}: {100 * error:.1f} % wrong | truth (4) | prediction (4) | errors", fill=0
        )
        rows.append(np.asarray(canvas))
    if rows:
        width = max(row.shape[1] for row in rows)  # designs differ in size: narrower rows padded in grey
        rows = [np.pad(row, ((0, gap), (0, width - row.shape[1]), (0, 0)), constant_values=200) for row in rows]
        atomic_write_bytes(path, png_bytes(np.concatenate(rows)))


def format_report(report: dict) -> str:
    from ftensor.spec import SUCCESS_CRITERIA

    met = report["criteria_met"]
    lines = [
        f"{report['model']} ({report['kind']}) on {report['images']} images ({report['split']}) "
        f"of {report['data_dir']}",
        "  "
        + "  ".join(
            f"{name} {report['metrics'][name]:.4f} ({op} {threshold}: {'met' if met[name] else 'UNMET'})"
            for name, op, threshold in SUCCESS_CRITERIA
        ),
        "per size (W×H: images, text IoU, image IoU, colour accuracy, hierarchy MSE):",
        *(
            f"  {size:>9}: {m['images']:>5}  {m['text_iou']:.4f}  {m['image_iou']:.4f}  "
            f"{m['color_accuracy']:.4f}  {m['hierarchy_mse']:.4f}"
            for size, m in report["by_size"].items()
        ),
        "hierarchy error by role (pixels whose true role it is):",
        *(
            f"  {role:<11} MSE {e['mse']:.4f}  mean |error| {e['mean_abs_error']:.3f}  ({e['pixels']:,} pixels)"
            for role, e in report["hierarchy_by_role"].items()
        ),
        "largest colour confusions:",
        *(
            f"  {c['true']} taken for {c['predicted']}: {c['pixels']:,} pixels "
            f"({100 * c['share_of_true']:.1f} % of {c['true']})"
            for c in report["color_confusions"]
        ),
    ]
    return "\n".join(lines)
