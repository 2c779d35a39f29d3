"""The fonts reports draw with, and a check that they cover every character.

Georgian needs Noto Sans Georgian (Debian ``fonts-noto-core``): DejaVu Sans
has the ordinary Georgian letters but not the capitals (Mtavruli), and
matplotlib's default font has none. Latin text and symbols fall back to
Noto Sans, then DejaVu Sans (which has the minus sign and ≥/≤).
"""

from __future__ import annotations

import warnings
from functools import lru_cache
from pathlib import Path

from ._errors import MissingGlyphWarning, ReportError

FAMILIES: tuple[str, ...] = ("Noto Sans Georgian", "Noto Sans", "DejaVu Sans")
"""Font fallback order, for charts and for the PDF's CSS."""

CSS_FONT_STACK = ", ".join(f'"{f}"' for f in FAMILIES) + ", sans-serif"

_IGNORABLE = frozenset("\n\r\t\u00ad\u200b\u200c\u200d\ufeff")


@lru_cache(maxsize=1)
def font_files() -> tuple[Path, ...]:
    """Paths of the fonts in ``FAMILIES``; a clear error when Georgian is not installed."""
    from matplotlib import font_manager

    paths = []
    for family in FAMILIES:
        try:
            found = font_manager.findfont(font_manager.FontProperties(family=family), fallback_to_default=False)
        except ValueError:
            if family == FAMILIES[0]:
                raise ReportError(
                    "the font 'Noto Sans Georgian' is not installed; Georgian text would print "
                    "as boxes. Install the Debian package fonts-noto-core "
                    "(apt-get install fonts-noto-core) and delete matplotlib's font cache "
                    "(~/.cache/matplotlib) so that it is found."
                ) from None
            continue
        paths.append(Path(found))
    return tuple(paths)


@lru_cache(maxsize=1)
def covered_characters() -> frozenset[int]:
    """Code points that at least one configured font can draw."""
    from fontTools.ttLib import TTFont

    out: set[int] = set()
    for path in font_files():
        font = TTFont(str(path), lazy=True)
        try:
            out.update(font.getBestCmap() or {})
        finally:
            font.close()
    return frozenset(out)


def missing_glyphs(text: str) -> list[str]:
    """Characters of ``text`` that no configured font covers, in order of first use."""
    covered = covered_characters()
    return sorted(
        {ch for ch in set(text) if ord(ch) not in covered and ch not in _IGNORABLE},
        key=text.index,
    )


def warn_missing_glyphs(text: str, where: str) -> None:
    """Emit ``MissingGlyphWarning`` naming the characters that would print as boxes."""
    missing = missing_glyphs(text)
    if missing:
        shown = ", ".join(f"{ch!r} (U+{ord(ch):04X})" for ch in missing[:12])
        warnings.warn(
            MissingGlyphWarning(f"{where}: no font in {', '.join(FAMILIES)} has {shown}"),
            stacklevel=3,
        )
