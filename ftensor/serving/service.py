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
from starlette.datastructures import UploadFile
from starlette.requests import Request

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


class UploadGuard:
    """ASGI middleware that answers bad requests before BentoML sees them: 413 for a body over the limit
    (at once from Content-Length, or while reading a chunked one), and 400 with the fix for a /predict
    request that is not a multipart upload with a file in the field `image` (BentoML answers some of
    those with 500)."""

    def __init__(self, app, max_bytes: int = MAX_UPLOAD_BYTES) -> None:
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        length = dict(scope.get("headers") or []).get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.max_bytes:
            return await answer(send, 413, self.too_large())
        messages, size = [], 0
        while True:
            message = await receive()
            messages.append(message)
            size += len(message.get("body", b""))
            if size > self.max_bytes:
                return await answer(send, 413, self.too_large())
            if message["type"] != "http.request" or not message.get("more_body"):
                break

        def replay():
            buffered = iter(messages)

            async def next_message() -> dict:
                return next(buffered, None) or await receive()

            return next_message

        if scope["path"] == "/predict" and scope["method"] == "POST":
            problem = await upload_problem(Request(scope, replay()))
            if problem:
                return await answer(send, 400, problem)
        await self.app(scope, replay(), send)

    def too_large(self) -> str:
        return (
            f"the request body is over the {self.max_bytes:,}-byte limit: send a smaller image "
            "(the server's limit is set by FTENSOR_MAX_UPLOAD_BYTES)."
        )


async def upload_problem(request: Request) -> str | None:
    """What is wrong with a /predict request's form, or None."""
    usage = "send the image as multipart/form-data in the field `image`, e.g. curl -F image=@design.png"
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        return f"the request is not a multipart upload: {usage}."
    try:
        form = await request.form()
    except Exception as error:  # starlette raises several types for malformed bodies
        return f"the multipart body is malformed ({error}): {usage}."
    await form.close()  # only the field names matter here; BentoML parses the body again
    unknown = sorted(set(form) - {"image", "size"})
    if unknown:
        return f"unknown field(s) {', '.join(unknown)}: {usage} (and optionally `size`)."
    if not isinstance(form.get("image"), UploadFile):
        return f"the field `image` is missing or is not a file: {usage}."
    return None


async def answer(send, status: int, error: str) -> None:
    """A JSON error response from the middleware, in the shape BentoML uses for its own 4xx errors."""
    await send({"type": "http.response.start", "status": status, "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": json.dumps([{"error": error}]).encode()})


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


FTensorService.add_asgi_middleware(UploadGuard)
