"""How well a model reads designs it was never shown: own val split against a held-out-style split.

    .venv/bin/python benchmarks/bench_generalise.py              # scores the quick start's model (make demo)
    .venv/bin/python benchmarks/bench_generalise.py --run runs/generalise --data_dir data/seen_128

The model is trained on the generator's `seen` variety (ftensor generate --variety seen); the held-out
split is drawn from the disjoint `held_out` variety (typeface families, layout families and picture kinds
left out of training: ftensor/data/variety.py) with another seed. It scores a model trained already
(`make demo` trains the quick start's; train another with `ftensor train --data_dir DATA --run RUN` on
data made with `--variety seen`), making either dataset that is missing. Every score comes from
`ftensor val`'s library function on the exported ONNX model when there is one (else the checkpoint),
pooled over each split as the spec says, then per design size and per layout family, and the held-out
split once more under each of a few captures at a fixed strength (JPEG, resampling, blur, noise), some
beyond what `--degrade` trains on. Prints a markdown table for the README.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
from machine import describe

from ftensor.data.degrade import Degradations, degrade
from ftensor.data.generate import generate_dataset
from ftensor.data.layout import sample_paths
from ftensor.data.reader import (
    list_indices,
    load_samples,
    read_dataset_info,
    sample_sizes,
    size_batches,
    split_indices,
)
from ftensor.evaluation import Model, evaluate_model, load_model
from ftensor.metrics import SpecMetrics
from ftensor.runs import RunFolder
from ftensor.spec import SUCCESS_CRITERIA


def by_layout(
    scorer: Model, data_dir: Path, split: str, capture: dict | None = None
) -> dict[str, tuple[int, dict[str, float]]]:
    """(designs, metrics) per layout family, which the generator's metadata names: where a gap comes from;
    with `capture`, each image seen through it."""
    layouts: dict[str, list[int]] = {}
    for index in split_indices(list_indices(data_dir), split, 0.1):
        layout = json.loads(sample_paths(data_dir, index)["metadata"].read_text())["layout"]
        layouts.setdefault(layout, []).append(index)
    return {
        layout: (len(members), scored(scorer, data_dir, members, capture))
        for layout, members in sorted(layouts.items())
    }


# One capture each, at one strength. `--degrade` trains on JPEG 30–95, blur 0.3–0.9 px, resampling ×0.6–0.9
# and noise of σ 0–4, each on a share of the images (ftensor/data/degrade.py).
NO_CAPTURE = {"jpeg_p": 0.0, "blur_p": 0.0, "resample_p": 0.0, "color_shift_p": 0.0, "noise_p": 0.0}
CAPTURES = {
    "JPEG quality 75": {"jpeg_p": 1.0, "jpeg_quality": (75, 75)},
    "JPEG quality 40": {"jpeg_p": 1.0, "jpeg_quality": (40, 40)},
    "JPEG quality 15 (beyond training)": {"jpeg_p": 1.0, "jpeg_quality": (15, 15)},
    "resampled ×0.75 and back": {"resample_p": 1.0, "resample_scale": (0.75, 0.75)},
    "resampled ×0.5 and back (beyond)": {"resample_p": 1.0, "resample_scale": (0.5, 0.5)},
    "blur 0.8 px": {"blur_p": 1.0, "blur_radius": (0.8, 0.8)},
    "blur 1.5 px (beyond)": {"blur_p": 1.0, "blur_radius": (1.5, 1.5)},
    "noise σ 2": {"noise_p": 1.0, "noise_sigma": (2.0, 2.0)},
    "noise σ 4": {"noise_p": 1.0, "noise_sigma": (4.0, 4.0)},
    "noise σ 8 (beyond)": {"noise_p": 1.0, "noise_sigma": (8.0, 8.0)},
    "noise σ 12 (beyond)": {"noise_p": 1.0, "noise_sigma": (12.0, 12.0)},
}


def seen_through(images: np.ndarray, indices: list[int], capture: dict | None) -> np.ndarray:
    """`images` (of samples `indices`) as `capture` leaves them, the same way every run; None: as rendered."""
    if capture is None:
        return images
    config = Degradations(**{**NO_CAPTURE, **capture})
    return np.stack([degrade(image, np.random.default_rng(i), config) for image, i in zip(images, indices)])


def scored(scorer: Model, data_dir: Path, indices: list[int], capture: dict | None = None) -> dict[str, float]:
    """Metrics pooled over samples `indices` of `data_dir`, each image seen through `capture` (None: as
    rendered), in batches of one size."""
    metrics = SpecMetrics()
    for positions in size_batches(sample_sizes(data_dir, indices, read_dataset_info(data_dir)), 8):
        chosen = [indices[k] for k in positions]
        images, truth = load_samples(data_dir, chosen)
        metrics.update(scorer.predict(seen_through(images, chosen, capture)), truth)
    return metrics.compute()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--run", default="runs/quickstart")
    parser.add_argument("--data_dir", default="data/quickstart_128", help="training data (variety seen)")
    parser.add_argument("--held_out_dir", default="data/held_out_128", help="held-out data (variety held_out)")
    parser.add_argument("--image_size", type=int, default=128)
    parser.add_argument("--num_samples", type=int, default=2500, help="the training data's samples (as make demo)")
    parser.add_argument("--held_out_samples", type=int, default=400)
    args = parser.parse_args()

    data, held_out, run = Path(args.data_dir), Path(args.held_out_dir), RunFolder(Path(args.run))
    generate_dataset(data, args.num_samples, args.image_size, seed=0, variety="seen")
    generate_dataset(held_out, args.held_out_samples, args.image_size, seed=1, variety="held_out")
    if not run.best.is_file():
        raise SystemExit(f"no trained model in {run.root}: run `make demo` (or `ftensor train --run {run.root}`).")
    model = run.onnx if run.onnx.is_file() else run.best
    val_fraction = json.loads(run.log.read_text())["config"]["val_fraction"]  # the run's own val split
    own, _ = evaluate_model(model, data, split="val", val_fraction=val_fraction, worst=0)
    other, _ = evaluate_model(model, held_out, split="all", worst=0)

    print(f"\n{describe()}\n{model}: trained on {data} (variety seen)\n")
    names = [name for name, _, _ in SUCCESS_CRITERIA]
    print("| split | images | " + " | ".join(names) + " |")
    print("|---|---|" + "---|" * len(names))
    for label, report in ((f"own val ({data.name})", own), (f"held-out style ({held_out.name})", other)):
        print(f"| {label} | {report['images']} | " + " | ".join(f"{report['metrics'][n]:.4f}" for n in names) + " |")
    gaps = " | ".join(f"{other['metrics'][n] - own['metrics'][n]:+.4f}" for n in names)
    print(f"| gap (held-out − own) | | {gaps} |")
    print("\nheld-out per size (W×H: images, text IoU, image IoU, colour accuracy, hierarchy MSE):")
    for size, m in other["by_size"].items():
        print(
            f"  {size:>9}: {m['images']:>4}  {m['text_iou']:.4f}  {m['image_iou']:.4f}  "
            f"{m['color_accuracy']:.4f}  {m['hierarchy_mse']:.4f}"
        )
    scorer = load_model(model)
    print(f"\nheld-out, captured (all {other['images']} designs; text IoU, image IoU, colour accuracy, hierarchy MSE):")
    print(f"  {'as rendered':>34}: " + "  ".join(f"{other['metrics'][n]:.4f}" for n in names))
    for label, capture in CAPTURES.items():
        m = scored(scorer, held_out, list_indices(held_out), capture)
        print(f"  {label:>34}: " + "  ".join(f"{m[n]:.4f}" for n in names))
    print("\nper layout family (split: layout, images, text IoU, image IoU, colour accuracy, hierarchy MSE):")
    noisy = "noise σ 4"
    splits = (("own val", data, "val", None), ("held-out", held_out, "all", None))
    for label, folder, split, capture in (*splits, (f"held-out, {noisy}", held_out, "all", CAPTURES[noisy])):
        for layout, (count, m) in by_layout(scorer, folder, split, capture).items():
            print(
                f"  {label:>8}: {layout:>8} {count:>4}  {m['text_iou']:.4f}  {m['image_iou']:.4f}  "
                f"{m['color_accuracy']:.4f}  {m['hierarchy_mse']:.4f}"
            )


if __name__ == "__main__":
    main()
