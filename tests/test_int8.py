"""int8 export: written only when it passes the task check, smaller, and accurate on AVX2 kernels as well
as on the CPU that runs the tests (AVX2 without VNNI is reached through valgrind, which emulates an
x86 CPU with AVX2 and no AVX-512, whatever the host has)."""

from __future__ import annotations

import onnx
import onnxruntime as ort
import pytest

from ftensor.cli import main
from ftensor.data.reader import split_images
from ftensor.errors import FTensorError
from ftensor.export.kernels import run_on_avx2_kernels, valgrind_available
from ftensor.export.parity import judge_int8
from ftensor.export.quantize import SATURATION_FREE_WEIGHT_LIMIT, largest_int8_weight
from ftensor.spec import SPEC_VERSION


def test_a_new_export_never_leaves_an_int8_file_of_the_previous_model(int8_export, checkpoint, tmp_path, capsys):
    fp32, int8 = int8_export
    output = tmp_path / "encoder.onnx"
    output.with_suffix(".int8.onnx").write_bytes(int8.read_bytes())
    assert main(["export", "--checkpoint", str(checkpoint), "--output", str(output)]) == 0
    assert "quantised from the previous model" in capsys.readouterr().out
    assert sorted(p.name for p in tmp_path.iterdir()) == ["encoder.onnx"]


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


@pytest.mark.skipif(not valgrind_available(), reason="valgrind emulates the AVX2 CPU: apt-get install valgrind")
def test_int8_is_as_accurate_on_avx2_kernels_as_required_everywhere(int8_export, dataset):
    fp32, int8 = int8_export
    images, truth = split_images(dataset, 16)
    try:
        avx2 = run_on_avx2_kernels(int8, images)
    except FTensorError as error:
        if "VNNI" in str(error):
            pytest.skip(str(error))
        raise
    session = ort.InferenceSession(str(fp32), providers=["CPUExecutionProvider"])
    result = judge_int8(session.run(["f_tensor"], {"p_image": images})[0], avx2, truth)
    assert result["passed"], result
