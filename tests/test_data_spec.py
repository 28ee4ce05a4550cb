"""Spec conformance of generated samples: every F_Tensor re-derived from its metadata, pixels checked."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image, ImageDraw

from ftensor.data.fonts import font_families
from ftensor.data.generate import mix_sizes
from ftensor.data.layout import sample_paths
from ftensor.data.render import Raster, render_line
from ftensor.data.textures import TEXTURE_KINDS
from ftensor.data.variety import LAYOUTS
from ftensor.spec import ANCHOR_LUMA, PALETTE, ROLES, SPEC_VERSION, Z_ORDER, font_sizes, luma, nearest_class

NUM_SAMPLES = 300
SIZE = 128


@pytest.fixture(scope="module")
def samples(tmp_path_factory):
    from ftensor.data.generate import generate_dataset

    data_dir = tmp_path_factory.mktemp("spec")
    generate_dataset(data_dir, NUM_SAMPLES, image_size=SIZE, seed=7, workers=2, progress=False)  # the default mix
    out = []
    for index in range(NUM_SAMPLES):
        paths = sample_paths(data_dir, index)
        image = np.asarray(Image.open(paths["image"]))
        f_tensor = np.load(paths["f_tensor"])
        meta = json.loads(paths["metadata"].read_text())
        out.append((image, f_tensor, meta))
    return out


def geometry_mask(element: dict, width: int, height: int) -> np.ndarray:
    """The pixels an element covers, re-derived from its metadata alone."""
    mask = np.zeros((height, width), bool)
    if element["kind"] in ("shape", "button") and element.get("shape") in ("ellipse", "rounded"):
        x0, y0, x1, y1 = element["geometry"]
        picture = Image.new("1", (x1 - x0, y1 - y0))
        draw = ImageDraw.Draw(picture)
        if element["shape"] == "ellipse":
            draw.ellipse((0, 0, x1 - x0 - 1, y1 - y0 - 1), fill=1)
        else:
            draw.rounded_rectangle((0, 0, x1 - x0 - 1, y1 - y0 - 1), radius=element["radius"], fill=1)
        off = (y1 - y0) + (x1 - x0)  # room for off-canvas parts
        full = np.zeros((height + 2 * off, width + 2 * off), bool)
        full[off + y0 : off + y1, off + x0 : off + x1] = np.asarray(picture, bool)
        return full[off : off + height, off : off + width]
    x0, y0, x1, y1 = element["bbox"]
    mask[y0:y1, x0:x1] = True
    return mask


def rederive(meta: dict) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(text, image, color, owner) maps painted from metadata in z order; owner = element index,
    or -(1 + element index) where a text line box of that element is on top."""
    width, height = meta["width"], meta["height"]
    text = np.zeros((height, width), np.uint8)
    image = np.zeros((height, width), np.uint8)
    owner = np.full((height, width), -(10**6), np.int64)
    order = sorted(range(len(meta["elements"])), key=lambda k: meta["elements"][k]["z"])  # stable in list order
    for k in order:
        element = meta["elements"][k]
        if element["kind"] == "text":
            for line in element["lines"]:
                x0, y0, x1, y1 = line["bbox"]
                text[y0:y1, x0:x1] = 1
                owner[y0:y1, x0:x1] = -(1 + k)
            continue
        mask = geometry_mask(element, width, height)
        owner[mask] = k
        if element["kind"] == "image":
            image[mask] = 1
    classes = np.array([e["color_class"] for e in meta["elements"]])
    color = classes[np.where(owner >= 0, owner, -owner - 1)]
    return text, image, color, owner


def test_f_tensor_rederived_from_metadata(samples):
    for image, f_tensor, meta in samples:
        width, height = meta["width"], meta["height"]
        assert f_tensor.dtype == np.uint8 and f_tensor.shape == (4, height, width)
        assert image.dtype == np.uint8 and image.shape == (height, width, 3)
        text, img, color, owner = rederive(meta)
        assert (owner > -(10**6)).all(), "the background must cover every pixel"
        np.testing.assert_array_equal(f_tensor[0], text, err_msg=f"text channel of {meta['index']}")
        np.testing.assert_array_equal(f_tensor[1], img, err_msg=f"image channel of {meta['index']}")
        np.testing.assert_array_equal(f_tensor[2], color, err_msg=f"color channel of {meta['index']}")
        hierarchy = np.array([round(255 * e["hierarchy"] + 1e-9) for e in meta["elements"]])
        expected_h = hierarchy[np.where(owner >= 0, owner, -owner - 1)]
        np.testing.assert_array_equal(f_tensor[3], expected_h, err_msg=f"hierarchy channel of {meta['index']}")


def test_metadata_follows_the_spec(samples):
    for _, _, meta in samples:
        assert meta["spec_version"] == SPEC_VERSION and meta["image_size"] == SIZE and meta["seed"] == 7
        assert min(meta["width"], meta["height"]) == SIZE and meta["width"] % 16 == meta["height"] % 16 == 0
        assert max(meta["width"], meta["height"]) <= 4 * SIZE
        elements = meta["elements"]
        kinds = [e["kind"] for e in elements]
        assert kinds[0] == "background" and kinds.count("background") == 1
        assert kinds.count("shape") <= 3 and kinds.count("image") <= 3 and kinds.count("button") <= 1
        blocks = [e for e in elements if e["kind"] == "text" and e["role"] != "button"]
        labels = [e for e in elements if e["kind"] == "text" and e["role"] == "button"]
        assert 1 <= len(blocks) <= 6, f"sample {meta['index']} has {len(blocks)} text blocks"
        assert len(labels) == kinds.count("button")
        zs = [e["z"] for e in elements]
        assert zs == sorted(zs), "elements are listed bottom to top"
        boxes = [e["bbox"] for e in blocks + labels]
        for i, a in enumerate(boxes):
            for b in boxes[i + 1 :]:
                assert not (a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]), "text blocks overlap"
        for e in elements:
            assert e["z"] == Z_ORDER[e["kind"]]
            assert e["hierarchy"] == ROLES[e["role"]].hierarchy
            assert np.all(np.abs(np.array(e["color_rgb"]) - PALETTE[e["color_class"]]) <= 16)
            assert nearest_class(np.array(e["color_rgb"])) == e["color_class"]
            if e["kind"] == "text":
                assert e["font_size"] in font_sizes(e["role"], SIZE)
                xs = [line["bbox"] for line in e["lines"]]
                assert e["bbox"] == [
                    min(b[0] for b in xs),
                    min(b[1] for b in xs),
                    max(b[2] for b in xs),
                    max(b[3] for b in xs),
                ]


def test_text_contrasts_with_everything_under_it(samples):
    for _, _, meta in samples:
        under_text = {**meta, "elements": [e for e in meta["elements"] if e["kind"] != "text"]}
        _, _, color_below, _ = rederive(under_text)
        for e in meta["elements"]:
            if e["kind"] != "text":
                continue
            for line in e["lines"]:
                x0, y0, x1, y1 = line["bbox"]
                under = np.unique(color_below[y0:y1, x0:x1])
                assert np.all(np.abs(ANCHOR_LUMA[e["color_class"]] - ANCHOR_LUMA[under]) >= 90)


def test_text_boxes_hold_ink_touching_every_edge(samples):
    """Re-render each line from its metadata (family, weight, size and rasterisation): the tight ink box
    matches, and every glyph pixel in the P_Image is as close to the text's drawn colour as its coverage
    demands."""
    for image, _, meta in samples:
        for e in meta["elements"]:
            if e["kind"] != "text":
                continue
            raster = Raster(**e["raster"])
            for line in e["lines"]:
                coverage = render_line(line["text"], e["font"], e["font_weight"], e["font_size"], raster).coverage
                x0, y0, x1, y1 = line["bbox"]
                assert coverage.shape == (y1 - y0, x1 - x0), f"ink box of {line['text']!r} in {meta['index']}"
                for edge in (coverage[0], coverage[-1], coverage[:, 0], coverage[:, -1]):
                    assert edge.max() > 0
                assert coverage.max() >= 128, "a line box holds real glyph ink"
                # A pixel with coverage a is (1 - a)·under + a·colour, so it lies within (1 - a)·255 of the colour.
                distance = np.abs(image[y0:y1, x0:x1].astype(int) - e["color_rgb"]).max(axis=2)
                assert np.all(distance <= 255 - coverage.astype(int) + 1), f"glyph colour of {line['text']!r}"


def test_images_are_textured_and_flat_elements_keep_their_colour(samples):
    for image, _, meta in samples:
        _, _, _, owner = rederive(meta)
        covered_later = np.zeros(owner.shape, bool)
        for k in range(len(meta["elements"]) - 1, -1, -1):
            e = meta["elements"][k]
            visible = owner == k
            if e["kind"] == "image":
                assert e["texture_std"] >= 10
                x0, y0, x1, y1 = e["bbox"]
                if not covered_later[y0:y1, x0:x1].any():
                    assert round(float(luma(image[y0:y1, x0:x1]).std()), 2) == e["texture_std"]
            elif e["kind"] in ("shape", "button") or e.get("fill") == "flat":
                assert np.all(image[visible] == e["color_rgb"]), f"{e['kind']} colour in {meta['index']}"
            elif e["kind"] == "background":
                assert np.all(nearest_class(image[visible]) == e["color_class"])
            x0, y0, x1, y1 = e["bbox"]
            covered_later[y0:y1, x0:x1] = True


def test_designs_vary(samples):
    layouts = {meta["layout"] for _, _, meta in samples}
    roles = {e["role"] for _, _, meta in samples for e in meta["elements"]}
    textures = {e["texture"] for _, _, meta in samples for e in meta["elements"] if e["kind"] == "image"}
    shapes = {e["shape"] for _, _, meta in samples for e in meta["elements"] if e["kind"] == "shape"}
    classes = {e["color_class"] for _, _, meta in samples for e in meta["elements"]}
    assert layouts == set(LAYOUTS)
    assert roles == set(ROLES)
    assert textures == set(TEXTURE_KINDS)
    fonts = {e["font"] for _, _, meta in samples for e in meta["elements"] if e["kind"] == "text"}
    assert fonts == set(font_families())
    sizes = {(meta["width"], meta["height"]) for _, _, meta in samples}
    assert sizes == set(mix_sizes(SIZE))
    assert shapes == {"rect", "rounded", "ellipse", "band"}
    assert classes == set(range(12))
    fills = {e.get("fill") for _, _, meta in samples for e in meta["elements"] if e["kind"] == "background"}
    assert fills == {"flat", "gradient"}


@pytest.mark.parametrize("seed, index, size", [(7, 293, 256), (5, 149, 64), (6, 164, 128), (5, 334, 256)])
def test_designs_whose_copy_found_no_contrast_still_get_a_text_block(seed, index, size):
    """These designs had no text block (their copy lay over a light and a dark element at once, where no
    class contrasts with both); the spec wants 1–6."""
    from ftensor.data.render import render_sample

    elements = render_sample(seed, index, size, size).metadata["elements"]
    blocks = [e for e in elements if e["kind"] == "text" and e["role"] != "button"]
    assert 1 <= len(blocks) <= 6
    for block in blocks:
        assert block["font_size"] in font_sizes(block["role"], size)
