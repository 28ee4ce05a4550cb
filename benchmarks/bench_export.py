"""Per-image inference latency: PyTorch eager vs onnxruntime fp32 vs onnxruntime int8, in one run.

    .venv/bin/python benchmarks/bench_export.py --image_size 256 --presets small unet

For each preset (untrained weights: speed does not depend on their values) the model is exported
with `ftensor export`'s own functions, quantised to int8 on generated images, and timed at batch 1
and 8 (median of --repeats runs after a warm-up). GFLOP/s counts convolution multiply-adds × 2 and
is compared with this CPU's nominal fp32 peak: cores × clock × FLOP/cycle, where two FMA units
do 32 FLOP/cycle with AVX2 and 64 with AVX-512 (2 cores × 2.45 GHz × 32 ≈ 157 GFLOP/s on a 2-core
AVX2 EPYC). Boost clocks can pass it; --peak_gflops overrides the estimate. Prints the CPU and a
markdown table for the README. Note that int8 speed depends on the CPU's integer kernels (VNNI or not).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from machine import describe, nominal_peak_gflops

from ftensor.data import generate_dataset
from ftensor.data.reader import split_images
from ftensor.export.onnx import ClientGraph, export_graph, model_metadata
from ftensor.export.parity import cpu_session, run_onnx
from ftensor.export.quantize import quantize_int8
from ftensor.model import build_model, count_parameters


def conv_flops(model: torch.nn.Module, image_size: int) -> float:
    """FLOPs of one image's forward pass through every convolution (2 × multiply-adds)."""
    return module_conv_flops(model.eval(), torch.zeros(1, 3, image_size, image_size))


def module_conv_flops(module: torch.nn.Module, *inputs: torch.Tensor) -> float:
    """FLOPs of one forward pass of `module` on `inputs` through every convolution in it."""
    total = 0.0

    def hook(conv: torch.nn.Module, args: tuple, output: torch.Tensor) -> None:
        nonlocal total
        kernel = conv.weight[0, 0].numel()
        if isinstance(conv, torch.nn.ConvTranspose2d):
            positions = args[0].shape[-2] * args[0].shape[-1]
        else:
            positions = output.shape[-2] * output.shape[-1]
        total += 2.0 * conv.in_channels * conv.out_channels * kernel * positions * output.shape[0] / conv.groups

    handles = [
        m.register_forward_hook(hook)
        for m in module.modules()
        if isinstance(m, torch.nn.Conv2d | torch.nn.ConvTranspose2d)
    ]
    with torch.no_grad():
        module(*inputs)
    for handle in handles:
        handle.remove()
    return total


def median_seconds_per_image(run, images: np.ndarray, repeats: int) -> float:
    """Median seconds per image over `repeats` runs after a warm-up run. Runtimes are timed one after
    the other, not interleaved: onnxruntime's threads spin for a while after each run and would take
    the cores from PyTorch's next one."""
    run(images)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run(images)
        times.append((time.perf_counter() - start) / len(images))
    return float(np.median(times))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--image_size", type=int, default=256)
    parser.add_argument("--presets", nargs="+", default=["small", "unet"])
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--peak_gflops", type=float, default=None, help="fp32 peak to compare with")
    args = parser.parse_args()
    peak, reckoning = (args.peak_gflops, "given with --peak_gflops") if args.peak_gflops else nominal_peak_gflops()
    size = args.image_size
    rows = []
    with tempfile.TemporaryDirectory(prefix="ftensor-bench-") as scratch:
        scratch = Path(scratch)
        generate_dataset(scratch / "data", 40, seed=0, progress=False, sizes=((size, size),))
        calibration = split_images(scratch / "data", 16, split="train")[0]
        rng = np.random.default_rng(0)
        for preset in args.presets:
            torch.manual_seed(0)
            model = build_model(preset).eval()
            fp32 = export_graph(
                model, scratch / f"{preset}.onnx", size, model_metadata(size, preset, count_parameters(model), None)
            )
            int8 = quantize_int8(fp32, scratch / f"{preset}.int8.onnx", calibration)
            graph = ClientGraph(model).eval()
            sessions = {"onnxruntime fp32": cpu_session(fp32), "onnxruntime int8": cpu_session(int8)}

            def eager(images: np.ndarray, graph: torch.nn.Module = graph) -> None:
                with torch.no_grad():
                    graph(torch.from_numpy(images))

            runners = {"pytorch eager": eager}
            runners.update(
                {name: (lambda images, s=session: run_onnx(s, images)) for name, session in sessions.items()}
            )
            gflop = conv_flops(model, size) / 1e9
            for batch in (1, 8):
                images = rng.integers(0, 256, size=(batch, size, size, 3), dtype=np.uint8)
                latency = {name: median_seconds_per_image(run, images, args.repeats) for name, run in runners.items()}
                for name, seconds in latency.items():
                    rows.append((preset, batch, name, seconds, latency["pytorch eager"] / seconds, gflop / seconds))
    print(f"\n{describe()}")
    print(f"{size}×{size} images, median of {args.repeats} runs; fp32 peak ≈ {peak:.0f} GFLOP/s ({reckoning})\n")
    print("| preset | batch | runtime | ms / image | speed-up vs eager | GFLOP/s | % of fp32 peak |")
    print("|---|---|---|---|---|---|---|")
    for preset, batch, name, seconds, speedup, gflops in rows:
        print(
            f"| {preset} | {batch} | {name} | {1000 * seconds:.1f} | {speedup:.2f}× | {gflops:.1f} | "
            f"{100 * gflops / peak:.0f}% |"
        )


if __name__ == "__main__":
    main()
