"""BentoML service: image upload in, F_Tensor out, over HTTP.

    FTENSOR_MODEL=runs/NAME/exports/encoder.onnx bentoml serve ftensor.serving.service:FTensorService
    ftensor serve --run runs/NAME            # the same, with flags

One BentoML service; each worker process decodes and checks uploads (bad input is a 4xx, never a
500), scales them to the model's reference size at their own proportions (ftensor.serving.runtime)
and runs onnxruntime through an adaptive batcher, so that requests of one size arriving while the
model is busy share its next call.

Response of POST /predict (JSON): {"spec_version", "shape": [4, H, W], "dtype": "uint8",
"channels", "encoding", "data"}: the array in ftensor.spec's wire format (`encode_array`), which
`ftensor.client` decodes to a numpy array.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Literal

import bentoml
import numpy as np
from bentoml.exceptions import InvalidArgument
from pydantic import BaseModel
from python_multipart.multipart import parse_options_header
from starlette.datastructures import UploadFile
from starlette.requests import Request

from ftensor.runs import DEFAULT_RUN, RunFolder
from ftensor.serving.runtime import (
    ImageError,
    Prediction,
    Runtime,
    crop_prediction,
    model_input,
    open_image,
    resize_prediction,
)
from ftensor.spec import CHANNELS, SPEC_VERSION, encode_array

log = logging.getLogger("bentoml.ftensor")  # under "bentoml", so the server's log shows it
MODEL_PATH = os.environ.get("FTENSOR_MODEL", str(RunFolder(Path(DEFAULT_RUN)).onnx))
WORKERS = int(os.environ.get("FTENSOR_WORKERS", "1"))
MAX_UPLOAD_BYTES = int(os.environ.get("FTENSOR_MAX_UPLOAD_BYTES", str(20 * 2**20)))
UPLOAD_SECONDS = float(os.environ.get("FTENSOR_UPLOAD_SECONDS", "30"))
# The cores of each worker process: the machine's, shared among the workers. Decoding runs beside the event
# loop, at most one decode per core at once over all workers (a decode can take seconds and a GB); the model
# has a thread of its own, so that no number of slow decodes keeps it from the cores.
WORKER_CORES = max(1, (os.cpu_count() or 1) // WORKERS)
# Answers up to this size are resized and encoded on the event loop (well under a millisecond: a thread
# hop would cost more); larger ones in the decode pool, so that a 50-megapixel answer stalls no one.
INLINE_ANSWER_PIXELS = 512 * 512
# Pixels per batched model call: eight 128×128 images, two at 256×256, one from 362×362 up. Larger
# batches gain nothing on a CPU and lose once activations outgrow the caches: the standard U-Net at
# 256 px took 351 ms an image at batch 16 against 202 at batch 1 or 2.
MAX_BATCH_PIXELS = 8 * 128 * 128
# Cores a worker may split batches over, a one-thread session each (ModelLanes): measured on 2 cores, where
# the event loop takes a large share; above 4 every call keeps the worker's one session, as before.
MAX_LANES = 4


class UploadGuard:
    """ASGI middleware that answers bad requests before BentoML sees them: 413 for a body over the limit,
    408 for a body that takes longer than FTENSOR_UPLOAD_SECONDS to arrive (a slow trickle would hold a
    connection slot forever), and 400 with the fix for a /predict request that is not a multipart upload
    with a file in the field `image` (BentoML answers some of those with 500). The client's file name is
    replaced by a fixed one: BentoML names its temporary file after it, and a long or odd name was a 500."""

    def __init__(self, app, max_bytes: int = MAX_UPLOAD_BYTES, seconds: float = UPLOAD_SECONDS) -> None:
        self.app, self.max_bytes, self.seconds = app, max_bytes, seconds

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        try:
            body = await asyncio.wait_for(self.read_body(scope, receive), self.seconds)
        except asyncio.TimeoutError:  # not yet the builtin TimeoutError on Python 3.10
            return await answer(send, 408, f"the request body took over {self.seconds:g} s to arrive: send it at once.")
        if body is None:
            return await answer(send, 413, self.too_large())
        if scope["path"] == "/predict" and scope["method"] == "POST":
            request = Request(scope, replay(body, receive))
            problem = await upload_problem(request)
            if problem:
                return await answer(send, 400, problem)
            body = renamed_uploads(body, request.headers.get("content-type", ""))
            headers = [(k, v) for k, v in scope["headers"] if k != b"content-length"]
            scope = {**scope, "headers": [*headers, (b"content-length", str(len(body)).encode())]}
        await self.app(scope, replay(body, receive), send)

    async def read_body(self, scope, receive) -> bytes | None:
        """The whole body, or None when it is over the limit. An oversized body is still read (up to 4×
        the limit) before the 413 goes out: a server that answers and closes with unread data makes the
        client's socket reset, and clients such as Python's urllib then never see the 413."""
        length = dict(scope.get("headers") or []).get(b"content-length")
        declared = int(length) if length is not None and length.isdigit() else 0
        if declared > 4 * self.max_bytes:
            return None  # too much to read just to refuse it: answered at once
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            size += len(message.get("body", b""))
            if size <= self.max_bytes:
                chunks.append(message.get("body", b""))
            if not message.get("more_body") or size > 4 * self.max_bytes:
                break
        return b"".join(chunks) if max(size, declared) <= self.max_bytes else None

    def too_large(self) -> str:
        return (
            f"the request body is over the {self.max_bytes:,}-byte limit: send a smaller image "
            "(the server's limit is set by FTENSOR_MAX_UPLOAD_BYTES)."
        )


def renamed_uploads(body: bytes, content_type: str) -> bytes:
    """A multipart `body` with every part's file name replaced by "upload". The boundary and each
    Content-Disposition line are read with python-multipart's own parser, the one starlette and BentoML use,
    so that no way of writing them (spaces around `=`, a decoy parameter, a bare LF in a line) leaves a name
    through that they would read. Only the parts' header blocks are read: a regex over a whole 150-KB PNG
    upload took 0.7 ms, a tenth of the quick-start model's inference."""
    boundary = parse_options_header(content_type)[1].get(b"boundary")
    if not boundary:
        return body
    delimiter, pieces, position = b"--" + boundary, [], 0
    while (start := body.find(delimiter, position)) != -1 and (end := body.find(b"\r\n\r\n", start)) != -1:
        pieces += [body[position:start], b"\r\n".join(map(renamed_file, body[start:end].split(b"\r\n")))]
        position = end
    return b"".join([*pieces, body[position:]])


def renamed_file(header: bytes) -> bytes:
    """A part's header line, rewritten with filename "upload" when it is a Content-Disposition naming a file
    (a header's value runs to the CR, as python-multipart reads it)."""
    field, _, value = header.partition(b":")
    if field.lower() != b"content-disposition":
        return header
    disposition, options = parse_options_header(value.lstrip(b" "))
    if b"filename" not in options:
        return header
    name = options.get(b"name", b"").replace(b"\\", b"\\\\").replace(b'"', b'\\"')
    return b'Content-Disposition: %s; name="%s"; filename="upload"' % (disposition, name)


def replay(body: bytes, receive):
    """An ASGI `receive` that gives `body` in one message, then whatever the client sends next."""
    sent = False

    async def next_message() -> dict:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return next_message


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
    names = [name for name, _ in form.multi_items()]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:  # BentoML would silently answer for one of them
        return f"the field(s) {', '.join(repeated)} came more than once: send one image per request; {usage}."
    if not isinstance(form.get("image"), UploadFile):
        return f"the field `image` is missing or is not a file: {usage}."
    return None


async def answer(send, status: int, error: str) -> None:
    """A JSON error response from the middleware, in the shape BentoML uses for its own 4xx errors."""
    await send({"type": "http.response.start", "status": status, "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": json.dumps([{"error": error}]).encode()})


Waiting = tuple[np.ndarray, asyncio.Future]  # a request's model input and where its answer goes


class AdaptiveBatcher:
    """Adaptive batching inside one worker: a request that finds the model idle runs at once; requests
    that arrive while it is busy wait and go together into its next calls, one call per input size, up
    to `max_batch_pixels` a call. (BentoML's own batching needs a second service and an HTTP hop per
    request, which cost more than a small model's inference on a CPU and dropped connections under
    load: bentoml#3669.)"""

    def __init__(self, run: Callable[[np.ndarray], np.ndarray], max_batch_pixels: int = MAX_BATCH_PIXELS) -> None:
        self.run, self.max_batch_pixels = run, max_batch_pixels
        self.executor = ThreadPoolExecutor(1, thread_name_prefix="ftensor-model")  # the model's own thread
        self.queue: asyncio.Queue | None = None  # made on first use, in the server's event loop
        self.worker: asyncio.Task | None = None

    async def __call__(self, pixels: np.ndarray) -> np.ndarray:
        """The model's output for one uint8 (H, W, 3) input."""
        loop = asyncio.get_running_loop()
        if self.queue is None:
            self.queue = asyncio.Queue()
            self.worker = loop.create_task(self.serve_batches())
        answer = loop.create_future()
        await self.queue.put((pixels, answer))
        return await answer

    def batches(self, waiting: list[Waiting]) -> list[list[Waiting]]:
        """The waiting requests in model calls: one input size a call, within the pixel budget."""
        by_shape: dict[tuple[int, ...], list] = {}
        for item in waiting:
            if not item[1].cancelled():
                by_shape.setdefault(item[0].shape, []).append(item)
        calls = []
        for shape, items in by_shape.items():
            per_call = max(1, self.max_batch_pixels // (shape[0] * shape[1]))
            calls += [items[k : k + per_call] for k in range(0, len(items), per_call)]
        return calls

    async def serve_batches(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            waiting = [await self.queue.get()]
            while not self.queue.empty():
                waiting.append(self.queue.get_nowait())
            for batch in self.batches(waiting):
                try:
                    outputs = await loop.run_in_executor(self.executor, self.run, np.stack([p for p, _ in batch]))
                except Exception as error:  # every waiting request gets the error, and the loop goes on
                    outputs = [error] * len(batch)
                for (_, answer), output in zip(batch, outputs):
                    if answer.done():
                        continue
                    if isinstance(output, Exception):
                        answer.set_exception(output)
                    else:
                        answer.set_result(output)


class ModelLanes:
    """How a worker's cores run the model. One image runs on the worker's session, all cores at work on it;
    a batch of at least `lanes` images is split over `lanes` sessions of one thread each, run at once.
    Under load the event loop takes part of a core: one session's threads then wait for each other at
    every layer, while separate lanes simply share what is left (the quick-start model on 2 cores at
    concurrency 16: about 97 against 87 images/s). One-thread lanes alone would double a lone request's
    latency."""

    def __init__(self, runtime: Runtime, cores: int) -> None:
        self.runtime = runtime
        on_cpu = runtime.providers[0] == "CPUExecutionProvider"  # a GPU's batch stays whole
        lanes = cores if on_cpu and 2 <= cores <= MAX_LANES else 0
        # One thread each: as many sessions as the machine has cores share it.
        cpu = ["CPUExecutionProvider"]
        self.lanes = [Runtime(runtime.path, cpu, workers=os.cpu_count() or 1, spin=False) for _ in range(lanes)]
        self.helpers = ThreadPoolExecutor(max(1, len(self.lanes) - 1), thread_name_prefix="ftensor-lane")

    def run(self, pixels: np.ndarray) -> np.ndarray:
        """The f_tensor output for a uint8 (N, H, W, 3) batch."""
        if not self.lanes or len(pixels) < len(self.lanes):
            return self.runtime.run(pixels)[0]
        chunks = np.array_split(pixels, len(self.lanes))
        rest = [self.helpers.submit(lane.run, chunk) for lane, chunk in zip(self.lanes[1:], chunks[1:])]
        first = self.lanes[0].run(chunks[0])
        return np.concatenate([first[0], *(future.result()[0] for future in rest)])


def decode_upload(path: Path, image_size: int) -> tuple[np.ndarray, tuple[int, int], tuple[int, int]]:
    """An upload's model input, the (width, height) of the scaled image inside it, and the upload's own
    (width, height); an ImageError says what is wrong with it."""
    picture = open_image(path.read_bytes())
    pixels, fitted = model_input([picture], image_size)
    return pixels[0], fitted, picture.size


class FTensorAnswer(BaseModel):
    """The answer of POST /predict: an F_Tensor in ftensor.spec's wire format (`encode_array`). A typed
    answer is also the cheaper one: for a plain `dict` BentoML rebuilds the answer's JSON schema on every
    request (a twentieth of the event loop's time under load)."""

    spec_version: int
    channels: list[str]
    shape: list[int]
    dtype: str
    encoding: str
    data: str


def answer_payload(f_tensor: np.ndarray, fitted: tuple[int, int], size: tuple[int, int]) -> FTensorAnswer:
    """The answer for a model output whose scaled image is `fitted`, resized to `size` (for a large image,
    tens of ms)."""
    result = resize_prediction(crop_prediction(Prediction(f_tensor), fitted), size)
    return FTensorAnswer(spec_version=SPEC_VERSION, channels=list(CHANNELS), **encode_array(result.f_tensor))


@bentoml.service(workers=WORKERS, traffic={"timeout": 120, "max_concurrency": 256})
class FTensorService:
    def __init__(self) -> None:
        self.runtime = Runtime(MODEL_PATH, workers=WORKERS, spin=False)  # the cores also serve HTTP
        self.image_size = self.runtime.image_size
        self.batcher = AdaptiveBatcher(ModelLanes(self.runtime, WORKER_CORES).run)
        self.decoder = ThreadPoolExecutor(WORKER_CORES, thread_name_prefix="ftensor-decode")
        info = self.runtime.metadata
        log.info("model %s (%s, %spx) on %s", MODEL_PATH, info.get("preset"), self.image_size, self.runtime.providers)

    @bentoml.api(route="/predict")
    async def predict(self, image: Path, size: Literal["original", "model"] = "original") -> FTensorAnswer:
        """One image upload (multipart field `image`) → its F_Tensor, at the image's own size, or at the
        model's scale (shorter side S, proportions kept)."""
        loop = asyncio.get_running_loop()
        try:  # decoding and the answer's resizing run beside the event loop: a large photo stalls no one
            pixels, fitted, original = await loop.run_in_executor(self.decoder, decode_upload, image, self.image_size)
        except ImageError as error:
            raise InvalidArgument(str(error)) from error
        f_tensor = await self.batcher(pixels)
        target = original if size == "original" else fitted
        if target[0] * target[1] <= INLINE_ANSWER_PIXELS:
            return answer_payload(f_tensor, fitted, target)
        return await loop.run_in_executor(self.decoder, answer_payload, f_tensor, fitted, target)

    @bentoml.api(route="/info")
    def info(self) -> dict:
        """The model's metadata (spec version, palette, classes, heads, preset, metrics) and providers."""
        return self.runtime.info()


FTensorService.add_asgi_middleware(UploadGuard)
