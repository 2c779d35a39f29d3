"""Scale scores, proration, bands and validity indices for any instrument.

All functions take an int8 block (rows × items, ``MISSING`` = skipped) and
return arrays; scale sums are one masked matrix product, as ``items %*% keys``
in R's ``psych::scoreItems``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._spec import MISSING, InstrumentSpec


@dataclass(frozen=True)
class ScaleBlock:
    """Per-scale results for a block of rows (rows × scales unless noted)."""

    raw: np.ndarray
    """Sum of keyed answers over the answered items (reversed items as min + max − x)."""
    section_raw: np.ndarray
    """The same sums split by section: rows × sections × scales."""
    score: np.ndarray
    """The reported score: mean of answered items, or the sum prorated to all items; NaN if not scored."""
    n_answered: np.ndarray
    n_missing: np.ndarray
    prorated: np.ndarray
    """True where the score was scored with some items missing."""
    band: np.ndarray
    """Index into the scale's bands; −1 where not scored."""
    n_missing_total: np.ndarray
    longest_run: np.ndarray
    flags: dict[str, np.ndarray]


def keyed_sums(spec: InstrumentSpec, x: np.ndarray, answered: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Raw keyed sums per section and scale, and the answered-item counts.

    Two matrix products on the int8 block cast to float32 (exact for these
    integer sums): the skipped items' ``MISSING`` stand-ins are cancelled with
    the answered counts instead of masking every answer first.

    Returns ``(section_raw, counts, total)``: rows × sections × scales; rows ×
    (scales + 1) answered counts, the last column over all items; and the
    plain sum of every answered value per row.
    """
    n_sec, n_sc = len(spec.sections), len(spec.scales)
    k = n_sec * n_sc
    xf = x.astype(np.float32)
    af = answered.astype(np.float32)
    raw = xf @ spec.value_keys
    cnt = af @ spec.count_keys
    # a skipped item entered as MISSING·key; its answered count is 0: add back −MISSING·key
    raw += np.float32(-int(MISSING)) * (spec.value_keys.sum(axis=0) - cnt[:, : k + 1])
    total = raw[:, k]  # sum of all answered values (the likes, for like/dislike items)
    raw = raw[:, :k] + cnt[:, k + 1 : 2 * k + 1]  # min + max for each answered reversed item
    if spec.ipsative:
        x0 = np.where(answered, xf, np.float32(0))
        left, right = spec.forced_keys
        forced = np.maximum(-x0, 0) @ left + np.maximum(x0, 0) @ right
        raw += np.repeat(forced[:, None, :], n_sec, axis=1).reshape(len(x), k) * spec.section_share
    return raw.reshape(len(x), n_sec, n_sc), cnt[:, 2 * k + 1 :], total


def band_index(values: np.ndarray, below: tuple[float, ...]) -> np.ndarray:
    """Band number for each value (band k holds below[k-1] ≤ v < below[k]); −1 for NaN."""
    idx = np.searchsorted(np.asarray(below, dtype=np.float64), values, side="right")
    return np.where(np.isnan(values), -1, idx).astype(np.int8)


def band_matrix(values: np.ndarray, limits: np.ndarray) -> np.ndarray:
    """``band_index`` for all columns at once; ``limits`` is columns × k, padded with +inf."""
    band = np.zeros(values.shape, dtype=np.int8)
    for k in range(limits.shape[1]):
        band += values >= limits[:, k]
    return np.where(np.isnan(values), np.int8(-1), band)


def longest_run(x: np.ndarray, answered: np.ndarray) -> np.ndarray:
    """Longest run of identical consecutive answers per row; a skipped item breaks a run.

    Works on the transposed block so each step is one contiguous vector
    operation across all rows (a loop over items, never over respondents).
    """
    n, j = x.shape
    if j == 0:
        return np.zeros(n, dtype=np.int16)
    eq = np.ascontiguousarray(((x[:, 1:] == x[:, :-1]) & answered[:, 1:] & answered[:, :-1]).T)
    dtype = np.uint8 if j <= 256 else np.int16
    run = np.zeros(n, dtype=dtype)
    best = np.zeros(n, dtype=dtype)
    for c in range(j - 1):
        np.add(run, 1, out=run)
        np.multiply(run, eq[c], out=run)
        np.maximum(best, run, out=best)
    return np.where(answered.any(axis=1), best.astype(np.int16) + 1, 0).astype(np.int16)


def score_scales(spec: InstrumentSpec, x: np.ndarray, seconds: np.ndarray | None = None) -> ScaleBlock:
    """Score every scale of ``spec`` for the int8 block ``x`` and compute validity flags."""
    answered = x != MISSING
    section_raw, counts, total = keyed_sums(spec, x, answered)
    n_ans = counts[:, :-1].astype(np.int16)
    answered_total = counts[:, -1].astype(np.int32)
    n_items = np.array([s.n_items for s in spec.scales], dtype=np.int16)
    min_ans = np.array([s.min_answered for s in spec.scales], dtype=np.int16)
    scored = n_ans >= min_ans
    raw = (
        section_raw.sum(axis=1, dtype=np.float64) if len(spec.sections) > 1 else section_raw[:, 0, :].astype(np.float64)
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        as_sum = raw * n_items / n_ans
        as_mean = raw / n_ans
    score = np.where(scored, np.where(spec.mean_scored, as_mean, as_sum), np.nan)
    n_missing = n_items - n_ans
    band = band_matrix(score, spec.band_limits)
    run = longest_run(x, answered)
    flags = {
        "scale_not_scored": ~scored.all(axis=1),
        "prorated": (scored & (n_missing > 0)).any(axis=1),
        "long_string": run >= spec.max_run,
        "nothing_answered": answered_total == 0,
    }
    if spec.kind == "binary":
        likes = total.astype(np.int32)
        some = answered_total >= 2
        flags["all_like"] = some & (likes == answered_total)
        flags["all_dislike"] = some & (likes == 0)
    if seconds is not None and spec.min_seconds_per_item > 0:
        with np.errstate(divide="ignore", invalid="ignore"):
            per_item = seconds / answered_total
        flags["too_fast"] = (answered_total > 0) & (per_item < spec.min_seconds_per_item)
    return ScaleBlock(
        raw=raw,
        section_raw=section_raw,
        score=score,
        n_answered=n_ans,
        n_missing=n_missing.astype(np.int16),
        prorated=scored & (n_missing > 0),
        band=band,
        n_missing_total=(x.shape[1] - answered_total).astype(np.int16),
        longest_run=run,
        flags=flags,
    )
