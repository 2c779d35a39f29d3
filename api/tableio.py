"""Reading and writing tables (CSV, XLSX, JSON) for the CLI, never half-written."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd

from scoring import ProforientError, tables

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


def write_table(frame: pd.DataFrame, path: Path) -> None:
    """Write CSV, XLSX or JSON atomically (the one table writer, ``scoring.tables``, shared with the
    research toolkit)."""
    tables.write_table(frame, path, formats=WRITE_FORMATS, error=TableError)
