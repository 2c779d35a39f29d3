"""The scoring façade: the one place that loads an instrument, parses answers and scores them.

Tables (CSV, XLSX, SPSS) and answer dicts in, typed result records or flat rows out, over the pure
engine in ``scoring``. The CLI, the REST API, the web pages and the domain operations all score
through these functions, so a person's answers are parsed and scored one way everywhere.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

import instruments
import scoring
from scoring import BadAnswer, ResponseValidationError
from scoring.tables import ID_COLUMNS

ASPIRATION_COLUMNS = ("aspiration_1", "aspiration_2", "aspiration_3")
SECONDS_COLUMNS = ("seconds", "duration_seconds")
AUTO = "auto"


@dataclass(frozen=True)
class Columns:
    """Which non-item columns of an input table carry what.

    The rule, shared with the research commands: item columns are scored; the
    id column is the one named, or else the first of ``id``, ``respondent``,
    ``code``; ``aspiration_1..3`` (Holland) and ``seconds`` feed the scores;
    declared ``keep`` columns (covariates) are copied into the output next to
    the id; any other column is ``unused``: left out and reported, never scored
    and never a reason to refuse the file.
    """

    id: str | None = None
    aspirations: tuple[str, ...] = ()
    seconds: str | None = None
    keep: tuple[str, ...] = ()
    unused: tuple[str, ...] = ()

    @classmethod
    def detect(
        cls,
        header: Sequence[str],
        *,
        id_column: str | None = AUTO,
        keep: Sequence[str] = (),
        ignore: Sequence[str] = (),
        inst: instruments.Instrument | None = None,
    ) -> Columns:
        """Classify ``header``; with ``inst``, also list the unused columns and check that every
        named column (id, keep) is there (``ResponseValidationError`` otherwise)."""
        cols = list(header)
        present = set(cols)
        if id_column == AUTO:
            id_column = next((c for c in ID_COLUMNS if c in present and c not in keep), None)
        holland = inst is None or inst.model == "holland"
        out = cls(
            id=id_column,
            aspirations=tuple(c for c in ASPIRATION_COLUMNS if c in present) if holland else (),
            seconds=next((c for c in SECONDS_COLUMNS if c in present), None),
            keep=tuple(dict.fromkeys(keep)),
        )
        if inst is None:
            return out
        missing = [c for c in ([id_column] if id_column else []) + list(out.keep) if c not in present]
        if missing:
            raise ResponseValidationError(
                [BadAnswer(0, None, c, None, "column is missing from the file") for c in missing]
            )
        used = set(_columns(inst)) | set(out.aspirations) | set(out.keep) | set(ignore)
        used |= {c for c in (out.id, out.seconds) if c}
        return replace(out, unused=tuple(c for c in cols if c not in used))


def load_instrument(
    instrument: str | None, version: str | None = None, definition: Path | None = None
) -> instruments.Instrument:
    """The instrument a command names: a shipped one (``instrument``, ``version``) or a definition
    folder. With both, they must agree: an ``instrument`` or ``version`` that the definition
    contradicts is an error, never silently ignored."""
    if definition is None:
        if not instrument:
            raise ValueError("name the instrument (--instrument/-i) or give a definition folder (--definition)")
        return instruments.load(instrument, version)
    inst = instruments.load_path(definition)
    if instrument and instrument != inst.id:
        raise ValueError(f"the definition in {definition} is instrument {inst.id!r}, not {instrument!r}")
    if version and version != inst.version:
        raise ValueError(f"the definition in {definition} is version {inst.version!r} of {inst.id}, not {version!r}")
    return inst


def _blank_missing(frame: pd.DataFrame, columns: Sequence[str], codes: Sequence[str]) -> pd.DataFrame:
    """Cells of ``columns`` equal to a missing-value code (stripped, any case) → blank."""
    if not codes:
        return frame
    keys = set(codes) | {f"{c}.0" for c in codes if c.lstrip("+-").isdigit()}
    out = frame.copy()
    for col in columns:
        if col in out.columns:
            hit = out[col].map(lambda v: v is not None and str(v).strip().lower() in keys)
            out.loc[hit, col] = ""
    return out


def aspiration_code(text: str) -> str | None:
    """An aspired occupation (RIASEC code, catalogue name in ka/en, or ISCO code) → its code."""
    text = text.strip()
    if text.upper() in scoring.CANDIDATES:
        return text.upper()
    occ = instruments.find_occupation(text)
    return occ.riasec if occ is not None else None


def resolve_aspirations(frame: pd.DataFrame, columns: Sequence[str], ids: Sequence[object] | None) -> np.ndarray:
    """Aspired occupations (RIASEC code, catalogue name in ka/en, or ISCO code) → code indices."""
    out = np.full((len(frame), len(columns)), -1, dtype=np.int16)
    problems: list[BadAnswer] = []
    for k, col in enumerate(columns):
        for r, value in enumerate(frame[col].tolist()):
            if value is None or (isinstance(value, float) and np.isnan(value)) or not str(value).strip():
                continue
            code = aspiration_code(str(value))
            if code is None:
                who = None if ids is None else str(ids[r])
                problems.append(
                    BadAnswer(
                        r + 1,
                        who,
                        col,
                        value,
                        "is neither a RIASEC code nor an occupation in instruments/data/occupations.csv",
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
    out: np.ndarray = values.to_numpy(dtype=np.float64)
    return out


def score_frame(
    inst: instruments.Instrument,
    frame: pd.DataFrame,
    columns: Columns | None = None,
    first_row: int = 1,
    missing_codes: Sequence[str] = (),
    missing: scoring.MissingPolicy | None = None,
) -> pd.DataFrame:
    """Score one table of administrations; raise ``ResponseValidationError`` for any bad cell.

    ``first_row`` is the data-row number of the frame's first row, so errors in a
    later chunk of a big file still name the right row. ``missing_codes`` (stripped,
    lower-case) mean "not answered" on top of the definition's own ``missing_codes``;
    ``missing`` is the scale scores' missing-data policy (default: the definition's rule).
    """
    columns = columns or Columns.detect(list(frame.columns))
    ids = frame[columns.id].tolist() if columns.id else None
    if missing is not None and inst.model == "intake":
        raise ValueError("an intake form has no scales: a missing-data policy does not apply to it")
    try:
        out = _score_frame(inst, frame, columns, ids, first_row, missing_codes, missing)
        for k, col in enumerate(columns.keep):
            out.insert(1 + k, col if col not in out.columns else f"input_{col}", frame[col].to_numpy(dtype=object))
        return out
    except ResponseValidationError as err:
        if first_row == 1:
            raise
        shifted = [
            BadAnswer(p.row + first_row - 1 if p.row else 0, p.respondent, p.item, p.value, p.reason)
            for p in err.problems
        ]
        raise ResponseValidationError(shifted, err.total) from err


def _score_frame(
    inst: instruments.Instrument,
    frame: pd.DataFrame,
    columns: Columns,
    ids: list[object] | None,
    first_row: int,
    missing_codes: Sequence[str],
    missing: scoring.MissingPolicy | None = None,
) -> pd.DataFrame:
    """Score ``frame`` (no row shifting of problems: see ``score_frame``)."""
    if inst.model == "intake":
        frame = _blank_missing(frame, [f.id for f in inst.fields], missing_codes)
        ispec = instruments.intake_spec(inst)
        parsed = scoring.parse_intake(ispec, frame, ids)
        out = scoring.score_intake(parsed, ispec)
        for col in ("retraining_reasons", "hard_skills_needs", "soft_skills_needs", "group_reasons"):
            out[col] = [";".join(v) for v in out[col]]  # the flat table's form of a list
        # the form's own answers travel with the scores: reports filter occupations by them
        for f in inst.fields:
            out[f.id] = [";".join(v) if isinstance(v, tuple) else v for v in parsed[f.id]]
        out.insert(0, "id", ids if ids is not None else np.arange(first_row, first_row + len(frame)))
        out.insert(1, "instrument", inst.id)
        out.insert(2, "instrument_version", inst.version)
        out.insert(3, "engine_version", scoring.ENGINE_VERSION)
        return out
    spec = instruments.scoring_spec(inst)
    if missing_codes:
        spec = replace(spec, missing_codes=tuple(dict.fromkeys([*spec.missing_codes, *missing_codes])))
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
        missing=missing,
    )
    return result.to_frame()


def records_of_frame(
    inst: instruments.Instrument,
    frame: pd.DataFrame,
    columns: Columns | None = None,
    missing_codes: Sequence[str] = (),
) -> list[scoring.ScoreRecord]:
    """Score one table of administrations into typed result records (one per row, in order)."""
    columns = columns or Columns.detect(list(frame.columns))
    ids = frame[columns.id].tolist() if columns.id else list(range(1, len(frame) + 1))
    if inst.model == "intake":
        frame = _blank_missing(frame, [f.id for f in inst.fields], missing_codes)
        ispec = instruments.intake_spec(inst)
        parsed = scoring.parse_intake(ispec, frame, ids)
        return list(scoring.intake_records(ispec, parsed, scoring.score_intake(parsed, ispec), scoring.ENGINE_VERSION))
    spec = instruments.scoring_spec(inst)
    if missing_codes:
        spec = replace(spec, missing_codes=tuple(dict.fromkeys([*spec.missing_codes, *missing_codes])))
    x = scoring.parse_responses(spec, frame, ids)
    asp, given = None, None
    if columns.aspirations and inst.model == "holland":
        asp = resolve_aspirations(frame, columns.aspirations, ids)
        given = [
            [
                (str(frame[c].iloc[r]).strip(), scoring.CANDIDATES[asp[r, k]])
                for k, c in enumerate(columns.aspirations)
                if asp[r, k] >= 0
            ]
            for r in range(len(frame))
        ]
    result = scoring.score(spec, x, ids=ids, seconds=_seconds(frame, columns.seconds, ids), aspirations=asp)
    return result.records(given)


def score_chunks(
    inst: instruments.Instrument,
    chunks: Iterable[pd.DataFrame],
    on_chunk: Callable[[int], None] | None = None,
    columns: Columns | None = None,
    missing_codes: Sequence[str] = (),
    missing: scoring.MissingPolicy | None = None,
) -> pd.DataFrame:
    """Score a table read in chunks; collect every chunk's problems before failing.

    An imputing ``missing`` policy without fitted values needs the item medians (means) of
    the whole table, so the chunks are then joined and scored as one.
    """
    if missing is not None and missing.imputes and missing.values is None:
        joined = [c.reset_index(drop=True) for c in chunks]
        if on_chunk is not None:
            for c in joined:
                on_chunk(len(c))
        chunks, on_chunk = [pd.concat(joined, ignore_index=True)] if joined else [], None
    parts: list[pd.DataFrame] = []
    problems: list[BadAnswer] = []
    total = 0
    row = 1
    for chunk in chunks:
        chunk = chunk.reset_index(drop=True)
        try:
            parts.append(score_frame(inst, chunk, columns, first_row=row, missing_codes=missing_codes, missing=missing))
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


@lru_cache(maxsize=64)
def instrument(instrument_id: str, version: str | None = None) -> instruments.Instrument:
    """A shipped instrument, loaded once per process (definitions are immutable files)."""
    return instruments.load(instrument_id, version)


@lru_cache(maxsize=64)
def spec(instrument_id: str, version: str | None = None) -> scoring.InstrumentSpec:
    return instruments.scoring_spec(instrument(instrument_id, version))


@lru_cache(maxsize=64)
def lookup(instrument_id: str, version: str | None = None) -> dict[str, int]:
    return scoring.answer_lookup(spec(instrument_id, version))


def json_safe(value: object) -> object:
    """Numpy scalars → Python, NaN → None, so a score row can be stored and sent as JSON."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and np.isnan(value):
        return None
    return value


def score_answers(
    inst: instruments.Instrument,
    answers: Sequence[Mapping[str, object]],
    aspirations: Sequence[Sequence[str] | None] | None = None,
    seconds: Sequence[float | None] | None = None,
    ids: Sequence[object] | None = None,
) -> list[scoring.ScoreRecord]:
    """Score administrations given as {item: answer} dicts (any accepted spelling; a
    missing key = skipped). Returns one typed, versioned ``ScoreRecord`` per administration.

    The API's path: no DataFrame for the answers, so one request stays a few ms.
    """
    names = _columns(inst)
    unknown = sorted({k for a in answers for k in a} - set(names))
    if unknown:
        raise ResponseValidationError(
            [BadAnswer(0, None, k, None, f"is not an item of {inst.ref}") for k in unknown[:50]], len(unknown)
        )
    row_ids = list(ids) if ids is not None else list(range(1, len(answers) + 1))
    if inst.model == "intake":
        ispec = instruments.intake_spec(inst)
        frame = pd.DataFrame([{i: a.get(i) for i in names} for a in answers])
        parsed = scoring.parse_intake(ispec, frame, row_ids)
        return list(scoring.intake_records(ispec, parsed, scoring.score_intake(parsed, ispec), scoring.ENGINE_VERSION))
    block = np.empty((len(answers), len(names)), dtype=object)
    for r, a in enumerate(answers):
        block[r] = [a.get(i) for i in names]
    x = scoring.parse_block(spec(inst.id, inst.version), block, row_ids)
    asp = None
    given: list[list[tuple[str, str | None]]] | None = None
    if aspirations is not None and inst.model == "holland":
        # an occupation outside the catalogue is kept as the person said it, with no code: the
        # indices use the first aspirations that have one (as the reports do)
        asp = np.full((len(answers), 3), -1, dtype=np.int16)
        given = [[] for _ in answers]
        for r, texts in enumerate(aspirations):
            coded = 0
            for text in [str(t).strip() for t in (texts or [])[:3] if t and str(t).strip()]:
                code = aspiration_code(text)
                given[r].append((text, code))
                if code is not None:
                    asp[r, coded] = scoring.CANDIDATES.index(code)
                    coded += 1
    sec = None
    if seconds is not None:
        sec = np.array([np.nan if v is None else float(v) for v in seconds], dtype=np.float64)
    result = scoring.score(spec(inst.id, inst.version), x, ids=row_ids, seconds=sec, aspirations=asp)
    return result.records(given)


def score_rows(
    inst: instruments.Instrument,
    answers: Sequence[Mapping[str, object]],
    aspirations: Sequence[Sequence[str] | None] | None = None,
    seconds: Sequence[float | None] | None = None,
    ids: Sequence[object] | None = None,
) -> list[dict[str, object]]:
    """The same administrations as flat, JSON-safe rows (the columns of ``proforient score``)."""
    row_ids = list(ids) if ids is not None else list(range(1, len(answers) + 1))
    names = _columns(inst)
    frame = pd.DataFrame([{i: a.get(i) for i in names} for a in answers])
    frame.insert(0, "id", row_ids)
    if aspirations is not None and inst.model == "holland":
        for k in range(3):
            frame[f"aspiration_{k + 1}"] = [a[k] if a and len(a) > k else None for a in aspirations]
    if seconds is not None:
        frame["seconds"] = list(seconds)
    scored = score_frame(inst, frame, Columns.detect(list(frame.columns), id_column="id"))
    return [{k: json_safe(v) for k, v in row.items()} for row in scored.to_dict(orient="records")]


def _columns(inst: instruments.Instrument) -> list[str]:
    return [f.id for f in inst.fields] if inst.model == "intake" else list(inst.item_ids)


def definition(inst: instruments.Instrument, lang: str) -> dict[str, object]:
    """An instrument in one language: what a respondent page or another system shows."""

    def t(text: instruments.Text | None) -> str | None:
        return None if text is None else text.get(lang)

    sections: list[dict[str, object]] = [
        {"id": s.id, "title": t(s.title), "instructions": t(s.instructions), "page_size": s.page_size}
        for s in inst.sections
    ]
    out: dict[str, object] = {
        "id": inst.id,
        "version": inst.version,
        "model": inst.model,
        "lang": lang,
        "title": t(inst.title),
        "description": t(inst.description),
        "sections": sections,
    }
    if inst.response is not None:
        out["response"] = {
            "kind": inst.response.kind,
            "min": inst.response.min,
            "max": inst.response.max,
            "labels": {lab.value: getattr(lab, lang) for lab in inst.response.labels},
            # what the answer buttons show, where a label has a short form (the full label goes in a legend)
            "short": {lab.value: t(lab.short) for lab in inst.response.labels if lab.short is not None},
        }
        for sec, s in zip(sections, inst.sections, strict=True):
            if s.labels is not None:  # a section's own answer labels (same values, same scoring)
                sec["labels"] = {lab.value: getattr(lab, lang) for lab in s.labels}
                sec["short"] = {lab.value: t(lab.short) for lab in s.labels if lab.short is not None}
        out["items"] = [
            {"id": i.id, "section": i.section, "text": t(i.text), "left": t(i.left), "right": t(i.right)}
            for i in inst.items
        ]
    if inst.fields:
        out["fields"] = [
            {
                "id": f.id,
                "section": f.section,
                "type": f.type,
                "required": f.required,
                "label": t(f.label),
                "options": [{"value": o.value, "label": t(o.label)} for o in f.options],
            }
            for f in inst.fields
        ]
    return out
