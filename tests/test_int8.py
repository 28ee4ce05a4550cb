"""int8 export: written only when it passes the task check, smaller, and accurate on AVX2 kernels as well
as on the CPU that runs the tests (AVX2 without VNNI is reached through valgrind, which emulates an
x86 CPU with AVX2 and no AVX-512, whatever the host has)."""

from __future__ import annotations

import shutil
import subprocess
import sys

import numpy as np
import onnx
import onnxruntime as ort
import pytest

from ftensor.cli import main
from ftensor.export.parity import judge_int8, split_images
from ftensor.export.quantize import SATURATION_FREE_WEIGHT_LIMIT, largest_int8_weight
from ftensor.spec import SPEC_VERSION


@pytest.fixture(scope="session")
def int8_export(checkpoint, dataset, tmp_path_factory):
    output = tmp_path_factory.mktemp("int8") / "encoder.onnx"
    command = ["export", "--checkpoint", str(checkpoint), "--output", str(output), "--data_dir", str(dataset)]
    assert main([*command, "--int8"]) == 0
    return output, output.with_suffix(".int8.onnx")


def test_int8_variant_is_smaller_saturation_free_and_says_what_it_assumes(int8_export):
    fp32, int8 = int8_export
    assert sorted(p.name for p in fp32.parent.iterdir()) == ["encoder.int8.onnx", "encoder.onnx"]
    assert int8.stat().st_size * 3 < fp32.stat().st_size
    meta = ort.InferenceSession(str(int8), providers=["CPUExecutionProvider"]).get_modelmeta().custom_metadata_map
    assert meta["spec_version"] == str(SPEC_VERSION) and "int8" in meta["quantization"]
    assert "AVX2" in meta["int8_kernels"]
    model = onnx.load(int8)
    assert {"QuantizeLinear", "DequantizeLinear"} <= {node.op_type for node in model.graph.node}
    assert 0 < largest_int8_weight(model) <= SATURATION_FREE_WEIGHT_LIMIT


# Runs in a valgrind-emulated CPU: first a probe whose exact answer 2 × 255 × 127 per pair of products
# overflows int16 (so AVX2's u8×s8 kernel saturates it and a VNNI kernel does not), then the int8 model.
AVX2_RUN = """
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
np.save(sys.argv[3], session.run(["f_tensor"], {"p_image": np.load(sys.argv[2])})[0])
"""


@pytest.mark.skipif(shutil.which("valgrind") is None, reason="valgrind emulates the AVX2 CPU: apt-get install valgrind")
def test_int8_is_as_accurate_on_avx2_kernels_as_required_everywhere(int8_export, dataset, tmp_path):
    fp32, int8 = int8_export
    images, truth = split_images(dataset, 16)
    np.save(tmp_path / "images.npy", images)
    command = ["valgrind", "--tool=none", "-q", sys.executable, "-c", AVX2_RUN, str(int8), str(tmp_path / "images.npy")]
    done = subprocess.run([*command, str(tmp_path / "avx2.npy")], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    probe = int(done.stdout.split()[0])
    if probe == 255 * 127 * 64:
        pytest.skip("this valgrind emulates VNNI: no AVX2-only kernels to test")
    assert probe == 32767 * 32, "the emulated CPU should run AVX2's saturating u8×s8 kernel"
    session = ort.InferenceSession(str(fp32), providers=["CPUExecutionProvider"])
    result = judge_int8(session.run(["f_tensor"], {"p_image": images})[0], np.load(tmp_path / "avx2.npy"), truth)
    assert result["passed"], result
