"""Prove that an ONNX file computes what its checkpoint computes (fp32), or what fp32 computes on the
task (int8).

fp32 passes when every float head is within `atol` of PyTorch on random images at batch 1, a larger
batch and at 16:9 and 1:3, and on real dataset images of every size when given, and when the encoded F_Tensors
differ only in pixels whose float values sit on a decision boundary. int8 is judged on the task: its
spec metrics within 0.01 of fp32's on the val split, and masks agreeing on ≥ 99 % of pixels.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import torch
from torch import nn

from ftensor.data.reader import split_groups
from ftensor.errors import FTensorError
from ftensor.export.onnx import ClientGraph
from ftensor.metrics import SpecMetrics
from ftensor.spec import HIERARCHY_SCALE, INPUT_NAME, OUTPUT_NAMES, PROBABILITY_OUTPUTS, aspect_size

INT8_METRIC_TOLERANCE = 0.01
INT8_MIN_MASK_AGREEMENT = 0.99


@dataclass
class ParityReport:
    atol: float
    cases: list[dict] = field(default_factory=list)  # per input set: max abs diff per head, agreement
    metrics: dict[str, dict[str, float]] = field(default_factory=dict)  # per model, on dataset images
    passed: bool = True


def read_onnx(path: Path) -> Path:
    """`path` after checking that it exists and is an ONNX model (clear errors otherwise)."""
    if not path.is_file():
        raise FTensorError(f"ONNX file not found at {path} — run `ftensor export --checkpoint CKPT --output {path}`.")
    try:
        onnx.checker.check_model(str(path))
    except (onnx.checker.ValidationError, onnx.onnx_cpp2py_export.checker.ValidationError, OSError) as error:
        raise FTensorError(
            f"{path} is not a valid ONNX model ({str(error).splitlines()[0]}); export it again."
        ) from error
    return path


def cpu_session(path: Path) -> ort.InferenceSession:
    return ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])


def run_onnx(session: ort.InferenceSession, images: np.ndarray) -> list[np.ndarray]:
    return session.run(list(OUTPUT_NAMES), {INPUT_NAME: images})


def run_torch(graph: ClientGraph, images: np.ndarray) -> list[np.ndarray]:
    with torch.no_grad():
        return [t.numpy() for t in graph(torch.from_numpy(images))]


def as_list(arrays: np.ndarray | list[np.ndarray]) -> list[np.ndarray]:
    """One array, or a list of them (one per design size), as a list."""
    return arrays if isinstance(arrays, list) else [arrays]


def agreement(a: np.ndarray | list[np.ndarray], b: np.ndarray | list[np.ndarray]) -> list[float]:
    """Share of pixels where two encoded F_Tensors (or lists of them, one per size) agree, per channel
    (none when their shapes differ)."""
    a, b = as_list(a), as_list(b)
    if [x.shape for x in a] != [y.shape for y in b]:
        return [0.0] * 4
    total = sum(x[:, 0].size for x in a)
    return [sum(int((x[:, c] == y[:, c]).sum()) for x, y in zip(a, b)) / total for c in range(4)]


def on_a_boundary(outputs: list[np.ndarray], atol: float) -> np.ndarray:
    """Per encoded channel, the pixels whose float value lies within `atol` of a decision boundary (0.5 for
    the masks, a tie between the two likeliest classes, a rounding midpoint of 255 × hierarchy): where
    float error alone may flip the encoded value."""
    _, text, image, color, hierarchy = outputs
    top2 = np.sort(color, axis=1)[:, -2:]
    level = hierarchy * HIERARCHY_SCALE
    return np.stack(
        [
            np.abs(text[:, 0] - 0.5) <= atol,
            np.abs(image[:, 0] - 0.5) <= atol,
            top2[:, 1] - top2[:, 0] <= 2 * atol,
            np.abs(level[:, 0] - np.floor(level[:, 0]) - 0.5) <= HIERARCHY_SCALE * atol,
        ],
        axis=1,
    )


def compare(name: str, reference: list[np.ndarray], candidate: list[np.ndarray], atol: float) -> dict:
    """Max |difference| per float head (infinite where shapes differ, NaN where either has one) and
    agreement of the encoded F_Tensors; it passes only if every head is within `atol` and every encoded
    pixel that differs sits on a decision boundary (float error flips it, not the model)."""
    diffs = {
        head: float(np.abs(r - c).max()) if r.shape == c.shape else float("inf")
        for head, r, c in zip(PROBABILITY_OUTPUTS, reference[1:], candidate[1:])
    }
    agree = agreement(reference[0], candidate[0])
    same_shape = reference[0].shape == candidate[0].shape
    unexplained = int(((reference[0] != candidate[0]) & ~on_a_boundary(reference, atol)).sum()) if same_shape else -1
    passed = all(diff <= atol for diff in diffs.values()) and unexplained == 0  # NaN fails
    return {
        "inputs": name,
        "max_abs_diff": diffs,
        "agreement": agree,
        "off_boundary_flips": unexplained,
        "passed": passed,
    }


def in_batches(run, images: np.ndarray, batch_size: int) -> list[np.ndarray]:
    parts = [run(images[i : i + batch_size]) for i in range(0, len(images), batch_size)]
    return [np.concatenate(outputs) for outputs in zip(*parts)]


def check_parity(
    model: nn.Module,
    onnx_path: Path,
    image_size: int,
    atol: float = 1e-4,
    data_dir: Path | None = None,
    max_images: int = 32,
    batch_size: int = 8,
    seed: int = 0,
    val_fraction: float = 0.1,
) -> ParityReport:
    """Compare PyTorch and onnxruntime on random and (optionally) real images."""
    graph, session = ClientGraph(model.cpu()).eval(), cpu_session(onnx_path)
    rng = np.random.default_rng(seed)
    report = ParityReport(atol)
    wide = aspect_size("16:9", image_size)
    tall = aspect_size("1:3", image_size)
    random_cases = {  # (N, H, W)
        f"random batch 1 @ {image_size}²": (1, image_size, image_size),
        f"random batch {batch_size} @ {image_size}²": (batch_size, image_size, image_size),
        f"random batch 2 @ 16:9, {wide[0]}×{wide[1]}": (2, wide[1], wide[0]),
        f"random batch 1 @ 1:3, {tall[0]}×{tall[1]}": (1, tall[1], tall[0]),
    }
    for name, (n, h, w) in random_cases.items():
        images = rng.integers(0, 256, size=(n, h, w, 3), dtype=np.uint8)
        report.cases.append(compare(name, run_torch(graph, images), run_onnx(session, images), atol))
    if data_dir is not None:
        scores = {"pytorch": SpecMetrics(), "onnxruntime": SpecMetrics()}
        for images, truth in split_groups(data_dir, max_images, "val", val_fraction):
            ours = in_batches(lambda b: run_torch(graph, b), images, batch_size)
            theirs = in_batches(lambda b: run_onnx(session, b), images, batch_size)
            name = f"{len(images)} val images of {images.shape[2]}×{images.shape[1]} from {data_dir}"
            report.cases.append(compare(name, ours, theirs, atol))
            scores["pytorch"].update(ours[0], truth)
            scores["onnxruntime"].update(theirs[0], truth)
        report.metrics = {label: metrics.compute() for label, metrics in scores.items()}
    report.passed = all(case["passed"] for case in report.cases)
    return report


def median_latency(session: ort.InferenceSession, images: np.ndarray, repeats: int = 5) -> float:
    """Median seconds per image of `session` on `images` (one warm-up run first)."""
    run_onnx(session, images)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run_onnx(session, images)
        times.append((time.perf_counter() - start) / len(images))
    return float(np.median(times))


def judge_int8(
    fp32: np.ndarray | list[np.ndarray], int8: np.ndarray | list[np.ndarray], truth: np.ndarray | list[np.ndarray]
) -> dict:
    """Task-level agreement of int8 F_Tensors with fp32 ones (uint8 (N, 4, H, W), or a list of such
    arrays, one per size) on labelled images."""
    metrics = {}
    for label, f_tensors in (("fp32", fp32), ("int8", int8)):
        scores = SpecMetrics()
        for predicted, true in zip(as_list(f_tensors), as_list(truth)):
            scores.update(predicted, true)
        metrics[label] = scores.compute()
    deltas = {k: abs(metrics["int8"][k] - metrics["fp32"][k]) for k in metrics["fp32"]}
    agree = agreement(fp32, int8)
    return {
        "metrics": metrics,
        "metric_deltas": deltas,
        "mask_agreement": {"text": agree[0], "image": agree[1]},
        "passed": max(deltas.values()) <= INT8_METRIC_TOLERANCE and min(agree[:2]) >= INT8_MIN_MASK_AGREEMENT,
        "images": sum(len(t) for t in as_list(truth)),
    }


def check_int8(
    fp32_path: Path,
    int8_path: Path,
    data_dir: Path,
    val_fraction: float = 0.1,
    max_images: int = 256,
    batch_size: int = 8,
) -> dict:
    """Task-level parity of an int8 model against its fp32 source on the val split (every size), with size
    and speed (on the first val image)."""
    groups = split_groups(data_dir, max_images, "val", val_fraction)
    truth = [true for _, true in groups]
    f_tensors, sizes, latencies = {}, {}, {}
    for label, path in (("fp32", fp32_path), ("int8", int8_path)):
        session = cpu_session(path)
        f_tensors[label] = [
            in_batches(lambda b, s=session: run_onnx(s, b)[:1], images, batch_size)[0] for images, _ in groups
        ]
        sizes[label] = path.stat().st_size / 2**20
        latencies[label] = 1000 * median_latency(session, groups[0][0][:1])
    return {**judge_int8(f_tensors["fp32"], f_tensors["int8"], truth), "size_mb": sizes, "latency_ms": latencies}


def format_parity(report: ParityReport) -> str:
    lines = [f"parity (atol {report.atol:g})"]
    for case in report.cases:
        diffs = "  ".join(f"{head} {value:.2e}" for head, value in case["max_abs_diff"].items())
        agree = " / ".join(f"{100 * a:.3f}%" for a in case["agreement"])
        lines.append(f"  {'PASS' if case['passed'] else 'FAIL'}  {case['inputs']}")
        lines.append(f"        max |diff|: {diffs}")
        lines.append(f"        F_Tensor agreement text/image/class/hierarchy: {agree}")
    for label, metrics in report.metrics.items():
        lines.append(f"  {label:<12} " + "  ".join(f"{k} {v:.4f}" for k, v in metrics.items()))
    lines.append(
        "parity PASSED"
        if report.passed
        else "parity FAILED: the ONNX file does not compute what the checkpoint computes"
    )
    return "\n".join(lines)


def format_int8(results: dict) -> str:
    lines = [f"int8 vs fp32 on {results['images']} val images"]
    for label in ("fp32", "int8"):
        metrics = "  ".join(f"{k} {v:.4f}" for k, v in results["metrics"][label].items())
        lines.append(
            f"  {label}  {results['size_mb'][label]:7.2f} MB  {results['latency_ms'][label]:8.1f} ms/image  {metrics}"
        )
    lines.append(
        f"  size ×{results['size_mb']['fp32'] / results['size_mb']['int8']:.2f} smaller, "
        f"speed ×{results['latency_ms']['fp32'] / results['latency_ms']['int8']:.2f}; largest metric change "
        f"{max(results['metric_deltas'].values()):.4f} (≤ {INT8_METRIC_TOLERANCE}); mask agreement "
        f"text {100 * results['mask_agreement']['text']:.2f}%, image {100 * results['mask_agreement']['image']:.2f}% "
        f"(≥ {100 * INT8_MIN_MASK_AGREEMENT:.0f}%)"
    )
    lines.append("int8 PASSED" if results["passed"] else "int8 FAILED: quantisation changes the predictions too much")
    return "\n".join(lines)
