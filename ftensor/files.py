"""Writing files: atomically (a file is either absent or complete), and encoding arrays to bytes."""

from __future__ import annotations

import io
import os
import struct
import zlib
from pathlib import Path

import numpy as np


def atomic_write_bytes(path: Path, data: bytes, durable: bool = False) -> None:
    """Write `data` to a temporary name beside `path`, then rename it into place; a failed write leaves
    neither a temporary file nor a partial `path`. `durable` also flushes the file and its directory to
    disk, so that after a power loss `path` holds the old bytes or the new, never an empty file (worth
    its milliseconds for checkpoints and models, not for each of a dataset's many small files)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    # A short temporary name: one built from a name near the file system's 255-byte limit would not fit.
    tmp = path.with_name(f".{zlib.crc32(path.name.encode()):08x}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as f:
            f.write(data)
            if durable:
                f.flush()
                os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    if durable:
        directory = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)


def png_bytes(pixels: np.ndarray) -> bytes:
    """An (H, W, 3) RGB or (H, W) grey uint8 array as a PNG of unfiltered rows stored uncompressed (zlib
    level 0): photo-like content barely compresses, and stored PNGs decode 3× faster. Written here because
    Pillow's encoder, at level 0 too, chose a filter for every row: 2 ms of a 256-px sample's 15."""
    height, width = pixels.shape[:2]
    colour_type = {1: 0, 3: 2}[1 if pixels.ndim == 2 else pixels.shape[2]]  # grey or RGB
    rows = np.concatenate([np.zeros((height, 1), np.uint8), pixels.reshape(height, -1)], axis=1)  # filter 0

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, colour_type, 0, 0, 0)
    idat = zlib.compress(rows.tobytes(), 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def npy_bytes(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    return buffer.getvalue()
