"""Errors of the instruments package.

``InstrumentError`` carries every ``Problem`` found in a definition, each with a
stable code, the file, the row (for tables) and the place inside the file.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from scoring import ProforientError


@dataclass(frozen=True)
class Problem:
    code: str
    file: str
    row: int | None
    where: str
    message: str
    unit: str = "row"
    """What ``row`` counts: a table's data row, or a ``line`` of a text file such as changes.md."""

    def __str__(self) -> str:
        place = self.file + (f" {self.unit} {self.row}" if self.row is not None else "")
        where = f" {self.where}:" if self.where else ""
        return f"[{place}]{where} {self.message} ({self.code})"


class ErrorCode(StrEnum):
    """The codes the loader gives a definition's problems (documented in FORMAT.md). Callers map
    them (e.g. the API answers 404 for ``UNKNOWN``), never the messages."""

    MISSING = "E000"
    """A file or folder is missing."""
    UNKNOWN = "E100"
    """No such instrument, or no such version of it, among the shipped (and configured) definitions."""


class InstrumentError(ProforientError, ValueError):
    """A definition (instrument, catalogue) is invalid; ``problems`` lists every fault."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = list(problems)
        lines = "\n".join(f"  {p}" for p in self.problems)
        super().__init__(f"{len(self.problems)} problem(s) in the definition:\n{lines}")


class UnknownInstrument(InstrumentError):
    """The instrument (or the version asked for) does not exist: ``problems`` say what does."""
