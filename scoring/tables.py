"""Data tables: the one atomic writer (CSV, XLSX, SPSS .sav, JSON) and the column rule, shared by
the research toolkit and the CLI.

The column rule of every command that reads a data file: the instrument's item
columns are scored; the id column is the one named, or else the first of
``ID_COLUMNS`` present (none: rows are numbered); declared covariates are kept
and declared ``ignore`` columns dropped; any other column is left out and
reported (``UnusedColumnsWarning``, ``unused_columns_message``), never scored
and never a reason to refuse the file.

A file is written to a temporary name beside the target and renamed only when
complete, so a failed write never leaves a half-written or truncated table.
This module imports nothing heavier than pandas (pyreadstat only for .sav,
openpyxl only for .xlsx), so the CLI's table I/O does not load the research
toolkit.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

FORMATS = (".csv", ".xlsx", ".sav", ".json")
ID_COLUMNS = ("id", "respondent", "code")
"""Column names taken as the respondent id when none is named (the first found wins)."""


class UnusedColumnsWarning(UserWarning):
    """A data file has columns that are neither items, the id, covariates nor declared as ignored
    (``columns``: their names, so a caller can list them even when the file is refused)."""

    def __init__(self, message: str, columns: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.columns = tuple(columns)


def unused_columns_message(columns: Sequence[str]) -> str:
    """The one wording of the unused-columns warning (library and CLI).

    >>> unused_columns_message(["age", "note"])[:31]
    '2 column(s) not used: age, note'
    """
    return (
        f"{len(columns)} column(s) not used: {', '.join(columns)} (not items of the instrument; declare them "
        "with --covariate/-c to keep them, or --ignore to silence this)"
    )


def _sav_ready(frame: pd.DataFrame) -> pd.DataFrame:
    out = {}
    for c in frame.columns:
        col = frame[c]
        if isinstance(col.dtype, pd.api.extensions.ExtensionDtype) and pd.api.types.is_integer_dtype(col.dtype):
            out[c] = col.astype("float64")
        elif pd.api.types.is_bool_dtype(col):
            out[c] = col.astype("float64")
        elif col.dtype == object:
            out[c] = col.map(lambda v: "" if v is None or (isinstance(v, float) and np.isnan(v)) else str(v))
        else:
            out[c] = col
    return pd.DataFrame(out)


def _json_default(v: object) -> object:
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, np.floating):
        return None if np.isnan(v) else float(v)
    if isinstance(v, np.bool_):
        return bool(v)
    raise TypeError(f"cannot write {type(v).__name__} as JSON")


def _write_csv(frame: pd.DataFrame, tmp: str) -> None:
    frame.to_csv(tmp, index=False, encoding="utf-8")


def _write_xlsx(frame: pd.DataFrame, tmp: str) -> None:
    frame.to_excel(tmp, index=False, engine="openpyxl")


def _write_sav(frame: pd.DataFrame, tmp: str) -> None:
    import pyreadstat

    pyreadstat.write_sav(_sav_ready(frame), tmp)


def _write_json(frame: pd.DataFrame, tmp: str) -> None:
    """A list of records; a missing number is ``null``."""
    records = [
        {k: (None if isinstance(v, float) and np.isnan(v) else v) for k, v in row.items()}
        for row in frame.to_dict(orient="records")
    ]
    Path(tmp).write_text(json.dumps(records, ensure_ascii=False, indent=1, default=_json_default), encoding="utf-8")


_WRITERS = {".csv": _write_csv, ".xlsx": _write_xlsx, ".sav": _write_sav, ".json": _write_json}


def write_table(
    frame: pd.DataFrame,
    path: Path,
    *,
    formats: Sequence[str] = FORMATS,
    error: type[Exception] = ValueError,
) -> None:
    """Write CSV / XLSX / SPSS .sav atomically: a temporary file beside the target, renamed when complete.

    ``formats`` are the suffixes the caller accepts, of .csv, .xlsx, .sav and .json (a list of
    records); any other suffix raises ``error``.
    """
    suffix = path.suffix.lower()
    if suffix not in formats or suffix not in _WRITERS:
        raise error(f"{path}: output must end in {', '.join(formats)}")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=suffix, dir=path.parent)
    os.close(fd)
    try:
        _WRITERS[suffix](frame, tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


SUBMISSION_METADATA = frozenset(
    {
        # XLSForm metadata questions (ODK and KoboToolbox)
        "start", "end", "today", "deviceid", "username", "simserial", "subscriberid", "phonenumber", "audit",
        "instanceid", "instancename", "starttime", "endtime",
        # ODK Central CSV exports
        "submissiondate", "key", "submitterid", "submittername", "attachmentspresent", "attachmentsexpected",
        "status", "reviewstate", "edits", "formversion",
    }
)  # fmt: skip
"""Column names (lower-case) that ODK Central / KoboToolbox exports add; never answers."""
_GROUP_SEPARATORS = re.compile(r"[/-]")


@dataclass(frozen=True)
class SubmissionColumns:
    """How an ODK / KoboToolbox export's header maps onto an instrument (``submission_columns``)."""

    header: tuple[str, ...]
    """The header with group prefixes removed from question names (``main/VDQ01`` → ``VDQ01``)."""
    renamed: dict[str, str]
    metadata: tuple[str, ...]
    """Metadata columns (``_uuid``, ``_submission_time``, ``start``, ``meta/instanceID``, …), as renamed."""
    expansions: tuple[str, ...]
    """One-column-per-choice copies of select_multiple answers (``constraints/care`` = 0/1)."""


def submission_columns(
    header: Sequence[str], names: Sequence[str], multi: Mapping[str, Sequence[str]] | None = None
) -> SubmissionColumns:
    """Map the header of an ODK Central or KoboToolbox export onto an instrument's question names.

    ``names`` are the questions of the form (item or field ids, ``id``, the
    ``proforient_*`` checks); ``multi`` maps each select_multiple field to its
    choices. A column named ``group/…/name`` (KoboToolbox) or ``group-…-name``
    (ODK Central) is renamed to ``name`` when ``name`` is a question; Kobo's
    ``field/choice`` 0/1 copies of select_multiple answers are expansions; a
    column starting with ``_`` (``_uuid``, ``_submission_time``, ``_index``,
    ``__version__``, …), under ``meta``/``formhub``, or named as in
    ``SUBMISSION_METADATA`` is metadata. Anything else keeps its name.

    >>> cols = submission_columns(["start", "main/VDQ01", "main-VDQ02", "_uuid", "note"], ["VDQ01", "VDQ02"])
    >>> cols.header, cols.metadata
    (('start', 'VDQ01', 'VDQ02', '_uuid', 'note'), ('start', '_uuid'))
    """
    known = set(names)
    multi = dict(multi or {})
    out: list[str] = []
    renamed: dict[str, str] = {}
    metadata: list[str] = []
    expansions: list[str] = []
    for h in header:
        name = h.strip()
        parts = [p for p in _GROUP_SEPARATORS.split(name) if p]
        if name in known:
            out.append(name)
            continue
        if len(parts) >= 2 and parts[-1] in known:
            renamed[h] = parts[-1]
            out.append(parts[-1])
            continue
        out.append(name)
        if len(parts) >= 2 and parts[-2] in multi and parts[-1] in multi[parts[-2]]:
            expansions.append(name)
        elif name.startswith("_") or (parts and parts[0].lower() in ("meta", "formhub")):
            metadata.append(name)
        elif name.lower() in SUBMISSION_METADATA or (parts and parts[-1].lower() in SUBMISSION_METADATA):
            metadata.append(name)
    return SubmissionColumns(tuple(out), renamed, tuple(metadata), tuple(expansions))


def sniff_delimiter(first_line: str) -> str:
    """The delimiter of a CSV header line: ``,``, ``;`` (KoboToolbox's default) or a tab.

    >>> sniff_delimiter("start;end;main/VDQ01"), sniff_delimiter("id,VDQ01"), sniff_delimiter("id")
    (';', ',', ',')
    """
    counts = {d: first_line.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] > 0 else ","


__all__ = [
    "FORMATS",
    "ID_COLUMNS",
    "SUBMISSION_METADATA",
    "SubmissionColumns",
    "UnusedColumnsWarning",
    "sniff_delimiter",
    "submission_columns",
    "unused_columns_message",
    "write_table",
]
