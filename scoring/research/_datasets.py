"""Research data sets: import (CSV, XLSX, SPSS .sav), validation, pseudonymized export, norm files.

This is the only module of ``scoring.research`` that touches files.

Import validates a whole file against the instrument definition and either
returns a complete ``Dataset`` or raises ``DatasetError`` listing *every*
problem (missing item, id or covariate columns, rejected answers with their
row and value, empty rows, empty or duplicate ids, missing-value codes that collide with
valid answers); nothing is ever imported half-way.

Columns follow one rule (the same as ``proforient score``'s): the item
columns are scored; the id column is the one named, or else the first of
``id``, ``respondent``, ``code`` found (none: rows are numbered); declared
covariates are kept and declared ``ignore`` columns dropped; any other column
is left out and listed in ``Dataset.unused_columns`` and an
``UnusedColumnsWarning``, never scored and never a reason to refuse the file. Survey files often store an
unanswered item as 0, 9 or 99: declare such codes with ``missing_codes``; in
an SPSS file the variables' own user-missing values are honoured as well.

Export replaces respondent ids by per-study salted hashes (HMAC-SHA256 with
the study's secret salt, so the same person links across files of one study
but not across studies), keeps only declared covariates and refuses columns
that look identifying (names, phone, e-mail, address, personal number, birth
date).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import os
import re
import secrets
import tempfile
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .. import tables
from .._engine import ScoreResult, score
from .._errors import ProforientError
from .._missing import MissingPolicy
from .._parse import answer_lookup
from .._spec import MISSING, InstrumentSpec
from ..tables import ID_COLUMNS, UnusedColumnsWarning, sniff_delimiter, submission_columns, unused_columns_message
from ._norms import NormReliability, NormSample, NormTable

READ_FORMATS = (".csv", ".xlsx", ".sav")
WRITE_FORMATS = (".csv", ".xlsx", ".sav")
IDENTIFYING = re.compile(
    r"(^|[_\W])(name|names|first_?name|last_?name|surname|full_?name|given_?name|family_?name|phone|mobile|"
    r"tel|telephone|e_?mail|address|street|personal_?(id|no|number|code)|pid_?number|passport|id_?card|"
    r"birth_?date|date_?of_?birth|dob)($|[_\W])",
    re.IGNORECASE,
)
_MAX_SHOWN = 30
AUTO = "auto"


@dataclass(frozen=True)
class DatasetProblem:
    """One problem found in a data file. ``row`` is the 1-based data row (header excluded), 0 for the file."""

    code: str
    message: str
    row: int = 0
    column: str | None = None
    value: object = None

    def __str__(self) -> str:
        where = []
        if self.row:
            where.append(f"row {self.row}")
        if self.column is not None:
            where.append(f"column {self.column}")
        place = f"[{', '.join(where)}] " if where else ""
        return f"{place}{self.message} ({self.code})"


class DatasetError(ProforientError, ValueError):
    """A data file failed validation; ``problems`` lists every problem, nothing was imported."""

    def __init__(self, source: str, problems: list[DatasetProblem]) -> None:
        self.source = source
        self.problems = list(problems)
        shown = "\n".join(f"  {p}" for p in self.problems[:_MAX_SHOWN])
        more = (
            f"\n  … and {len(self.problems) - _MAX_SHOWN} more (see .problems)"
            if len(self.problems) > _MAX_SHOWN
            else ""
        )
        super().__init__(f"{source}: {len(self.problems)} problem(s), nothing imported:\n{shown}{more}")


@dataclass(frozen=True, eq=False)
class Dataset:
    """A validated data set: answers in the engine's encoding plus ids and covariates."""

    spec: InstrumentSpec
    responses: np.ndarray
    ids: np.ndarray
    covariates: pd.DataFrame
    source: str
    missing_codes: tuple[str, ...] = ()
    id_column: str | None = None
    """The column the ids came from; None when the rows were numbered."""
    unused_columns: tuple[str, ...] = ()
    """Columns left out: neither items, the id, covariates nor declared as ignored."""

    @property
    def n_rows(self) -> int:
        return int(self.responses.shape[0])

    def score(self, missing: MissingPolicy | None = None) -> ScoreResult:
        """The data set's scores; ``missing``: the scale scores' missing-data policy (default: the definition's)."""
        return score(self.spec, self.responses, ids=self.ids, missing=missing)

    def group(self, name: str) -> np.ndarray:
        if name not in self.covariates.columns:
            raise ValueError(
                f"no covariate {name!r} in {self.source} (covariates: {', '.join(self.covariates.columns) or 'none'})"
            )
        return np.asarray(self.covariates[name].to_numpy(dtype=object))


def _key(v: object) -> str:
    if v is None or v is pd.NA:
        return ""
    if isinstance(v, float):
        if np.isnan(v):
            return ""
        if v.is_integer():
            return str(int(v))
    if isinstance(v, np.floating):
        return _key(float(v))
    if isinstance(v, np.integer):
        return str(int(v))
    return str(v).strip().lower()


def _read_raw(
    path: Path, sheet: str | int | None, sniff: bool = False
) -> tuple[list[str], pd.DataFrame, list[DatasetProblem]]:
    """Header (exactly as in the file) and the data cells, or file-level problems.

    With ``sniff``, a CSV file's delimiter is taken from its header line (``,``, ``;`` or a tab).
    """
    suffix = path.suffix.lower()
    if not path.is_file():
        return [], pd.DataFrame(), [DatasetProblem("unreadable", f"{path}: no such file")]
    if suffix not in READ_FORMATS:
        return [], pd.DataFrame(), [DatasetProblem("unreadable", f"{path}: use a {', '.join(READ_FORMATS)} file")]
    try:
        if suffix == ".csv":
            sep = ","
            if sniff:
                with path.open(encoding="utf-8-sig") as fh:
                    sep = sniff_delimiter(fh.readline())
            raw = pd.read_csv(path, dtype=str, header=None, keep_default_na=False, encoding="utf-8-sig", sep=sep)
        elif suffix == ".xlsx":
            raw = pd.read_excel(
                path, header=None, dtype=object, sheet_name=0 if sheet is None else sheet, engine="openpyxl"
            )
        else:
            import pyreadstat

            data, _meta = pyreadstat.read_sav(str(path))
            return [str(c) for c in data.columns], data.reset_index(drop=True), []
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError, ValueError, OSError, KeyError) as exc:
        return [], pd.DataFrame(), [DatasetProblem("unreadable", f"{path}: cannot be read: {exc}")]
    if raw.empty:
        return [], pd.DataFrame(), [DatasetProblem("no_rows", f"{path}: the file is empty")]
    header = ["" if _key(h) == "" else str(h).strip() for h in raw.iloc[0].tolist()]
    data = raw.iloc[1:].reset_index(drop=True)
    data.columns = range(len(header))
    return header, data, []


def _convert_column(
    spec: InstrumentSpec, col: pd.Series, missing_keys: set[str], lookup: dict[str, int]
) -> tuple[np.ndarray, np.ndarray]:
    """(int8 codes, bad-cell mask) for one item column, vectorized."""
    if pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col):
        arr = col.to_numpy(dtype=np.float64, na_value=np.nan)
        numeric_missing = [float(k) for k in missing_keys if re.fullmatch(r"[-+]?\d+(\.\d+)?", k)]
        miss = np.isnan(arr) | np.isin(arr, numeric_missing)
        valid = np.isin(arr, np.array(spec.valid_values, dtype=np.float64))
        bad = ~miss & ~valid
        codes = np.where(miss | bad, int(MISSING), np.nan_to_num(arr)).astype(np.int8)
        return codes, bad
    keys = col.map(_key)
    miss = keys.isin(missing_keys).to_numpy()
    mapped = keys.map(lookup)
    bad = (~miss) & mapped.isna().to_numpy()
    codes = np.where(miss | bad, int(MISSING), mapped.fillna(int(MISSING)).to_numpy(dtype=np.float64)).astype(np.int8)
    return codes, bad


def dataset_from_frame(
    header: Sequence[str],
    data: pd.DataFrame,
    spec: InstrumentSpec,
    *,
    source: str = "<table>",
    id_column: str | None = AUTO,
    covariates: Sequence[str] = (),
    ignore: Sequence[str] = (),
    missing_codes: Iterable[object] = (),
) -> Dataset:
    """Validate a table (``header`` names the columns of ``data`` by position) and build a ``Dataset``.

    Every problem is collected before ``DatasetError`` is raised; see ``read_dataset``.
    """
    if id_column == AUTO:
        id_column = next((c for c in ID_COLUMNS if c in header and c not in covariates), None)
    problems: list[DatasetProblem] = []
    codes = tuple(dict.fromkeys([*spec.missing_codes, *(_key(c) for c in missing_codes)]))
    if any(c == "" for c in codes):
        problems.append(
            DatasetProblem("bad_missing_code", "an empty missing-value code was declared; blanks are always missing")
        )
    lookup = answer_lookup(spec)
    for c in codes:
        if c in lookup and lookup[c] != int(MISSING):
            problems.append(
                DatasetProblem(
                    "missing_code_conflict",
                    f"missing-value code {c!r} is a valid answer of {spec.ref} ({lookup[c]}); "
                    "it cannot also mean 'not answered'",
                    value=c,
                )
            )
    missing_keys = {c for c in codes if c and not (c in lookup and lookup[c] != int(MISSING))}
    missing_keys |= {f"{c}.0" for c in list(missing_keys) if re.fullmatch(r"[-+]?\d+", c)}
    names = list(header)
    seen: dict[str, int] = {}
    for pos, name in enumerate(names):
        if name == "":
            problems.append(DatasetProblem("unnamed_column", f"column {pos + 1} has no name in the header row"))
        elif name in seen:
            problems.append(DatasetProblem("duplicate_column", f"column {name!r} appears more than once", column=name))
        seen.setdefault(name, pos)
    items = set(spec.item_ids)
    declared = set(covariates) | set(ignore) | ({id_column} if id_column else set())
    for name in spec.item_ids:
        if name not in seen:
            problems.append(DatasetProblem("missing_column", f"item {name} of {spec.ref} has no column", column=name))
    unused = tuple(name for name in seen if name and name not in items and name not in declared)
    for name in covariates:
        if name not in seen:
            problems.append(DatasetProblem("missing_column", f"covariate {name!r} has no column", column=name))
    if id_column and id_column not in seen:
        problems.append(DatasetProblem("missing_column", f"the id column {id_column!r} is missing", column=id_column))
    n = len(data)
    if n == 0:
        problems.append(DatasetProblem("no_rows", "the table has a header but no data rows"))
    blank = np.zeros(n, dtype=bool)
    if n and data.shape[1]:
        blank = data.map(_key).eq("").all(axis=1).to_numpy()
        for r in np.flatnonzero(blank):  # a blank line in a spreadsheet is no respondent
            problems.append(DatasetProblem("empty_row", "the row is empty (no id, no answer)", row=int(r) + 1))
    responses = np.full((n, len(spec.items)), MISSING, dtype=np.int8)
    for j, item in enumerate(spec.item_ids):
        if item not in seen:
            continue
        col = data.iloc[:, seen[item]]
        out, bad = _convert_column(spec, col, missing_keys, lookup)
        responses[:, j] = out
        for r in np.flatnonzero(bad):
            problems.append(
                DatasetProblem(
                    "bad_value",
                    f"{col.iloc[r]!r} is not an accepted answer for {item} "
                    f"(accepted: {', '.join(str(v) for v in spec.valid_values)}, blank or a declared missing code)",
                    row=int(r) + 1,
                    column=item,
                    value=col.iloc[r],
                )
            )
    if id_column and id_column in seen:
        raw_ids = data.iloc[:, seen[id_column]]
        keys = raw_ids.map(
            lambda v: (
                "" if _key(v) == "" else (str(int(v)) if isinstance(v, float) and v.is_integer() else str(v).strip())
            )
        )
        ids = keys.to_numpy(dtype=object)
        for r in np.flatnonzero((keys.to_numpy() == "") & ~blank):  # an empty row is reported once, as such
            problems.append(DatasetProblem("empty_id", "the id is empty", row=int(r) + 1, column=id_column))
        dup = keys.duplicated(keep="first") & (keys != "")
        for r in np.flatnonzero(dup.to_numpy()):
            problems.append(
                DatasetProblem(
                    "duplicate_id",
                    f"id {ids[r]!r} was already used in an earlier row",
                    row=int(r) + 1,
                    column=id_column,
                    value=ids[r],
                )
            )
    else:
        ids = np.array([str(i) for i in range(1, n + 1)], dtype=object)
    if unused:
        warnings.warn(UnusedColumnsWarning(f"{source}: {unused_columns_message(unused)}", unused), stacklevel=2)
    if problems:
        raise DatasetError(source, problems)
    cov = pd.DataFrame({name: data.iloc[:, seen[name]].to_numpy(dtype=object) for name in covariates})
    return Dataset(
        spec=spec,
        responses=responses,
        ids=ids,
        covariates=cov,
        source=source,
        missing_codes=codes,
        id_column=id_column,
        unused_columns=unused,
    )


def read_dataset(
    path: str | Path,
    spec: InstrumentSpec,
    *,
    id_column: str | None = AUTO,
    covariates: Sequence[str] = (),
    ignore: Sequence[str] = (),
    missing_codes: Iterable[object] = (),
    sheet: str | int | None = None,
) -> Dataset:
    """Import a CSV, XLSX or SPSS .sav file of item answers, validated against ``spec``.

    Parameters
    ----------
    path : path
        ``.csv`` (UTF-8, header row), ``.xlsx`` (first sheet unless ``sheet``)
        or ``.sav`` (SPSS; user-missing values become missing).
    spec : InstrumentSpec
        The instrument; one column per item id is required.
    id_column : str or None
        Respondent id column (ids must be present and unique); ``"auto"`` (the
        default) takes the first of ``id``, ``respondent``, ``code`` present and
        numbers the rows when there is none; None always numbers the rows.
    covariates : sequence of str
        Extra columns to keep (grouping variables such as gender, age band, wave).
    ignore : sequence of str
        Extra columns to skip silently. Any other non-item column is skipped too,
        but listed in ``Dataset.unused_columns`` and an ``UnusedColumnsWarning``.
    missing_codes : iterable
        Values that mean "not answered" (e.g. 9, 99), on top of those the
        definition declares (``spec.missing_codes``). A code that is a valid
        answer of the instrument (0 is "dislike" on a like/dislike scale) is a problem.

    Raises
    ------
    DatasetError
        With every problem found; no data is returned.

    Examples
    --------
    >>> import instruments, tempfile, pathlib
    >>> spec = instruments.scoring_spec(instruments.load("vdq"))
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "a.csv").write_text("id," + ",".join(spec.item_ids) + "\\nP1," + ",".join(["2"] * 55) + ",9\\n")
    >>> read_dataset(folder / "a.csv", spec, missing_codes=[9]).responses[0, -1]
    np.int8(-128)
    """
    p = Path(path)
    header, data, problems = _read_raw(p, sheet)
    if problems:
        raise DatasetError(str(p), problems)
    return dataset_from_frame(
        header,
        data,
        spec,
        source=str(p),
        id_column=id_column,
        covariates=covariates,
        ignore=ignore,
        missing_codes=missing_codes,
    )


INSTRUMENT_FIELD = "proforient_instrument"
HASH_FIELD = "proforient_hash"


def read_submissions(
    path: str | Path,
    spec: InstrumentSpec,
    *,
    id_column: str | None = AUTO,
    covariates: Sequence[str] = (),
    ignore: Sequence[str] = (),
    missing_codes: Iterable[object] = (),
    sheet: str | int | None = None,
) -> Dataset:
    """Import the submissions of the instrument's XLSForm, exported by ODK Central or KoboToolbox.

    The export (CSV with ``,`` or ``;``, or XLSX) may prefix question names with
    their groups (``main/VDQ01``, ``main-VDQ01``) and carries metadata columns
    (``_uuid``, ``_submission_time``, ``start``, ``meta/instanceID``, …): the
    prefixes are removed and the metadata left out silently (unless named as the
    id or a covariate). The form's ``proforient_instrument`` and
    ``proforient_hash`` columns, when present, must name this instrument and
    definition (a file from another form or version is refused). Everything
    else is validated exactly as ``read_dataset`` does (same problems, same
    column rule); export the answers as XML values (``1``…``4``, ``L3``…``R3``),
    not as labels. A skipped question is an empty cell, hence a skipped item.

    Examples
    --------
    >>> import instruments, tempfile, pathlib
    >>> spec = instruments.scoring_spec(instruments.load("vdq"))
    >>> f = pathlib.Path(tempfile.mkdtemp()) / "kobo.csv"
    >>> cells = ["3"] * 55 + [""]
    >>> _ = f.write_text("_uuid;id;" + ";".join("main/" + i for i in spec.item_ids) + "\\nu1;P1;" + ";".join(cells))
    >>> ds = read_submissions(f, spec)
    >>> ds.ids.tolist(), int(ds.responses[0, 0]), int(ds.responses[0, -1])
    (['P1'], 3, -128)
    """
    p = Path(path)
    header, data, problems = _read_raw(p, sheet, sniff=True)
    if problems:
        raise DatasetError(str(p), problems)
    cols = submission_columns(header, [*spec.item_ids, INSTRUMENT_FIELD, HASH_FIELD, *ID_COLUMNS])
    names = list(cols.header)
    checks = ((INSTRUMENT_FIELD, spec.ref), (HASH_FIELD, spec.content_hash[:12]))
    for field_name, expected in checks:
        if field_name in names:
            col = data.iloc[:, names.index(field_name)].map(_key)
            wrong = sorted({v for v in col if v and v != expected.lower()})
            if wrong:
                problems.append(
                    DatasetProblem(
                        "wrong_form",
                        f"these submissions come from a form of {', '.join(wrong)}, not of {expected} "
                        "(export the XLSForm of this instrument and definition again)",
                        column=field_name,
                    )
                )
    if problems:
        raise DatasetError(str(p), problems)
    skip = [*cols.metadata, *cols.expansions, *(c for c in (INSTRUMENT_FIELD, HASH_FIELD) if c in names)]
    keep = {id_column, *covariates}
    return dataset_from_frame(
        names,
        data,
        spec,
        source=str(p),
        id_column=id_column,
        covariates=covariates,
        ignore=[*ignore, *(c for c in skip if c not in keep)],
        missing_codes=missing_codes,
    )


def new_study_salt() -> str:
    """A fresh random per-study salt (64 hex characters). Keep it secret and with the study."""
    return secrets.token_hex(32)


def pseudonyms(ids: Sequence[object] | np.ndarray, salt: str | bytes, length: int = 20) -> np.ndarray:
    """Per-study pseudonyms: the first ``length`` hex digits of HMAC-SHA256(salt, id).

    >>> salt = "a study salt of 16+ chars"
    >>> a, b, c = pseudonyms(["P1", "P1", "P2"], salt)
    >>> a == b != c, len(a)
    (True, 20)
    """
    key = salt.encode("utf-8") if isinstance(salt, str) else bytes(salt)
    if len(key) < 16:
        raise ValueError("the study salt must be at least 16 bytes long (use new_study_salt())")
    if not 8 <= length <= 64:
        raise ValueError(f"pseudonym length must be between 8 and 64 hex digits, got {length}")
    return np.array(
        [hmac.new(key, str(i).encode("utf-8"), hashlib.sha256).hexdigest()[:length] for i in ids], dtype=object
    )


def pseudonymized_frame(
    dataset: Dataset,
    salt: str | bytes,
    *,
    include_scores: bool = True,
    covariates: Sequence[str] | None = None,
    missing: MissingPolicy | None = None,
) -> pd.DataFrame:
    """The export table: ``pid``, chosen covariates, item answers (blank = skipped) and, optionally, scores.

    Raises ``ValueError`` if a chosen covariate looks identifying; ids and any
    column not chosen never leave.
    """
    chosen = list(dataset.covariates.columns) if covariates is None else list(covariates)
    unknown = [c for c in chosen if c not in dataset.covariates.columns]
    if unknown:
        raise ValueError(f"not covariates of this data set: {', '.join(unknown)}")
    identifying = [c for c in chosen if IDENTIFYING.search(c)]
    if identifying:
        raise ValueError(
            f"refusing to export identifying column(s) {', '.join(identifying)}; research exports are pseudonymized"
        )
    if dataset.id_column is None:
        raise ValueError(
            f"{dataset.source} has no respondent id column (id, respondent or code; or name one with --id-column): "
            "a pseudonymized export links a person's rows by their id"
        )
    cols: dict[str, object] = {"pid": pseudonyms(dataset.ids, salt)}
    for c in chosen:
        cols[c] = dataset.covariates[c].to_numpy(dtype=object)
    for j, item in enumerate(dataset.spec.item_ids):
        col = dataset.responses[:, j]
        values = pd.array(col.astype(np.int64), dtype="Int64")
        values[col == MISSING] = pd.NA
        cols[item] = values
    frame = pd.DataFrame(cols)
    if include_scores:
        scores = dataset.score(missing).to_frame().drop(columns=["id"])
        clash = [c for c in scores.columns if c in frame.columns]
        scores = scores.rename(columns={c: f"score_{c}" for c in clash})
        frame = pd.concat([frame, scores.reset_index(drop=True)], axis=1)
    return frame


def export_pseudonymized(
    dataset: Dataset,
    path: str | Path,
    *,
    salt: str | bytes,
    include_scores: bool = True,
    covariates: Sequence[str] | None = None,
    missing: MissingPolicy | None = None,
) -> pd.DataFrame:
    """Write ``pseudonymized_frame`` to a CSV, XLSX or .sav file (atomically) and return it."""
    frame = pseudonymized_frame(dataset, salt, include_scores=include_scores, covariates=covariates, missing=missing)
    write_table(frame, Path(path))
    return frame


def write_table(
    frame: pd.DataFrame,
    path: Path,
    *,
    formats: Sequence[str] = WRITE_FORMATS,
    error: type[Exception] = ValueError,
) -> None:
    """Write a research table (CSV / XLSX / SPSS .sav by default) atomically; see ``scoring.tables``."""
    tables.write_table(frame, path, formats=formats, error=error)


def norm_paths(
    root: str | Path, instrument: str, instrument_version: str, norm_id: str, version: str
) -> tuple[Path, Path]:
    """(table CSV, metadata JSON) of a norm table: ``<root>/<instrument>-<version>/<norm_id>-<version>.*``."""
    for label, value in (
        ("instrument", instrument),
        ("instrument version", instrument_version),
        ("norm id", norm_id),
        ("norm version", version),
    ):
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", value):
            raise ValueError(f"{label} {value!r} must be letters, digits, '.', '_' or '-' (it names a file)")
    folder = Path(root) / f"{instrument}-{instrument_version}"
    stem = f"{norm_id}-{version}"
    return folder / f"{stem}.csv", folder / f"{stem}.json"


def write_norms(table: NormTable, root: str | Path, *, allow_synthetic: bool = False) -> tuple[Path, Path]:
    """Store a norm table as versioned files; never overwrites an existing version.

    A table fitted to simulated data is refused unless ``allow_synthetic``
    (for pipeline tests), and then stays marked ``synthetic`` in its metadata.
    """
    if table.sample.synthetic and not allow_synthetic:
        raise ValueError(f"{table.ref} was fitted to simulated data; it must never be stored as a real norm table")
    csv_path, meta_path = norm_paths(root, table.instrument, table.instrument_version, table.norm_id, table.version)
    if csv_path.exists() or meta_path.exists():
        raise FileExistsError(
            f"norm table {table.ref} for {table.instrument}@{table.instrument_version} already "
            f"exists ({meta_path}); publish a new version instead"
        )
    s = table.sample
    meta = {
        "format": 1,
        "norm_id": table.norm_id,
        "version": table.version,
        "instrument": table.instrument,
        "instrument_version": table.instrument_version,
        "instrument_hash": table.instrument_hash,
        "engine_version": table.engine_version,
        "scales": list(table.scales),
        "created": table.created.isoformat(),
        "min_group_n": table.min_group_n,
        "sample": {
            "population": s.population,
            "collected_from": s.collected_from.isoformat(),
            "collected_to": s.collected_to.isoformat(),
            "n": s.n,
            "groups": s.groups,
            "description": s.description,
            "synthetic": s.synthetic,
        },
        "table": csv_path.name,
    }
    if table.scores_policy:
        meta["scores_policy"] = table.scores_policy
    if table.reliability:
        # α and score SD of each scale in the sample (absent from files written before this existed)
        meta["reliability"] = {sid: {"alpha": r.alpha, "sd": r.sd, "n": r.n} for sid, r in table.reliability.items()}
    write_table(table.table, csv_path)
    fd, tmp = tempfile.mkstemp(prefix=f".{meta_path.stem}.", dir=meta_path.parent)
    os.close(fd)
    try:
        Path(tmp).write_text(json.dumps(meta, ensure_ascii=False, indent=1), encoding="utf-8")
        os.replace(tmp, meta_path)
    except BaseException:
        csv_path.unlink(missing_ok=True)
        raise
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return csv_path, meta_path


def read_norms(meta_path: str | Path) -> NormTable:
    """Load a norm table written by ``write_norms`` (give its .json file)."""
    p = Path(meta_path)
    try:
        meta = json.loads(p.read_text(encoding="utf-8"))
        table = pd.read_csv(p.parent / meta["table"], dtype={"group": str, "scale": str})
        s = meta["sample"]
        sample = NormSample(
            population=s["population"],
            collected_from=dt.date.fromisoformat(s["collected_from"]),
            collected_to=dt.date.fromisoformat(s["collected_to"]),
            n=int(s["n"]),
            groups=s["groups"],
            description=s.get("description", ""),
            synthetic=bool(s.get("synthetic", False)),
        )
        reliability = {
            str(sid): NormReliability(alpha=float(r["alpha"]), sd=float(r["sd"]), n=int(r["n"]))
            for sid, r in (meta.get("reliability") or {}).items()
        }
        needed = {"group", "scale", "raw", "freq", "cum_freq", "n", "pr", "t", "stanine"}
        if not needed <= set(table.columns):
            raise ValueError(f"the table lacks column(s) {', '.join(sorted(needed - set(table.columns)))}")
        return NormTable(
            norm_id=meta["norm_id"],
            version=meta["version"],
            instrument=meta["instrument"],
            instrument_version=meta["instrument_version"],
            instrument_hash=meta["instrument_hash"],
            engine_version=meta["engine_version"],
            scales=tuple(meta["scales"]),
            sample=sample,
            table=table,
            created=dt.date.fromisoformat(meta["created"]),
            min_group_n=int(meta["min_group_n"]),
            reliability=reliability,
            scores_policy=str(meta.get("scores_policy", "")),
        )
    except (OSError, KeyError, TypeError, AttributeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{p}: not a readable norm table: {exc}") from exc
