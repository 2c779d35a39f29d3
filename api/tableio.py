"""Reading and writing tables (CSV, XLSX, JSON) for the CLI, never half-written."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd

from scoring import ProforientError

READ_FORMATS = (".csv", ".xlsx")
WRITE_FORMATS = (".csv", ".xlsx", ".json")
CHUNK_ROWS = 50_000


class TableError(ProforientError, ValueError):
    """A file cannot be read or written as a table."""


def read_table(path: Path, chunk_rows: int | None = None) -> Iterator[pd.DataFrame]:
    """Yield the table in chunks (CSV) or whole (XLSX); every cell kept as text."""
    suffix = path.suffix.lower()
    if not path.is_file():
        raise TableError(f"{path}: no such file")
    try:
        if suffix == ".csv":
            reader = pd.read_csv(
                path,
                dtype=str,
                keep_default_na=False,
                chunksize=chunk_rows or CHUNK_ROWS,
                encoding="utf-8-sig",
            )
            yield from reader
        elif suffix == ".xlsx":
            yield pd.read_excel(path, dtype=object, engine="openpyxl").astype(object)
        else:
            raise TableError(f"{path}: use a .csv or .xlsx file (got {suffix or 'no extension'})")
    except (UnicodeDecodeError, pd.errors.ParserError, ValueError, OSError) as exc:
        if isinstance(exc, TableError):
            raise
        raise TableError(f"{path}: cannot be read as a table: {exc}") from exc


def _json_default(v: object) -> object:
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, np.floating):
        return None if np.isnan(v) else float(v)
    if isinstance(v, np.bool_):
        return bool(v)
    raise TypeError(f"cannot write {type(v).__name__} as JSON")


def write_table(frame: pd.DataFrame, path: Path) -> None:
    """Write atomically: a temporary file beside the target, renamed when complete."""
    suffix = path.suffix.lower()
    if suffix not in WRITE_FORMATS:
        raise TableError(f"{path}: output must end in {', '.join(WRITE_FORMATS)}")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=suffix, dir=path.parent)
    os.close(fd)
    try:
        if suffix == ".csv":
            frame.to_csv(tmp, index=False, encoding="utf-8")
        elif suffix == ".xlsx":
            frame.to_excel(tmp, index=False, engine="openpyxl")
        else:
            records = [
                {k: (None if isinstance(v, float) and np.isnan(v) else v) for k, v in row.items()}
                for row in frame.to_dict(orient="records")
            ]
            Path(tmp).write_text(
                json.dumps(records, ensure_ascii=False, indent=1, default=_json_default), encoding="utf-8"
            )
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
