"""Torch-free inference: an exported ONNX encoder on onnxruntime, from any image to its F_Tensor.

Imports only numpy, Pillow and onnxruntime, so it runs on machines without PyTorch (Macs with
CoreML, CUDA servers, CPU pods). Every image is decoded defensively (size and aspect caps before the
pixels are read) and read at its own proportions: scaled so its shorter side is the model's reference
size S, padded (never squashed) to multiples of 16 for the fully convolutional model, and its F_Tensor
is returned at the image's original size (nearest for masks and classes) or at model scale on request.
"""

from __future__ import annotations

import io
import json
import logging
import os
from pathlib import Path

import numpy as np
import onnxruntime as ort
from PIL import Image, ImageOps, UnidentifiedImageError

from ftensor.errors import FTensorError
from ftensor.serving.resize import Prediction, crop_prediction, model_input, resize_prediction
from ftensor.spec import INPUT_NAME, OUTPUT_NAMES, PROBABILITY_OUTPUTS, READABLE_SPEC_VERSIONS

log = logging.getLogger("ftensor.serving")

PROVIDER_PREFERENCE = ("CoreMLExecutionProvider", "CUDAExecutionProvider", "CPUExecutionProvider")
MAX_PIXELS = 50_000_000  # decompression-bomb cap, checked from the header before decoding
MAX_ASPECT_RATIO = 20.0
# Formats decoded at all: the ones designs come in. Every other Pillow plugin stays shut (an ICO can carry
# a PNG far larger than its directory says; EPS would run Ghostscript).
FORMATS = ("PNG", "JPEG", "WEBP", "BMP", "TIFF", "GIF")
ACCEPTED = "PNG, JPEG, WebP, BMP, TIFF or GIF"


class ImageError(FTensorError):
    """The input is not an image this service can use; the message says why."""


def open_image(source: bytes | str | Path, max_pixels: int = MAX_PIXELS) -> Image.Image:
    """Decode an image of an accepted format (RGB, RGBA, L, P, 16-bit, EXIF-rotated) to 8-bit RGB,
    refusing other formats, non-images, truncated files, decompression bombs and absurd aspect ratios
    with a clear message. Whatever goes wrong while decoding is that input's error, never the caller's."""
    if isinstance(source, bytes) and not source:
        raise ImageError(f"the upload is empty: send the bytes of a {ACCEPTED} image.")
    try:
        image = Image.open(io.BytesIO(source) if isinstance(source, bytes) else source, formats=FORMATS)
        check_size(*image.size, max_pixels)  # from the header, before any pixel is decoded
        image.load()
        check_size(*image.size, max_pixels)  # again: some containers hold a larger image than they declare
        return to_rgb(ImageOps.exif_transpose(image))
    except ImageError:
        raise
    except UnidentifiedImageError as error:
        raise ImageError(f"not a readable image of an accepted format ({ACCEPTED}).") from error
    except Image.DecompressionBombError as error:
        raise ImageError(f"the image is too large to decode ({error}).") from error
    except (OSError, SyntaxError, ValueError, EOFError) as error:
        raise ImageError(f"the image is truncated or corrupt ({error}).") from error
    except Exception as error:  # a decoder's own failure (Pillow's plugins raise many types)
        raise ImageError(f"the image could not be decoded ({type(error).__name__}: {error}).") from error


def check_size(width: int, height: int, max_pixels: int) -> None:
    if width * height > max_pixels:
        raise ImageError(f"the image is {width}×{height} = {width * height:,} pixels; the limit is {max_pixels:,}.")
    if max(width, height) > MAX_ASPECT_RATIO * min(width, height):
        raise ImageError(f"the image is {width}×{height}: an aspect ratio over {MAX_ASPECT_RATIO:g}:1 is not a design.")


def to_rgb(image: Image.Image) -> Image.Image:
    """8-bit RGB: transparency is composited over white; 16-bit greys (modes I;16* and I, as Pillow opens
    them by format and version) are scaled from 0..65535 whatever their pixels hold (guessing from the
    brightest pixel made dark 16-bit images 257× too bright); float greys are taken as 0..255."""
    if image.mode.startswith("I"):
        values = np.clip(np.asarray(image), 0, 65535).astype(np.uint32)  # 4 bytes a pixel, not float64's 8
        image = Image.fromarray(((values + 128) // 257).astype(np.uint8), "L")
    elif image.mode == "F":
        image = Image.fromarray(np.clip(np.rint(np.asarray(image)), 0, 255).astype(np.uint8), "L")
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        image = Image.alpha_composite(white, rgba)
    return image.convert("RGB")


def choose_providers(requested: list[str] | None = None) -> list[str]:
    """CoreML, then CUDA, then CPU among those this onnxruntime build offers (or the requested ones)."""
    available = ort.get_available_providers()
    if requested:
        missing = [p for p in requested if p not in available]
        if missing:
            raise FTensorError(f"execution provider(s) {missing} are not available here; available: {available}.")
        return list(requested)
    return [p for p in PROVIDER_PREFERENCE if p in available] or available


def decode_metadata(metadata: dict[str, str]) -> dict:
    """Metadata values with their JSON decoded (palette, class names, heads, metrics…)."""
    decoded = {}
    for key, value in metadata.items():
        try:
            decoded[key] = json.loads(value)
        except json.JSONDecodeError:
            decoded[key] = value
    return decoded


class Runtime:
    """One loaded model. `predict` is safe to call from one thread at a time per instance."""

    def __init__(
        self,
        model_path: str | Path,
        providers: list[str] | None = None,
        workers: int = 1,
        spin: bool | None = None,
    ) -> None:
        """`workers`: how many sessions share this machine's cores (each gets cores ÷ workers threads).
        `spin`: let onnxruntime's threads busy-wait between runs, fastest when nothing else needs the
        cores; by default only with one worker. A server turns it off: spinning threads took the cores
        from its own request handling (HTTP throughput +10 % without)."""
        path = Path(model_path)
        if not path.is_file():
            raise FTensorError(f"model not found at {path} — export one with `ftensor export --output {path}`.")
        options = ort.SessionOptions()
        options.intra_op_num_threads = max(1, (os.cpu_count() or 1) // max(1, workers))
        if spin is None:
            spin = workers == 1
        if not spin:
            options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        try:
            self.session = ort.InferenceSession(str(path), options, providers=choose_providers(providers))
        except Exception as error:  # onnxruntime raises its own untyped errors for bad files
            raise FTensorError(f"{path} is not a loadable ONNX model ({str(error).splitlines()[0]}).") from error
        self.path = path
        self.metadata = dict(self.session.get_modelmeta().custom_metadata_map)
        if self.metadata.get("spec_version") not in {str(v) for v in READABLE_SPEC_VERSIONS}:
            raise FTensorError(
                f"{path} declares spec_version {self.metadata.get('spec_version')!r}; this ftensor serves "
                f"versions {' and '.join(map(str, READABLE_SPEC_VERSIONS))}. Export it with a matching ftensor."
            )
        self.image_size = int(self.metadata["image_size"])
        self.providers = self.session.get_providers()
        log.info("loaded %s (%s, %spx) on %s", path, self.metadata.get("preset"), self.image_size, self.providers)

    def info(self) -> dict:
        """The model's metadata, with JSON values decoded, plus the providers really in use."""
        return {**decode_metadata(self.metadata), "providers": self.providers}

    def run(self, pixels: np.ndarray, probabilities: bool = False) -> list[np.ndarray]:
        """Raw outputs for a uint8 (N, H, W, 3) batch (H, W multiples of 16): [f_tensor] or all five outputs."""
        names = list(OUTPUT_NAMES) if probabilities else [OUTPUT_NAMES[0]]
        return self.session.run(names, {INPUT_NAME: pixels})

    def predict_batch(
        self, images: list[Image.Image], original_size: bool = True, probabilities: bool = False
    ) -> list[Prediction]:
        """F_Tensors of several RGB images, each read at its own proportions; images of one size run as
        one batch."""
        results: list[Prediction | None] = [None] * len(images)
        groups: dict[tuple[int, int], list[int]] = {}
        for k, image in enumerate(images):
            groups.setdefault(image.size, []).append(k)
        for size, members in groups.items():
            pixels, fitted = model_input([images[k] for k in members], self.image_size)
            outputs = self.run(pixels, probabilities)
            for row, k in enumerate(members):
                probs = dict(zip(PROBABILITY_OUTPUTS, (o[row] for o in outputs[1:]))) if probabilities else None
                prediction = crop_prediction(Prediction(outputs[0][row], probs), fitted)
                results[k] = resize_prediction(prediction, size) if original_size else prediction
        return results

    def predict(
        self, image: Image.Image | bytes | str | Path, original_size: bool = True, probabilities: bool = False
    ) -> Prediction:
        """The F_Tensor of one image (any mode, any size; bytes and paths are decoded safely)."""
        if not isinstance(image, Image.Image):
            image = open_image(image)
        return self.predict_batch([to_rgb(image)], original_size, probabilities)[0]
