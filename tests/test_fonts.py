"""The font catalogue: many families from declared packages, each drawing real ink; clear errors otherwise."""

from __future__ import annotations

import string
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from ftensor.data import fonts
from ftensor.errors import FTensorError

CHARS = string.ascii_letters + string.digits + "$%&:,.!?-'\""
SAMPLE = "Sale $9.99 & 50% off: Quick, jump! 'Why?' \"OK\" - Wg"
NOT_A_CHARACTER = chr(0x10FFFD)  # private use, mapped by no text font: draws the font's missing-glyph box
FAMILIES = [entry[0] for entry in fonts.CATALOGUE]


@pytest.fixture
def fresh_catalogue():
    fonts.font_families.cache_clear()
    fonts.load_font.cache_clear()
    yield
    fonts.font_families.cache_clear()
    fonts.load_font.cache_clear()


def ink(font: ImageFont.FreeTypeFont, text: str) -> np.ndarray:
    mask = font.getmask(text)
    if 0 in mask.size:  # nothing drawn at all
        return np.zeros((1, 1), np.uint8)
    return np.asarray(mask, dtype=np.uint8).reshape(mask.size[1], mask.size[0])


def test_the_catalogue_spans_many_families_and_categories():
    families = fonts.font_families()
    assert list(families) == sorted(families)
    assert set(families) == set(FAMILIES), "a declared font package is missing: run `pip install -e .`"
    assert len(families) >= 8 and len({f.category for f in families.values()}) >= 5
    assert {f.category for f in families.values()} <= set(fonts.CATEGORIES)
    assert all(f.regular.is_file() and f.bold.is_file() and f.package.startswith("font") for f in families.values())


def test_every_catalogue_package_is_a_declared_dependency():
    tomllib = pytest.importorskip("tomllib")
    project = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text())["project"]
    declared = {dep.split(">")[0].split("=")[0].strip() for dep in project["dependencies"]}
    assert {entry[2] for entry in fonts.CATALOGUE} <= declared


@pytest.mark.parametrize("family", FAMILIES)
def test_every_family_draws_latin_digits_and_punctuation_in_both_weights(family):
    mean_ink = {}
    for weight in fonts.WEIGHTS:
        for size in (4, 9, 16, 40):
            font = fonts.load_font(family, weight, size)
            missing = ink(font, NOT_A_CHARACTER)
            for char in CHARS:
                glyph = ink(font, char)
                assert glyph.max() > 0, f"{family} {weight} {size}px draws no ink for {char!r}"
                if size >= 16:
                    assert glyph.shape != missing.shape or not np.array_equal(glyph, missing), f"{char!r} missing"
            # The ink drawn lies inside getbbox, which the renderer crops to.
            left, top, right, bottom = font.getbbox(SAMPLE)
            canvas = Image.new("L", (right + 2 * size, bottom + 2 * size))
            ImageDraw.Draw(canvas).text((size, size), SAMPLE, font=font, fill=255)
            x0, y0, x1, y1 = (edge - size for edge in canvas.getbbox())
            assert left <= x0 and top <= y0 and x1 <= right and y1 <= bottom, f"{family} {weight} {size}px"
        mean_ink[weight] = ink(fonts.load_font(family, weight, 40), SAMPLE).mean()
    assert mean_ink["bold"] >= mean_ink["regular"], f"{family}: the bold file draws lighter than the regular one"


def test_an_unknown_family_or_weight_is_a_clear_error():
    with pytest.raises(FTensorError, match="unknown font family 'comic-sans'; known families: .*source-sans-pro"):
        fonts.load_font("comic-sans", "regular", 12)
    with pytest.raises(FTensorError, match="unknown font weight 'italic'; use one of regular, bold"):
        fonts.load_font("source-sans-pro", "italic", 12)


def test_without_the_core_package_a_system_font_stands_in(monkeypatch, fresh_catalogue):
    dejavu = fonts.SYSTEM_FONTS[0]
    if not Path(dejavu[1]).is_file():
        pytest.skip("no DejaVu Sans on this machine")
    monkeypatch.setitem(sys.modules, "font_source_sans_pro", None)  # as if not installed
    families = fonts.font_families()
    assert "source-sans-pro" not in families and families["dejavu-sans"].package == "system"
    assert "roboto" in families  # optional families stay
    assert ink(fonts.load_font("dejavu-sans", "bold", 12), SAMPLE).max() > 0


def test_no_font_at_all_is_a_clear_error_naming_the_install_command(monkeypatch, fresh_catalogue):
    for entry in fonts.CATALOGUE:
        monkeypatch.setitem(sys.modules, entry[2].replace("-", "_"), None)  # as if not installed
    monkeypatch.setattr(fonts, "SYSTEM_FONTS", (("none", "/nonexistent/a.ttf", "/nonexistent/b.ttf"),))
    with pytest.raises(FTensorError, match=r"pip install -e \.`.*pip install font-source-sans-pro"):
        fonts.font_families()
