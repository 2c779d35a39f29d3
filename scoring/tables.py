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
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

FORMATS = (".csv", ".xlsx", ".sav", ".json")
ID_COLUMNS = ("id", "respondent", "code")
"""Column names taken as the respondent id when none is named (the first found wins)."""


class UnusedColumnsWarning(UserWarning):
    """A data file has columns that are neither items, the id, covariates nor declared as ignored."""


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


__all__ = ["FORMATS", "ID_COLUMNS", "UnusedColumnsWarning", "unused_columns_message", "write_table"]
