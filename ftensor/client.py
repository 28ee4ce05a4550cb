"""A small client for `ftensor serve`, for Module 6: image in, F_Tensor (numpy uint8 (4, H, W)) out.

Needs only numpy and the standard library:

    from ftensor.client import FTensorClient
    client = FTensorClient("http://127.0.0.1:3000")
    f_tensor = client.predict("poster.png")          # or raw bytes; size="model" for S×S
    client.info()["class_names"]
"""

from __future__ import annotations

import base64
import json
import uuid
import zlib
from pathlib import Path
from urllib.error import HTTPError
from urllib.request import Request, urlopen

import numpy as np


class FTensorServerError(RuntimeError):
    """The server refused the request; `status` is the HTTP code and the message its explanation."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"HTTP {status}: {message}")
        self.status = status


def decode_array(payload: dict) -> np.ndarray:
    """The array inside a response of POST /predict (see ftensor.serving.service)."""
    if payload.get("encoding") != "zlib+base64":
        raise ValueError(f"unknown encoding {payload.get('encoding')!r}")
    raw = zlib.decompress(base64.b64decode(payload["data"]))
    return np.frombuffer(raw, dtype=np.dtype(payload["dtype"])).reshape(payload["shape"])


class FTensorClient:
    def __init__(self, url: str = "http://127.0.0.1:3000", timeout: float = 60.0) -> None:
        self.url, self.timeout = url.rstrip("/"), timeout

    def _post(self, route: str, body: bytes, content_type: str) -> dict:
        request = Request(f"{self.url}{route}", data=body, headers={"Content-Type": content_type}, method="POST")
        try:
            with urlopen(request, timeout=self.timeout) as response:
                return json.loads(response.read())
        except HTTPError as error:
            detail = error.read().decode(errors="replace")
            try:  # BentoML 1.4 answers 4xx with [{"error": ...}]
                parsed = json.loads(detail)
                detail = parsed[0]["error"] if isinstance(parsed, list) else parsed.get("error", detail)
            except (ValueError, KeyError, IndexError, TypeError):
                pass
            raise FTensorServerError(error.code, detail) from None

    def predict(self, image: str | Path | bytes, size: str = "original") -> np.ndarray:
        """The F_Tensor of one image file or its bytes: uint8 (4, H, W) in the spec's encoding."""
        data = image if isinstance(image, bytes) else Path(image).read_bytes()
        name = "image" if isinstance(image, bytes) else Path(image).name
        boundary = uuid.uuid4().hex
        head = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="image"; filename="{name}"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n"
        )
        tail = f'\r\n--{boundary}\r\nContent-Disposition: form-data; name="size"\r\n\r\n{size}\r\n--{boundary}--\r\n'
        body = head.encode() + data + tail.encode()
        payload = self._post("/predict", body, f"multipart/form-data; boundary={boundary}")
        return decode_array(payload)

    def info(self) -> dict:
        """The served model's metadata: spec_version, image_size, class_names, palette, heads, …"""
        return self._post("/info", b"{}", "application/json")
