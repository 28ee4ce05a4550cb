"""Where a training step's time goes: each block of a U-Net preset, forward + backward, beside its FLOPs.

    .venv/bin/python benchmarks/bench_blocks.py [--preset small] [--image_size 128] [--batch_size 8]

Every top-level block of the model (inc, down1…down4, up1…up4, row context, heads) is timed on its own
inputs, as captured from one forward pass of the whole model, in fp32 channels-last, the memory format
`ftensor train` uses. Its convolution FLOPs (forward × 3 for a training step) over its time give the
GFLOP/s it runs at, against the CPU's fp32 peak: the blocks at full resolution, with their few channels,
are where oneDNN is least efficient. Prints a markdown table for the README.
"""

from __future__ import annotations

import argparse
import time

import torch
from bench_export import module_conv_flops
from machine import describe, nominal_peak_gflops

from ftensor.model import PRESETS, build_model


def capture_inputs(model: torch.nn.Module, images: torch.Tensor) -> dict[str, tuple[tuple[torch.Tensor, ...], int]]:
    """Each top-level block's positional inputs in one forward pass, and the width of its output."""
    inputs: dict[str, tuple[tuple[torch.Tensor, ...], int]] = {}

    def keep(name: str, args: tuple[torch.Tensor, ...], output: torch.Tensor) -> None:
        inputs[name] = (args, output.shape[-1])

    hooks = [
        block.register_forward_hook(lambda module, args, output, name=name: keep(name, args, output))
        for name, block in model.named_children()
    ]
    with torch.no_grad():
        model(images)
    for hook in hooks:
        hook.remove()
    return inputs


def step_seconds(block: torch.nn.Module, args: tuple[torch.Tensor, ...], repeats: int) -> float:
    """Median seconds of forward + backward through `block` (gradients into its inputs too)."""
    args = tuple(a.detach().clone().requires_grad_(True) for a in args)

    def step() -> None:
        block(*args).float().sum().backward()

    step()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    return sorted(times)[len(times) // 2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--preset", default="small", choices=list(PRESETS))
    parser.add_argument("--image_size", type=int, default=128)
    parser.add_argument("--batch_size", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    torch.manual_seed(0)
    model = build_model(args.preset).train().to(memory_format=torch.channels_last)
    images = torch.rand(args.batch_size, 3, args.image_size, args.image_size)
    images = images.contiguous(memory_format=torch.channels_last)
    inputs = capture_inputs(model, images)
    peak, reckoning = nominal_peak_gflops()
    rows = []
    for name, block in model.named_children():
        if name not in inputs:
            continue
        block_args, side = inputs[name]
        seconds = step_seconds(block, block_args, args.repeats)
        rows.append((name, side, 3 * module_conv_flops(block, *block_args), seconds))
    total_seconds = sum(r[3] for r in rows)
    total_flops = sum(r[2] for r in rows)
    print(f"\n{describe()}\nfp32 peak ≈ {peak:.0f} GFLOP/s ({reckoning})")
    print(f"{args.preset}, {args.image_size}px, batch {args.batch_size}, fp32 channels-last, forward + backward\n")
    print("| block | output side | ms | of the time | of the FLOPs | GFLOP/s | of peak |")
    print("|---|---|---|---|---|---|---|")
    for name, side, flops, seconds in rows:
        rate = flops / seconds / 1e9
        print(
            f"| {name} | {side} | {1000 * seconds:.1f} | {seconds / total_seconds:.0%} | {flops / total_flops:.0%} | "
            f"{rate:.0f} | {rate / peak:.0%} |"
        )
    print(
        f"| all | | {1000 * total_seconds:.1f} | | | {total_flops / total_seconds / 1e9:.0f} | "
        f"{total_flops / total_seconds / 1e9 / peak:.0%} |"
    )
    print(f"\nthe blocks' sum: {args.batch_size / total_seconds:.1f} samples/s")


if __name__ == "__main__":
    main()
