"""Run an ONNX model on onnxruntime's AVX2 kernels from any x86 machine, to check an int8 file for the
CPUs it will meet rather than the one that made it.

valgrind emulates an x86 CPU with AVX2 and without AVX-512 or VNNI, so onnxruntime under it picks the
AVX2 code an older laptop or cloud VM runs. A probe checks that: the exact sum 2 × 255 × 127 per
pair of u8×s8 products overflows AVX2's 16-bit `vpmaddubsw` and comes back saturated, while a VNNI
kernel gets it exact. Slow (an image of the quick start's model takes seconds), so for a few images.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from ftensor.errors import FTensorError

RUN_UNDER_VALGRIND = """
import sys
import numpy as np, onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper
weights = numpy_helper.from_array(np.full((64, 16), 127, np.int8), "b")
graph = helper.make_graph([helper.make_node("MatMulInteger", ["a", "b"], ["c"])], "probe",
    [helper.make_tensor_value_info("a", TensorProto.UINT8, [16, 64])],
    [helper.make_tensor_value_info("c", TensorProto.INT32, None)], [weights])
probe = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
session = ort.InferenceSession(probe.SerializeToString(), providers=["CPUExecutionProvider"])
print(int(session.run(None, {"a": np.full((16, 64), 255, np.uint8)})[0][0, 0]))
session = ort.InferenceSession(sys.argv[1], providers=["CPUExecutionProvider"])
images = np.load(sys.argv[2])
outputs = [session.run(["f_tensor"], {"p_image": images[i : i + 8]})[0] for i in range(0, len(images), 8)]
np.save(sys.argv[3], np.concatenate(outputs))
"""
SATURATED_PROBE = 32767 * 32  # 32 pairs, each clipped at the int16 maximum


def valgrind_available() -> bool:
    return shutil.which("valgrind") is not None


def run_on_avx2_kernels(model: Path, images: np.ndarray, timeout: float = 3600) -> np.ndarray:
    """The encoded F_Tensors (uint8 N×4×H×W) of `images` (uint8 NHWC) as onnxruntime's AVX2 kernels
    compute them. Raises FTensorError when valgrind is missing or its CPU has VNNI after all."""
    if not valgrind_available():
        raise FTensorError("emulating an AVX2 CPU needs valgrind: apt-get install valgrind (or brew install valgrind).")
    with tempfile.TemporaryDirectory(prefix="ftensor-avx2-") as scratch:
        inputs, outputs = Path(scratch) / "images.npy", Path(scratch) / "f_tensors.npy"
        np.save(inputs, images)
        command = ["valgrind", "--tool=none", "-q", sys.executable, "-c", RUN_UNDER_VALGRIND, str(model)]
        done = subprocess.run([*command, str(inputs), str(outputs)], capture_output=True, text=True, timeout=timeout)
        if done.returncode != 0:
            raise FTensorError(f"onnxruntime under valgrind failed: {done.stderr.strip()[-1000:]}")
        if int(done.stdout.split()[0]) != SATURATED_PROBE:
            raise FTensorError("this valgrind's CPU computes u8×s8 sums exactly (VNNI): it does not stand for AVX2.")
        return np.load(outputs)
