"""``proforient`` command line: argument parsing only, one module per verb group.

- ``score``: score, instruments, check, demo
- ``service``: serve, init-db, create-user, create-api-client, backup, restore,
  rotate-key, retention, audit verify
- ``reports``: report
- ``worker``: worker (report batches in the background)
- ``research``: analyze, build-norms, simulate, export, xlsform, import-submissions

Each module's ``register(app)`` adds its top-level command functions; the work
is done by library functions (``api.scoring_facade``, ``reports``, ``scoring.research``)
that tests call directly. Heavy libraries (the research toolkit, WeasyPrint,
the database) are imported inside the commands that need them, so every
command starts quickly.
"""

from __future__ import annotations

import typer

from . import reports, research, score, service, worker
from .score import EXAMPLES

app = typer.Typer(
    help="proforient: career-guidance scoring (VDQ, Holland SDS, PPI, intake).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
score.register(app)
service.register(app)
reports.register(app)
research.register(app)
worker.register(app)


def main() -> None:
    app()


__all__ = ["EXAMPLES", "app", "main"]
