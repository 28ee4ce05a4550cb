"""Training speed per preset, and the efficiency of the training loop.

    .venv/bin/python benchmarks/bench_train.py --image_size 128 --batch_size 8 [--precision fp32]

For each preset:
- bare: forward + loss + backward + optimizer step on in-memory tensors (no loader, no metrics);
- loop: the real `ftensor train` loop (DataLoader from disk, loss, spec metrics, progress bar) over
  a small generated dataset, timed on its second epoch (the first pays for start-up);
- efficiency = loop steps/s ÷ bare steps/s (the issue asks ≥ 0.90);
both in the precision `ftensor train` would use here (bf16 autocast on a CPU with native bf16), or --precision's.
Prints a markdown table for the README.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import torch
from machine import describe

from ftensor.data import generate_dataset
from ftensor.model import build_model
from ftensor.training.loss import CompositeLoss
from ftensor.training.train import PRECISIONS, TrainConfig, autocast, train, uses_bf16


def bare_steps_per_second(preset: str, batch_size: int, image_size: int, steps: int, bf16: bool) -> float:
    torch.manual_seed(0)
    model = build_model(preset).to(memory_format=torch.channels_last).train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    criterion = CompositeLoss()
    images = torch.rand(batch_size, 3, image_size, image_size).contiguous(memory_format=torch.channels_last)
    target = torch.cat(
        [
            torch.randint(0, 2, (batch_size, 2, image_size, image_size), dtype=torch.uint8),
            torch.randint(0, 12, (batch_size, 1, image_size, image_size), dtype=torch.uint8),
            torch.randint(0, 256, (batch_size, 1, image_size, image_size), dtype=torch.uint8),
        ],
        dim=1,
    )

    def step() -> None:
        with autocast(torch.device("cpu"), bf16):
            loss, _ = criterion(model(images), target)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    for _ in range(2):
        step()
    start = time.perf_counter()
    for _ in range(steps):
        step()
    return steps / (time.perf_counter() - start)


def loop_steps_per_second(preset: str, batch_size: int, data_dir: Path, out: Path, precision: str) -> float:
    config = TrainConfig(
        data_dir=str(data_dir), run=str(out), preset=preset, epochs=2, batch_size=batch_size, precision=precision
    )
    return train(config)["epochs"][-1]["samples_per_second"] / batch_size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--image_size", type=int, default=128)
    parser.add_argument("--batch_size", type=int, default=8)
    parser.add_argument("--presets", nargs="+", default=["tiny", "small", "unet"])
    parser.add_argument("--precision", default="auto", choices=PRECISIONS, help="as `ftensor train --precision`")
    args = parser.parse_args()
    bf16 = uses_bf16(torch.device("cpu"), args.precision)
    # Enough samples for ~45 loop steps per epoch (5 for the slow standard width), bare timed as long.
    samples = {"tiny": 400, "small": 400, "unet": 48}
    rows = []
    with tempfile.TemporaryDirectory(prefix="ftensor-bench-") as scratch:
        for preset in args.presets:
            data_dir = Path(scratch) / f"data_{samples[preset]}"
            if not data_dir.exists():
                square = ((args.image_size, args.image_size),)
                generate_dataset(data_dir, samples[preset], seed=0, progress=False, sizes=square)
            steps = 5 if preset == "unet" else 45
            bare = bare_steps_per_second(preset, args.batch_size, args.image_size, steps, bf16)
            loop = loop_steps_per_second(
                preset, args.batch_size, data_dir, Path(scratch) / f"run_{preset}", args.precision
            )
            rows.append((preset, bare * args.batch_size, loop * args.batch_size, loop / bare))
    print(f"\n{describe()}\n{args.image_size}px, batch {args.batch_size}, {'bf16 autocast' if bf16 else 'fp32'}\n")
    print("| preset | bare samples/s | loop samples/s | loop efficiency |")
    print("|---|---|---|---|")
    for preset, bare, loop, efficiency in rows:
        print(f"| {preset} | {bare:.1f} | {loop:.1f} | {efficiency:.2f} |")
    print(json.dumps({r[0]: {"bare": r[1], "loop": r[2], "efficiency": r[3]} for r in rows}))


if __name__ == "__main__":
    main()
