"""``proforient`` command line: a thin wrapper over ``api.service``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

import instruments
import scoring
from api import service
from api.tableio import TableError, read_table, write_table

app = typer.Typer(
    help="proforient: career-guidance scoring (VDQ, Holland SDS, PPI, intake).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
err = Console(stderr=True)
out = Console()

EXAMPLES = instruments.data_dir() / "examples"


def _fail(message: str, code: int = 2) -> None:
    # escaped: problem locations such as "[items.csv row 6]" are text, not rich markup
    err.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def _count_rows(path: Path) -> int | None:
    if path.suffix.lower() != ".csv" or not path.is_file():
        return None
    with path.open("rb") as fh:
        return max(0, sum(1 for _ in fh) - 1)


@app.command()
def score(
    input: Annotated[Path, typer.Argument(help="CSV or XLSX: one row per administration, item ids as columns")],
    instrument: Annotated[str, typer.Option("--instrument", "-i", help="vdq, sds, ppi, intake, …")],
    output: Annotated[Path, typer.Option("--output", "-o", help="scores file: .csv, .xlsx or .json")],
    version: Annotated[str | None, typer.Option(help="instrument version (default: newest)")] = None,
    definition: Annotated[
        Path | None, typer.Option(help="score with a definition folder instead of a shipped one")
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="no progress bar")] = False,
) -> None:
    """Score a file of administrations. Optional columns: id, aspiration_1..3, seconds."""
    try:
        inst = instruments.load_path(definition) if definition else instruments.load(instrument, version)
        total = _count_rows(input)
        with Progress(
            TextColumn("scoring {task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=err,
            disable=quiet,
        ) as bar:
            task = bar.add_task(input.name, total=total)
            frame = service.score_chunks(inst, read_table(input), on_chunk=lambda n: bar.advance(task, n))
        write_table(frame, output)
    except scoring.ResponseValidationError as e:
        _fail(f"{input}: nothing was written.\n{e}")
    except (instruments.InstrumentError, TableError) as e:
        _fail(str(e))
    err.print(f"{len(frame)} administration(s) of {inst.ref} scored → {output}")


@app.command("instruments")
def list_instruments() -> None:
    """List the shipped instruments."""
    table = Table("id", "version", "model", "items", "title (ka)", "title (en)")
    for iid, ver in instruments.available():
        inst = instruments.load(iid, ver)
        n = len(inst.items) or len(inst.fields)
        table.add_row(iid, ver, inst.model, str(n), inst.title.ka, inst.title.en)
    out.print(table)


@app.command()
def check(folder: Annotated[Path, typer.Argument(help="an instrument definition folder")]) -> None:
    """Validate an instrument definition and list every problem."""
    try:
        inst = instruments.load_path(folder)
    except instruments.InstrumentError as e:
        _fail(str(e), 1)
    out.print(
        f"{inst.ref}: {len(inst.items) or len(inst.fields)} items/fields, "
        f"{len(inst.scales)} scales, sha256 {inst.content_hash[:12]}: ok"
    )


@app.command()
def demo(
    output: Annotated[Path, typer.Option(help="folder for the scored example files")] = Path("demo-output"),
) -> None:
    """Score the bundled example administrations and show a summary."""
    for iid in ("intake", "vdq", "sds", "ppi"):
        src = EXAMPLES / f"{iid}.csv"
        if not src.is_file():
            _fail(f"example file {src} is missing")
        inst = instruments.load(iid)
        try:
            frame = service.score_chunks(inst, read_table(src))
        except scoring.ResponseValidationError as e:
            _fail(str(e))
        target = output / f"{iid}-scores.csv"
        write_table(frame, target)
        show = {
            "intake": ["id", "job_seeker_group", "group_reasons", "retraining_need"],
            "vdq": ["id", "certainty", "total_indecision", "decision_status", "salient_barriers"],
            "sds": ["id", "code", "consistency", "differentiation_iachan", "congruence_m_min", "flags"],
            "ppi": ["id", "type", "EI", "SN", "TF", "JP", "flags"],
        }[iid]
        table = Table(*show, title=f"{inst.title.ka} / {inst.title.en} ({inst.ref})")
        for _, row in frame[show].head(8).iterrows():
            table.add_row(*[f"{v:.2f}" if isinstance(v, float) else str(v) for v in row])
        out.print(table)
        out.print(f"→ {target}\n")


def _register_all() -> None:
    from api import cli_reports, cli_research, cli_service

    cli_service.register(app)
    cli_reports.register(app)
    cli_research.register(app)


_register_all()


def main() -> None:
    app()


if __name__ == "__main__":
    main()
