"""``proforient score | instruments | check | demo``: scoring files of administrations."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

import instruments
import scoring
from api import scoring_facade as facade
from api.tableio import TableError, read_table, write_table
from scoring.tables import unused_columns_message

from ._common import (
    CovariateOpt,
    DefinitionOpt,
    IdOpt,
    IgnoreOpt,
    ImputeOpt,
    InstrumentOpt,
    MinAnsweredOpt,
    MissingOpt,
    VersionOpt,
    err,
    fail,
    missing_keys,
    missing_policy,
    out,
    split,
    warn,
)

EXAMPLES = instruments.data_dir() / "examples"
DEMO_COLUMNS = {
    "intake": ["job_seeker_group", "group_reasons", "retraining_need"],
    "decision": ["total_indecision", "decision_status", "salient_barriers"],
    "holland": ["code", "consistency", "differentiation_iachan", "congruence_m_min", "flags"],
    "bipolar": ["type", "flags"],
}
"""The summary columns the demo shows per model (after the id and, but for holland and intake, the
first scales of the definition)."""


def _demo_columns(inst: instruments.Instrument) -> list[str]:
    shown = {"decision": 1, "bipolar": 4}.get(inst.model, 0)  # how many of the definition's scales to show
    scales = [s.id for s in inst.scales][:shown]
    return ["id", *scales, *DEMO_COLUMNS.get(inst.model, [])]


def count_rows(path: Path) -> int | None:
    """Data rows of a CSV file (for the progress bar); None for other files."""
    if path.suffix.lower() != ".csv" or not path.is_file():
        return None
    with path.open("rb") as fh:
        return max(0, sum(1 for _ in fh) - 1)


def score(
    input: Annotated[Path, typer.Argument(help="CSV or XLSX: one row per administration, item ids as columns")],
    output: Annotated[Path, typer.Option("--output", "-o", help="scores file: .csv, .xlsx or .json")],
    instrument: InstrumentOpt = None,
    version: VersionOpt = None,
    definition: DefinitionOpt = None,
    id_column: IdOpt = "auto",
    covariate: CovariateOpt = None,
    ignore: IgnoreOpt = None,
    missing_code: MissingOpt = None,
    impute: ImputeOpt = "none",
    min_answered: MinAnsweredOpt = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="no progress bar")] = False,
) -> None:
    """Score a file of administrations.

    Columns: the instrument's items are scored; the id column (--id-column, or the first of id,
    respondent, code); aspiration_1..3 (Holland) and seconds feed the scores; --covariate columns
    are copied into the output next to the id; any other column is left out with a warning.
    With --impute or --min-answered, the scores file names the missing-data policy (missing_policy).
    """
    try:
        policy = missing_policy(impute, min_answered)
        inst = facade.load_instrument(instrument, version, definition)
        chunks = read_table(input)
        first = next(chunks, None)
        if first is None:
            fail(f"{input}: the file has no rows")
        columns = facade.Columns.detect(
            list(first.columns), id_column=id_column or None, keep=split(covariate), ignore=split(ignore), inst=inst
        )
        if columns.unused:
            warn(f"{input}: {unused_columns_message(columns.unused)}")
        total = count_rows(input)
        with Progress(
            TextColumn("scoring {task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=err,
            disable=quiet,
        ) as bar:
            task = bar.add_task(input.name, total=total)
            frame = facade.score_chunks(
                inst,
                itertools.chain([first], chunks),
                on_chunk=lambda n: bar.advance(task, n),
                columns=columns,
                missing_codes=missing_keys(missing_code),
                missing=policy,  # type: ignore[arg-type]
            )
        write_table(frame, output)
    except scoring.ResponseValidationError as e:
        fail(f"{input}: nothing was written.\n{e}")
    except (instruments.InstrumentError, TableError, scoring.ScoringError, ValueError) as e:
        fail(str(e))
    err.print(f"{len(frame)} administration(s) of {inst.ref} scored → {output}")


def list_instruments() -> None:
    """List the shipped instruments."""
    table = Table("id", "version", "model", "items", "title (ka)", "title (en)")
    for iid, ver in instruments.available():
        inst = instruments.load(iid, ver)
        n = len(inst.items) or len(inst.fields)
        table.add_row(iid, ver, inst.model, str(n), inst.title.ka, inst.title.en)
    out.print(table)


def check(folder: Annotated[Path, typer.Argument(help="an instrument definition folder")]) -> None:
    """Validate an instrument definition and list every problem."""
    try:
        inst = instruments.load_path(folder)
    except instruments.InstrumentError as e:
        fail(str(e), 1)
    out.print(
        f"{inst.ref}: {len(inst.items) or len(inst.fields)} items/fields, "
        f"{len(inst.scales)} scales, sha256 {inst.content_hash[:12]}: ok"
    )


def demo(
    output: Annotated[Path, typer.Option(help="folder for the scored example files")] = Path("demo-output"),
) -> None:
    """Score the bundled example administrations and show a summary."""
    examples = sorted(EXAMPLES.glob("*.csv"))  # one file per shipped instrument, named by its id
    if not examples:
        fail(f"no example files in {EXAMPLES}")
    for src in examples:
        iid = src.stem
        inst = instruments.load(iid)
        show = _demo_columns(inst)
        try:
            frame = facade.score_chunks(inst, read_table(src))
        except scoring.ResponseValidationError as e:
            fail(str(e))
        target = output / f"{iid}-scores.csv"
        write_table(frame, target)
        table = Table(*show, title=f"{inst.title.ka} / {inst.title.en} ({inst.ref})")
        for _, row in frame[show].head(8).iterrows():
            table.add_row(*[f"{v:.2f}" if isinstance(v, float) else str(v) for v in row])
        out.print(table)
        out.print(f"→ {target}\n")


def register(app: typer.Typer) -> None:
    """Add score, instruments, check and demo to ``app``."""
    app.command()(score)
    app.command("instruments")(list_instruments)
    app.command()(check)
    app.command()(demo)
