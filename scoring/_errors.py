"""The exception tree shared by every proforient package.

``ProforientError`` is the base. ``ResponseValidationError`` lists every bad
answer (row, item, value); ``ScoringError`` is a misuse of the engine (wrong
shape, wrong spec). ``instruments.InstrumentError`` also derives from the base.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


class ProforientError(Exception):
    """Base of every error proforient raises on purpose."""


class ScoringError(ProforientError, ValueError):
    """The engine was called with something it cannot score (shape, dtype, spec)."""


@dataclass(frozen=True)
class BadAnswer:
    """One rejected answer. ``row`` is 1-based (the data row, header excluded)."""

    row: int
    respondent: str | None
    item: str
    value: object
    reason: str

    def __post_init__(self) -> None:
        if isinstance(self.value, np.generic):  # show 5, not np.int64(5)
            object.__setattr__(self, "value", self.value.item())

    def __str__(self) -> str:
        who = f" (id {self.respondent})" if self.respondent not in (None, "") else ""
        return f"row {self.row}{who}, item {self.item}: {self.value!r} {self.reason}"


class ResponseValidationError(ProforientError, ValueError):
    """Answers that do not fit the instrument; ``problems`` lists each one."""

    def __init__(self, problems: list[BadAnswer], total: int | None = None) -> None:
        self.problems = list(problems)
        self.total = total if total is not None else len(self.problems)
        shown = "\n".join(f"  {p}" for p in self.problems[:20])
        more = f"\n  … and {self.total - 20} more" if self.total > 20 else ""
        super().__init__(f"{self.total} answer(s) rejected:\n{shown}{more}")
