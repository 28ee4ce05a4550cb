"""Static int8 quantisation (QDQ, per-channel weights) calibrated on real dataset images."""

from __future__ import annotations

import contextlib
import io
import tempfile
from pathlib import Path

import numpy as np
import onnx
from onnxruntime.quantization import (
    CalibrationDataReader,
    CalibrationMethod,
    QuantFormat,
    QuantType,
    quantize_static,
)
from onnxruntime.quantization.shape_inference import quant_pre_process

from ftensor.errors import FTensorError
from ftensor.files import atomic_write_bytes
from ftensor.spec import INPUT_NAME

# x86 CPUs without VNNI (AVX2 only) multiply u8 activations by s8 weights with vpmaddubsw, which adds
# each pair of products into a saturating int16: 2 × 255 × 127 overflows it, 2 × 255 × 64 = 32640 does
# not. With weights kept within ±64 (7 bits, onnxruntime's `reduce_range`), every x86 kernel (AVX2,
# AVX-512, VNNI) and ARM computes the same exact int32 sums, so the file behaves alike wherever it runs.
SATURATION_FREE_WEIGHT_LIMIT = 64
KERNEL_ASSUMPTION = (
    "u8 activations x s8 weights within +-64 (7-bit, reduce_range): no int16 saturation in AVX2's "
    "vpmaddubsw, so AVX2, AVX-512, VNNI and ARM kernels compute the same sums"
)


class CalibrationImages(CalibrationDataReader):
    """Feeds calibration images to the quantiser one at a time. quantize_static's strided mode asks for
    them in ranges and folds each range into its histograms, so only one image's activations are held
    at once: quantising the standard width at 256 px on 64 images peaks at 1.4 GB, against 3.3 GB
    when every image's activations were held together."""

    def __init__(self, images: np.ndarray) -> None:
        self.images = images
        self.set_range(0, len(images))

    def __len__(self) -> int:
        return len(self.images)

    def set_range(self, start_index: int, end_index: int) -> None:
        self.pending = iter(range(start_index, end_index))

    def get_next(self) -> dict[str, np.ndarray] | None:
        index = next(self.pending, None)
        return None if index is None else {INPUT_NAME: self.images[index : index + 1]}


def quantize_int8(fp32_path: Path, int8_path: Path, calibration_images: np.ndarray, weight_bits: int = 7) -> Path:
    """Write an int8 QDQ copy of `fp32_path`, its convolutions calibrated on uint8 NHWC images.

    Only convolutions are quantised: they are nearly all the compute, and leaving the input cast,
    the heads' sigmoid/softmax and the encoding in fp32 keeps the outputs' meaning exact. Activation
    ranges come from the 99.999th percentile, not the extremes: with min-max ranges the quick start's
    model lost 0.017 of colour accuracy and 0.025 of image IoU, with percentiles at most 0.001.
    Weights are 7-bit (see SATURATION_FREE_WEIGHT_LIMIT): with 8-bit weights the tests' tiny model lost
    0.025 of colour accuracy on AVX2 kernels and nothing on VNNI ones; with 7-bit weights both give the
    same predictions, within 0.002 of fp32. `weight_bits=8` exists to measure that (benchmarks/).
    """
    with tempfile.TemporaryDirectory() as scratch:
        prepared = Path(scratch) / "prepared.onnx"
        quant_pre_process(str(fp32_path), str(prepared), skip_symbolic_shape=True)
        quantized = Path(scratch) / "int8.onnx"
        with contextlib.redirect_stdout(io.StringIO()):  # the calibrator prints a line per image
            quantize_static(
                prepared,
                quantized,
                CalibrationImages(calibration_images),
                quant_format=QuantFormat.QDQ,
                op_types_to_quantize=["Conv", "ConvTranspose"],
                per_channel=True,
                activation_type=QuantType.QUInt8,
                weight_type=QuantType.QInt8,
                reduce_range=weight_bits == 7,
                calibrate_method=CalibrationMethod.Percentile,
                extra_options={"CalibStridedMinMax": 1},  # one image per range, whatever the method
            )
        model = onnx.load(quantized)
        if weight_bits == 7 and (limit := largest_int8_weight(model)) > SATURATION_FREE_WEIGHT_LIMIT:
            raise FTensorError(
                f"int8 weights reach {limit}, beyond ±{SATURATION_FREE_WEIGHT_LIMIT} where AVX2 CPUs saturate: "
                "this onnxruntime's quantiser ignored reduce_range; upgrade onnxruntime."
            )
        source = onnx.load(fp32_path, load_external_data=False)
        metadata = {p.key: p.value for p in source.metadata_props}
        metadata["quantization"] = (
            f"int8 static QDQ, per-channel {weight_bits}-bit weights, percentile-calibrated activations"
        )
        if weight_bits == 7:
            metadata["int8_kernels"] = KERNEL_ASSUMPTION
        del model.metadata_props[:]
        onnx.helper.set_model_props(model, metadata)
        atomic_write_bytes(int8_path, model.SerializeToString(), durable=True)
    return int8_path


def largest_int8_weight(model: onnx.ModelProto) -> int:
    """The largest |value| among the model's signed 8-bit convolution weights (0 when it has none)."""
    weights = [
        np.abs(onnx.numpy_helper.to_array(t).astype(np.int16)).max()
        for t in model.graph.initializer
        if t.data_type == onnx.TensorProto.INT8 and len(t.dims) == 4
    ]
    return int(max(weights, default=0))
