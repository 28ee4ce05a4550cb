"""Which typefaces, layouts and picture kinds a dataset draws from: everything, or a `seen` part for
training and a disjoint `held_out` part for measuring how a model reads designs it was never shown.

The held-out part is fixed here, by name, so every machine makes the same split: about a quarter of
each kind of variety, spread over categories: six of the 22 typefaces (a serif, a slab, a mono, a
condensed, a display and a handwritten face), two of the nine layout families, nine of the 32
picture kinds (five of the 20 procedural families and four of the 12 photographs: a cat, a cup, a
rocket launch, gravel).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from ftensor.errors import FTensorError

LAYOUTS = ("poster", "slide", "banner", "card", "photo", "strip", "story", "columns", "grid")
HELD_OUT_FONTS = ("arvo", "barlow-condensed", "ibm-plex-mono", "kalam", "lobster", "pt-serif")
HELD_OUT_LAYOUTS = ("banner", "grid")
HELD_OUT_TEXTURES = (
    *("halftone", "horizon", "mosaic", "portrait", "wood"),
    *("photo_chelsea", "photo_coffee", "photo_gravel", "photo_rocket"),
)
VARIETIES = ("all", "seen", "held_out")


@dataclass(frozen=True)
class Variety:
    name: str
    fonts: tuple[str, ...]
    layouts: tuple[str, ...]
    textures: tuple[str, ...]


@cache
def variety_named(name: str) -> Variety:
    """`all` the generator knows, the `seen` part, or the `held_out` part (disjoint from `seen`)."""
    from ftensor.data.fonts import font_families
    from ftensor.data.textures import TEXTURE_KINDS

    if name not in VARIETIES:
        raise FTensorError(f"unknown variety {name!r}; choose one of {', '.join(VARIETIES)}.")
    fonts = tuple(font_families())
    parts = ((fonts, HELD_OUT_FONTS), (LAYOUTS, HELD_OUT_LAYOUTS), (TEXTURE_KINDS, HELD_OUT_TEXTURES))
    if name == "all":
        chosen = [everything for everything, _ in parts]
    elif name == "seen":
        chosen = [tuple(x for x in everything if x not in held) for everything, held in parts]
    else:
        chosen = [tuple(x for x in everything if x in held) or everything for everything, held in parts]
    return Variety(name, *chosen)
