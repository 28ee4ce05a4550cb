"""The machine a benchmark ran on, printed above its table: results on these CPUs differ 2–7× between
an AVX2-only and an AVX-512 core, so a figure without its CPU says little."""

from __future__ import annotations

import os
from pathlib import Path

# /proc/cpuinfo flags that decide which kernels PyTorch, oneDNN and onnxruntime run.
ISA_FLAGS = {
    "avx2": "AVX2",
    "avx512f": "AVX-512",
    "avx512_vnni": "AVX-512 VNNI",
    "avx_vnni": "AVX-VNNI",
    "avx512_bf16": "AVX-512 BF16",
    "amx_tile": "AMX",
}


def cpu_info() -> tuple[str, list[str], float]:
    """(model name, the flags above that this CPU has, highest clock in GHz) from /proc/cpuinfo."""
    text = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").is_file() else ""
    fields = [line.split(":", 1) for line in text.splitlines() if ":" in line]
    model = next((value.strip() for key, value in fields if key.strip() == "model name"), "unknown CPU")
    flags = next((value.split() for key, value in fields if key.strip() == "flags"), [])
    clocks = [float(value) for key, value in fields if key.strip() == "cpu MHz"]
    return model, [name for flag, name in ISA_FLAGS.items() if flag in flags], (max(clocks) / 1000 if clocks else 0.0)


def nominal_peak_gflops() -> tuple[float, str]:
    """fp32 peak of this CPU (cores × clock × FLOP/cycle, two FMA units of 8 lanes with AVX2 or 16 with
    AVX-512, 2 FLOP each), and how it was reckoned. Boost clocks can pass it."""
    _, isa, ghz = cpu_info()
    lanes = 16 if "AVX-512" in isa else 8 if "AVX2" in isa else 4
    ghz, cores = ghz or 2.45, os.cpu_count() or 1
    flop_per_cycle = 2 * 2 * lanes
    return cores * ghz * flop_per_cycle, f"{cores} cores × {ghz:.2f} GHz × {flop_per_cycle} FLOP/cycle"


def describe() -> str:
    """One line: CPU, cores, instruction sets, and the kernels torch picked (where torch is installed)."""
    model, isa, ghz = cpu_info()
    parts = [f"CPU: {model}, {os.cpu_count()} cores at {ghz:.2f} GHz, {' / '.join(isa) or 'no AVX2'}"]
    try:
        import torch

        parts.append(f"torch {torch.__version__} kernels {torch.backends.cpu.get_cpu_capability()}")
    except ImportError:
        pass
    limits = [f"{k}={os.environ[k]}" for k in ("ONEDNN_MAX_CPU_ISA", "ATEN_CPU_CAPABILITY") if k in os.environ]
    return "; ".join(parts + limits)
