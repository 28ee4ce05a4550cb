"""Font resolution: a declared dependency first (same glyphs, same bytes on every machine), then the OS.

Never downloads. Returns a regular and a bold TrueType file.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from PIL import ImageFont

from ftensor.errors import FTensorError

# Fallbacks when the `font-source-sans-pro` package is missing: DejaVu on Debian/Ubuntu, Arial on macOS.
SYSTEM_FONTS = (
    ("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"),
    ("/Library/Fonts/Arial.ttf", "/Library/Fonts/Arial Bold.ttf"),
    ("/System/Library/Fonts/Supplemental/Arial.ttf", "/System/Library/Fonts/Supplemental/Arial Bold.ttf"),
)


@lru_cache(maxsize=1)
def font_files() -> dict[str, Path]:
    """Paths of the regular and bold fonts the generator draws with."""
    try:
        import font_source_sans_pro

        files = Path(font_source_sans_pro.font_directory)
        candidates = [(files / "SourceSansPro-Regular.ttf", files / "SourceSansPro-Bold.ttf")]
    except ImportError:
        candidates = []
    candidates += [(Path(regular), Path(bold)) for regular, bold in SYSTEM_FONTS]
    for regular, bold in candidates:
        if regular.is_file() and bold.is_file():
            return {"regular": regular, "bold": bold}
    raise FTensorError(
        "no usable font found: install the declared dependency with `pip install font-source-sans-pro` "
        "(or Debian's fonts-dejavu-core)."
    )


@lru_cache(maxsize=256)
def load_font(weight: str, size: int) -> ImageFont.FreeTypeFont:
    """A cached FreeType font of the given weight ('regular' or 'bold') and pixel size."""
    return ImageFont.truetype(str(font_files()[weight]), size)
