"""What every verb group of the ``proforient`` CLI shares: the two consoles and failing cleanly."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NoReturn

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
