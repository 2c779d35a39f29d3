"""Scale scores, proration, bands and validity indices for any instrument.

All functions take an int8 block (rows × items, ``MISSING`` = skipped) and
return arrays; scale sums are one masked matrix product, as ``items %*% keys``
in R's ``psych::scoreItems``.
"""

from __future__ import annotations

import math
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


def band_matrix(values: np.ndarray, limits: np.ndarray, work: Work | None = None, owner: object = None) -> np.ndarray:
    """``band_index`` for all columns at once; ``limits`` is columns × k, padded with +inf.

    With ``work``, each limit is compared as a whole rows × columns array (``Work.rows``;
    ``owner`` names whose limits they are)."""
    band = np.zeros(values.shape, dtype=np.int8)
    for k in range(limits.shape[1]):
        lim = limits[:, k] if work is None else work.rows(owner, f"band_limit_{k}", limits[:, k], len(values))
        band += values >= lim
    band[np.isnan(values)] = -1
    return band


class Work:
    """Scratch arrays reused from block to block (one per thread): ``get`` hands out a view of a
    buffer grown as needed, so a block's temporaries are not allocated again for every block;
    ``rows`` repeats a per-column constant down ``n`` rows, so operations with it run over
    contiguous memory instead of broadcasting row by row."""

    def __init__(self) -> None:
        self._buffers: dict[str, np.ndarray] = {}
        self._rows: dict[tuple[object, str], np.ndarray] = {}

    def get(self, name: str, shape: tuple[int, ...], dtype: type) -> np.ndarray:
        size = math.prod(shape)
        buf = self._buffers.get(name)
        if buf is None or buf.dtype != dtype or buf.size < size:
            buf = self._buffers[name] = np.empty(max(size, 1), dtype=dtype)
        return buf[:size].reshape(shape)

    def rows(self, owner: object, name: str, row: np.ndarray, n: int) -> np.ndarray:
        """``row`` repeated ``n`` times (rows × len(row)); ``owner`` and ``name`` identify it."""
        key = (owner, name)
        tile = self._rows.get(key)
        if tile is None or len(tile) < n:
            if len(self._rows) > 64:  # many instruments: keep only the recent ones
                self._rows.clear()
            tile = self._rows[key] = np.tile(row, (max(n, 1), 1))
        return tile[:n]


def row_any(mask: np.ndarray) -> np.ndarray:
    """``mask.any(axis=1)`` for a rows × few matrix, across contiguous rows of its transpose
    (a reduction along a short last axis pays a call per row)."""
    out: np.ndarray = np.asarray(np.ascontiguousarray(mask.T).any(axis=0))
    return out


def _chunk_runs() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For each 16-bit chunk of flags (bit k = the k-th flag): the run of set flags at its start,
    at its end, and the longest run inside it."""
    bits = ((np.arange(1 << 16, dtype=np.uint32)[:, None] >> np.arange(16, dtype=np.uint32)) & 1).astype(np.uint8)
    pad = np.zeros((1 << 16, 1), dtype=np.uint8)
    pre = np.argmin(np.hstack([bits, pad]), axis=1)
    suf = np.argmin(np.hstack([bits[:, ::-1], pad]), axis=1)
    mid = np.zeros(1 << 16, dtype=np.uint8)
    run = np.zeros(1 << 16, dtype=np.uint8)
    for k in range(16):
        run = (run + 1) * bits[:, k]
        np.maximum(mid, run, out=mid)
    return pre.astype(np.uint8), suf.astype(np.uint8), mid


_PRE, _SUF, _MID = _chunk_runs()


def equal_pairs(x: np.ndarray, work: Work | None = None) -> np.ndarray:
    """Rows × w flags, w ≥ items a multiple of 16: item c is answered and equal to item c + 1
    (False from the last item on)."""
    work = work or Work()
    n, j = x.shape
    w = -(-j // 16) * 16 or 16
    flat = np.ascontiguousarray(x).reshape(-1)
    eq = work.get("eq", (n * j,), np.bool_)
    ans = work.get("ans", (n * j,), np.bool_)
    if n * j:
        np.equal(flat[1:], flat[:-1], out=eq[:-1])
        np.not_equal(flat, MISSING, out=ans)
        np.logical_and(eq[:-1], ans[1:], out=eq[:-1])  # equal to an answered item: both answered
    out = work.get("eq16", (n, w), np.bool_)
    out[:, : j - 1] = eq.reshape(n, j)[:, : j - 1]
    out[:, max(j - 1, 0) :] = False
    return out


def longest_pairs(eq: np.ndarray) -> np.ndarray:
    """Per row, the longest run of consecutive True flags (``equal_pairs``; columns a multiple of 16).

    The flags are packed sixteen to a chunk, and a row is read a chunk at a time with
    look-up tables (the run at a chunk's start, at its end, inside it): the run carried
    into a chunk is extended by its leading flags, and continues past it only if the
    chunk is full. Returned as uint8 (uint16 from 256 columns).
    """
    n, w = eq.shape
    dtype = np.uint8 if w <= 256 else np.uint16
    if w == 0 or n == 0:
        return np.zeros(n, dtype=dtype)
    packed = np.packbits(eq.reshape(-1), bitorder="little").view("<u2").reshape(n, w // 16)
    chunks = np.ascontiguousarray(packed.T)
    best = np.take(_MID, chunks).max(axis=0).astype(dtype, copy=False)
    if w == 16:
        return np.asarray(best)
    pre, suf = np.take(_PRE, chunks), np.take(_SUF, chunks)
    full = np.equal(chunks, 0xFFFF).view(np.uint8)
    np.negative(full, out=full)  # 0xFF where all sixteen are set
    if dtype != np.uint8:
        full = full.astype(np.uint16) * np.uint16(0x101)
    run = suf[0].astype(dtype)
    t = np.empty(n, dtype=dtype)
    for c in range(1, chunks.shape[0]):
        np.add(run, pre[c], out=t)
        np.maximum(best, t, out=best)
        np.bitwise_and(run, full[c], out=run)
        np.add(run, suf[c], out=run)
    return np.asarray(best)


def longest_run(x: np.ndarray, answered: np.ndarray | None = None, work: Work | None = None) -> np.ndarray:
    """Longest run of identical consecutive answers per row; a skipped item breaks a run.

    A loop over chunks of packed flags, never over respondents (see ``longest_pairs``).
    """
    n, j = x.shape
    if j == 0:
        return np.zeros(n, dtype=np.int16)
    anyone = (x != MISSING).any(axis=1) if answered is None else answered.any(axis=1)
    best = longest_pairs(equal_pairs(x, work))
    return np.where(anyone, best.astype(np.int16) + 1, 0).astype(np.int16)


def grouped_sums(
    spec: InstrumentSpec, x: np.ndarray, work: Work | None = None, rows: int = 1024
) -> tuple[np.ndarray, ...]:
    """Section sums, scale sums and counts by the one-product plan ``spec.group_plan`` (not None).

    The block is converted to ``x + 128`` (float32) ``rows`` at a time, so the product's
    input stays in cache. Returns float32 arrays (section sums, scale sums, answered per
    scale, answered items, sum of the answers).
    """
    plan = spec.group_plan
    assert plan is not None
    work = work or Work()
    n, j = x.shape
    g = plan.groups.shape[1]
    v = work.get("group_sums", (n, g), np.float32)
    c = work.get("group_counts", (n, g), np.float32)
    u8 = work.get("u8", (min(rows, n), j), np.uint8)
    uf = work.get("uf", (min(rows, n), j), np.float32)
    codes = x.view(np.uint8)
    for s in range(0, n, rows):
        e = min(s + rows, n)
        np.bitwise_xor(codes[s:e], np.uint8(0x80), out=u8[: e - s])  # x + 128: MISSING → 0
        np.copyto(uf[: e - s], u8[: e - s])
        np.matmul(uf[: e - s], plan.groups, out=v[s:e])
    # answered items per group: ⌊(S + ½) / (128 + lo)⌋, exact in float32 for these small sums
    np.add(v, np.float32(0.5), out=c)
    np.multiply(c, np.float32(1) / plan.divisor, out=c)
    np.floor(c, out=c)
    v -= c * np.float32(128)  # Σ v per group
    section = v.copy() if plan.signs is None else v @ plan.signs
    if plan.offsets is not None:
        section += c @ plan.offsets
    scale = section if plan.sections is None else section @ plan.sections
    ones = np.ones(g, dtype=np.float32)
    return section, scale, c @ plan.counts, c @ ones, v @ ones


def _sums(spec: InstrumentSpec, x: np.ndarray, work: Work | None) -> tuple[np.ndarray, ...]:
    """(section_raw float32, raw float64, answered per scale int16, answered int32, sum of answers float32)."""
    n_sec, n_sc = len(spec.sections), len(spec.scales)
    if spec.group_plan is not None:
        section, scale, per_scale, answered, total = grouped_sums(spec, x, work)
        return (
            section.reshape(len(x), n_sec, n_sc),
            scale.astype(np.float64),
            per_scale.astype(np.int16),
            answered.astype(np.int32),
            total,
        )
    section_raw, counts, total = keyed_sums(spec, x, x != MISSING)
    raw = section_raw.sum(axis=1, dtype=np.float64) if n_sec > 1 else section_raw[:, 0, :].astype(np.float64)
    return section_raw, raw, counts[:, :n_sc].astype(np.int16), counts[:, n_sc].astype(np.int32), total


def score_scales(
    spec: InstrumentSpec, x: np.ndarray, seconds: np.ndarray | None = None, work: Work | None = None
) -> ScaleBlock:
    """Score every scale of ``spec`` for the int8 block ``x`` and compute validity flags."""
    work = work or Work()
    n = len(x)
    section_raw, raw, n_ans, answered_total, total = _sums(spec, x, work)
    not_scored = n_ans < work.rows(spec, "min_answered", spec.scale_min_answered, n)
    scored = ~not_scored
    # score = raw · (1 for a mean, items for a prorated sum) / answered; NaN where not scored
    answered = n_ans.astype(np.float64)
    np.copyto(answered, np.nan, where=not_scored)
    score = raw * work.rows(spec, "multiplier", spec.score_multiplier, n)
    with np.errstate(divide="ignore", invalid="ignore"):
        np.divide(score, answered, out=score)
    n_missing = work.rows(spec, "items", spec.scale_items, n) - n_ans
    prorated = scored & (n_missing > 0)
    band = band_matrix(score, spec.band_limits, work, spec)
    run = longest_pairs(equal_pairs(x, work)).astype(np.int16)
    np.add(run, np.int16(1), out=run)
    nothing = answered_total == 0
    run[nothing] = 0
    flags = {
        "scale_not_scored": row_any(not_scored),
        "prorated": row_any(prorated),
        "long_string": run >= spec.max_run,
        "nothing_answered": nothing,
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
        n_missing=n_missing,
        prorated=prorated,
        band=band,
        n_missing_total=(x.shape[1] - answered_total).astype(np.int16),
        longest_run=run,
        flags=flags,
    )
