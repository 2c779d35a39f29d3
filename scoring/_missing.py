"""How a scale is scored when items were skipped: an explicit, named policy.

``MissingPolicy`` is passed to ``scoring.score`` (and to the research
toolkit's ``item_analysis``); without one, the engine scores as every
definition says: the scale's score is the mean of its answered items, or their
sum prorated to all items, when at least the scale's ``min_answered`` items
were answered (by default at most 20 % missing), and is not scored otherwise.

Methods
-------
``prorate``
    The definition's rule above; ``min_answered`` may override every scale's
    minimum (e.g. 1 to score whatever was answered).
``median`` / ``mean``
    Each skipped item counts as the item's median (or mean) raw answer over
    the rows being scored, reversed like an answer when the item is reversed:
    psych's ``scoreItems(impute = "median" | "mean")`` (Revelle, 2024). The
    values are fitted once over the whole matrix passed to ``score`` (``fit``),
    or given (e.g. from a norm sample). Unlike psych, a row still needs the
    scale's minimum of answered items (``min_answered``; psych scores even a
    row that answered nothing, from medians alone).

Every score row produced under a policy names it (``missing_policy`` column,
``MissingPolicy.describe``), and the validity flags say ``prorated`` or
``imputed`` for the rows that needed it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

import numpy as np

from ._errors import ScoringError
from ._scales import ScaleBlock, band_matrix
from ._spec import MISSING, InstrumentSpec

Method = Literal["prorate", "median", "mean"]
METHODS: tuple[Method, ...] = ("prorate", "median", "mean")


@dataclass(frozen=True)
class MissingPolicy:
    """The missing-data policy of scale scores; see the module docstring.

    Examples
    --------
    >>> MissingPolicy(min_answered=2).describe()
    'prorate: the mean of the answered items (a sum prorated to all items), when at least 2 of its items are answered'
    >>> MissingPolicy("median").describe()[:57]
    "impute median: a skipped item counts as the item's median"
    """

    method: Method = "prorate"
    min_answered: int | None = None
    """At least this many answered items per scale (None: each scale's own ``min_answered``)."""
    values: tuple[float, ...] | None = None
    """Raw value imputed for each item (median/mean only); fitted by ``fit`` when None."""

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ScoringError(f"missing-data method must be one of {', '.join(METHODS)}, got {self.method!r}")
        if self.min_answered is not None and self.min_answered < 1:
            raise ScoringError(f"min_answered must be at least 1, got {self.min_answered}")
        if self.method == "prorate" and self.values is not None:
            raise ScoringError("imputation values go with method 'median' or 'mean', not 'prorate'")

    @property
    def imputes(self) -> bool:
        return self.method != "prorate"

    def describe(self) -> str:
        """One sentence naming the policy (shown in reports and score files)."""
        if self.min_answered is None:
            when = "at least the scale's own minimum of items is answered (min_answered; default: at most 20 % missing)"
        else:
            when = f"at least {self.min_answered} of its items are answered"
        if self.method == "prorate":
            return f"prorate: the mean of the answered items (a sum prorated to all items), when {when}"
        return (
            f"impute {self.method}: a skipped item counts as the item's {self.method} answer in the data "
            f'(psych scoreItems impute = "{self.method}"), when {when}'
        )

    def fit(self, spec: InstrumentSpec, x: np.ndarray) -> MissingPolicy:
        """The same policy with every item's imputation value taken from ``x`` (int8, ``MISSING``)."""
        if not self.imputes:
            return self
        values = []
        for j in range(x.shape[1]):
            col = x[:, j]
            col = col[col != MISSING].astype(np.float64)
            if len(col) == 0:
                raise ScoringError(
                    f"{spec.ref}: nobody answered item {spec.item_ids[j]}; its {self.method} cannot be imputed"
                )
            values.append(float(np.median(col)) if self.method == "median" else float(col.mean()))
        return replace(self, values=tuple(values))

    def rescore(self, spec: InstrumentSpec, x: np.ndarray, block: ScaleBlock) -> ScaleBlock:
        """Scale scores, bands and missing-data flags of ``block`` recomputed under this policy."""
        n_items = np.array([s.n_items for s in spec.scales], dtype=np.int16)
        own = np.array([s.min_answered for s in spec.scales], dtype=np.int16)
        need = own if self.min_answered is None else np.minimum(np.int16(self.min_answered), n_items)
        n_ans = block.n_answered
        scored = (n_ans >= need) & (n_ans > 0)
        with np.errstate(divide="ignore", invalid="ignore"):
            if self.imputes:
                if spec.ipsative:
                    raise ScoringError(f"{spec.ref} is ipsative (forced choices): skipped answers cannot be imputed")
                if self.values is None or len(self.values) != len(spec.items):
                    raise ScoringError("imputation values are missing or do not match the items; call fit first")
                v = np.asarray(self.values, dtype=np.float64)
                keyed = spec.keys.astype(np.float64) * v[:, None] + spec.reverse_offset.astype(np.float64)
                keyed *= spec.membership.astype(np.float64)
                total = block.raw + (x == MISSING).astype(np.float64) @ keyed
                value = np.where(spec.mean_scored, total / n_items, total)
            else:
                value = np.where(spec.mean_scored, block.raw / n_ans, block.raw * n_items / n_ans)
        score = np.where(scored, value, np.nan)
        gaps = scored & (block.n_missing > 0)
        flags = {k: v for k, v in block.flags.items() if k != "prorated"}
        flags["scale_not_scored"] = np.asarray(~scored.all(axis=1), dtype=bool)
        flags["imputed" if self.imputes else "prorated"] = np.asarray(gaps.any(axis=1), dtype=bool)
        return replace(
            block,
            score=score,
            prorated=gaps,
            band=band_matrix(score, spec.band_limits),
            flags=flags,
        )


__all__ = ["METHODS", "MissingPolicy"]
