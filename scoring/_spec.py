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

    @cached_property
    def scale_items(self) -> np.ndarray:
        """Items per scale (int16)."""
        return np.array([s.n_items for s in self.scales], dtype=np.int16)

    @cached_property
    def scale_min_answered(self) -> np.ndarray:
        return np.array([s.min_answered for s in self.scales], dtype=np.int16)

    @cached_property
    def score_multiplier(self) -> np.ndarray:
        """1 for a mean-scored scale, its number of items for a prorated sum: score = raw · this / answered."""
        return np.where(self.mean_scored, 1.0, self.scale_items.astype(np.float64))

    @cached_property
    def group_plan(self) -> GroupPlan | None:
        """The one-product plan for scale sums and counts (see ``GroupPlan``); None where it does not
        apply (forced choices, or a group of items too large for the packed encoding)."""
        return GroupPlan.of(self)

    def scale_index(self, role: str) -> list[int]:
        return [k for k, s in enumerate(self.scales) if s.role == role]


_OFFSET = 128
"""``x + 128`` turns an int8 answer into 0 for ``MISSING`` and a positive number otherwise."""


@dataclass(frozen=True, eq=False)
class GroupPlan:
    """Scale sums and answered counts from one matrix product, without a separate mask.

    Items are grouped by (section, scale, key sign); items on no scale form one more
    group. The answers enter as ``u = x + 128`` (``MISSING`` → 0, an answer v → v + 128),
    so one product ``u @ groups`` gives, per group, ``S = Σ v + 128·c`` over its ``c``
    answered items. With every answer in [lo, hi], ``S`` lies in [c·(128 + lo), c·(128 + hi)];
    these intervals do not overlap while ``c·(hi − lo) < 128 + lo``, so ``c = S // (128 + lo)``
    and ``Σ v = S − 128·c`` exactly (all sums are small integers, exact in float32).
    Everything else is a small product of the group sums and counts: section sums
    (``v @ signs + c @ offsets``, a reversed item counting min + max − x), scale sums,
    answered items per scale and in all, and the plain sum of the answers.
    """

    groups: np.ndarray
    """items × groups, 0/1 (float32)."""
    divisor: np.float32
    """128 + the lowest valid answer."""
    signs: np.ndarray | None
    """groups × (sections·scales): the key sign of each group's cell; None when that is the identity."""
    offsets: np.ndarray | None
    """groups × (sections·scales): min + max per answered reversed item; None without reversed items."""
    sections: np.ndarray | None
    """(sections·scales) × scales, 0/1: a scale's sum over its sections; None with one section."""
    counts: np.ndarray
    """groups × scales, 0/1: answered items per scale."""

    @classmethod
    def of(cls, spec: InstrumentSpec) -> GroupPlan | None:
        if spec.ipsative:
            return None
        lo, hi = min(spec.valid_values), max(spec.valid_values)
        n_sec, n_sc = len(spec.sections), len(spec.scales)
        k = n_sec * n_sc
        index: dict[tuple[int, int, int], int] = {}
        member = []
        for it in spec.items:
            if it.scale is None:
                key = (-1, -1, 1)
            elif abs(it.keyed) == 1:
                key = (spec.sections.index(it.section), it.scale, it.keyed)
            else:
                return None
            member.append(index.setdefault(key, len(index)))
        g = len(index)
        groups = np.zeros((len(spec.items), g), dtype=np.float32)
        groups[np.arange(len(spec.items)), member] = 1
        if (groups.sum(axis=0) * (hi - lo) >= _OFFSET + lo).any():
            return None
        signs = np.zeros((g, k), dtype=np.float32)
        offsets = np.zeros((g, k), dtype=np.float32)
        counts = np.zeros((g, n_sc), dtype=np.float32)
        for (sec, sc, sign), col in index.items():
            if sc < 0:
                continue
            signs[col, sec * n_sc + sc] = sign
            if sign < 0 and spec.kind != "paired":
                offsets[col, sec * n_sc + sc] = spec.min + spec.max
            counts[col, sc] = 1
        sections = np.tile(np.eye(n_sc, dtype=np.float32), (n_sec, 1))
        return cls(
            groups=groups,
            divisor=np.float32(_OFFSET + lo),
            signs=None if signs.shape == (g, g) and (signs == np.eye(g)).all() else signs,
            offsets=offsets if offsets.any() else None,
            sections=sections if n_sec > 1 else None,
            counts=counts,
        )
