"""The background job queue: procrastinate on the PostgreSQL the service already uses (no new
server); on SQLite, no queue at all: a single ``proforient worker`` polls ``report_jobs``.

API processes defer ``render_batch(job_id)`` after the batch's row has committed; any number of
``proforient worker`` processes, on any hosts, take jobs from procrastinate's table (each job is
fetched by one worker: ``SELECT … FOR UPDATE SKIP LOCKED``) and the batch's own claim in
``report_jobs`` (``api.domain.jobs.claim``) makes sure a batch is worked on once even if its job
were delivered twice.
"""

from __future__ import annotations

import logging
import os
import socket
from typing import Any

log = logging.getLogger("proforient.jobs")

QUEUE = "reports"
TASK = "proforient.render_batch"


def uses_queue(url: str) -> bool:
    """Whether this database carries procrastinate's queue (PostgreSQL) or is polled (SQLite)."""
    return url.startswith("postgresql")


def conninfo(url: str) -> str:
    """A libpq URL for psycopg from the SQLAlchemy URL (``postgresql+psycopg://…``)."""
    from sqlalchemy.engine import make_url

    u = make_url(url)
    return u.set(drivername="postgresql").render_as_string(hide_password=False)


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def make_app(url: str, run: Any = None, sync: bool = False) -> Any:
    """A procrastinate ``App`` on the service's PostgreSQL with the one task, ``render_batch``.
    ``run(job_id)`` does the work (only workers pass it); ``sync``: a synchronous connector, for
    deferring from the API's worker threads."""
    import procrastinate

    connector = (
        procrastinate.SyncPsycopgConnector(conninfo=conninfo(url))
        if sync
        else procrastinate.PsycopgConnector(conninfo=conninfo(url))
    )
    app = procrastinate.App(connector=connector)

    @app.task(name=TASK, queue=QUEUE, pass_context=False)
    def render_batch(job_id: str) -> None:
        if run is None:
            raise RuntimeError("this app only defers jobs")
        run(job_id)

    return app


def defer(url: str, job_id: str) -> None:
    """Hand a committed batch to the queue (PostgreSQL only)."""
    app = make_app(url, sync=True)
    with app.open():
        app.configure_task(TASK, queue=QUEUE).defer(job_id=job_id)


def enqueue_for(url: str) -> Any:
    """What ``jobs.request`` should call after commit: ``defer`` on PostgreSQL, nothing on SQLite."""
    if not uses_queue(url):
        return None
    return lambda job_id: defer(url, job_id)
