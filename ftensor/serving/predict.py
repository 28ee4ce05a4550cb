"""Batch offline predictions: F_Tensors for a folder, file or glob of images, resumable and shardable.

Each output is OUT/<path relative to the input root>.npy in the spec's encoding, written atomically;
a rerun skips outputs that are complete, newer than their image and (with --save_viz) have their
panel. OUT remembers its model (OUT/predict_model.json): a rerun with another model is refused rather
than mixing two models' answers. Images that cannot be read or that the model fails on, and outputs
that cannot be written, are skipped, listed in the summary and in OUT/predict_report[_shard-k-of-n].json,
and never stop the run.
"""

from __future__ import annotations

import glob
import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image
from tqdm import tqdm

from ftensor.data.visualize import sample_panel
from ftensor.errors import FTensorError
from ftensor.files import atomic_write_bytes, npy_bytes, png_bytes
from ftensor.serving.runtime import ImageError, Prediction, Runtime, open_image

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff", ".gif"}


@dataclass
class PredictSummary:
    written: int = 0
    skipped_existing: int = 0
    failed: list[dict] = field(default_factory=list)
    report: Path | None = None


def find_inputs(spec: str) -> tuple[list[Path], Path]:
    """The images named by a directory (searched recursively), a file or a glob, sorted, and the root
    their output names are taken relative to."""
    path = Path(spec)
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())
        root = path
    elif path.is_file():
        files, root = [path], path.parent
    else:
        files = sorted(Path(p) for p in glob.glob(spec, recursive=True) if Path(p).is_file())
        root = Path(os.path.commonpath([p.parent for p in files])) if files else Path(".")
    if not files:
        raise FTensorError(f"no images found at {spec!r}: give a directory, an image file or a glob like 'imgs/*.png'.")
    return files, root


def fingerprint(model: Path) -> str:
    """sha256 of a model file: what identifies the model behind a folder of predictions."""
    digest = hashlib.sha256()
    with open(model, "rb") as f:
        for block in iter(lambda: f.read(2**20), b""):
            digest.update(block)
    return digest.hexdigest()


def claim_output(output: Path, model: Path) -> None:
    """Tie `output` to `model`, or refuse when it already holds another model's predictions."""
    record = output / "predict_model.json"
    mine = {"model": str(model), "sha256": fingerprint(model)}
    if record.is_file():
        try:
            theirs = json.loads(record.read_text())
        except (OSError, ValueError):
            theirs = {}
        if theirs.get("sha256") != mine["sha256"]:
            other = theirs.get("model", "an unknown model")
            other = f"an earlier version of {model}" if other == str(model) else other
            raise FTensorError(
                f"{output} holds predictions of another model ({other}); predicting with {model} there would "
                f"mix two models' answers. Choose another --output, or delete {output}."
            )
        return
    if output.is_dir() and any(output.rglob("*.npy")):
        raise FTensorError(
            f"{output} holds predictions of an unknown model (no predict_model.json); choose another --output, "
            f"or delete {output}."
        )
    atomic_write_bytes(record, json.dumps(mine, indent=1).encode())


def is_complete_npy(path: Path) -> bool:
    """Whether `path` is a whole uint8 (4, H, W) array: a file cut short by a crash does not count."""
    try:
        array = np.load(path, mmap_mode="r", allow_pickle=False)
    except (OSError, ValueError, EOFError):
        return False
    return array.dtype == np.uint8 and array.ndim == 3 and array.shape[0] == 4


def output_names(files: list[Path], root: Path) -> dict[Path, Path]:
    """A distinct <relative path>.npy per input, distinct even on a case-insensitive file system (macOS,
    Windows): inputs whose names would meet there (a.png and a.jpg, Logo.png and logo.jpg) keep their
    extension (a.png.npy, a.jpg.npy), and any that still meet (A.png and a.png, or a.png beside a.jpg
    and a.png.gif) get a short hash of their path as well."""
    relative = {f: f.relative_to(root) for f in files}

    def key(name: Path) -> str:
        return str(name).casefold()

    def counts(names: dict[Path, Path]) -> dict[str, int]:
        found: dict[str, int] = {}
        for name in names.values():
            found[key(name)] = found.get(key(name), 0) + 1
        return found

    names = {f: rel.with_suffix(".npy") for f, rel in relative.items()}
    stems = counts(names)
    names = {
        f: rel.with_name(rel.name + ".npy") if stems[key(names[f])] > 1 else names[f] for f, rel in relative.items()
    }
    full = counts(names)
    return {
        f: name.with_name(f"{name.stem}.{hashlib.sha256(str(relative[f]).encode()).hexdigest()[:8]}.npy")
        if full[key(name)] > 1
        else name
        for f, name in names.items()
    }


def parse_shard(text: str | None) -> tuple[int, int]:
    """'k/n' (0 ≤ k < n) → (k, n); None → the whole input (0, 1)."""
    if text is None:
        return 0, 1
    try:
        k, n = (int(part) for part in text.split("/"))
    except ValueError:
        raise FTensorError(f"--shard {text!r} must look like k/n, e.g. 0/4 (k counts from 0).") from None
    if not 0 <= k < n:
        raise FTensorError(f"--shard {text}: k must satisfy 0 ≤ k < n.")
    return k, n


def predict_each(runtime: Runtime, images: list[Image.Image]) -> list[Prediction | Exception]:
    """The images' predictions; when the model fails on a batch (out of memory, an input it cannot take),
    each image again on its own, so that only the images it fails on are lost, each as its error."""
    try:
        return runtime.predict_batch(images)
    except Exception as error:  # onnxruntime raises its own types; any of them is the images' error
        if len(images) == 1:
            return [error]
        return [outcome for image in images for outcome in predict_each(runtime, [image])]


def predict_files(
    runtime: Runtime,
    spec: str,
    output: Path,
    batch_size: int = 8,
    save_viz: bool = False,
    shard: str | None = None,
    progress: bool = True,
) -> PredictSummary:
    """Write the F_Tensor of every (shard of the) input images under `output`."""
    if batch_size < 1:
        raise FTensorError(f"--batch_size must be at least 1, got {batch_size}.")
    k, n = parse_shard(shard)
    files, root = find_inputs(spec)
    if root.resolve().is_relative_to(output.resolve()):
        raise FTensorError(
            f"--output {output} holds the input {spec}: predictions would be mixed with the images. "
            "Choose an --output outside the input folder, e.g. a sibling folder."
        )
    files = [f for f in files if not f.resolve().is_relative_to(output.resolve())]  # never our own viz PNGs
    names = output_names(files, root)
    mine = files[k::n]
    claim_output(output, runtime.path)
    summary = PredictSummary()

    def done(path: Path) -> bool:  # as `make` judges: an image changed after its output is predicted again
        result = output / names[path]
        newer = is_complete_npy(result) and result.stat().st_mtime >= path.stat().st_mtime
        return newer and (not save_viz or viz_path(output, names[path]).is_file())

    todo = [f for f in mine if not done(f)]
    summary.skipped_existing = len(mine) - len(todo)
    bar = tqdm(total=len(mine), initial=summary.skipped_existing, unit="image", desc="predict", disable=not progress)
    with bar:
        for start in range(0, len(todo), batch_size):
            batch, images = [], []
            for path in todo[start : start + batch_size]:
                try:
                    images.append(open_image(path))
                    batch.append(path)
                except ImageError as error:
                    summary.failed.append({"path": str(path), "error": str(error)})
                    bar.update(1)
            if not batch:
                continue
            for path, image, prediction in zip(batch, images, predict_each(runtime, images)):
                if isinstance(prediction, Exception):
                    summary.failed.append({"path": str(path), "error": f"the model failed on it: {prediction}"})
                    bar.update(1)
                    continue
                try:
                    atomic_write_bytes(output / names[path], npy_bytes(prediction.f_tensor))
                    if save_viz:
                        panel = sample_panel(np.asarray(image), prediction.f_tensor)
                        atomic_write_bytes(viz_path(output, names[path]), png_bytes(panel))
                    summary.written += 1
                except OSError as error:  # disk full, permissions, a name the file system refuses
                    summary.failed.append({"path": str(path), "error": f"could not write its output: {error}"})
                bar.update(1)
    suffix = "" if n == 1 else f"_shard-{k}-of-{n}"
    summary.report = output / f"predict_report{suffix}.json"
    model = runtime.info()  # decoded: spec_version a number, as in the server's /info and answers
    report = {
        "inputs": spec,
        "shard": f"{k}/{n}",
        "images": len(mine),
        "written": summary.written,
        "skipped_existing": summary.skipped_existing,
        "failed": summary.failed,
        "model": str(runtime.path),
        "preset": model.get("preset"),
        "spec_version": model.get("spec_version"),
    }
    atomic_write_bytes(summary.report, json.dumps(report, indent=1).encode())
    return summary


def viz_path(output: Path, name: Path) -> Path:
    return (output / "viz" / name).with_suffix(".png")
