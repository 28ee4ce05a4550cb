"""Time to the criteria: when a training run first meets the original module's four criteria on its val
split, and how hard the CPU worked to get there.

    .venv/bin/python benchmarks/bench_quickstart.py --run runs/quickstart    # after make demo

Reads the run's training log (`ftensor train` writes it; any run folder will do) and prints per epoch:
the training time so far, training samples/s, the GFLOP/s that implies (the convolutions' forward FLOPs
× 3 for the backward pass and the weight gradients, averaged over the dataset's mix of sizes) against
this CPU's fp32 peak (a run in bf16 can pass it: native bf16 does twice the work per instruction), and
the val metrics with the criteria met; then the first epoch that meets all four, or that none did (a run
that fine-tunes --weights names them: its clock starts from those). Run
it on the machine that trained the run: the CPU it names is this one's.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from bench_export import conv_flops
from machine import describe, nominal_peak_gflops

from ftensor.data.reader import read_dataset_info
from ftensor.metrics import criteria_met
from ftensor.model import build_model
from ftensor.runs import RunFolder


def training_gflop_per_sample(preset: str, data_dir: Path) -> float:
    """Forward + backward convolution GFLOP of one sample, averaged over the dataset's sizes."""
    per_pixel = conv_flops(build_model(preset), 128) / 128**2  # fully convolutional: FLOPs scale with pixels
    info = read_dataset_info(data_dir)
    sizes = [(*item["size"], item["count"]) for item in info.get("sizes", [])]
    sizes = sizes or [(info["image_size"], info["image_size"], 1)]  # a version-1 dataset: all S×S
    pixels = sum(width * height * count for width, height, count in sizes) / sum(count for *_, count in sizes)
    return 3 * per_pixel * pixels / 1e9


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--run", default="runs/quickstart", help="run folder of `ftensor train`")
    args = parser.parse_args()
    log = json.loads(RunFolder(Path(args.run)).log.read_text())
    config = log["config"]
    gflop = training_gflop_per_sample(config["preset"], Path(config["data_dir"]))
    peak, reckoning = nominal_peak_gflops()
    print(f"\n{describe()}")
    print(
        f"run {args.run}: preset {config['preset']}"
        + (f" from {config['weights']}" if config.get("weights") else "")
        + f", batch {config['batch_size']}, {config['epochs']} epoch{'s' * (config['epochs'] != 1)}, "
        f"{'bf16 autocast' if config.get('bf16') else 'fp32'}, {gflop:.1f} training GFLOP a sample; "
        f"fp32 peak ≈ {peak:.0f} GFLOP/s ({reckoning})\n"
    )
    columns = "epoch | minutes | samples/s | GFLOP/s | of peak | text IoU | image IoU | colour | hierarchy MSE | met"
    print(f"| {columns} |\n|{'---|' * (columns.count('|') + 1)}")
    minutes, first = 0.0, None
    for entry in log["epochs"]:
        minutes += entry["epoch_seconds"] / 60
        metrics, met = entry["val_metrics"], criteria_met(entry["val_metrics"])
        if all(met.values()) and first is None:
            first = (entry["epoch"], minutes)
        rate = entry["samples_per_second"]
        print(
            f"| {entry['epoch']} | {minutes:.1f} | {rate:.1f} | {rate * gflop:.0f} | {rate * gflop / peak:.0%} | "
            f"{metrics['text_iou']:.3f} | {metrics['image_iou']:.3f} | {metrics['color_accuracy']:.3f} | "
            f"{metrics['hierarchy_mse']:.4f} | {sum(met.values())} of 4 |"
        )
    if first:
        print(f"\nall four criteria first met after epoch {first[0]}, {first[1]:.1f} minutes of training")
    else:
        print(f"\nnot all four criteria met in {len(log['epochs'])} epochs ({minutes:.1f} minutes of training)")


if __name__ == "__main__":
    main()
