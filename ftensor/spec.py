"""The P_Image / F_Tensor contract (docs/FTENSOR_SPEC.md, version 2) as constants and codecs.

Everything that reads or writes an F_Tensor, names an ONNX tensor or puts an array on the wire
takes it from here, so each rule lives in one place. It imports only numpy: serving and the client
use it without torch.
"""

from __future__ import annotations

import base64
import zlib
from dataclasses import dataclass

import numpy as np

from ftensor.errors import FTensorError

SPEC_VERSION = 2
READABLE_SPEC_VERSIONS = (1, 2)  # every version-1 dataset (all square) is a valid version-2 one
DEFAULT_IMAGE_SIZE = 256  # S of a design when none is asked for
NUM_CLASSES = 12
CHANNELS = ("text", "image", "color", "hierarchy")
HIERARCHY_SCALE = 255  # channel 3 stores round(HIERARCHY_SCALE × hierarchy)

# The exported model's tensors (ftensor.export.onnx writes them; every runtime reads them by these names).
INPUT_NAME = "p_image"
OUTPUT_NAMES = ("f_tensor", "text_prob", "image_prob", "color_prob", "hierarchy")
PROBABILITY_OUTPUTS = OUTPUT_NAMES[1:]
HEADS = {
    "f_tensor": "uint8 [N,4,H,W]: spec encoding (text {0,1}, image {0,1}, class 0..11, round(255*hierarchy))",
    "text_prob": "float32 [N,1,H,W]: P(text) per pixel",
    "image_prob": "float32 [N,1,H,W]: P(image) per pixel",
    "color_prob": "float32 [N,12,H,W]: softmax over palette classes (see class_names, palette)",
    "hierarchy": "float32 [N,1,H,W]: visual hierarchy in [0,1]",
}
INPUT_DESCRIPTION = f"{INPUT_NAME}: uint8 [N,H,W,3] RGB (H, W multiples of 16); /255 is done inside the graph"

CLASS_NAMES = (
    "black",
    "white",
    "gray",
    "red",
    "orange",
    "yellow",
    "green",
    "teal",
    "blue",
    "purple",
    "pink",
    "brown",
)
PALETTE = np.array(
    [
        (25, 25, 25),
        (240, 240, 240),
        (128, 128, 128),
        (200, 40, 40),
        (240, 130, 30),
        (240, 210, 50),
        (50, 150, 60),
        (30, 150, 150),
        (40, 80, 200),
        (130, 50, 170),
        (235, 120, 180),
        (120, 75, 35),
    ],
    dtype=np.int16,
)
COLOR_JITTER = 16


def luma(rgb: np.ndarray) -> np.ndarray:
    """ITU-R 601 luma of RGB values along the last axis."""
    rgb = np.asarray(rgb, dtype=np.float64)
    return 0.299 * rgb[..., 0] + 0.587 * rgb[..., 1] + 0.114 * rgb[..., 2]


ANCHOR_LUMA = luma(PALETTE)
MIN_TEXT_CONTRAST = 90.0


@dataclass(frozen=True)
class Role:
    name: str
    kind: str
    hierarchy: float
    font_size: tuple[float, float] | None = None  # fraction of the image size
    weights: tuple[str, ...] = ()


ROLES = {
    r.name: r
    for r in (
        Role("background", "background", 0.00),
        Role("decoration", "shape", 0.10),
        Role("caption", "text", 0.25, (0.030, 0.035), ("regular",)),
        Role("body", "text", 0.40, (0.040, 0.050), ("regular",)),
        Role("image", "image", 0.50),
        Role("subheading", "text", 0.65, (0.060, 0.080), ("regular", "bold")),
        Role("button", "button", 0.80, (0.045, 0.060), ("bold",)),
        Role("headline", "text", 1.00, (0.100, 0.160), ("bold",)),
    )
}
Z_ORDER = {"background": 0, "shape": 1, "image": 2, "button": 3, "text": 4}

# Success criteria of the original module plan, as (metric, comparison, threshold).
SUCCESS_CRITERIA = (
    ("text_iou", ">", 0.90),
    ("image_iou", ">", 0.85),
    ("color_accuracy", ">", 0.80),
    ("hierarchy_mse", "<", 0.05),
)


def font_sizes(role: str, image_size: int) -> list[int]:
    """Whole-pixel font sizes allowed for a text role; the rounded middle where none fits."""
    lo, hi = ROLES[role].font_size
    sizes = list(range(int(np.ceil(lo * image_size)), int(np.floor(hi * image_size)) + 1))
    return sizes or [int(round((lo + hi) / 2 * image_size))]


def nearest_class(rgb: np.ndarray) -> np.ndarray:
    """Palette class whose anchor is nearest (Euclidean RGB) to each colour along the last axis."""
    diff = np.asarray(rgb, dtype=np.int32)[..., None, :] - PALETTE.astype(np.int32)
    return np.argmin((diff * diff).sum(-1), axis=-1)


def encode_f_tensor(text: np.ndarray, image: np.ndarray, color: np.ndarray, hierarchy: np.ndarray) -> np.ndarray:
    """Pack decoded channels into the spec's uint8 (4, H, W) encoding.

    `text` and `image` are probabilities or {0,1} masks (thresholded at 0.5), `color` is a class map
    (H, W) or class scores (12, H, W) reduced by arg-max, `hierarchy` lies in [0, 1] (clipped).
    """
    if color.ndim == 3:
        color = color.argmax(0)
    out = np.empty((4, *text.shape), dtype=np.uint8)
    out[0] = text >= 0.5
    out[1] = image >= 0.5
    out[2] = color
    out[3] = np.rint(np.clip(hierarchy, 0.0, 1.0) * HIERARCHY_SCALE)
    return out


MAX_ASPECT = 4  # a design's longer side is at most 4× its shorter one
# The generator's default mix of proportions, W:H (a repeat weighs more): squares stay the common case,
# then the portrait posters, social posts and stories, landscape slides and wide web banners designs come in.
DEFAULT_ASPECTS = ("1:1", "1:1", "1:1", "1:1", "4:5", "3:4", "2:3", "9:16", "1:3", "5:4", "4:3", "3:2", "16:9", "3:1")


def check_image_size(image_size: int) -> int:
    """Validate an image size against the spec (a multiple of 16, at least 64)."""
    if image_size < 64 or image_size % 16:
        raise FTensorError(
            f"image_size {image_size} is not allowed: the spec needs a multiple of 16 from 64 up "
            "(for example 128 or 256)."
        )
    return image_size


def check_design_size(width: int, height: int) -> tuple[int, int]:
    """Validate a W×H design size: each side a multiple of 16 from 64 up, aspect from 1:4 to 4:1."""
    if min(width, height) < 64 or width % 16 or height % 16 or max(width, height) > MAX_ASPECT * min(width, height):
        raise FTensorError(
            f"design size {width}x{height} is not allowed: each side must be a multiple of 16 from 64 up and "
            f"the aspect ratio within 1:{MAX_ASPECT} to {MAX_ASPECT}:1 (for example 256x256, 448x256 or 256x384)."
        )
    return width, height


def aspect_size(aspect: str, image_size: int) -> tuple[int, int]:
    """The W×H of an aspect ratio 'W:H' whose shorter side is `image_size` (S), the longer side rounded to
    a multiple of 16: 16:9 at S = 128 is 224×128."""
    try:
        w, h = (float(part) for part in aspect.split(":"))
        if w <= 0 or h <= 0:
            raise ValueError
    except ValueError as error:
        raise FTensorError(f"aspect ratio {aspect!r} is not W:H with positive numbers (for example 16:9).") from error
    longer = int(round(image_size * max(w, h) / min(w, h) / 16)) * 16
    return check_design_size(*((longer, image_size) if w >= h else (image_size, longer)))


def parse_size(text: str) -> tuple[int, int]:
    """'448x256' → (448, 256), checked against the spec."""
    try:
        width, height = (int(part) for part in text.lower().split("x"))
    except ValueError as error:
        raise FTensorError(f"size {text!r} is not WxH in pixels (for example 448x256).") from error
    return check_design_size(width, height)


# The wire format of an array in an HTTP response: shape, dtype and the zlib-compressed C-order bytes.
WIRE_ENCODING = "zlib+base64"


def encode_array(array: np.ndarray) -> dict:
    """A compact, self-describing JSON form of an array (a JSON list of a 4×256×256 F_Tensor is ~15 MB)."""
    array = np.ascontiguousarray(array)
    return {
        "shape": list(array.shape),
        "dtype": str(array.dtype),
        "encoding": WIRE_ENCODING,
        "data": base64.b64encode(zlib.compress(array.tobytes(), 1)).decode("ascii"),
    }


def decode_array(payload: dict) -> np.ndarray:
    """The array inside `encode_array`'s JSON form."""
    if payload.get("encoding") != WIRE_ENCODING:
        raise ValueError(f"unknown encoding {payload.get('encoding')!r}")
    raw = zlib.decompress(base64.b64decode(payload["data"]))
    return np.frombuffer(raw, dtype=np.dtype(payload["dtype"])).reshape(payload["shape"])
