"""The one place that loads an instrument, parses answers and scores them.

The CLI (and later the REST API) are thin wrappers over these functions.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

import instruments
import scoring
from scoring import BadAnswer, ResponseValidationError

ID_COLUMNS = ("id", "respondent", "code")
ASPIRATION_COLUMNS = ("aspiration_1", "aspiration_2", "aspiration_3")
SECONDS_COLUMNS = ("seconds", "duration_seconds")


@dataclass(frozen=True)
class Columns:
    """Which non-item columns of an input table carry what."""

    id: str | None = None
    aspirations: tuple[str, ...] = ()
    seconds: str | None = None

    @classmethod
    def detect(cls, header: Sequence[str]) -> Columns:
        cols = set(header)
        return cls(
            id=next((c for c in ID_COLUMNS if c in cols), None),
            aspirations=tuple(c for c in ASPIRATION_COLUMNS if c in cols),
            seconds=next((c for c in SECONDS_COLUMNS if c in cols), None),
        )


def resolve_aspirations(frame: pd.DataFrame, columns: Sequence[str], ids: Sequence[object] | None) -> np.ndarray:
    """Aspired occupations (RIASEC code, catalogue name in ka/en, or ISCO code) → code indices."""
    out = np.full((len(frame), len(columns)), -1, dtype=np.int16)
    problems: list[BadAnswer] = []
    for k, col in enumerate(columns):
        for r, value in enumerate(frame[col].tolist()):
            if value is None or (isinstance(value, float) and np.isnan(value)) or not str(value).strip():
                continue
            text = str(value).strip()
            code = text.upper() if text.upper() in scoring.CANDIDATES else None
            if code is None:
                occ = instruments.find_occupation(text)
                code = occ.riasec if occ is not None else None
            if code is None:
                who = None if ids is None else str(ids[r])
                problems.append(
                    BadAnswer(
                        r + 1, who, col, value, "is neither a RIASEC code nor an occupation in data/occupations.csv"
                    )
                )
                continue
            out[r, k] = scoring.CANDIDATES.index(code)
    if problems:
        raise ResponseValidationError(problems)
    return out


def _seconds(frame: pd.DataFrame, col: str | None, ids: Sequence[object] | None) -> np.ndarray | None:
    if col is None:
        return None
    values = pd.to_numeric(frame[col].replace("", np.nan), errors="coerce")
    bad = values.isna() & frame[col].map(lambda v: v is not None and str(v).strip() not in ("", "nan"))
    if bad.any():
        r = int(np.flatnonzero(bad.to_numpy())[0])
        who = None if ids is None else str(ids[r])
        raise ResponseValidationError([BadAnswer(r + 1, who, col, frame[col].iloc[r], "is not a number of seconds")])
    return values.to_numpy(dtype=np.float64)


def score_frame(
    inst: instruments.Instrument, frame: pd.DataFrame, columns: Columns | None = None, first_row: int = 1
) -> pd.DataFrame:
    """Score one table of administrations; raise ``ResponseValidationError`` for any bad cell.

    ``first_row`` is the data-row number of the frame's first row, so errors in a
    later chunk of a big file still name the right row.
    """
    columns = columns or Columns.detect(list(frame.columns))
    ids = frame[columns.id].tolist() if columns.id else None
    try:
        if inst.model == "intake":
            parsed = scoring.parse_intake(instruments.intake_spec(inst), frame, ids)
            out = scoring.score_intake(parsed)
            out.insert(0, "id", ids if ids is not None else np.arange(first_row, first_row + len(frame)))
            out.insert(1, "instrument", inst.id)
            out.insert(2, "instrument_version", inst.version)
            out.insert(3, "engine_version", scoring.ENGINE_VERSION)
            return out
        spec = instruments.scoring_spec(inst)
        x = scoring.parse_responses(spec, frame, ids)
        asp = None
        if columns.aspirations and inst.model == "holland":
            asp = resolve_aspirations(frame, columns.aspirations, ids)
        sec = _seconds(frame, columns.seconds, ids)
        result = scoring.score(
            spec,
            x,
            ids=ids if ids is not None else np.arange(first_row, first_row + len(frame)),
            seconds=sec,
            aspirations=asp,
        )
        return result.to_frame()
    except ResponseValidationError as err:
        if first_row == 1:
            raise
        shifted = [
            BadAnswer(p.row + first_row - 1 if p.row else 0, p.respondent, p.item, p.value, p.reason)
            for p in err.problems
        ]
        raise ResponseValidationError(shifted, err.total) from err


def score_chunks(
    inst: instruments.Instrument,
    chunks: Iterable[pd.DataFrame],
    on_chunk: Callable[[int], None] | None = None,
) -> pd.DataFrame:
    """Score a table read in chunks; collect every chunk's problems before failing."""
    parts: list[pd.DataFrame] = []
    problems: list[BadAnswer] = []
    total = 0
    row = 1
    for chunk in chunks:
        chunk = chunk.reset_index(drop=True)
        try:
            parts.append(score_frame(inst, chunk, first_row=row))
        except ResponseValidationError as err:
            if any(p.row == 0 for p in err.problems):  # a missing column: same in every chunk
                raise
            problems.extend(err.problems)
            total += err.total
        row += len(chunk)
        if on_chunk is not None:
            on_chunk(len(chunk))
    if problems:
        raise ResponseValidationError(problems, total)
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
