"""Uploaded data files (CSV, XLSX, SPSS .sav) checked against an instrument, for the researcher's
pages and the study import of ODK Collect / KoboToolbox submissions.

The checking is the research toolkit's (``scoring.research.read_dataset`` and, for the field tools'
exports, ``read_submissions``): the same problems as ``proforient analyze`` / ``import-submissions``,
every one listed with its row, column and value, nothing kept when there is any. This module only
puts the uploaded bytes where the toolkit can read them, keeps the first rows for a preview with
the bad cells marked, and words each problem for the page in Georgian or English.
"""

from __future__ import annotations

import dataclasses
import tempfile
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

import instruments
from instruments.xlsform import HASH_FIELD, INSTRUMENT_FIELD
from scoring import research as rs
from scoring.tables import ID_COLUMNS, sniff_delimiter, submission_columns

AUTO = "auto"
"""The id column rule of ``read_dataset``: the first of ``id``, ``respondent``, ``code`` present."""

UPLOAD_FORMATS = (".csv", ".xlsx", ".sav")
PREVIEW_ROWS = 15
"""Rows of the file shown under the problems (the bad cells of these rows are marked)."""
SUBMISSION_IDS = ("_uuid", "meta/instanceID", "meta-instanceID", "instanceID", "KEY")
"""The columns that name a submission in the tools' exports, first found wins (KoboToolbox: ``_uuid``
and ``meta/instanceID``; ODK Central: ``meta-instanceID`` / ``KEY``)."""


@dataclass
class Checked:
    """What a check found: the dataset (None when there are problems), every problem, the preview."""

    inst: instruments.Instrument
    filename: str
    dataset: rs.Dataset | None
    problems: list[rs.DatasetProblem]
    header: list[str] = field(default_factory=list)
    """The file's column names, as the checking names them (group prefixes removed for submissions)."""
    preview: list[list[str]] = field(default_factory=list)
    n_rows: int = 0
    unused: tuple[str, ...] = ()
    raw: pd.DataFrame | None = None
    """Every data cell as text (header excluded), positionally like ``header``."""
    covariates: tuple[str, ...] = ()
    """The covariates kept (for submissions: those of the asked ones the export has)."""

    @property
    def ok(self) -> bool:
        return self.dataset is not None and not self.problems

    def bad_cells(self) -> set[tuple[int, str]]:
        """(1-based row, column) of every problem that names a cell."""
        return {(p.row, p.column) for p in self.problems if p.row and p.column is not None}

    def bad_columns(self) -> set[str]:
        return {p.column for p in self.problems if not p.row and p.column is not None}


def accepted(spec: Any) -> str:
    """The accepted answers, written as a range when they are consecutive (``1–4``)."""
    values = [int(v) for v in spec.valid_values]
    if len(values) > 2 and values == list(range(values[0], values[-1] + 1)):
        return f"{values[0]}–{values[-1]}"
    return ", ".join(str(v) for v in values)


def cell_text(v: object) -> str:
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return ""
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def _read_cells(path: Path) -> tuple[list[str], pd.DataFrame]:
    """The header and every cell as text, for the preview (the checking reads the file itself)."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        with path.open(encoding="utf-8-sig") as fh:
            sep = sniff_delimiter(fh.readline())
        raw = pd.read_csv(path, dtype=str, header=None, keep_default_na=False, encoding="utf-8-sig", sep=sep)
    elif suffix == ".xlsx":
        raw = pd.read_excel(path, header=None, dtype=object, engine="openpyxl")
    else:
        import pyreadstat

        data, _ = pyreadstat.read_sav(str(path))
        header = [str(c) for c in data.columns]
        data.columns = range(len(header))
        return header, data.map(cell_text)
    if raw.empty:
        return [], pd.DataFrame()
    header = [cell_text(h).strip() for h in raw.iloc[0].tolist()]
    data = raw.iloc[1:].reset_index(drop=True).map(cell_text)
    data.columns = range(len(header))
    return header, data


def submission_id_column(header: Sequence[str]) -> str | None:
    """The column that names each submission in a field tool's export, if there is one."""
    names = {h.strip() for h in header}
    return next((c for c in SUBMISSION_IDS if c in names), None)


def check_upload(
    inst: instruments.Instrument,
    filename: str,
    data: bytes,
    *,
    missing_codes: Sequence[str] = (),
    covariates: Sequence[str] = (),
    submissions: bool = False,
) -> Checked:
    """Check an uploaded file against ``inst``; never raises for what is in the file.

    A data file (``read_dataset``): ``covariates`` are columns to keep (each must be there), the id
    column is ``id``, ``respondent`` or ``code`` if present. A field tool's export (``submissions``,
    ``read_submissions``): the id is the submission's (``SUBMISSION_IDS``; none is a problem, since
    an import must tell a new submission from one imported before), a respondent code column is left
    out, and ``covariates`` are kept where the export has them.
    """
    suffix = Path(filename or "").suffix.lower()
    spec = instruments.scoring_spec(inst)
    out = Checked(inst=inst, filename=filename, dataset=None, problems=[])
    if suffix not in UPLOAD_FORMATS:
        out.problems.append(rs.DatasetProblem("format", f"use a {', '.join(UPLOAD_FORMATS)} file", value=suffix))
        return out
    if not data:
        out.problems.append(rs.DatasetProblem("no_rows", "the file is empty"))
        return out
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"upload{suffix}"
        path.write_bytes(data)
        try:
            header, cells = _read_cells(path)
        except Exception:  # noqa: BLE001 - pandas, pyreadstat and openpyxl each raise their own types for a damaged file
            header, cells = [], pd.DataFrame()
        id_column: str | None = AUTO
        ignore: list[str] = []
        if submissions and header:
            names = [*spec.item_ids, INSTRUMENT_FIELD, HASH_FIELD, *ID_COLUMNS]
            header = list(submission_columns(header, names).header)
            id_column = submission_id_column(header)
            if id_column is None:
                out.problems.append(
                    rs.DatasetProblem(
                        "no_submission_id",
                        f"no submission id column ({', '.join(SUBMISSION_IDS)}): export the file with the "
                        "tool's metadata, so that an import can tell a new submission from one imported before",
                    )
                )
            ignore = [c for c in ID_COLUMNS if c in header]
            covariates = [c for c in covariates if c in header]
        out.header, out.n_rows, out.raw = header, len(cells), cells
        out.covariates = tuple(covariates)
        out.preview = [[cell_text(v) for v in row] for row in cells.head(PREVIEW_ROWS).itertuples(index=False)]
        read = rs.read_submissions if submissions else rs.read_dataset
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", rs.UnusedColumnsWarning)  # listed on the page, refused file or not
            try:
                dataset = read(
                    path,
                    spec,
                    id_column=id_column,
                    covariates=list(covariates),
                    ignore=ignore,
                    missing_codes=list(missing_codes),
                )
            except rs.DatasetError as exc:
                out.problems += exc.problems
            except Exception:  # noqa: BLE001 - a file the readers cannot open at all is one problem, not a 500
                out.problems.append(rs.DatasetProblem("unreadable", "the file cannot be read"))
            else:
                if not out.problems:
                    out.dataset = dataclasses.replace(dataset, source=Path(filename).name)  # not the temporary copy
        for w in caught:
            if isinstance(w.message, rs.UnusedColumnsWarning):
                out.unused = w.message.columns
            else:
                warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    return out


def problem_text(t: Any, p: rs.DatasetProblem, spec: Any) -> str:
    """One problem in the page's language (``t`` is the page's translator); the toolkit's English
    message for a problem without a wording of its own."""
    key = f"upload.problem.{p.code}"
    values = {
        "row": p.row,
        "column": p.column or "",
        "value": "" if p.value is None else cell_text(p.value),
        "accepted": accepted(spec),
        "detail": p.message,
    }
    return str(t(key, **values)) if t.has(key) else p.message


__all__ = [
    "PREVIEW_ROWS",
    "SUBMISSION_IDS",
    "UPLOAD_FORMATS",
    "Checked",
    "accepted",
    "cell_text",
    "check_upload",
    "problem_text",
    "submission_id_column",
]
