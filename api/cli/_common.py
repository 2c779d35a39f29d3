"""What every verb group of the ``proforient`` CLI shares: the two consoles and failing cleanly."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.console import Console

err = Console(stderr=True)
out = Console()


def fail(message: str, code: int = 2) -> NoReturn:
    """Print ``error: message`` on stderr and exit with ``code``.

    The message is printed as plain text (no Rich markup), so a location such as
    ``[items.csv row 14]`` reaches the user intact.
    """
    err.print("[bold red]error:[/]", end=" ")
    err.print(message, markup=False, highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def split(values: Sequence[str] | None) -> list[str]:
    """Repeated and comma-separated option values as one list: ``-m 9,99 -m x`` → ``["9", "99", "x"]``."""
    return [v.strip() for item in (values or []) for v in item.split(",") if v.strip()]


def warn(message: str) -> None:
    """Print ``warning: message`` on stderr (plain text)."""
    err.print("[yellow]warning:[/]", end=" ")
    err.print(message, markup=False, highlight=False, soft_wrap=True)


def missing_keys(values: Sequence[str] | None) -> list[str]:
    """``-m`` values as the engine looks codes up: stripped, lower-case (``9.0`` → ``9``)."""
    out = []
    for v in split(values):
        key = v.lower()
        if key.endswith(".0") and key[:-2].lstrip("+-").isdigit():
            key = key[:-2]
        out.append(key)
    return list(dict.fromkeys(out))


# Options shared by every command that reads a data file (score and the research commands).
InstrumentOpt = Annotated[
    str | None,
    typer.Option("--instrument", "-i", help="vdq, sds, ppi, intake, … (not needed with --definition)"),
]
VersionOpt = Annotated[str | None, typer.Option("--version", help="instrument version (default: newest)")]
DefinitionOpt = Annotated[
    Path | None,
    typer.Option(help="a definition folder instead of a shipped instrument (-i/--version, if given, must match it)"),
]
IdOpt = Annotated[
    str,
    typer.Option(
        "--id-column",
        help="respondent id column (default 'auto': the first of id, respondent, code; '' numbers the rows)",
    ),
]
MissingOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--missing-code",
        "--missing",
        "-m",
        help="a value meaning 'not answered' (repeat or comma-separate: -m 0 -m 9,99), on top of the "
        "definition's missing_codes",
    ),
]
CovariateOpt = Annotated[
    list[str] | None,
    typer.Option("--covariate", "-c", help="an extra column to keep, e.g. gender, age_band (repeatable)"),
]
IgnoreOpt = Annotated[
    list[str] | None, typer.Option("--ignore", help="an extra column to skip without a warning (repeatable)")
]
ImputeOpt = Annotated[
    str,
    typer.Option(
        "--impute",
        help="scale scores with skipped items: 'none' (prorate from the answered items, the definition's rule), "
        "'median' or 'mean' (a skipped item counts as the item's median/mean answer in the file, as psych "
        "scoreItems impute=)",
    ),
]
MinAnsweredOpt = Annotated[
    int | None,
    typer.Option(
        "--min-answered",
        help="score a scale when at least this many of its items are answered "
        "(default: each scale's own minimum from the definition)",
    ),
]


def missing_policy(impute: str, min_answered: int | None) -> object:
    """``--impute`` / ``--min-answered`` → a ``scoring.MissingPolicy`` (None: the definitions' own rule)."""
    import scoring

    method = {"none": "prorate", "prorate": "prorate", "median": "median", "mean": "mean"}.get(impute.lower())
    if method is None:
        raise ValueError(f"--impute must be none, median or mean (got {impute!r})")
    if method == "prorate" and min_answered is None:
        return None
    return scoring.MissingPolicy(method, min_answered=min_answered)  # type: ignore[arg-type]
