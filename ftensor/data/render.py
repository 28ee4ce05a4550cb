"""Render one synthetic design and its F_Tensor, exactly as docs/FTENSOR_SPEC.md defines them.

A sample depends only on (seed, index, image_size): every random choice comes from one generator
seeded with both, so any range of indices can be made anywhere and merged.

Drawing keeps three maps in step with the pixels: the class and hierarchy of the topmost element,
and the image mask. Each element is painted through one boolean (or coverage) mask that serves both
the pixels and the maps, so the F_Tensor is exact by construction.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from PIL import Image, ImageDraw

from ftensor.data.fonts import font_files, load_font
from ftensor.data.textures import photo_texture
from ftensor.data.vocabulary import BODY_WORDS, BUTTON_LABELS, HEADLINE_WORDS, SUBHEADING_WORDS
from ftensor.spec import (
    ANCHOR_LUMA,
    COLOR_JITTER,
    MIN_TEXT_CONTRAST,
    NUM_CLASSES,
    PALETTE,
    ROLES,
    SPEC_VERSION,
    Z_ORDER,
    encode_f_tensor,
    font_sizes,
    luma,
)

LAYOUTS = ("poster", "slide", "banner", "card", "photo")
Box = tuple[int, int, int, int]


@dataclass
class Sample:
    image: np.ndarray  # (S, S, 3) uint8 RGB
    f_tensor: np.ndarray  # (4, S, S) uint8, spec encoding
    metadata: dict


@dataclass
class Line:
    text: str
    coverage: np.ndarray  # (h, w) uint8 glyph coverage, cropped to its ink
    dx: int  # ink offset from the line's pen position
    dy: int

    @property
    def width(self) -> int:
        return self.coverage.shape[1]


@dataclass
class Canvas:
    size: int
    pixels: np.ndarray = field(init=False)
    color: np.ndarray = field(init=False)
    hierarchy: np.ndarray = field(init=False)
    image_mask: np.ndarray = field(init=False)
    text_mask: np.ndarray = field(init=False)
    elements: list[dict] = field(default_factory=list)

    def __post_init__(self) -> None:
        s = self.size
        self.pixels = np.zeros((s, s, 3), np.uint8)
        self.color = np.zeros((s, s), np.uint8)
        self.hierarchy = np.zeros((s, s), np.float32)
        self.image_mask = np.zeros((s, s), np.uint8)
        self.text_mask = np.zeros((s, s), np.uint8)

    def claim(self, box: Box, mask: np.ndarray | None, color_class: int, role: str) -> None:
        """Make an element the topmost one over `mask` (or the whole box) inside `box`."""
        x0, y0, x1, y1 = box
        region = (slice(y0, y1), slice(x0, x1))
        if mask is None:
            self.color[region] = color_class
            self.hierarchy[region] = ROLES[role].hierarchy
        else:
            self.color[region][mask] = color_class
            self.hierarchy[region][mask] = ROLES[role].hierarchy


def clip_box(box: Box, size: int) -> Box:
    x0, y0, x1, y1 = box
    return max(x0, 0), max(y0, 0), min(x1, size), min(y1, size)


def overlaps(a: Box, b: Box) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def union(boxes: list[Box]) -> Box:
    return (min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes), max(b[3] for b in boxes))


def jittered(rng: np.random.Generator, color_class: int) -> np.ndarray:
    """The drawn colour of an element: its anchor plus integer jitter in [-16, 16] per channel."""
    jitter = rng.integers(-COLOR_JITTER, COLOR_JITTER + 1, size=3)
    return np.clip(PALETTE[color_class] + jitter, 0, 255).astype(np.uint8)


def shape_mask(kind: str, width: int, height: int, radius: int = 0) -> np.ndarray:
    """Boolean pixel mask of a flat shape filling a width × height box (aliased, as it is drawn)."""
    if kind in ("rect", "band"):
        return np.ones((height, width), bool)
    mask = Image.new("1", (width, height))
    draw = ImageDraw.Draw(mask)
    if kind == "ellipse":
        draw.ellipse((0, 0, width - 1, height - 1), fill=1)
    else:
        draw.rounded_rectangle((0, 0, width - 1, height - 1), radius=radius, fill=1)
    return np.asarray(mask, bool)


def render_line(text: str, weight: str, size: int) -> Line | None:
    """Rasterise one line of text; None when it renders no ink."""
    font = load_font(weight, size)
    left, top, right, bottom = font.getbbox(text)
    pad = 2
    mask = Image.new("L", (right - left + 2 * pad, bottom - top + 2 * pad))
    ImageDraw.Draw(mask).text((pad - left, pad - top), text, font=font, fill=255)
    ink = mask.getbbox()
    if ink is None:
        return None
    coverage = np.asarray(mask.crop(ink))
    return Line(text, coverage, ink[0] - pad + left, ink[1] - pad + top)


class Designer:
    """Lays out and paints one design on a canvas, recording each element's metadata."""

    def __init__(self, rng: np.random.Generator, size: int) -> None:
        self.rng = rng
        self.size = size
        self.canvas = Canvas(size)
        self.text_boxes: list[Box] = []  # ink boxes of text blocks and button labels: never overlap

    # -- helpers --------------------------------------------------------------------------------
    def frac(self, lo: float, hi: float) -> int:
        return int(round(self.rng.uniform(lo, hi) * self.size))

    def pick_class(self, exclude: tuple[int, ...] = ()) -> int:
        choices = [c for c in range(NUM_CLASSES) if c not in exclude]
        return int(self.rng.choice(choices))

    def record(self, kind: str, role: str, box: Box, color_class: int, rgb: np.ndarray, **extra) -> None:
        self.canvas.elements.append(
            {
                "kind": kind,
                "role": role,
                "bbox": list(map(int, box)),
                "color_class": int(color_class),
                "color_rgb": [int(v) for v in rgb],
                "hierarchy": ROLES[role].hierarchy,
                "z": Z_ORDER[kind],
                **extra,
            }
        )

    # -- z 0..3 ---------------------------------------------------------------------------------
    def background(self, color_class: int) -> None:
        s, c = self.size, self.canvas
        first = jittered(self.rng, color_class)
        if self.rng.random() < 0.5:
            c.pixels[:] = first
            extra = {"fill": "flat"}
        else:
            second = jittered(self.rng, color_class)
            angle = float(self.rng.uniform(0, 360))
            ys, xs = np.mgrid[0:s, 0:s].astype(np.float32)
            t = xs * np.cos(np.radians(angle)) + ys * np.sin(np.radians(angle))
            t = ((t - t.min()) / max(float(t.max() - t.min()), 1.0))[..., None]
            c.pixels[:] = np.rint(first + (second.astype(np.float32) - first) * t).astype(np.uint8)
            extra = {"fill": "gradient", "gradient_to_rgb": [int(v) for v in second], "gradient_angle": angle}
        c.claim((0, 0, s, s), None, color_class, "background")
        self.record("background", "background", (0, 0, s, s), color_class, first, **extra)

    def shape(self, kind: str, geometry: Box, color_class: int) -> None:
        x0, y0, x1, y1 = geometry
        radius = int(min(x1 - x0, y1 - y0) * self.rng.uniform(0.1, 0.3)) if kind == "rounded" else 0
        box = clip_box(geometry, self.size)
        if box[2] <= box[0] or box[3] <= box[1]:
            return
        mask = shape_mask(kind, x1 - x0, y1 - y0, radius)[box[1] - y0 : box[3] - y0, box[0] - x0 : box[2] - x0]
        rgb = jittered(self.rng, color_class)
        self.canvas.pixels[box[1] : box[3], box[0] : box[2]][mask] = rgb
        self.canvas.claim(box, mask, color_class, "decoration")
        self.record("shape", "decoration", box, color_class, rgb, shape=kind, geometry=list(geometry), radius=radius)

    def image(self, box: Box, color_class: int) -> None:
        x0, y0, x1, y1 = box = clip_box(box, self.size)
        if x1 - x0 < 4 or y1 - y0 < 4:
            return
        rgb = jittered(self.rng, color_class)
        texture, kind = photo_texture(self.rng, x1 - x0, y1 - y0, rgb)
        c = self.canvas
        c.pixels[y0:y1, x0:x1] = texture
        c.image_mask[y0:y1, x0:x1] = 1
        c.claim(box, None, color_class, "image")
        grey_std = round(float(luma(texture).std()), 2)
        self.record("image", "image", box, color_class, rgb, texture=kind, texture_std=grey_std)

    # -- z 4: text ------------------------------------------------------------------------------
    def contrasting_class(self, boxes: list[Box], prefer: tuple[int, ...] = (0, 1)) -> int | None:
        """A text class whose anchor luma differs by ≥ 90 from every class under the line boxes."""
        under = np.unique(np.concatenate([self.canvas.color[y0:y1, x0:x1].ravel() for x0, y0, x1, y1 in boxes]))
        ok = [c for c in range(NUM_CLASSES) if np.all(np.abs(ANCHOR_LUMA[c] - ANCHOR_LUMA[under]) >= MIN_TEXT_CONTRAST)]
        if not ok:
            return None
        preferred = [c for c in ok if c in prefer]
        pool = preferred if preferred and self.rng.random() < 0.7 else ok
        return int(self.rng.choice(pool))

    def paint_text(
        self, role: str, weight: str, size: int, lines: list[Line], origins: list[tuple[int, int]], color_class: int
    ) -> Box:
        c = self.canvas
        rgb = jittered(self.rng, color_class)
        line_records, boxes = [], []
        for line, (x, y) in zip(lines, origins):
            h, w = line.coverage.shape
            box = (x, y, x + w, y + h)
            alpha = line.coverage.astype(np.float32)[..., None] / 255.0
            region = c.pixels[y : y + h, x : x + w]
            region[:] = np.rint(region * (1 - alpha) + rgb.astype(np.float32) * alpha).astype(np.uint8)
            c.text_mask[y : y + h, x : x + w] = 1
            c.claim(box, None, color_class, role)
            boxes.append(box)
            line_records.append({"text": line.text, "bbox": list(box)})
        block = union(boxes)
        self.record(
            "text",
            role,
            block,
            color_class,
            rgb,
            text="\n".join(line.text for line in lines),
            font=f"{font_files()[weight].stem}",
            font_weight=weight,
            font_size=size,
            lines=line_records,
        )
        return block

    def words_to_lines(self, role: str, weight: str, size: int, max_width: int, max_lines: int) -> list[Line]:
        """Greedy word wrap of role-appropriate words into at most `max_lines` inked lines."""
        vocab = {"headline": HEADLINE_WORDS, "subheading": SUBHEADING_WORDS}.get(role, BODY_WORDS)
        n_words = {"headline": (1, 4), "subheading": (2, 7), "body": (6, 24), "caption": (2, 8)}[role]
        words = [str(w) for w in self.rng.choice(vocab, size=int(self.rng.integers(*n_words)))]
        words[0] = words[0].capitalize()
        if role == "caption" and self.rng.random() < 0.4:
            words = [w.upper() for w in words]
        font = load_font(weight, size)
        texts, current = [], ""
        for word in words:
            candidate = f"{current} {word}".strip()
            if current and font.getlength(candidate) > max_width:
                texts.append(current)
                current = word
            else:
                current = candidate
        texts.append(current)
        lines = [render_line(t, weight, size) for t in texts[:max_lines]]
        return [line for line in lines if line is not None and line.width <= max_width]

    def text_flow(self, area: Box, align: str, roles: list[str]) -> tuple[int, int]:
        """Stack text blocks top to bottom inside `area`; returns the y where the flow ended and blocks made."""
        ax0, ay0, ax1, ay1 = area
        y, made = ay0, 0
        for role in roles:
            weight = str(self.rng.choice(ROLES[role].weights))
            size = int(self.rng.choice(font_sizes(role, self.size)))
            max_lines = {"headline": 2, "subheading": 2, "body": 4, "caption": 2}[role]
            lines = self.words_to_lines(role, weight, size, ax1 - ax0, max_lines)
            font = load_font(weight, size)
            ascent, descent = font.getmetrics()
            pitch = int(round((ascent + descent) * self.rng.uniform(1.0, 1.25)))
            origins = []
            for k, line in enumerate(lines):
                x = {"left": ax0, "center": (ax0 + ax1 - line.width) // 2, "right": ax1 - line.width}[align]
                origins.append((x, y + k * pitch + line.dy))
            # Keep the lines that fit in the area, then check the block against every other text block.
            keep = [(ln, o) for ln, o in zip(lines, origins) if o[1] + ln.coverage.shape[0] <= ay1 and o[1] >= 0]
            if not keep:
                continue
            lines, origins = [k[0] for k in keep], [k[1] for k in keep]
            boxes = [(x, yy, x + ln.width, yy + ln.coverage.shape[0]) for ln, (x, yy) in zip(lines, origins)]
            block = union(boxes)
            if any(overlaps(block, other) for other in self.text_boxes):
                continue
            color_class = self.contrasting_class(boxes)
            if color_class is None:
                continue
            self.paint_text(role, weight, size, lines, origins, color_class)
            self.text_boxes.append(block)
            made += 1
            y = block[3] + self.frac(0.02, 0.06)
            if y >= ay1:
                break
        return y, made

    def button(self, area: Box, y: int, align: str) -> None:
        """A rounded rectangle with a one-line bold label, below the text flow if there is room."""
        ax0, _, ax1, ay1 = area
        size = int(self.rng.choice(font_sizes("button", self.size)))
        line = render_line(str(self.rng.choice(BUTTON_LABELS)), "bold", size)
        if line is None:
            return
        pad_x, pad_y = max(2, int(size * 0.8)), max(2, int(size * 0.45))
        w, h = line.width + 2 * pad_x, line.coverage.shape[0] + 2 * pad_y
        if w > ax1 - ax0 or y + h > ay1:
            return
        x0 = {"left": ax0, "center": (ax0 + ax1 - w) // 2, "right": ax1 - w}[align]
        rect = (x0, y, x0 + w, y + h)
        if any(overlaps(rect, other) for other in self.text_boxes):
            return
        button_class = self.pick_class()
        radius = int(h * self.rng.uniform(0.2, 0.5))
        mask = shape_mask("rounded", w, h, radius)
        rgb = jittered(self.rng, button_class)
        self.canvas.pixels[y : y + h, x0 : x0 + w][mask] = rgb
        self.canvas.claim(rect, mask, button_class, "button")
        self.record("button", "button", rect, button_class, rgb, shape="rounded", geometry=list(rect), radius=radius)
        origin = (x0 + pad_x, y + pad_y)
        label_box = (origin[0], origin[1], origin[0] + line.width, origin[1] + line.coverage.shape[0])
        label_class = self.contrasting_class([label_box])
        self.paint_text("button", "bold", size, [line], [origin], label_class)
        self.text_boxes.append(label_box)


def text_roles(rng: np.random.Generator) -> list[str]:
    """Up to six text roles in reading order: usually a headline, then supporting copy."""
    roles = ["headline"] if rng.random() < 0.9 else []
    if rng.random() < 0.6:
        roles.append("subheading")
    roles += ["body"] * int(rng.integers(0, 3))
    if rng.random() < 0.5:
        roles.append("caption")
    return (roles or ["body"])[:6]


def render_sample(seed: int, index: int, image_size: int) -> Sample:
    """Design number `index` of the dataset made with `seed`, at image_size × image_size."""
    rng = np.random.default_rng([seed, index])
    s = image_size
    d = Designer(rng, s)
    layout = LAYOUTS[int(rng.integers(len(LAYOUTS)))]
    align = str(rng.choice(["left", "center", "right"], p=[0.5, 0.35, 0.15]))
    m = d.frac(0.05, 0.09)  # margin
    bg = d.pick_class()
    d.background(bg)
    shapes: list[tuple[str, Box]] = []
    images: list[Box] = []
    text_area = (m, m, s - m, s - m)

    if layout == "poster":
        split = d.frac(0.35, 0.55)
        if rng.random() < 0.5:  # picture on top, copy below
            images.append((m, m, s - m, split))
            text_area = (m, split + d.frac(0.03, 0.06), s - m, s - m)
        else:
            images.append((m, s - split + m, s - m, s - m))
            text_area = (m, m, s - m, s - split)
    elif layout == "slide":
        col = d.frac(0.38, 0.5)
        if rng.random() < 0.5:
            images.append((s - m - col, m, s - m, s - m))
            text_area = (m, m, s - 2 * m - col, s - m)
        else:
            images.append((m, m, m + col, s - m))
            text_area = (2 * m + col, m, s - m, s - m)
        align = "left"
    elif layout == "banner":
        top, height = d.frac(0.2, 0.4), d.frac(0.3, 0.45)
        shapes.append(("band", (0, top, s, top + height)))
        text_area = (m, top + m // 2, s - m, top + height - m // 2)
        for corner_y in (m, s - m - d.frac(0.12, 0.2)):
            if rng.random() < 0.4 and (corner_y + d.frac(0.12, 0.2) < top or corner_y > top + height):
                w = d.frac(0.15, 0.3)
                x0 = m if rng.random() < 0.5 else s - m - w
                images.append((x0, corner_y, x0 + w, min(corner_y + d.frac(0.12, 0.2), s - m)))
    elif layout == "card":
        inset = d.frac(0.06, 0.12)
        shapes.append(("rounded", (inset, inset, s - inset, s - inset)))
        inner = inset + m // 2 + 1
        if rng.random() < 0.7:
            split = d.frac(0.38, 0.5)
            images.append((inner, inner, s - inner, split))
            text_area = (inner, split + d.frac(0.02, 0.05), s - inner, s - inner)
        else:
            text_area = (inner, inner, s - inner, s - inner)
        align = "center"
    else:  # photo: full-bleed picture with copy over it
        images.append((0, 0, s, s))
        text_area = (m, d.frac(0.1, 0.5), s - m, s - m)

    for _ in range(int(rng.integers(0, 3))):  # free decorations, possibly bleeding off the canvas
        if len(shapes) >= 3:
            break
        w, h = d.frac(0.1, 0.45), d.frac(0.1, 0.45)
        x0, y0 = int(rng.integers(-w // 2, s - w // 2)), int(rng.integers(-h // 2, s - h // 2))
        shapes.insert(0, (str(rng.choice(["rect", "rounded", "ellipse"])), (x0, y0, x0 + w, y0 + h)))
    if len(images) < 3 and layout != "photo" and rng.random() < 0.25:
        w, h = d.frac(0.12, 0.25), d.frac(0.12, 0.25)
        x0, y0 = int(rng.integers(0, s - w)), int(rng.integers(0, s - h))
        images.append((x0, y0, x0 + w, y0 + h))

    for kind, geometry in shapes[:3]:
        d.shape(kind, geometry, d.pick_class(exclude=(bg,)))
    for box in images[:3]:
        d.image(box, d.pick_class())

    y, made = d.text_flow(text_area, align, text_roles(rng))
    for _ in range(4):  # the spec wants at least one text block: retry anywhere with plain copy
        if made:
            break
        y, made = d.text_flow((m, d.frac(0.0, 0.6), s - m, s - m), align, ["headline", "body", "caption"])
    for _ in range(32):  # still none (1 design in ~1,000: lines over a light and a dark element at once):
        if made:  # one caption in a small area anywhere, until one sits where some class contrasts
            break
        w, h = d.frac(0.3, 0.6), d.frac(0.08, 0.15)
        x0, y0 = int(rng.integers(0, s - w + 1)), int(rng.integers(0, s - h + 1))
        _, made = d.text_flow((x0, y0, x0 + w, y0 + h), "left", ["caption"])
    if rng.random() < 0.5:
        d.button(text_area, y, align)

    c = d.canvas
    f_tensor = encode_f_tensor(c.text_mask, c.image_mask, c.color, c.hierarchy)
    metadata = {
        "spec_version": SPEC_VERSION,
        "index": index,
        "seed": seed,
        "image_size": s,
        "layout": layout,
        "elements": sorted(c.elements, key=lambda e: e["z"]),  # bottom to top; paint order within a z
        "stats": {
            "class_pixels": np.bincount(f_tensor[2].ravel(), minlength=NUM_CLASSES).tolist(),
            "text_pixels": int(f_tensor[0].sum(dtype=np.int64)),
            "image_pixels": int(f_tensor[1].sum(dtype=np.int64)),
        },
    }
    return Sample(c.pixels, f_tensor, metadata)
