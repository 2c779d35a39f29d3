"""What the engine needs to know about an instrument, as plain numbers.

``instruments.scoring_spec`` compiles a validated definition into an
``InstrumentSpec``; the engine never sees texts or files. Key matrices are
built once here so scoring is a few matrix products.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Literal

import numpy as np

from ._errors import ScoringError

ENGINE_VERSION = "1.0.0"
MISSING = np.int8(-128)
"""The code for a skipped item in an int8 response matrix."""

Kind = Literal["ordinal", "binary", "paired"]


@dataclass(frozen=True)
class ScaleSpec:
    id: str
    role: str
    score: Literal["mean", "sum"]
    n_items: int
    min_answered: int
    band_ids: tuple[str, ...]
    band_below: tuple[float, ...]
    """Upper (exclusive) limits of every band but the last."""
    letter: str | None = None
    interventions: tuple[str, ...] = ()
    poles: tuple[str, str] | None = None
    """(negative, positive) pole letters of a bipolar dimension."""
    pole_riasec: tuple[str, str] | None = None
    """RIASEC letters each pole is known to fit, e.g. ("SE", "IR")."""


@dataclass(frozen=True)
class ItemKey:
    """How one item enters the scales: ``scale``×``keyed`` or a forced choice."""

    id: str
    section: str
    scale: int | None
    keyed: int
    left_scale: int | None = None
    right_scale: int | None = None
    repeat_of: int | None = None


@dataclass(frozen=True, eq=False)
class InstrumentSpec:
    id: str
    version: str
    content_hash: str
    model: str
    kind: Kind
    min: int
    max: int
    items: tuple[ItemKey, ...]
    scales: tuple[ScaleSpec, ...]
    sections: tuple[str, ...]
    params: dict[str, object] = field(default_factory=dict)
    max_run: int = 15
    min_seconds_per_item: float = 0.0
    missing_codes: tuple[str, ...] = ()
    """Answers that mean "not answered" in data files (stripped, lower-case), read as ``MISSING``."""

    def __post_init__(self) -> None:
        if self.min >= self.max:
            raise ScoringError(f"{self.ref}: min ({self.min}) must be below max ({self.max})")
        for it in self.items:
            for s in (it.scale, it.left_scale, it.right_scale):
                if s is not None and not 0 <= s < len(self.scales):
                    raise ScoringError(f"{self.ref}: item {it.id} points at scale #{s}")

    @property
    def ref(self) -> str:
        return f"{self.id}@{self.version}"

    @property
    def item_ids(self) -> tuple[str, ...]:
        return tuple(i.id for i in self.items)

    @property
    def ipsative(self) -> bool:
        return any(i.left_scale is not None for i in self.items)

    @property
    def valid_values(self) -> tuple[int, ...]:
        if self.kind == "paired":
            return tuple(range(-self.max, 0)) + tuple(range(1, self.max + 1))
        return tuple(range(self.min, self.max + 1))

    # -- key matrices (items × scales) ------------------------------------------
    @cached_property
    def keys(self) -> np.ndarray:
        """+1/−1 per scored item and scale; for paired items the sign of the right pole."""
        k = np.zeros((len(self.items), len(self.scales)), dtype=np.float32)
        for j, it in enumerate(self.items):
            if it.scale is not None:
                k[j, it.scale] = it.keyed
        return k

    @cached_property
    def reverse_offset(self) -> np.ndarray:
        """min + max for reversed items, so a reversed answer x counts min + max − x."""
        off = np.zeros_like(self.keys)
        if self.kind != "paired":
            off[self.keys < 0] = self.min + self.max
        return off

    @cached_property
    def forced_keys(self) -> tuple[np.ndarray, np.ndarray]:
        """(left, right) 0/1 matrices for forced choices between scales (ipsative)."""
        left = np.zeros_like(self.keys)
        right = np.zeros_like(self.keys)
        for j, it in enumerate(self.items):
            if it.left_scale is not None and it.right_scale is not None:
                left[j, it.left_scale] = 1
                right[j, it.right_scale] = 1
        return left, right

    @cached_property
    def membership(self) -> np.ndarray:
        """1 where an item counts towards a scale (for answered/missing counts)."""
        left, right = self.forced_keys
        return np.asarray(((self.keys != 0) | (left != 0) | (right != 0)).astype(np.float32))

    @cached_property
    def repeat_pairs(self) -> tuple[tuple[int, int], ...]:
        """(original, repeat) column pairs for the inconsistency index."""
        return tuple((it.repeat_of, j) for j, it in enumerate(self.items) if it.repeat_of is not None)

    @cached_property
    def band_limits(self) -> np.ndarray:
        """scales × k upper band limits, padded with +inf (see ``band_matrix``)."""
        k = max((len(s.band_below) for s in self.scales), default=0)
        out = np.full((len(self.scales), max(k, 1)), np.inf)
        for j, s in enumerate(self.scales):
            out[j, : len(s.band_below)] = s.band_below
        return out

    @cached_property
    def mean_scored(self) -> np.ndarray:
        return np.array([s.score == "mean" for s in self.scales])

    @cached_property
    def section_share(self) -> np.ndarray:
        """(sections·scales,) 1 for the first section only: forced-choice sums land there."""
        out = np.zeros((len(self.sections), len(self.scales)), dtype=np.float32)
        out[0] = 1
        return out.ravel()

    def _by_section(self, m: np.ndarray) -> np.ndarray:
        sec = np.array([[it.section == s for s in self.sections] for it in self.items], dtype=np.float32)
        return np.asarray((sec[:, :, None] * m[:, None, :]).reshape(len(self.items), -1))

    @cached_property
    def section_keys(self) -> np.ndarray:
        """items × (sections·scales): ``keys`` split by the items' sections."""
        return self._by_section(self.keys)

    @cached_property
    def value_keys(self) -> np.ndarray:
        """items × (sections·scales + 1), applied to the answers: [section keys | ones]."""
        ones = np.ones((len(self.items), 1), dtype=np.float32)
        return np.hstack([self.section_keys, ones])

    @cached_property
    def count_keys(self) -> np.ndarray:
        """items × (2·sections·scales + scales + 2), applied to the answered mask:
        [section keys | ones | section reverse offsets | membership | ones]."""
        ones = np.ones((len(self.items), 1), dtype=np.float32)
        return np.hstack([self.value_keys, self._by_section(self.reverse_offset), self.membership, ones])

    def scale_index(self, role: str) -> list[int]:
        return [k for k, s in enumerate(self.scales) if s.role == role]
