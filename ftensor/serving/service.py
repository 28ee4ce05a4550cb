"""BentoML service: image upload in, F_Tensor out, over HTTP.

    FTENSOR_MODEL=exports/encoder.onnx bentoml serve ftensor.serving.service:FTensorService
    ftensor serve --model exports/encoder.onnx            # the same, with flags

Two services, as BentoML composes them: `FTensorService` decodes and checks each upload (bad input is
a 4xx, never a 500) and resizes it to the model's size; `Encoder` runs onnxruntime with adaptive
batching, so concurrent requests share one model call.

Response of POST /predict (JSON): {"spec_version", "shape": [4, H, W], "dtype": "uint8",
"channels", "encoding": "zlib+base64", "data": "<base64 of the zlib-compressed C-order bytes>"}.
`ftensor.client` decodes it to a numpy array.
"""

from __future__ import annotations

import base64
import json
import os
import zlib
from pathlib import Path
from typing import Literal

import bentoml
import numpy as np
from bentoml.exceptions import InvalidArgument

from ftensor.serving.runtime import (
    ImageError,
    Prediction,
    Runtime,
    decode_metadata,
    model_input,
    open_image,
    read_metadata,
    resize_prediction,
)
from ftensor.spec import CHANNELS, SPEC_VERSION

MODEL_PATH = os.environ.get("FTENSOR_MODEL", "exports/encoder.onnx")
WORKERS = int(os.environ.get("FTENSOR_WORKERS", "1"))
MAX_UPLOAD_BYTES = int(os.environ.get("FTENSOR_MAX_UPLOAD_BYTES", str(20 * 2**20)))


def encode_array(array: np.ndarray) -> dict:
    """A compact, self-describing JSON form of an array: shape, dtype and zlib+base64 bytes."""
    array = np.ascontiguousarray(array)
    return {
        "shape": list(array.shape),
        "dtype": str(array.dtype),
        "encoding": "zlib+base64",
        "data": base64.b64encode(zlib.compress(array.tobytes(), 1)).decode("ascii"),
    }


class BodyTooLarge:
    """ASGI middleware answering 413 for bodies over the limit, before anything is decoded."""

    def __init__(self, app, max_bytes: int = MAX_UPLOAD_BYTES) -> None:
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http":
            length = dict(scope.get("headers") or []).get(b"content-length")
            if length is not None and length.isdigit() and int(length) > self.max_bytes:
                body = json.dumps(
                    {"error": f"request body of {int(length):,} bytes is over the {self.max_bytes:,}-byte limit"}
                )
                await send(
                    {"type": "http.response.start", "status": 413, "headers": [(b"content-type", b"application/json")]}
                )
                await send({"type": "http.response.body", "body": body.encode()})
                return
        await self.app(scope, receive, send)


@bentoml.service(workers=1, traffic={"timeout": 120, "max_concurrency": 256})
class Encoder:
    """onnxruntime with adaptive batching: (N, S, S, 3) uint8 pixels → (N, 4, S, S) uint8 F_Tensors."""

    def __init__(self) -> None:
        self.runtime = Runtime(MODEL_PATH)

    @bentoml.api(batchable=True, max_batch_size=16, max_latency_ms=50)
    def encode(self, pixels: np.ndarray) -> np.ndarray:
        return self.runtime.run(pixels)[0]


@bentoml.service(workers=WORKERS, traffic={"timeout": 120, "max_concurrency": 256})
class FTensorService:
    encoder = bentoml.depends(Encoder)

    def __init__(self) -> None:
        self.model_info = decode_metadata(read_metadata(MODEL_PATH))
        self.image_size = int(self.model_info["image_size"])

    @bentoml.api(route="/predict")
    async def predict(self, image: Path, size: Literal["original", "model"] = "original") -> dict:
        """One image upload (multipart field `image`) → its F_Tensor, at the image's size or the model's."""
        try:
            picture = open_image(image.read_bytes())
        except ImageError as error:
            raise InvalidArgument(str(error)) from error
        pixels = model_input(picture, self.image_size)
        f_tensor = (await self.encoder.to_async.encode(pixels[None]))[0]
        target = picture.size if size == "original" else (self.image_size, self.image_size)
        result = resize_prediction(Prediction(f_tensor), target)
        return {"spec_version": SPEC_VERSION, "channels": list(CHANNELS), **encode_array(result.f_tensor)}

    @bentoml.api(route="/info")
    def info(self) -> dict:
        """The model's metadata (spec version, palette, classes, heads, preset, metrics, providers)."""
        return self.model_info


FTensorService.add_asgi_middleware(BodyTooLarge)
