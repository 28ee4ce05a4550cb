"""A small client for `ftensor serve`, for Module 6: image in, F_Tensor (numpy uint8 (4, H, W)) out.

Needs only numpy, the standard library and ftensor's torch-free contract module:

    from ftensor.client import FTensorClient
    client = FTensorClient("http://127.0.0.1:3000")
    f_tensor = client.predict("poster.png")          # or raw bytes; size="model": shorter side S, proportions kept
    client.info()["class_names"]
"""

from __future__ import annotations

import json
import threading
import uuid
from http.client import HTTPConnection, HTTPException, HTTPSConnection
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np

from ftensor.spec import decode_array


class FTensorServerError(RuntimeError):
    """The server refused the request; `status` is the HTTP code and the message its explanation."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"HTTP {status}: {message}")
        self.status = status


def error_message(body: bytes) -> str:
    """The explanation inside an error response: BentoML 1.4 answers [{"error": ...}] or {"error": ...}."""
    text = body.decode(errors="replace")
    try:
        parsed = json.loads(text)
        return parsed[0]["error"] if isinstance(parsed, list) else parsed["error"]
    except (ValueError, KeyError, IndexError, TypeError):
        return text


def multipart_body(files: dict[str, tuple[str, bytes]], fields: dict[str, str]) -> tuple[bytes, str]:
    """A multipart/form-data body and its Content-Type: `files` maps a field to (file name, bytes)."""
    boundary = uuid.uuid4().hex
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{field}"; filename="{filename}"\r\n'
        f"Content-Type: application/octet-stream\r\n\r\n".encode()
        + data
        + b"\r\n"
        for field, (filename, data) in files.items()
    ]
    parts += [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{field}"\r\n\r\n{value}\r\n'.encode()
        for field, value in fields.items()
    ]
    return b"".join(parts) + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


class FTensorClient:
    """Each thread keeps one connection open to the server (HTTP keep-alive, as requests and httpx do):
    a new TCP connection per call cost both ends CPU that a 128-px model's few milliseconds cannot hide."""

    def __init__(self, url: str = "http://127.0.0.1:3000", timeout: float = 60.0) -> None:
        self.url, self.timeout = url.rstrip("/"), timeout
        parts = urlsplit(self.url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"{url!r} is not a server address: give one like http://127.0.0.1:3000")
        self._connect = lambda: (HTTPSConnection if parts.scheme == "https" else HTTPConnection)(
            parts.hostname, parts.port, timeout=timeout
        )
        self._path = parts.path
        self._local = threading.local()

    def _post(self, route: str, body: bytes, content_type: str) -> dict:
        reused = getattr(self._local, "connection", None) is not None
        try:
            status, data = self._exchange(route, body, content_type)
        except (ConnectionError, HTTPException):
            if not reused:
                raise
            status, data = self._exchange(route, body, content_type)  # the server had closed the idle connection
        if status >= 400:
            raise FTensorServerError(status, error_message(data))
        return json.loads(data)

    def _exchange(self, route: str, body: bytes, content_type: str) -> tuple[int, bytes]:
        """One request on this thread's connection (opened if need be; closed after any error)."""
        connection = self._local.connection = getattr(self._local, "connection", None) or self._connect()
        try:
            connection.request("POST", self._path + route, body, {"Content-Type": content_type})
            response = connection.getresponse()
            data = response.read()
        except BaseException:
            self._local.connection = None
            connection.close()
            raise
        if response.will_close:
            self._local.connection = None
            connection.close()
        return response.status, data

    def predict(self, image: str | Path | bytes, size: str = "original") -> np.ndarray:
        """The F_Tensor of one image file or its bytes: uint8 (4, H, W) in the spec's encoding."""
        data = image if isinstance(image, bytes) else Path(image).read_bytes()
        # Not the file's own name: the server never uses it, and a quote, a line break or a final backslash
        # in it would break the request's headers.
        body, content_type = multipart_body({"image": ("image", data)}, {"size": size})
        return decode_array(self._post("/predict", body, content_type))

    def info(self) -> dict:
        """The served model's metadata: spec_version, image_size, class_names, palette, heads, …"""
        return self._post("/info", b"{}", "application/json")
