"""The engine: score a whole matrix of administrations in blocks.

``score`` validates the matrix, splits it into row blocks (cache-sized, so a
block's transpose stays in cache), scores the blocks on one thread per core
(numpy releases the GIL in the heavy operations; BLAS is kept to one thread
meanwhile) and stitches the per-block results. There is no Python loop over respondents.
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, fields, is_dataclass
from typing import Any, cast

import numpy as np
import pandas as pd
from threadpoolctl import ThreadpoolController

from ._bipolar import BipolarScores, score_bipolar, type_string
from ._decision import LEVELS, STATUSES, DecisionScores, score_decision
from ._errors import ScoringError
from ._holland import COHERENCE, CONSISTENCY, LETTERS, HollandScores, code_strings, score_holland
from ._holland_indices import differentiation_indices
from ._missing import MissingPolicy
from ._parse import as_codes, codes_valid
from ._scales import ScaleBlock, Work, score_scales
from ._spec import ENGINE_VERSION, InstrumentSpec

BLOCK_ROWS = 8_192


@dataclass(frozen=True, eq=False)
class ScoreResult:
    """Scores of many administrations of one instrument, with what they depend on."""

    spec: InstrumentSpec
    ids: np.ndarray | None
    scales: ScaleBlock
    decision: DecisionScores | None = None
    holland: HollandScores | None = None
    bipolar: BipolarScores | None = None
    engine_version: str = ENGINE_VERSION
    missing: MissingPolicy | None = None
    """The missing-data policy the scores were computed under (None: each definition's own rule)."""

    def __len__(self) -> int:
        return int(self.scales.score.shape[0])

    @property
    def provenance(self) -> dict[str, str]:
        out = {
            "instrument": self.spec.id,
            "instrument_version": self.spec.version,
            "instrument_hash": self.spec.content_hash[:12],
            "engine_version": self.engine_version,
        }
        if self.missing is not None:
            out["missing_policy"] = self.missing.describe()
        return out

    @property
    def flags(self) -> dict[str, np.ndarray]:
        """Every validity flag (rows,), generic and model-specific, by name."""
        out = dict(self.scales.flags)
        if self.holland is not None:
            h = self.holland
            out.update(
                code_not_computed=h.n_codes == 0,
                code_tied=h.n_codes > 1,
                code_unstable=h.unstable,
                flat_profile=h.flat,
                depressed_profile=h.depressed,
            )
        if self.bipolar is not None:
            out["inconsistent"] = self.bipolar.inconsistent
        return out

    def to_frame(self) -> pd.DataFrame:
        """One row per administration; language-neutral ids (reports add the words)."""
        return pd.DataFrame(_columns(self))

    def rows(self) -> list[dict[str, object]]:
        """The same as ``to_frame`` as plain dicts (NaN → None), without building a DataFrame."""
        cols = _columns(self)
        lists = [[_plain(v) for v in np.asarray(c, dtype=object)] for c in cols.values()]
        return [dict(zip(cols, vals, strict=True)) for vals in zip(*lists, strict=True)]

    def records(self, aspirations: Any = None) -> list[Any]:
        """One typed, versioned ``ScoreRecord`` per row (see ``scoring._record``); ``aspirations``:
        per row, the aspirations as given, each ``(text, code)``."""
        from ._record import records_of

        return list(records_of(self, aspirations))


def _empty_like_rows(part: Any, n: int) -> Any:
    """Arrays shaped like ``part``'s (same dtypes, same trailing shape) with ``n`` rows."""
    if part is None:
        return None
    if isinstance(part, np.ndarray):
        return np.empty((n,) + part.shape[1:], dtype=part.dtype)
    if isinstance(part, dict):
        return {k: _empty_like_rows(v, n) for k, v in part.items()}
    if is_dataclass(part):
        cls: Any = type(part)  # a dataclass of arrays: allocate it field by field
        return cls(**{f.name: _empty_like_rows(getattr(part, f.name), n) for f in fields(part)})
    raise TypeError(f"cannot allocate {type(part)!r}")


def _put(out: Any, part: Any, start: int) -> None:
    """Copy a block's results into rows ``start…`` of ``out`` (built by ``_empty_like_rows``)."""
    if out is None:
        return
    if isinstance(out, np.ndarray):
        out[start : start + len(part)] = part
    elif isinstance(out, dict):
        for k, v in out.items():
            _put(v, part[k], start)
    else:
        for f in fields(out):
            _put(getattr(out, f.name), getattr(part, f.name), start)


def _score_block(
    spec: InstrumentSpec,
    x: np.ndarray,
    seconds: np.ndarray | None,
    asp: np.ndarray | None,
    missing: MissingPolicy | None = None,
    work: Work | None = None,
) -> tuple[ScaleBlock, DecisionScores | None, HollandScores | None, BipolarScores | None]:
    block = score_scales(spec, x, seconds, work)
    if missing is not None:
        block = missing.rescore(spec, x, block)
    if spec.model == "decision":
        return block, score_decision(spec, block), None, None
    if spec.model == "holland":
        return block, None, score_holland(spec, x, block, asp), None
    if spec.model == "bipolar":
        return block, None, None, score_bipolar(spec, x, block)
    return block, None, None, None


_BLAS: ThreadpoolController | None = None
_SPARE: list[Work] = []
_SPARE_LOCK = threading.Lock()
_CPUS = os.cpu_count() or 1
"""Cores seen at import (asking the system again costs microseconds on every call)."""


def _borrow_work() -> Work:
    """Scratch arrays for one thread, kept from call to call (no fresh pages for every batch)."""
    with _SPARE_LOCK:
        return _SPARE.pop() if _SPARE else Work()


def _return_work(works: list[Work]) -> None:
    with _SPARE_LOCK:
        _SPARE.extend(works[: max(0, _CPUS + 1 - len(_SPARE))])


def _one_blas_thread() -> Any:
    global _BLAS
    if _BLAS is None:
        _BLAS = ThreadpoolController()
    return _BLAS.limit(limits=1, user_api="blas")


def score(
    spec: InstrumentSpec,
    responses: np.ndarray,
    *,
    ids: np.ndarray | list[Any] | None = None,
    seconds: np.ndarray | None = None,
    aspirations: np.ndarray | None = None,
    block_rows: int = BLOCK_ROWS,
    workers: int | None = None,
    missing: MissingPolicy | None = None,
) -> ScoreResult:
    """Score ``responses`` (rows × items; int8 with ``MISSING``, or float with NaN).

    ``seconds``: completion time per row (NaN unknown), for the too-fast flag.
    ``aspirations``: rows × k indices into ``CANDIDATES`` (−1 none), Holland only;
    see ``aspiration_indices``. ``missing``: the missing-data policy
    (``MissingPolicy``; default: each definition's own rule, prorating); an
    imputing policy without values is fitted over all of ``responses``.
    """
    if spec.model == "intake":
        raise ScoringError("an intake form is scored with score_intake")
    checked = not (isinstance(responses, np.ndarray) and responses.dtype == np.int8)
    # an int8 matrix is checked block by block below, while each block is in cache
    x = as_codes(spec, responses) if checked else as_codes(spec, responses, check=False)
    n = x.shape[0]
    for name, extra in (("ids", ids), ("seconds", seconds), ("aspirations", aspirations)):
        if extra is not None and len(extra) != n:
            raise ScoringError(f"{name} has {len(extra)} rows but responses have {n}")
    if missing is not None and missing.imputes and missing.values is None:
        if not checked:
            x, checked = as_codes(spec, x), True
        missing = missing.fit(spec, x)
    sec = None if seconds is None else np.asarray(seconds, dtype=np.float64)
    asp = None if aspirations is None else np.asarray(aspirations, dtype=np.int16)
    block_rows = max(int(block_rows), 1)
    starts = list(range(0, n, block_rows)) or [0]
    local = threading.local()
    borrowed: list[Work] = []

    def run(s: int) -> Any:
        e = s + block_rows
        xb = x[s:e]
        if not checked and not codes_valid(spec, xb):
            return None
        work = getattr(local, "work", None)
        if work is None:
            work = local.work = _borrow_work()
            borrowed.append(work)
        return _score_block(
            spec, xb, None if sec is None else sec[s:e], None if asp is None else asp[s:e], missing, work
        )

    workers = workers or min(len(starts), _CPUS)
    try:
        out = _run_blocks(run, starts, n, workers)
    finally:
        _return_work(borrowed)
    if out is None:
        as_codes(spec, x)  # raises, naming every rejected cell
        raise AssertionError("a block failed the quick check but every answer is valid")  # pragma: no cover
    block, dec, hol, bip = out
    return ScoreResult(
        spec=spec,
        ids=None if ids is None else np.asarray(ids, dtype=object),
        scales=block,
        decision=dec,
        holland=hol,
        bipolar=bip,
        missing=missing,
    )


def _run_blocks(run: Any, starts: list[int], n: int, workers: int) -> Any:
    """Score the blocks starting at ``starts`` (``run(start)`` → a block's results, or None when
    its answers failed the check) on ``workers`` threads, into arrays of ``n`` rows; None if any failed."""
    failed = False
    with _one_blas_thread():  # our threads split the rows; BLAS threading on top of that only contends
        first = run(0)
        if len(starts) == 1:
            # the whole of it in one block (the service's few rows): its results are already arrays of
            # n rows, and new ones (a block never hands back a view of its scratch ``Work``), so they
            # are returned as they are instead of being copied into arrays allocated for them
            return first
        out = None if first is None else tuple(_empty_like_rows(p, n) for p in first)

        def put(s: int) -> None:
            nonlocal failed
            part = first if s == 0 else run(s)
            if part is None:
                failed = True
            elif out is not None:
                for o, p in zip(out, part, strict=True):
                    _put(o, p, s)

        if workers > 1 and len(starts) > 1:
            with ThreadPoolExecutor(workers) as pool:
                list(pool.map(put, starts))
        else:
            for s in starts:
                put(s)
    return None if failed else out


def _labels(index: np.ndarray, names: tuple[str, ...]) -> np.ndarray:
    table = np.array(list(names) + [""], dtype=object)
    return table[np.where(index < 0, len(names), index)]


def _join_flags(flags: dict[str, np.ndarray], n: int) -> np.ndarray:
    out = np.full(n, "", dtype=object)
    for name, mask in flags.items():
        out = out + np.where(mask, name + ";", "").astype(object)
    return np.array([s.rstrip(";") for s in out], dtype=object)


def _plain(v: object) -> object:
    if isinstance(v, np.generic):
        v = v.item()
    return None if isinstance(v, float) and v != v else v


def _columns(r: ScoreResult) -> dict[str, Any]:
    spec, n = r.spec, len(r)
    cols: dict[str, Any] = {}
    cols["id"] = r.ids if r.ids is not None else np.arange(1, n + 1)
    for key, v in r.provenance.items():
        cols[key] = np.full(n, v, dtype=object)
    for k, s in enumerate(spec.scales):
        cols[s.id] = r.scales.score[:, k]
        cols[f"{s.id}_band"] = _labels(r.scales.band[:, k], s.band_ids)
        cols[f"{s.id}_missing"] = r.scales.n_missing[:, k]
    if r.decision is not None:
        d = r.decision
        barriers = [spec.scales[k] for k in spec.scale_index("barrier")]
        for k, s in enumerate(barriers):
            cols[f"{s.id}_rank"] = d.rank[:, k]
        cols["total_indecision"] = d.total_indecision
        cols["decision_status"] = _labels(d.status, STATUSES)
        salient, actions = [], []
        for i in range(n):
            ks = [k for k in np.argsort(d.rank[i], kind="stable") if d.level[i, k] == LEVELS.index("salient")]
            salient.append(";".join(barriers[k].id for k in ks))
            acts: list[str] = []
            for k in ks:
                acts += [a for a in barriers[k].interventions if a not in acts]
            actions.append(";".join(acts))
        cols["salient_barriers"] = salient
        cols["interventions"] = actions
    if r.holland is not None:
        h = r.holland
        for si, sec in enumerate(spec.sections):
            for t, letter in enumerate(LETTERS):
                cols[f"{sec}_{letter}"] = h.section_counts[:, si, t]
        cols["code"] = code_strings(h.pattern)
        cols["code_orderings"] = h.n_codes
        lo = _labels(h.consistency_min.astype(np.int8) - 1, tuple(CONSISTENCY.values()))
        hi = _labels(h.consistency_max.astype(np.int8) - 1, tuple(CONSISTENCY.values()))
        cols["consistency"] = np.where(lo == hi, lo, lo + "/" + hi)
        cols["differentiation_iachan"] = h.differentiation_iachan
        cols["differentiation_range"] = h.differentiation_range
        for name, values in differentiation_indices(h.totals).items():  # DI3 = iachan, DI5 = range
            cols[f"differentiation_{name.lower()}"] = values
        cols["elevation"] = h.elevation
        for name in ("m", "c", "zs", "hm"):
            cols[f"congruence_{name}_min"] = getattr(h, f"{name}_min")
            cols[f"congruence_{name}_max"] = getattr(h, f"{name}_max")
        cols["coherence"] = _labels(h.coherence, COHERENCE)
    if r.bipolar is not None:
        b = r.bipolar
        dims = [spec.scales[k] for k in spec.scale_index("dimension")]
        bands = tuple(str(x["id"]) for x in cast("list[dict[str, object]]", spec.params["clarity_bands"]))
        cols["type"] = type_string(spec, b.pole, b.clarity_band)
        for k, s in enumerate(dims):
            neg, pos = s.poles or ("-", "+")
            cols[f"{s.id}_pole"] = np.where(b.pole[:, k] < 0, neg, np.where(b.pole[:, k] > 0, pos, "")).astype(object)
            cols[f"{s.id}_clarity"] = b.clarity[:, k]
            cols[f"{s.id}_clarity_band"] = _labels(b.clarity_band[:, k], bands)
        envs = np.full(n, "", dtype=object)
        for k, s in enumerate(dims):
            neg_env, pos_env = s.pole_riasec or ("", "")
            env = np.where(b.pole[:, k] < 0, neg_env, np.where(b.pole[:, k] > 0, pos_env, "")).astype(object)
            cols[f"{s.id}_environments"] = env
            envs = envs + env
        # RIASEC environments the preferred poles fit, in R-I-A-S-E-C order
        cols["environments"] = np.array(["".join(L for L in LETTERS if L in e) for e in envs], dtype=object)
        cols["inconsistency_reversals"] = b.reversals
        cols["inconsistency"] = b.inconsistency
    cols["n_missing"] = r.scales.n_missing_total
    cols["longest_run"] = r.scales.longest_run
    cols["flags"] = _join_flags(r.flags, n)
    return cols
