"""``proforient report``: raw answers (or stored result records) → one report file per person.

Each input file (CSV/XLSX) holds raw answers (item ids as columns, like ``proforient score``
takes), scored here into typed result records (``api.scoring_facade.records_of_frame``); or a JSON
file of result records (a list of ``{"id": …, "record": …}``, as the REST API's result
endpoints give them). Files are joined on the person's id. Every input
is read and checked and every report rendered into a hidden staging folder
first; only when all succeeded are the files moved into place, so a bad
input leaves nothing half-written.
"""

from __future__ import annotations

import multiprocessing
import os
import re
import shutil
import tempfile
import warnings
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import pandas as pd
import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

import instruments
import scoring
from api import scoring_facade as facade
from api.tableio import read_table

from ._common import MissingOpt, missing_keys
from ._common import err as _err

if TYPE_CHECKING:  # imported where used: matplotlib and the research toolkit load only for this command
    import reports
    from scoring import research

FORMATS = {"html": ".html", "pdf": ".pdf", "json": ".json"}
SCORED_MARKERS = ("instrument", "engine_version")


class _Fail(Exception):
    """A problem with the command's input: reported in one readable message, exit code 2."""


@dataclass
class _Source:
    """One input file, scored, as typed records by person id."""

    kind: str
    path: Path
    rows: dict[str, scoring.ScoreRecord] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)
    dates: dict[str, date] = field(default_factory=dict)
    has_ids: bool = True


def _date(text: str, where: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise _Fail(f"{where}: {text!r} is not a date (use YYYY-MM-DD)") from None


def _blank(v: object) -> bool:
    return v is None or (isinstance(v, float) and v != v) or not str(v).strip()


def _read(path: Path) -> pd.DataFrame:
    parts = list(read_table(path))
    frame = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
    if frame.empty:
        raise _Fail(f"{path}: the file has no rows")
    return frame


def _load_records(kind: str, path: Path) -> _Source:
    """A JSON list of ``{"id" (or "beneficiary"): …, "record": {…}}``: stored result records."""
    import json

    src = _Source(kind, path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise _Fail(f"{path}: not a JSON file of result records ({exc})") from exc
    if not isinstance(data, list):
        raise _Fail(f"{path}: expected a list of result records")
    for k, entry in enumerate(data, start=1):
        pid = str(entry.get("id") or entry.get("beneficiary") or "").strip() if isinstance(entry, dict) else ""
        if not pid or "record" not in entry:
            raise _Fail(f"{path}: entry {k} needs an id and a record")
        try:
            record = scoring.read_record(entry["record"])
        except ValueError as exc:
            raise _Fail(f"{path}: entry {k} ({pid}) is not a valid result record: {exc}") from exc
        if record.provenance.instrument != kind:
            raise _Fail(f"{path}: entry {k} ({pid}) is a {record.provenance.ref} result, not {kind}")
        if pid in src.rows:
            raise _Fail(f"{path}: id {pid!r} appears twice; one record per person")
        src.rows[pid] = record
    if not src.rows:
        raise _Fail(f"{path}: the file has no records")
    return src


def _load(kind: str, path: Path, missing_codes: Sequence[str] = ()) -> _Source:
    """Read one file of raw answers and score it into records (or read a JSON file of records)."""
    if path.suffix.lower() == ".json":
        return _load_records(kind, path)
    frame = _read(path)
    src = _Source(kind, path)
    cols = facade.Columns.detect(list(frame.columns))
    id_col = "id" if "id" in frame.columns else cols.id
    src.has_ids = id_col is not None
    ids = [str(v).strip() for v in frame[id_col]] if id_col else [str(k + 1) for k in range(len(frame))]
    empty = [k + 1 for k, v in enumerate(ids) if not v]
    if empty:
        raise _Fail(f"{path}: data row {empty[0]} has no id")
    seen: dict[str, int] = {}
    for k, v in enumerate(ids):
        if v in seen:
            raise _Fail(f"{path}: id {v!r} appears on data rows {seen[v]} and {k + 1}; one row per person")
        seen[v] = k + 1
    for col, target in (("name", src.names), ("date", src.dates)):
        if col in frame.columns:
            for pid, v in zip(ids, frame[col].tolist(), strict=True):
                if not _blank(v):
                    target[pid] = _date(str(v), f"{path}, id {pid}, column date") if col == "date" else str(v).strip()  # type: ignore[assignment]

    if all(m in frame.columns for m in SCORED_MARKERS):
        raise _Fail(
            f"{path}: holds scores written by 'proforient score'; reports are made from the raw answers "
            "(or from a JSON file of result records), so that every number comes from one scoring"
        )
    inst = instruments.load(kind)
    expected = [f.id for f in inst.fields] if inst.model == "intake" else list(inst.item_ids)
    if not set(expected) & set(frame.columns):
        raise _Fail(
            f"{path}: none of the {kind} columns ({', '.join(expected[:3])} …) is here; is this the right file?"
        )
    try:
        records = facade.records_of_frame(inst, frame, missing_codes=missing_codes)
    except scoring.ResponseValidationError as exc:
        raise _Fail(f"{path} ({kind}): {exc}") from exc
    for pid, rec in zip(ids, records, strict=True):
        src.rows[pid] = rec
    return src


def _norm_tables(paths: list[Path], given: dict[str, Path], group: str) -> dict[str, research.NormTable]:
    """Read the ``--norms`` files: at most one per instrument, each for an instrument given as
    input, never fitted to simulated data, each holding ``group``."""
    from scoring import research

    tables: dict[str, research.NormTable] = {}
    for path in paths:
        try:
            table = research.read_norms(path)
        except ValueError as exc:
            hint = "" if path.suffix == ".json" else " (give the table's .json file, as build-norms --write stores it)"
            raise _Fail(f"--norms {path}: {exc}{hint}") from exc
        where = f"--norms {path} ({table.ref}, {table.instrument}@{table.instrument_version})"
        if table.sample.synthetic:
            raise _Fail(f"{where}: fitted to simulated data; an invented norm is never presented as real")
        if table.instrument not in given:
            raise _Fail(f"{where}: there is no --{table.instrument} input to apply it to")
        if table.instrument in tables:
            raise _Fail(
                f"{where}: a second norm table for {table.instrument} "
                f"({tables[table.instrument].ref} was given first); give one per instrument"
            )
        if group not in table.groups:
            raise _Fail(f"{where}: has no norm group {group!r} (it has {', '.join(table.groups)})")
        tables[table.instrument] = table
    return tables


def _safe_name(pid: str) -> str:
    name = re.sub(r"[^\w.-]", "_", pid, flags=re.UNICODE).lstrip(".")
    return name or "_"


def _write_atomic(folder: Path, name: str, data: bytes) -> Path:
    fd, tmp = tempfile.mkstemp(prefix=f".{name}.", dir=folder)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        target = folder / name
        os.replace(tmp, target)
        return target
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _renderer(fmt: str, lang: str, audience: str, consent: bool) -> Callable[[reports.Profile], bytes]:
    import reports

    if fmt == "pdf":
        return lambda p: reports.render_pdf(p, lang, audience, consent_includes_clinical=consent)
    if fmt == "html":
        return lambda p: reports.render_html(p, lang, audience, consent_includes_clinical=consent).encode("utf-8")
    return lambda p: reports.render_json(p, lang, audience, consent_includes_clinical=consent).encode("utf-8")


def report(
    output: Annotated[Path, typer.Option("--output", "-o", help="folder for the reports (one file per person)")],
    intake: Annotated[
        Path | None, typer.Option(help="assessment questionnaire: raw answers or scores (CSV/XLSX)")
    ] = None,
    vdq: Annotated[Path | None, typer.Option(help="vocational decision questionnaire: raw answers or scores")] = None,
    sds: Annotated[Path | None, typer.Option(help="Holland SDS: raw answers or scores")] = None,
    ppi: Annotated[Path | None, typer.Option(help="personality inventory: raw answers or scores")] = None,
    previous_vdq: Annotated[
        Path | None, typer.Option(help="an earlier VDQ administration, for the change section")
    ] = None,
    previous_sds: Annotated[Path | None, typer.Option(help="an earlier SDS administration")] = None,
    previous_ppi: Annotated[Path | None, typer.Option(help="an earlier PPI administration")] = None,
    fmt: Annotated[str, typer.Option("--format", "-f", help="pdf, html or json")] = "pdf",
    lang: Annotated[str, typer.Option("--lang", "-l", help="ka or en")] = "ka",
    audience: Annotated[
        str, typer.Option("--audience", "-a", help="psychologist, employment or beneficiary")
    ] = "psychologist",
    consent_clinical: Annotated[
        bool,
        typer.Option(
            "--consent-clinical", help="employment audience only: the beneficiary's consent covers clinical details"
        ),
    ] = False,
    person: Annotated[list[str] | None, typer.Option("--person", "-p", help="report only this id (repeatable)")] = None,
    administrator: Annotated[
        str, typer.Option(help="who administered the instruments", envvar="PROFORIENT_ADMINISTRATOR")
    ] = "",
    administered: Annotated[
        str | None, typer.Option("--date", help="administration date YYYY-MM-DD (else a 'date' column)")
    ] = None,
    previous_date: Annotated[str | None, typer.Option(help="date of the earlier administration YYYY-MM-DD")] = None,
    fund_name_ka: Annotated[
        str | None, typer.Option(help="the fund's name in Georgian", envvar="PROFORIENT_FUND_NAME_KA")
    ] = None,
    fund_name_en: Annotated[
        str | None, typer.Option(help="the fund's name in English", envvar="PROFORIENT_FUND_NAME_EN")
    ] = None,
    top: Annotated[int, typer.Option(help="how many matched occupations to list")] = 10,
    norms: Annotated[
        list[Path] | None,
        typer.Option(
            "--norms",
            help="a norm table's .json file (from build-norms --write); repeatable, at most one per instrument. "
            "Without one, bands are criterion-based and the report says so. A table that carries its sample's "
            "Cronbach's α also gives the psychologist SEM bands and reliable change",
        ),
    ] = None,
    norm_group: Annotated[str, typer.Option(help="the norm group to compare with: 'all' or e.g. 'gender=f'")] = "all",
    missing_code: MissingOpt = None,
    overwrite: Annotated[bool, typer.Option(help="replace report files that already exist")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="no progress bar")] = False,
    jobs: Annotated[
        int | None,
        typer.Option("--jobs", "-j", min=1, help="processes rendering reports at once (default: one per CPU core)"),
    ] = None,
) -> None:
    """Write interpretation reports: one file per person, from any of intake, VDQ, SDS and PPI.

    Files are joined on the 'id' column (or respondent/code). Optional columns:
    'name' (shown on the report) and 'date' (administration date, YYYY-MM-DD).
    With --norms (a norm table's .json, one per instrument) the psychologist's report
    shows PR / T / stanine and every report names the table; without, bands are
    criterion-based and the report says so. A table built from answers carries its
    sample's Cronbach's α and SD per scale: the psychologist's report then shows
    SEM bands and reliable change, and names the table as their source.
    """
    import reports

    try:
        written = _run(
            output=output,
            inputs={"intake": intake, "vdq": vdq, "sds": sds, "ppi": ppi},
            previous={"vdq": previous_vdq, "sds": previous_sds, "ppi": previous_ppi},
            fmt=fmt,
            lang=lang,
            audience=audience,
            consent=consent_clinical,
            only=person or [],
            administrator=administrator,
            administered=administered,
            previous_date=previous_date,
            fund=(fund_name_ka, fund_name_en),
            top=top,
            overwrite=overwrite,
            quiet=quiet,
            norm_files=norms or [],
            norm_group=norm_group,
            missing_codes=missing_keys(missing_code),
            jobs=jobs,
        )
    except (_Fail, reports.ReportError, scoring.ProforientError) as exc:
        _err.print(f"[bold red]error:[/] {exc}\nNo report was written.", highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None
    _err.print(f"{len(written)} report(s) written to {output}")


def _run(
    *,
    output: Path,
    inputs: dict[str, Path | None],
    previous: dict[str, Path | None],
    fmt: str,
    lang: str,
    audience: str,
    consent: bool,
    only: list[str],
    administrator: str,
    administered: str | None,
    previous_date: str | None,
    fund: tuple[str | None, str | None],
    top: int,
    overwrite: bool,
    quiet: bool,
    norm_files: list[Path] | None = None,
    norm_group: str = "all",
    missing_codes: Sequence[str] = (),
    jobs: int | None = None,
) -> list[Path]:
    """Check the options, read and score every input, render every report into a staging
    folder (``jobs`` processes at once, default one per core), then move them into ``output``:
    all reports or none (raises ``_Fail``)."""
    import reports

    if fmt not in FORMATS:
        raise _Fail(f"--format must be one of {', '.join(FORMATS)} (got {fmt!r})")
    if lang not in reports.LANGS:
        raise _Fail(f"--lang must be ka or en (got {lang!r})")
    if audience not in reports.AUDIENCES:
        raise _Fail(f"--audience must be one of {', '.join(reports.AUDIENCES)} (got {audience!r})")
    if consent and audience != "employment":
        raise _Fail("--consent-clinical applies to --audience employment only")
    if (fund[0] is None) != (fund[1] is None):
        raise _Fail("give the fund's name in both languages (--fund-name-ka and --fund-name-en) or in neither")
    if top < 0:
        raise _Fail("--top must be zero or more")
    given = {k: p for k, p in inputs.items() if p is not None}
    if not given:
        raise _Fail("give at least one input: --intake, --vdq, --sds or --ppi")
    for kind, path in previous.items():
        if path is not None and kind not in given:
            raise _Fail(f"--previous-{kind} needs a current --{kind} file to compare with")
    when = _date(administered, "--date") if administered else None
    before = _date(previous_date, "--previous-date") if previous_date else None
    config = reports.ReportConfig(fund_name=instruments.Text(ka=fund[0], en=fund[1]) if fund[0] and fund[1] else None)

    tables = _norm_tables(norm_files or [], given, norm_group)

    sources = {k: _load(k, p, missing_codes) for k, p in given.items()}
    earlier = {k: _load(k, p, missing_codes) for k, p in previous.items() if p is not None}
    all_sources = [*sources.values(), *earlier.values()]
    if len(all_sources) > 1 and not all(s.has_ids for s in all_sources):
        missing = next(s.path for s in all_sources if not s.has_ids)
        raise _Fail(f"{missing}: has no id column; with several files the id joins a person's results")
    people = list(dict.fromkeys(pid for s in sources.values() for pid in s.rows))
    if only:
        unknown = [p for p in only if p not in people]
        if unknown:
            raise _Fail(f"no results for id(s) {', '.join(unknown)}")
        people = [p for p in people if p in only]

    ext = FORMATS[fmt]
    names = {pid: f"{_safe_name(pid)}_{audience}_{lang}{ext}" for pid in people}
    clash = len(set(names.values())) != len(names)
    if clash:
        raise _Fail("two ids map to the same file name after removing unsafe characters; make the ids distinct")
    output.mkdir(parents=True, exist_ok=True)
    if not overwrite:
        existing = [n for n in names.values() if (output / n).exists()]
        if existing:
            raise _Fail(f"{output / existing[0]} already exists ({len(existing)} file(s)); use --overwrite")

    tasks: list[_Person] = []
    for pid in people:
        rows = {k: s.rows.get(pid) for k, s in sources.items()}
        if all(v is None for v in rows.values()):
            continue
        prev = {k: s.rows[pid] for k, s in earlier.items() if pid in s.rows and rows.get(k) is not None}
        tasks.append(
            _Person(
                pid=pid,
                records=[r for r in rows.values() if r is not None],
                previous=list(prev.values()),
                name=next((s.names[pid] for s in sources.values() if pid in s.names), None),
                day=when or next((s.dates[pid] for s in sources.values() if pid in s.dates), None),
                previous_day=before or next((s.dates[pid] for s in earlier.values() if pid in s.dates), None),
                norm_kinds={r.model: k for k, r in rows.items() if r is not None and k in tables},
                file_name=names[pid],
            )
        )
    staging = Path(tempfile.mkdtemp(prefix=".proforient-report-", dir=output))
    job = _Job(fmt, lang, audience, consent, config, tables, norm_group, top, administrator, staging)
    try:
        bar = Progress(
            TextColumn("reports"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=_err, disable=quiet
        )
        _render_all(job, tasks, bar, worker_count(jobs, len(tasks)))
        written = []
        for staged in sorted(staging.iterdir()):
            target = output / staged.name
            os.replace(staged, target)
            written.append(target)
        return written
    finally:
        shutil.rmtree(staging, ignore_errors=True)


# ---------------------------------------------------------------- rendering, in this process or in a pool


@dataclass(frozen=True)
class _Job:
    """What every report of one command shares (given once to each worker process)."""

    fmt: str
    lang: str
    audience: str
    consent: bool
    config: reports.ReportConfig
    tables: dict[str, research.NormTable]
    norm_group: str
    top: int
    administrator: str
    staging: Path


@dataclass(frozen=True)
class _Person:
    """One person's report to make: their records and where the file goes."""

    pid: str
    records: list[scoring.ScoreRecord]
    previous: list[scoring.ScoreRecord]
    name: str | None
    day: date | None
    previous_day: date | None
    norm_kinds: dict[str, str]  # model → instrument (input) whose norm table applies
    file_name: str


_JOB: _Job | None = None  # set in each worker process by _start_worker (and around an in-process run)


def _start_worker(job: _Job | None) -> None:
    global _JOB
    _JOB = job


def cores() -> int:
    """The CPUs this process may run on (its affinity, not the machine's count)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def worker_count(jobs: int | None, tasks: int) -> int:
    """Processes to render with: ``jobs`` (default one per core), never more than the reports."""
    return max(1, min(jobs or cores(), tasks))


def _render_person(person: _Person) -> list[str]:
    """Build, render and write one person's report into the staging folder (atomically);
    the warnings to show. A problem raises ``_Fail`` naming the person."""
    import reports

    job = _JOB
    if job is None:
        raise RuntimeError("_render_person runs only inside _render_all")
    try:
        profile = reports.build_profile(
            person.pid,
            person.records,
            previous=person.previous,
            previous_date=person.previous_day,
            name=person.name,
            administrator=job.administrator,
            administered=person.day,
            config=job.config,
            limit=job.top,
            norms={model: job.tables[kind] for model, kind in person.norm_kinds.items()} or None,
            norm_group=job.norm_group,
        )
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            data = _renderer(job.fmt, job.lang, job.audience, job.consent)(profile)
    except reports.ReportError as exc:
        raise _Fail(f"id {person.pid}: {exc}") from None
    glyphs = [w for w in caught if issubclass(w.category, reports.MissingGlyphWarning)]
    if glyphs:
        raise _Fail(f"id {person.pid}: {glyphs[0].message} (install the Debian package fonts-noto-core)")
    _write_atomic(job.staging, person.file_name, data)
    return [str(w.message) for w in caught]


def _render_all(job: _Job, tasks: list[_Person], bar: Progress, workers: int) -> None:
    """Render every task into ``job.staging``: in this process when ``workers`` is 1, else in a pool
    of that many processes. Warnings are shown and the first failure raised in the people's order."""
    progress = bar.add_task("", total=len(tasks))
    if workers <= 1:
        _start_worker(job)
        try:
            with bar:
                for person in tasks:
                    _show(person, _render_person(person))
                    bar.advance(progress)
        finally:
            _start_worker(None)
        return
    if job.fmt == "pdf":
        import weasyprint  # noqa: F401  (imported once, before the workers fork)
    # fork where there is one: workers start with everything imported (a spawned one imports it all
    # again). All processes are started by the first submit, before any thread (the pool's own, the
    # progress bar's) exists, as forking a threaded process is unsafe.
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context(method),
                               initializer=_start_worker, initargs=(job,))  # fmt: skip
    try:
        futures = []
        for person in tasks:
            future = pool.submit(_render_person, person)
            future.add_done_callback(lambda _f: bar.advance(progress))
            futures.append(future)
        with bar:
            for person, future in zip(tasks, futures, strict=True):
                _show(person, future.result())
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _show(person: _Person, messages: list[str]) -> None:
    for message in messages:
        _err.print(f"[yellow]warning:[/] id {person.pid}: {message}", highlight=False)


def register(app: typer.Typer) -> None:
    """Add the ``report`` command to the ``proforient`` CLI."""
    app.command("report")(report)


__all__ = ["register", "report"]
