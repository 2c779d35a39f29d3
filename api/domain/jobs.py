"""Report batches made in the background: every beneficiary of a cohort (registered in a period),
one report each, by ``proforient worker`` processes while the web page shows the progress.

The ``report_jobs`` row is the one truth about a batch, on both databases:

- an API process writes it (``request``) and, on PostgreSQL, defers a procrastinate job naming it
  once its transaction has committed (``api.jobqueue``); on SQLite a single worker process polls
  the table for queued rows (``next_queued``);
- a worker **claims** it with one conditional UPDATE (``queued`` → ``running``): of two workers
  handed the same batch, one claims it and the other finds nothing to do;
- each report is written with the progress count in one transaction, and a unique constraint
  (job, beneficiary) makes a second copy impossible; a batch put back after a worker died
  (``requeue_stale``) resumes with the people who have no report yet.

Reports carry the requester's name in the audit log (one ``report`` entry per person, as when
the report is downloaded one by one) and the beneficiary's pseudonymous code, never the name.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
import uuid
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from api.db.tables import Beneficiary, ReportJob, ReportJobFile, Result
from api.settings import Settings

from . import audit, reporting
from .access import Principal
from .errors import Forbidden, Invalid, NotFound

log = logging.getLogger("proforient.jobs")

STATES = ("queued", "running", "done", "failed")
EXTENSIONS = {"pdf": ".pdf", "html": ".html", "json": ".json"}


@dataclass(frozen=True)
class Progress:
    """What the web page and the API show about a batch."""

    id: str
    state: str
    total: int
    done: int
    lang: str
    audience: str
    fmt: str
    registered_from: dt.date | None
    registered_to: dt.date | None
    created_at: dt.datetime
    finished_at: dt.datetime | None
    error: str | None

    @property
    def percent(self) -> int:
        return 100 if self.total == 0 else round(100 * self.done / self.total)

    def public(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "state": self.state,
            "total": self.total,
            "done": self.done,
            "percent": self.percent,
            "lang": self.lang,
            "audience": self.audience,
            "format": self.fmt,
            "registered_from": self.registered_from.isoformat() if self.registered_from else None,
            "registered_to": self.registered_to.isoformat() if self.registered_to else None,
            "created_at": self.created_at.isoformat(),
            "finished_at": self.finished_at.isoformat() if self.finished_at else None,
            "error": self.error,
        }


def _progress(job: ReportJob) -> Progress:
    return Progress(
        job.id,
        job.state,
        job.total,
        job.done,
        job.lang,
        job.audience,
        job.fmt,
        job.registered_from,
        job.registered_to,
        job.created_at,
        job.finished_at,
        job.error,
    )


def _day_start(d: dt.date) -> dt.datetime:
    return dt.datetime(d.year, d.month, d.day, tzinfo=dt.UTC)


def cohort(session: Session, registered_from: dt.date | None, registered_to: dt.date | None) -> list[tuple[int, str]]:
    """(id, code) of the beneficiaries registered in the period (both days included) who have at
    least one result and are not depersonalized, by code."""
    q = (
        select(Beneficiary.id, Beneficiary.code)
        .where(Beneficiary.depersonalized_at.is_(None))
        .where(select(Result.id).where(Result.beneficiary_id == Beneficiary.id).exists())
        .order_by(Beneficiary.code)
    )
    if registered_from is not None:
        q = q.where(Beneficiary.created_at >= _day_start(registered_from))
    if registered_to is not None:
        q = q.where(Beneficiary.created_at < _day_start(registered_to) + dt.timedelta(days=1))
    return [(int(i), str(c)) for i, c in session.execute(q).all()]


Enqueue = Callable[[str], None]
"""Hands a committed batch to the job queue (procrastinate on PostgreSQL); None on SQLite."""


def request(
    session: Session,
    principal: Principal,
    lang: str,
    audience: str,
    fmt: str,
    registered_from: dt.date | None = None,
    registered_to: dt.date | None = None,
    ip: str | None = None,
    enqueue: Enqueue | None = None,
) -> Progress:
    """Queue a batch: checked as a single report would be (who may see which audience); refused
    when the cohort has nobody with results. ``enqueue`` runs after this transaction commits."""
    reporting.check(principal, audience, lang, fmt)
    if registered_from and registered_to and registered_from > registered_to:
        raise Invalid("the period ends before it starts", field="registered_to", value=registered_to.isoformat())
    people = cohort(session, registered_from, registered_to)
    if not people:
        raise Invalid("nobody registered in this period has results yet", field="registered_from")
    job = ReportJob(
        id=str(uuid.uuid4()),
        requested_by=principal.actor,
        created_at=dt.datetime.now(dt.UTC),
        state="queued",
        lang=lang,
        audience=audience,
        fmt=fmt,
        registered_from=registered_from,
        registered_to=registered_to,
        total=len(people),
        done=0,
        runs=0,
    )
    session.add(job)
    session.flush()
    audit.append(
        session,
        principal.actor,
        "request",
        "report_batch",
        job.id,
        None,
        ip,
        {"audience": audience, "lang": lang, "format": fmt, "people": len(people)},
    )
    if enqueue is not None:
        job_id = job.id

        def _after_commit(_s: Session) -> None:
            try:
                enqueue(job_id)
            except Exception:  # noqa: BLE001 - the batch is stored; `proforient worker` sweeps it up
                log.exception("could not hand batch %s to the job queue; a worker will find it", job_id)

        event.listen(session, "after_commit", _after_commit, once=True)
    return _progress(job)


def _mine(session: Session, principal: Principal, job_id: str) -> ReportJob:
    job = session.get(ReportJob, job_id)
    if job is None:
        raise NotFound(f"no report batch {job_id!r}", field="batch", value=job_id)
    if job.requested_by != principal.actor and not (principal.kind == "user" and principal.role == "admin"):
        raise Forbidden("this batch was requested by someone else")
    return job


def progress(session: Session, principal: Principal, job_id: str) -> Progress:
    principal.require("reports.read")
    return _progress(_mine(session, principal, job_id))


def recent(session: Session, principal: Principal, limit: int = 10) -> list[Progress]:
    """The caller's latest batches, newest first."""
    principal.require("reports.read")
    q = select(ReportJob).where(ReportJob.requested_by == principal.actor)
    return [_progress(j) for j in session.scalars(q.order_by(ReportJob.created_at.desc()).limit(limit))]


def archive(session: Session, principal: Principal, job_id: str, ip: str | None = None) -> tuple[str, bytes]:
    """A finished batch as one ZIP file (name, bytes); the download is audited."""
    principal.require("reports.read")
    job = _mine(session, principal, job_id)
    if job.state != "done":
        raise Invalid(f"the batch is {job.state}, not done yet", field="batch", value=job_id)
    buf = io.BytesIO()
    rows = session.execute(
        select(ReportJobFile.name, ReportJobFile.data)
        .where(ReportJobFile.job_id == job.id)
        .order_by(ReportJobFile.name)
    )
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in rows:
            zf.writestr(name, data)
    audit.append(session, principal.actor, "download", "report_batch", job.id, None, ip, {"files": job.done})
    return f"reports-{job.created_at:%Y%m%d}-{job.id[:8]}.zip", buf.getvalue()


# ---------------------------------------------------------------- the worker's side


def next_queued(db: Any) -> str | None:
    """The oldest queued batch (the polling worker's way to find work)."""
    with db.read() as s:
        found: str | None = s.scalar(
            select(ReportJob.id).where(ReportJob.state == "queued").order_by(ReportJob.created_at).limit(1)
        )
        return found


def claim(db: Any, job_id: str, worker: str) -> bool:
    """Take a queued batch for this worker: True for exactly one caller."""
    with db.write() as s:
        n: int = s.execute(  # a DML result: its rowcount
            update(ReportJob)
            .where(ReportJob.id == job_id, ReportJob.state == "queued")
            .values(state="running", worker=worker, runs=ReportJob.runs + 1, started_at=dt.datetime.now(dt.UTC))
            .execution_options(synchronize_session=False)
        ).rowcount
    return n == 1


def requeue_stale(db: Any, older_than: dt.timedelta) -> list[str]:
    """Batches left ``running`` longer than ``older_than`` (their worker died): queued again.
    They resume where they stopped; the files already made stay."""
    cutoff = dt.datetime.now(dt.UTC) - older_than
    with db.write() as s:
        stale = list(s.scalars(select(ReportJob.id).where(ReportJob.state == "running", ReportJob.started_at < cutoff)))
        if stale:
            s.execute(
                update(ReportJob)
                .where(ReportJob.id.in_(stale), ReportJob.state == "running")
                .values(state="queued")
                .execution_options(synchronize_session=False)
            )
    return stale


def _made(job_id: str) -> Any:
    """The number of files a batch has (a subquery, counted inside the writing transaction)."""
    return select(func.count()).select_from(ReportJobFile).where(ReportJobFile.job_id == job_id).scalar_subquery()


def run(db: Any, settings: Settings, job_id: str, worker: str) -> bool:
    """Claim the batch and make its reports; False when another worker has it (or had it).
    One transaction per person: the file and the progress count together."""
    if not claim(db, job_id, worker):
        log.info("batch %s: claimed by another worker or not queued; nothing to do", job_id)
        return False
    with db.read() as s:
        job = s.get(ReportJob, job_id)
        if job is None:  # deleted between the claim and now
            return False
        spec = (job.lang, job.audience, job.fmt, job.requested_by)
        people = cohort(s, job.registered_from, job.registered_to)
        made = set(s.scalars(select(ReportJobFile.beneficiary_id).where(ReportJobFile.job_id == job_id)))
    lang, audience, fmt, actor = spec
    try:
        for beneficiary_id, code in people:
            if beneficiary_id in made:
                continue
            with db.read() as s:
                latest = reporting.latest_results(s, beneficiary_id)
                if not latest:
                    continue
                chosen = list(latest.values())
                technical = audience == "psychologist"
                profile = reporting.profile_from(
                    s, settings, code, chosen, reliability=technical, against_first=technical
                )
                result_ids = [r.id for r in chosen]
            data, _ = reporting.render(profile, lang, audience, fmt)
            try:
                with db.write() as s:
                    s.add(
                        ReportJobFile(
                            job_id=job_id,
                            beneficiary_id=beneficiary_id,
                            name=f"{code}_{audience}_{lang}{EXTENSIONS[fmt]}",
                            data=data,
                            created_at=dt.datetime.now(dt.UTC),
                        )
                    )
                    s.flush()
                    s.execute(
                        update(ReportJob)
                        .where(ReportJob.id == job_id)
                        .values(done=_made(job_id))
                        .execution_options(synchronize_session=False)
                    )
                    audit.append(
                        s,
                        actor,
                        "report",
                        "profile",
                        None,
                        code,
                        None,
                        {"audience": audience, "lang": lang, "format": fmt, "results": result_ids, "batch": job_id},
                    )
            except IntegrityError:  # made meanwhile by a worker this batch was taken from: kept once
                log.warning("batch %s: %s already has its report", job_id, code)
    except Exception as exc:
        with db.write() as s:
            s.execute(
                update(ReportJob)
                .where(ReportJob.id == job_id)
                .values(state="failed", error=str(exc)[:2000], finished_at=dt.datetime.now(dt.UTC))
                .execution_options(synchronize_session=False)
            )
        log.exception("batch %s failed", job_id)
        return True
    with db.write() as s:
        s.execute(
            update(ReportJob)
            .where(ReportJob.id == job_id, ReportJob.state == "running")
            .values(
                state="done",
                total=_made(job_id),
                finished_at=dt.datetime.now(dt.UTC),
            )
            .execution_options(synchronize_session=False)
        )
    return True
