"""Photo-like textures for image elements: a base palette colour plus visible structure at several scales.

Images in real designs are photographs of every sort: recoloured, dark or washed out, halftoned, cities, faces,
products, landscapes, close-ups. Most families here draw a grey field in [0, 1] with such structure (twelve are
windows of real photographs), and `_colourise` adds film grain and maps it through a random tone curve of two or
three shades around the base colour (a plain shading, a duotone or a tritone, exposed dark or light), the way a
recoloured photograph looks in a layout.
The first four families paint colour directly. Speed matters (the generator makes ~120 designs a second per core):
fields are upsampled from small grids by gathering four taps per axis, drawn families paint on a small canvas,
full-size arrays stay 2-D float32 (three-band float arrays are slow to allocate), colour comes from a PIL palette,
and a 200×150 texture costs under a millisecond.
"""

from __future__ import annotations

import math
from functools import cache, lru_cache
from importlib.metadata import PackageNotFoundError, distribution

import numpy as np
from PIL import Image, ImageChops, ImageDraw, ImageFilter

from ftensor.errors import FTensorError
from ftensor.spec import luma

MIN_TEXTURE_STD = 10.0  # grey levels, from the spec
TARGET_TEXTURE_STD = 14.0  # margin above the spec's minimum
SMALL = 64  # longest side of the canvas that drawn families paint on before upsampling
_LEVELS = np.linspace(0, 1, 256)
_BINS = np.arange(256, dtype=np.float64)


# -- building blocks ------------------------------------------------------------------------------------------------
@lru_cache(maxsize=2048)
def _taps(n: int, g: int) -> tuple[np.ndarray, np.ndarray]:
    """Resampling g samples to n with the cubic (Keys) kernel: (4, n) source indices (edges clamped) and weights."""
    p = (np.arange(n) + 0.5) * g / n - 0.5
    i = np.floor(p).astype(np.intp)
    d = np.abs(p - i + np.arange(1, -3, -1)[:, None])  # distance from each of the 4 nearest samples
    k = np.where(d < 1, (1.5 * d - 2.5) * d * d + 1, np.where(d < 2, ((-0.5 * d + 2.5) * d - 4) * d + 2, 0))
    return np.clip(i + np.arange(-1, 3)[:, None], 0, g - 1), (k / k.sum(axis=0)).astype(np.float32)


def _resize(a: np.ndarray, width: int, height: int) -> np.ndarray:
    """An (h, w[, c]) array resampled bicubically to (height, width[, c]) float32 by gathering 4 taps per axis:
    faster than PIL, and no BLAS (whose threads stall when generator workers fill every core)."""
    a = np.asarray(a, np.float32)
    index, weight = _taps(width, a.shape[1])
    weight = weight.reshape(4, width, *([1] * (a.ndim - 2)))
    a = (
        a[:, index[0]] * weight[0]
        + a[:, index[1]] * weight[1]
        + a[:, index[2]] * weight[2]
        + a[:, index[3]] * weight[3]
    )
    rows = np.ascontiguousarray(a).reshape(a.shape[0], -1)  # whole rows: long inner loops, fast gathers
    index, weight = _taps(height, a.shape[0])
    weight = weight[..., None]
    out = rows[index[0]] * weight[0]
    for k in (1, 2, 3):
        out += rows[index[k]] * weight[k]
    return out.reshape(height, *a.shape[1:])


def _grid(width: int, height: int, cells: float) -> tuple[int, int]:
    """(columns, rows) of a grid with about `cells` cells across the mean side, between 2 and the size."""
    s = math.sqrt(width * height)
    return (
        int(min(max(2, round(cells * width / s) + 1), max(width, 2))),
        int(min(max(2, round(cells * height / s) + 1), max(height, 2))),
    )


def _noise(rng: np.random.Generator, width: int, height: int, cells: float) -> np.ndarray:
    """Smooth value noise in about [-0.5, 0.5]: a random grid upsampled bicubically."""
    gx, gy = _grid(width, height, cells)
    return _resize(rng.random((gy, gx), dtype=np.float32) - 0.5, width, height)


def _fractal(rng: np.random.Generator, width: int, height: int, octaves=5, rough=0.55, cells=2.0) -> np.ndarray:
    """Multi-octave value noise in [0, 1]: amplitude falls by `rough` per doubling of frequency, the ~1/f
    spectrum of natural photographs. Summed on the finest grid, then upsampled once."""
    fx, fy = _grid(width, height, cells * 2 ** (octaves - 1))
    acc = rng.random((fy, fx), dtype=np.float32) * rough ** (octaves - 1)
    for k in range(octaves - 1):
        gx, gy = _grid(width, height, cells * 2**k)
        acc += rough**k * _resize(rng.random((gy, gx), dtype=np.float32), fx, fy)
    acc -= acc.min()
    acc /= max(float(acc.max()), 1e-6)
    return _resize(acc, width, height)


def _uv(width: int, height: int) -> tuple[np.ndarray, np.ndarray]:
    """Pixel centres as fractions of the width (1, w) and of the height (h, 1)."""
    return (
        (np.arange(width, dtype=np.float32)[None] + 0.5) / width,
        (np.arange(height, dtype=np.float32)[:, None] + 0.5) / height,
    )


def _spot(u: np.ndarray, v: np.ndarray, aspect: float, cx: float, cy: float, r: float) -> np.ndarray:
    """A round Gaussian pool of light of radius r (fraction of the width) at (cx, cy), on the (u, v) grid."""
    return np.exp((u - cx) ** 2 * (-1 / r**2) + (v - cy) ** 2 * (-((aspect / r) ** 2)))


def _along(rng: np.random.Generator, width: int, height: int) -> np.ndarray:
    """Distance along a random direction, in units of the mean side: (height, width) float32."""
    angle, s = rng.uniform(0, math.pi), math.sqrt(width * height)
    x, y = np.arange(width, dtype=np.float32)[None], np.arange(height, dtype=np.float32)[:, None]
    return x * (math.cos(angle) / s) + y * (math.sin(angle) / s)


def _canvas(width: int, height: int, side: int = SMALL) -> tuple[int, int]:
    """(width, height) of a small canvas with the rectangle's proportions, for families that draw shapes."""
    scale = min(1.0, side / max(width, height))
    return max(2, round(width * scale)), max(2, round(height * scale))


def _upsample(image: Image.Image, width: int, height: int, blur: float = 0.0) -> np.ndarray:
    """A small drawn canvas, softened, as a full-size field in [0, 1]."""
    if blur > 0:
        image = image.filter(ImageFilter.GaussianBlur(blur))
    return _resize(np.asarray(image, np.float32) * (1 / 255), width, height)


def _tone_lut(rng: np.random.Generator, base: np.ndarray, exposure: float = 0.0) -> np.ndarray:
    """256 whole-valued RGB shades from shadow through the base colour to highlight: a plain shading, a duotone
    or a tritone tinted toward a random hue, exposed dark or light by a gamma curve."""
    tint = rng.uniform(0, 255, 3)
    shadow = base * rng.uniform(0.08, 0.5)
    light = base + (255 - base) * rng.uniform(0.25, 0.85)
    scheme = int(rng.integers(3))
    if scheme == 1:  # duotone: two tinted inks
        stops, where = [shadow + (tint * 0.3 - shadow) * rng.uniform(0, 0.4), light + (tint - light) * 0.25], [0, 1]
    else:  # shading (0) or tritone (2): a mid-tone between, shifted toward another hue for a tritone
        mid = base + (tint - base) * (0.35 if scheme == 2 else 0.0)
        stops, where = [shadow, mid, light], [0, rng.uniform(0.3, 0.7), 1]
    curve = _LEVELS ** math.exp(rng.normal(exposure, 0.5))  # gamma > 1 exposes dark, < 1 light
    lut = np.column_stack([np.interp(curve, where, [s[c] for s in stops]) for c in range(3)])
    return np.clip(np.rint(lut), 0, 255)


def _colourise(rng: np.random.Generator, field: np.ndarray, base: np.ndarray, exposure=0.0) -> tuple[np.ndarray, float]:
    """A grey field plus film grain mapped through a random tone palette around the base colour; also the result's
    luma std, exact from the index histogram. A palette too flat to show is stretched (256 entries, not pixels)."""
    shift = int(rng.integers(3, 6))  # grain of 32, 16 or 8 index levels
    grain = np.frombuffer(rng.bytes(field.size), np.uint8).reshape(field.shape) >> shift
    index = Image.fromarray((np.clip(field, 0, 1) * (255 - (255 >> shift))).astype(np.uint8) + grain)
    share = np.asarray(index.histogram(), np.float64) / field.size
    lut = _tone_lut(rng, base, exposure).astype(np.float64)
    # The picture reads as its class: its mean colour is moved onto the base colour (a dark scene of a yellow
    # element came out near black, its class unreadable and the text chosen to contrast with yellow unseen).
    lut = np.clip(lut + (base - share @ lut), 0, 255)
    for _ in range(4):
        grey = luma(lut)
        std = float(np.sqrt(share @ (grey - share @ grey) ** 2))
        if std >= TARGET_TEXTURE_STD:
            break
        mean = share @ lut
        lut = np.clip(np.rint(mean + (lut - mean) * (2 * TARGET_TEXTURE_STD / max(std, 1.0))), 0, 255)
    index.putpalette(lut.astype(np.uint8).tobytes())
    return np.array(index.convert("RGB")), std


# -- grey-field families: (rng, width, height) -> float32 (height, width) in about [0, 1] -------------------------
def _clouds(rng, w, h):
    """Cloudy sky or soft-focus photo: fractal noise over a sky gradient."""
    _, v = _uv(w, h)
    return 0.75 * _fractal(rng, w, h, 6, rng.uniform(0.45, 0.7)) + rng.uniform(-0.4, 0.4) * v + 0.15


def _stone(rng, w, h):
    """Close-up of sand, stone, bark or concrete: rough fractal noise with fine detail."""
    return _fractal(rng, w, h, 5, rng.uniform(0.7, 0.9), cells=rng.uniform(3, 8))


def _low_key(rng, w, h):
    """Dark scene: a few pools of light in shadow."""
    u, v = _uv(w, h)
    field = 0.08 * _fractal(rng, w, h, 4)
    for _ in range(int(rng.integers(1, 4))):
        cx, cy, r = rng.uniform(0.1, 0.9), rng.uniform(0.1, 0.9), rng.uniform(0.1, 0.5)
        field = field + rng.uniform(0.3, 1.0) * _spot(u, v, h / w, cx, cy, r)
    field *= 0.5 + 0.7 * _fractal(rng, w, h, 4)
    return field / max(float(field.max()), 1e-6)


def _high_key(rng, w, h):
    """Bright, washed-out photo: pale soft shapes and a mid-tone subject on white."""
    u, v = _uv(w, h)
    cx, cy, r = rng.uniform(0.3, 0.7), rng.uniform(0.3, 0.7), rng.uniform(0.15, 0.35)
    return 1.0 - 0.4 * _fractal(rng, w, h, 5) - 0.6 * _spot(u, v, h / w, cx, cy, r)


def _skyline(rng, w, h):
    """City silhouettes against the sky: a far and a near row of buildings; lit windows at night."""
    u, v = _uv(w, h)
    night = rng.random() < 0.5
    field = (0.1 + 0.35 * v if night else 0.95 - 0.4 * v) + 0.15 * _noise(rng, w, h, 3)
    for shade, lo, hi in ((0.35 if night else 0.55, 0.3, 0.7), (0.0 if night else 0.25, 0.15, 0.55)):  # far, near
        n = int(rng.integers(4, 18))
        tops = rng.uniform(1 - hi, 1 - lo, n + 1).astype(np.float32)[np.searchsorted(np.sort(rng.random(n)), u[0])]
        building = v >= tops
        field = np.where(building, shade, field)
    period = max(3, int(math.sqrt(w * h) * rng.uniform(0.02, 0.05)))
    xs, ys = np.arange(w) // period, np.arange(h) // period
    lit = rng.random((ys[-1] + 1, xs[-1] + 1)) < (0.45 if night else 0.15)
    pane = (np.arange(w) % period < period // 2) & (np.arange(h) % period < period // 2)[:, None]
    return np.where(building & pane & lit[ys][:, xs], 0.95 if night else 0.45, field)


_LEAF = np.array([(1, 0), (0.45, 0.38), (-0.3, 0.38), (-1, 0), (-0.3, -0.38), (0.45, -0.38)], np.float32)


def _foliage(rng, w, h):
    """Leaves: pointed, turned leaves in several shades, a blurred layer behind a sharp one, under dappled light."""
    cw, ch = _canvas(w, h, side=96)
    image = Image.new("L", (cw, ch), int(rng.uniform(0, 50)))
    draw = ImageDraw.Draw(image)
    for layer in range(2):
        n = int(rng.integers(30, 60))
        size = math.sqrt(rng.uniform(1.0, 2.0) * cw * ch / n)  # leaves cover the canvas once or twice
        centre = rng.uniform(-0.05, 1.05, (n, 2)) * (cw, ch)
        angle = rng.uniform(0, np.pi, n)
        cos, sin = np.cos(angle)[:, None], np.sin(angle)[:, None]
        scale = rng.uniform(0.6, 1.4, (n, 1)) * size
        xs = centre[:, :1] + scale * (_LEAF[:, 0] * cos - _LEAF[:, 1] * sin)
        ys = centre[:, 1:] + scale * (_LEAF[:, 0] * sin + _LEAF[:, 1] * cos)
        light = rng.uniform(0.1, 0.75, n) + 0.25 * layer + 0.25 * (centre[:, 0] / cw - centre[:, 1] / ch)
        for outline, shade in zip(np.stack([xs, ys], axis=2).reshape(n, -1).tolist(), np.clip(light, 0.03, 1) * 255):
            draw.polygon(outline, fill=int(shade))
        image = image.filter(ImageFilter.GaussianBlur(0.5 if layer else 1.2))  # the back layer out of focus
        draw = ImageDraw.Draw(image)
    return _upsample(image, w, h) * (0.5 + 0.7 * _fractal(rng, w, h, 3))


def _waves(rng, w, h):
    """Stripes, ripples or fabric folds: a sine along a random direction, warped by smooth noise."""
    phase = rng.uniform(2, 12) * _along(rng, w, h) + rng.uniform(0.3, 2.0) * _noise(rng, w, h, 2)
    wave = np.tanh(rng.uniform(0.8, 4) * np.sin(phase * np.float32(2 * math.pi)))
    return 0.5 + 0.4 * wave + 0.3 * (_fractal(rng, w, h, 3) - 0.5)


def _halftone(rng, w, h):
    """Printed halftone: a rotated dot screen whose dots grow where a soft photo beneath is dark."""
    tone = np.clip(_fractal(rng, w, h, 3, 0.5), 0, 1)
    cell, angle = rng.uniform(3, 9), math.radians(rng.choice([15, 45, 75]))
    x, y = np.arange(w, dtype=np.float32)[None], np.arange(h, dtype=np.float32)[:, None]
    a = x * (math.cos(angle) / cell) + y * (math.sin(angle) / cell)
    b = y * (math.cos(angle) / cell) - x * (math.sin(angle) / cell)
    a, b = a - np.round(a), b - np.round(b)
    distance = np.sqrt(a * a + b * b)  # from the nearest dot centre, in cells
    return np.clip(0.5 + (distance - 0.72 * np.sqrt(1.0 - tone)) * cell, 0, 1)


def _marble(rng, w, h):
    """Marble: dark veins along turbulent bands over a pale, cloudy stone."""
    phase = rng.uniform(1, 4) * _along(rng, w, h) + rng.uniform(1, 3) * _fractal(rng, w, h, 5, 0.6)
    veins = 1 - np.abs(np.sin(phase * np.float32(math.pi)))
    return 0.8 + 0.25 * _fractal(rng, w, h, 3) - 0.7 * veins**6


def _wood(rng, w, h):
    """Wood grain: long wavy growth rings, dark late-wood lines, fine fibres along them."""
    if rng.random() < 0.4:
        return _wood(rng, h, w).T  # vertical planks
    u, v = _uv(w, h)
    cx, cy = rng.uniform(-1, 2), rng.uniform(-3, -1)
    r = np.sqrt(((u - cx) * (w / h)) ** 2 + (v - cy) ** 2)
    rings = r * rng.uniform(8, 25) + 1.2 * _fractal(rng, w, h, 4, cells=1.5)
    rings -= np.floor(rings)
    fibres = _resize(rng.random((max(2, h // 2), 4), dtype=np.float32), w, h)
    return 0.7 - 0.45 * rings**4 + 0.25 * (fibres - 0.5)


def _portrait(rng, w, h):
    """Head and shoulders: a soft figure against a blurred background of the opposite lightness, lit from one side."""
    cw, ch = _canvas(w, h)
    dark = rng.random() < 0.5  # a dark figure on a light background, or the reverse
    backdrop = (0.55 if dark else 0.05) + 0.4 * np.clip(_fractal(rng, cw, ch, 3), 0, 1)
    image = Image.fromarray((backdrop * 255).astype(np.uint8))
    draw = ImageDraw.Draw(image)
    cx, top, hx, hy = rng.uniform(0.3, 0.7) * cw, ch * rng.uniform(0.1, 0.25), 0.17 * min(cw, 1.4 * ch), 0.2 * ch
    body = rng.uniform(0.05, 0.35) if dark else rng.uniform(0.5, 0.9)
    skin, hair = rng.uniform(0.55, 0.8), rng.uniform(0.02, 0.4)
    side = rng.choice([-1, 1]) * 0.3 * hx
    draw.ellipse((cx - 0.5 * cw, top + 2.3 * hy, cx + 0.5 * cw, ch * 1.9), fill=int(body * 255))  # shoulders
    draw.rectangle((cx - 0.35 * hx, top + 1.6 * hy, cx + 0.35 * hx, top + 2.45 * hy), fill=int(skin * 180))  # neck
    draw.ellipse((cx - 1.1 * hx, top - 0.15 * hy, cx + 1.1 * hx, top + 2.1 * hy), fill=int(hair * 255))  # hair
    draw.ellipse((cx - 0.8 * hx, top + 0.35 * hy, cx + 0.8 * hx, top + 2.05 * hy), fill=int(skin * 220))  # face
    draw.ellipse((cx + side - 0.45 * hx, top + 0.5 * hy, cx + side + 0.45 * hx, top + 1.8 * hy), fill=int(skin * 255))
    return _upsample(image, w, h, max(cw, ch) / 60)


def _product(rng, w, h):
    """Product shot: an object with a soft shadow on a seamless backdrop lit from above."""
    cw, ch = _canvas(w, h, side=128)
    _, v = _uv(cw, ch)
    image = Image.fromarray(np.broadcast_to((0.95 - rng.uniform(0.1, 0.5) * v) * 255, (ch, cw)).astype(np.uint8))
    draw = ImageDraw.Draw(image)
    cx, floor = rng.uniform(0.3, 0.7) * cw, rng.uniform(0.7, 0.9) * ch
    ow, oh = rng.uniform(0.12, 0.3) * cw, rng.uniform(0.3, 0.6) * ch
    draw.ellipse((cx - 1.3 * ow, floor - 0.08 * ch, cx + 1.6 * ow, floor + 0.06 * ch), fill=40)  # shadow
    image = image.filter(ImageFilter.GaussianBlur(max(cw, ch) / 40))
    draw = ImageDraw.Draw(image)
    shade = int(rng.uniform(0.15, 0.6) * 255)
    box = (cx - ow, floor - oh, cx + ow, floor)
    if rng.random() < 0.5:
        draw.rounded_rectangle(box, radius=int(ow * rng.uniform(0.05, 0.5)), fill=shade)
    else:
        draw.ellipse(box, fill=shade)
    draw.rectangle((cx - 0.5 * ow, floor - 0.85 * oh, cx - 0.3 * ow, floor - 0.15 * oh), fill=min(255, shade + 90))
    return _upsample(image, w, h, 0.6)


def _horizon(rng, w, h):
    """Sea and sky: a bright horizon, cloud wisps above, rippled water with a sun glint below."""
    u, v = _uv(w, h)
    line, sun = rng.uniform(0.3, 0.7), rng.uniform(0.2, 0.8)
    wisps = _resize(rng.random((h // 4 + 2, 3), dtype=np.float32), w, h)
    sky = 0.95 - 0.5 * (line - v) / line + 0.3 * wisps
    ripples = _resize(rng.random((max(2, h // 2), 4), dtype=np.float32), w, h)
    depth = (v - line) / (1 - line)
    glint = np.exp(-(((u - sun) * (w / h)) ** 2) / (0.05 + 0.2 * depth) ** 2) * (ripples > 0.55)
    water = 0.45 - 0.3 * depth + 0.25 * (ripples - 0.5) * (0.3 + depth) + 0.5 * glint
    return np.where(v < line, sky, water)


def _mosaic(rng, w, h):
    """Low-poly art, or a brick or tile wall: triangles or tiles whose shades follow a soft picture, each tile
    slightly uneven so that none is a flat shape."""
    cell = max(2.0, math.sqrt(w * h) / rng.uniform(6, 16))
    x, y = np.arange(w, dtype=np.float32) / cell, np.arange(h, dtype=np.float32)[:, None] / cell
    row, fy = np.floor(y), y - np.floor(y)
    gw, gh = int(x[-1]) + 2, int(row[-1, 0]) + 1
    picture = _fractal(rng, gw, gh, 3) + 0.35 * rng.random((2, gh, gw), dtype=np.float32)
    uneven = 0.2 * _fractal(rng, w, h, 3, cells=4)
    if rng.random() < 0.5:  # low poly: each square cell split along its diagonal
        rows, cols = row[:, 0].astype(np.intp), x.astype(np.intp)
        upper, lower = picture[0].take(rows, 0).take(cols, 1), picture[1].take(rows, 0).take(cols, 1)
        return np.where(x - np.floor(x) > fy, upper, lower) * 0.7 + uneven
    joint = 0.12
    if rng.random() < 0.5:  # bricks: twice as wide, every other row shifted by half a brick
        x, joint = x / 2 + 0.5 * (row % 2), 0.06
    col = np.floor(x)
    shade = picture[0].ravel().take((row * gw + col).astype(np.int32))
    return np.where((x - col < joint) | (fy < 0.12), 0.05, shade * 0.7 + 0.1 + uneven)


def _streaks(rng, w, h):
    """Motion blur or light trails: streaks along one direction, fading along it."""
    if rng.random() < 0.3:
        return _streaks(rng, h, w).T
    slope = rng.uniform(-0.4, 0.4)
    span = h + int(abs(slope) * w) + 2
    profile = sum(
        amp * _resize(rng.random((1, max(2, span // step)), dtype=np.float32), span, 1)[0]
        for amp, step in ((1.0, 16), (0.6, 5), (0.4, 2))
    )
    profile = (profile - profile.min()) / max(float(np.ptp(profile)), 1e-6)
    profile[rng.integers(0, span, int(rng.integers(0, 6)))] = 1.0  # light trails
    offset = np.arange(h, dtype=np.int32)[:, None] + (slope * np.arange(w) - min(0.0, slope * w)).astype(np.int32)
    return profile.take(offset) * (0.5 + _fractal(rng, w, h, 2, cells=1.5))


def _vignette(rng, w, h):
    """Soft-focus subject with darkened corners, as through an old lens."""
    u, v = _uv(w, h)
    falloff = (u - rng.uniform(0.35, 0.65)) ** 2 + (v - rng.uniform(0.35, 0.65)) ** 2
    return (0.35 + 0.65 * _fractal(rng, w, h, 4, 0.5)) * np.clip(1 - rng.uniform(1.5, 3.5) * falloff, 0, 1)


# -- painted families: (rng, width, height, base) -> (RGB picture, light: None or a float32 field added to all bands)
def _colour_clouds(rng: np.random.Generator, width: int, height: int, base: np.ndarray, cells: int, amplitude: float):
    """Low-frequency colour variation around the base colour: a small random RGB grid upsampled bicubically by
    PIL (no full-size float arrays: they are slow to allocate)."""
    grid = rng.integers(0, 256, size=(cells, cells, 3), dtype=np.uint8)
    grid = np.clip(base + (grid - np.float32(127.5)) * (amplitude / 127.5), 0, 255).astype(np.uint8)
    return Image.fromarray(grid).resize((width, height), Image.Resampling.BICUBIC)


def _blobs(rng, w, h, base):
    """Soft colour clouds around the base colour."""
    return _colour_clouds(rng, w, h, base, int(rng.integers(2, 6)), rng.uniform(40, 80)), None


def _gradient(rng, w, h, base):
    """A lit surface: a colour ramp with soft variation."""
    t = _along(rng, w, h)
    t = (t - t.min()) * (2 / max(float(np.ptp(t)), 1e-6)) - 1
    return _colour_clouds(rng, w, h, base, 3, 20), float(rng.choice([-1, 1]) * rng.uniform(30, 60)) * t


def _scene(rng, w, h, base):
    """Sky, sun, mountains and ground, all shades of the base colour."""
    sky = np.clip(base + 45 * np.linspace(1, -1, h, dtype=np.float32)[:, None], 0, 255).astype(np.uint8)
    picture = Image.fromarray(np.ascontiguousarray(np.broadcast_to(sky[:, None], (h, w, 3))))
    draw = ImageDraw.Draw(picture)
    shade = lambda delta: tuple(int(v) for v in np.clip(base + delta, 0, 255))  # noqa: E731
    r = int(rng.uniform(0.08, 0.18) * min(w, h)) + 1
    cx, cy = int(rng.uniform(0.2, 0.8) * w), int(rng.uniform(0.1, 0.4) * h)
    draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=shade(80))
    peaks = [(0, h)] + [(int(x), int(rng.uniform(0.35, 0.7) * h)) for x in np.linspace(0, w, int(rng.integers(3, 7)))]
    draw.polygon([*peaks, (w, h)], fill=shade(-50))
    draw.rectangle((0, int(0.8 * h), w, h), fill=shade(-75))
    return picture, None


def _bokeh(rng, w, h, base):
    """Soft field with scattered light discs."""
    picture = _colour_clouds(rng, w, h, base, 3, 30)
    draw = ImageDraw.Draw(picture)
    for _ in range(int(rng.integers(4, 12))):
        r = int(rng.uniform(0.04, 0.15) * min(w, h)) + 1
        cx, cy = int(rng.integers(0, w)), int(rng.integers(0, h))
        delta = rng.choice([-1, 1]) * rng.uniform(35, 80)
        draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=tuple(int(v) for v in np.clip(base + delta, 0, 255)))
    return picture, None


# Real photographs: the public-domain and CC0 pictures that scikit-image ships in skimage/data (a declared
# dependency whose files are read; the package is never imported). Each is a kind of its own, so that a
# benchmark can hold some out, and each is drawn as a grey field, like the families above, from a window
# of random place and scale, mirrored or not, then recoloured around the element's class.
PHOTOGRAPHS = {
    name: f"{name}.{'jpg' if name in ('hubble_deep_field', 'rocket') else 'png'}"
    for name in (
        "astronaut", "brick", "camera", "cell", "chelsea", "coffee", "coins",
        "grass", "gravel", "hubble_deep_field", "ihc", "rocket",
    )
}  # fmt: skip


@cache
def _photograph(name: str) -> Image.Image:
    """A shipped photograph in grey, decoded once per process."""
    try:
        with Image.open(distribution("scikit-image").locate_file(f"skimage/data/{PHOTOGRAPHS[name]}")) as image:
            return image.convert("L")
    except (PackageNotFoundError, OSError) as error:
        raise FTensorError(
            f"the photograph {PHOTOGRAPHS[name]} cannot be read ({error}): install ftensor's declared "
            "dependencies with `pip install -e .` (scikit-image ships the photographs)."
        ) from error


def _photo_field(name: str):
    def field(rng, w, h):
        photo = _photograph(name)
        fit = min(photo.width / w, photo.height / h) * rng.uniform(0.3, 1.0)  # window of the element's shape
        x0, y0 = rng.uniform(0, photo.width - w * fit), rng.uniform(0, photo.height - h * fit)
        window = photo.resize((w, h), Image.Resampling.BILINEAR, box=(x0, y0, x0 + w * fit, y0 + h * fit))
        grey = np.asarray(window, np.float32) * (1 / 255)
        return np.ascontiguousarray(grey[:, ::-1]) if rng.random() < 0.5 else grey

    field.__doc__ = f"The photograph {PHOTOGRAPHS[name]}, cropped, scaled and perhaps mirrored."
    return field


PAINTED = {"blobs": _blobs, "gradient": _gradient, "scene": _scene, "bokeh": _bokeh}
FIELDS = {
    "clouds": _clouds,
    "stone": _stone,
    "low_key": _low_key,
    "high_key": _high_key,
    "skyline": _skyline,
    "foliage": _foliage,
    "waves": _waves,
    "halftone": _halftone,
    "marble": _marble,
    "wood": _wood,
    "portrait": _portrait,
    "product": _product,
    "horizon": _horizon,
    "mosaic": _mosaic,
    "streaks": _streaks,
    "vignette": _vignette,
    **{f"photo_{name}": _photo_field(name) for name in PHOTOGRAPHS},
}
EXPOSURE = {"low_key": 0.8, "high_key": -0.6}  # log-gamma bias of the tone curve: dark or light on purpose
TEXTURE_KINDS = (*PAINTED, *FIELDS)


def _grey_std(image: Image.Image) -> float:
    """Luma std from PIL's rounded integer luma: within 0.5 of the spec's float luma, and fast."""
    counts = np.asarray(image.convert("L").histogram(), np.float64)
    mean = counts @ _BINS / counts.sum()
    return float(np.sqrt(counts @ (_BINS - mean) ** 2 / counts.sum()))


def _make_visible(texture: np.ndarray, std: float, base: np.ndarray) -> np.ndarray:
    """Stretch contrast about the mean colour (a per-band table, not float pixels) until the texture clearly shows
    even after clipping (bright or dark bases); where it still does not (tiny or saturated regions), a checkerboard
    of two shades always shows."""
    image = Image.fromarray(texture)
    for _ in range(4):
        counts = np.asarray(image.histogram(), np.float64).reshape(3, 256)
        mean = (counts @ _BINS / counts.sum(axis=1))[:, None]
        table = np.clip(np.rint(mean + (_BINS - mean) * (2 * TARGET_TEXTURE_STD / max(std, 1.0))), 0, 255)
        image = image.point(table.astype(np.uint8).ravel().tolist())
        std = _grey_std(image)
        if std >= TARGET_TEXTURE_STD:
            return np.array(image)
    texture = np.array(image)
    if float(luma(texture).std()) >= MIN_TEXTURE_STD:
        return texture
    height, width = texture.shape[:2]
    cell = max(1, min(4, min(width, height) // 2))
    checker = ((np.arange(height)[:, None] // cell + np.arange(width)[None] // cell) % 2 * 2 - 1)[..., None] * 40.0
    return np.clip(np.rint(base + checker), 0, 255).astype(np.uint8)


def photo_texture(
    rng: np.random.Generator, width: int, height: int, base_rgb: np.ndarray, *, kinds: tuple[str, ...] = TEXTURE_KINDS
) -> tuple[np.ndarray, str]:
    """An (height, width, 3) uint8 photo-like texture around `base_rgb` whose luma std is ≥ the spec's 10, and
    its kind, drawn from `kinds` (a subset of TEXTURE_KINDS, so a benchmark can hold families out)."""
    unknown = [k for k in kinds if k not in PAINTED and k not in FIELDS]
    if unknown or not kinds:
        raise FTensorError(f"unknown texture kinds {unknown or '(none given)'}; choose from {', '.join(TEXTURE_KINDS)}")
    base = np.asarray(base_rgb, np.float32)
    kind = kinds[int(rng.integers(len(kinds)))]
    if kind in FIELDS:
        texture, std = _colourise(rng, FIELDS[kind](rng, width, height), base, EXPOSURE.get(kind, 0.0))
    else:
        picture, light = PAINTED[kind](rng, width, height, base)
        shift = int(rng.integers(4, 6))  # grain of 16 or 8 levels
        grain = np.frombuffer(rng.bytes(width * height), np.uint8).reshape(height, width) >> shift
        offset = 128 - (128 >> shift)  # light is stored around 128, added to every band
        light = grain + np.uint8(offset) if light is None else np.clip(light + offset + grain, 0, 255).astype(np.uint8)
        picture = ImageChops.add(picture, Image.fromarray(light).convert("RGB"), 1.0, -128)
        texture, std = np.array(picture), _grey_std(picture)
    return (texture if std >= TARGET_TEXTURE_STD else _make_visible(texture, std, base)), kind
