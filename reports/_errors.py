"""Errors and warnings raised by ``reports``.

``ReportError`` (a ``ProforientError`` and ``ValueError``) means the caller gave
something a report cannot be built from (a wrong instrument, an unknown
language or audience, a missing text). ``MissingGlyphWarning`` means some
text would be drawn as empty boxes because no configured font has the glyph.
"""

from __future__ import annotations

from scoring import ProforientError


class ReportError(ProforientError, ValueError):
    """A report cannot be built or rendered from what was given."""


class MissingGlyphWarning(UserWarning):
    """Some characters have no glyph in the configured fonts (they would print as boxes)."""
