"""Font catalogue: the typeface families the generator draws text in.

Why many families: a model trained on one typeface learns that typeface's shapes, not "text"; sans, serif, slab,
mono, condensed, display, rounded and handwritten families make it generalise to the type real designs use.

Why declared dependencies: every family comes from a PyPI package listed in pyproject.toml (`font-*` and
`fontpkg-*`, each shipping its files in `<module>/files/`), so the same bytes are drawn on every machine and
nothing is downloaded at run time. A missing optional package only removes its family; without the core
package (font-source-sans-pro) the OS's DejaVu Sans or Arial stands in, as before.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from PIL import ImageFont

from ftensor.errors import FTensorError

CATEGORIES = ("sans", "serif", "slab", "mono", "condensed", "display", "rounded", "handwritten")
WEIGHTS = ("regular", "bold")
CORE_FAMILY = "source-sans-pro"

# name, category, PyPI package, regular file, bold file (both in the package's files/ folder). A bold of None:
# the package ships a single weight, so that file, the family's heaviest available, also serves as its bold.
CATALOGUE: tuple[tuple[str, str, str, str, str | None], ...] = (
    ("source-sans-pro", "sans", "font-source-sans-pro", "SourceSansPro-Regular.ttf", "SourceSansPro-Bold.ttf"),
    ("roboto", "sans", "font-roboto", "Roboto-Regular.ttf", "Roboto-Bold.ttf"),
    ("lato", "sans", "font-lato", "Lato-Regular.ttf", "Lato-Bold.ttf"),
    ("manrope", "sans", "font-manrope", "Manrope-Regular.ttf", "Manrope-Bold.ttf"),
    ("hanken-grotesk", "sans", "font-hanken-grotesk", "HankenGrotesk-Regular.otf", "HankenGrotesk-Bold.otf"),
    ("red-hat-display", "sans", "font-rhd", "RedHatDisplay-Regular.ttf", "RedHatDisplay-Bold.ttf"),
    ("source-serif-pro", "serif", "font-source-serif-pro", "SourceSerifPro-Regular.ttf", "SourceSerifPro-Bold.ttf"),
    ("caladea", "serif", "font-caladea", "Caladea-Regular.ttf", "Caladea-Bold.ttf"),
    ("pt-serif", "serif", "fontpkg-pt-serif", "PT_Serif-Web-Regular.ttf", "PT_Serif-Web-Bold.ttf"),
    ("zilla-slab", "slab", "fontpkg-zilla-slab", "ZillaSlab-Regular.ttf", "ZillaSlab-Bold.ttf"),
    ("arvo", "slab", "fontpkg-arvo", "Arvo-Regular.ttf", "Arvo-Bold.ttf"),
    ("space-mono", "mono", "fontpkg-space-mono", "SpaceMono-Regular.ttf", "SpaceMono-Bold.ttf"),
    ("ibm-plex-mono", "mono", "fontpkg-ibm-plex-mono", "IBMPlexMono-Regular.ttf", "IBMPlexMono-Bold.ttf"),
    ("fjalla-one", "condensed", "font-fjallaone", "FjallaOne-Regular.ttf", None),
    (
        "barlow-condensed",
        "condensed",
        "fontpkg-barlow-condensed",
        "BarlowCondensed-Regular.ttf",
        "BarlowCondensed-Bold.ttf",
    ),
    ("abril-fatface", "display", "fontpkg-abril-fatface", "AbrilFatface-Regular.ttf", None),
    ("lobster", "display", "fontpkg-lobster", "Lobster-Regular.ttf", None),
    ("fredoka-one", "rounded", "font-fredoka-one", "FredokaOne-Regular.ttf", None),
    ("varela-round", "rounded", "fontpkg-varela-round", "VarelaRound-Regular.ttf", None),
    ("kalam", "handwritten", "fontpkg-kalam", "Kalam-Regular.ttf", "Kalam-Bold.ttf"),
    ("intuitive", "handwritten", "font-intuitive", "Intuitive.ttf", None),
    ("indie-flower", "handwritten", "fontpkg-indie-flower", "IndieFlower-Regular.ttf", None),
)

# Stand-ins (all sans) when the core package is missing: DejaVu on Debian/Ubuntu, Arial on macOS; the first found.
_DEJAVU, _ARIAL = "/usr/share/fonts/truetype/dejavu/DejaVuSans", "/System/Library/Fonts/Supplemental/Arial"
SYSTEM_FONTS: tuple[tuple[str, str, str], ...] = (
    ("dejavu-sans", f"{_DEJAVU}.ttf", f"{_DEJAVU}-Bold.ttf"),
    ("arial", "/Library/Fonts/Arial.ttf", "/Library/Fonts/Arial Bold.ttf"),
    ("arial", f"{_ARIAL}.ttf", f"{_ARIAL} Bold.ttf"),
)


@dataclass(frozen=True)
class FontFamily:
    """One typeface family: its regular and bold files and the package (or "system") they come from."""

    name: str
    category: str
    regular: Path
    bold: Path  # the bold file, or the heaviest available one where the package ships a single weight
    package: str


def _files_dir(package: str) -> Path | None:
    """`<module>/files` of an installed font package, found without importing it; None when it is not installed."""
    try:
        spec = importlib.util.find_spec(package.replace("-", "_"))
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations))) / "files"


@lru_cache(maxsize=1)
def font_families() -> dict[str, FontFamily]:
    """Every usable family, by name (sorted): installed packages whose files exist, else a system stand-in."""
    found: dict[str, FontFamily] = {}
    for name, category, package, regular, bold in CATALOGUE:
        files = _files_dir(package)
        if files is not None and (files / regular).is_file() and (files / (bold or regular)).is_file():
            found[name] = FontFamily(name, category, files / regular, files / (bold or regular), package)
    if CORE_FAMILY not in found:
        for name, regular, bold in SYSTEM_FONTS:
            if Path(regular).is_file() and Path(bold).is_file():
                found[name] = FontFamily(name, "sans", Path(regular), Path(bold), "system")
                break
    if not found:
        raise FTensorError(
            "no usable font found: install the declared font packages with `pip install -e .` "
            "(at least `pip install font-source-sans-pro`), or Debian's fonts-dejavu-core."
        )
    return dict(sorted(found.items()))


@lru_cache(maxsize=4096)
def load_font(family: str, weight: str, size: int) -> ImageFont.FreeTypeFont:
    """A cached FreeType font of a catalogue family, weight ('regular' or 'bold') and pixel size."""
    families = font_families()
    if family not in families:
        raise FTensorError(f"unknown font family {family!r}; known families: {', '.join(families)}")
    if weight not in WEIGHTS:
        raise FTensorError(f"unknown font weight {weight!r}; use one of {', '.join(WEIGHTS)}")
    return ImageFont.truetype(str(getattr(families[family], weight)), size)
