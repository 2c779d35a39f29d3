"""``proforient worker``: make the report batches queued in the web (and the API) in the background.

On PostgreSQL it runs a procrastinate worker on the service's own database (start as many as you
like, on any hosts: each batch is made once); on SQLite it polls the ``report_jobs`` table (run
exactly one). Each worker renders one batch at a time, one report after another: run one per core
that should work on reports.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from typing import Annotated, Any

import typer

from ._common import err


def _database() -> tuple[Any, Any]:
    from api.db.session import Database
    from api.settings import get_settings

    settings = get_settings()
    db = Database(
        settings.database_url,
        pool_size=2,
        audit_key=settings.audit_mac_key,
        audit_checkpoint_file=settings.audit_checkpoint_file or None,
    )
    return settings, db


def work(once: bool = False, poll: float = 1.0, stale_minutes: float = 60.0) -> int:
    """The worker loop (``once``: make what is queued now, then return). Returns the batches made."""
    from api import jobqueue
    from api.domain import jobs

    settings, db = _database()
    name = jobqueue.worker_name()
    made = 0

    def run(job_id: str) -> None:
        nonlocal made
        if jobs.run(db, settings, job_id, name):
            made += 1

    try:
        back = jobs.requeue_stale(db, dt.timedelta(minutes=stale_minutes))
        if back:
            err.print(f"put back {len(back)} batch(es) whose worker stopped: {', '.join(back)}")
        if jobqueue.uses_queue(settings.database_url):
            # a batch whose hand-over to the queue failed is still 'queued' in report_jobs: made here
            while (job_id := jobs.next_queued(db)) is not None:
                run(job_id)
            app = jobqueue.make_app(settings.database_url, run=run)
            app.run_worker(queues=[jobqueue.QUEUE], concurrency=1, wait=not once, install_signal_handlers=not once)
            return made
        while True:
            job_id = jobs.next_queued(db)
            if job_id is not None:
                run(job_id)
                continue
            if once:
                return made
            time.sleep(poll)
    finally:
        db.dispose()


def worker(
    once: Annotated[bool, typer.Option("--once", help="make the batches queued now, then stop")] = False,
    poll: Annotated[float, typer.Option(help="SQLite: seconds between looks at the queue")] = 1.0,
    stale_minutes: Annotated[
        float, typer.Option(help="a batch 'running' this long without its worker is put back in the queue")
    ] = 60.0,
) -> None:
    """Make the report batches requested in the web, in the background (one batch at a time)."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    n = work(once=once, poll=poll, stale_minutes=stale_minutes)
    if once:
        err.print(f"{n} batch(es) made")


def register(app: typer.Typer) -> None:
    app.command("worker")(worker)


__all__ = ["register", "work", "worker"]
