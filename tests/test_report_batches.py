"""Report batches in the background: requested over the API (or the web page), made by a worker,
once; with two API processes and two ``proforient worker`` processes on one PostgreSQL, a batch
completes once and no person gets two reports."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import text

from api.db.session import Database
from api.domain import jobs
from tests.api_helpers import administer, answers_for
from tests.conftest import fresh_database, pg_url
from tests.servers import prepare, servers


def _people(sw, psy, n: int) -> list[str]:  # type: ignore[no-untyped-def]
    """n beneficiaries, each with a VDQ result (different answers); their codes."""
    codes = []
    for k in range(n):
        r = sw.post("/v1/beneficiaries", json={"name": f"Person {k}"})
        assert r.status_code == 201, r.text
        code = r.json()["code"]
        administer(psy, code, "vdq", answers_for("vdq", k))
        codes.append(code)
    return codes


def _files(zip_bytes: bytes) -> dict[str, dict]:  # type: ignore[type-arg]
    with zipfile.ZipFile(io.BytesIO(zip_bytes)) as zf:
        return {name: json.loads(zf.read(name)) for name in zf.namelist()}


def test_a_batch_is_made_once_by_a_worker(service) -> None:  # type: ignore[no-untyped-def]
    sw, psy = service.client("social_worker"), service.client("psychologist")
    codes = _people(sw, psy, 3)
    r = psy.post("/v1/report-batches", json={"format": "json", "lang": "en"})
    assert r.status_code == 202, r.text
    batch = r.json()
    assert (batch["state"], batch["total"], batch["done"]) == ("queued", 3, 0)

    db = service.app.state.db
    assert jobs.next_queued(db) == batch["id"]
    assert jobs.run(db, service.settings, batch["id"], "worker-a") is True
    assert jobs.run(db, service.settings, batch["id"], "worker-b") is False  # already claimed: nothing again
    assert jobs.next_queued(db) is None

    done = psy.get(f"/v1/report-batches/{batch['id']}").json()
    assert (done["state"], done["done"], done["total"], done["percent"]) == ("done", 3, 3, 100)
    z = psy.get(f"/v1/report-batches/{batch['id']}/archive")
    assert z.status_code == 200 and z.headers["content-type"] == "application/zip"
    files = _files(z.content)
    assert sorted(files) == sorted(f"{c}_psychologist_en.json" for c in codes)
    for name, report in files.items():
        assert report["meta"]["person_id"] == name.split("_")[0]
        assert "Person" not in json.dumps(report)  # pseudonymous codes only, never a name
    with db.read() as s:
        row = s.execute(text("SELECT runs, worker FROM report_jobs")).one()
        actions = s.execute(text("SELECT count(*) FROM audit_log WHERE action = 'report'")).scalar_one()
    assert tuple(row) == (1, "worker-a")
    assert actions == 3  # one audited report per person, in the requester's name


def test_who_may_ask_and_for_whom(service) -> None:  # type: ignore[no-untyped-def]
    sw, psy = service.client("social_worker"), service.client("psychologist")
    r = psy.post("/v1/report-batches", json={"format": "json"})
    assert r.status_code == 422 and "nobody" in r.json()["detail"]  # no one has results yet
    _people(sw, psy, 1)
    assert sw.post("/v1/report-batches", json={"audience": "psychologist"}).status_code == 403
    assert sw.post("/v1/report-batches", json={"audience": "employment", "format": "json"}).status_code == 202
    mine = psy.post("/v1/report-batches", json={"format": "json", "registered_from": "2000-01-01"}).json()
    assert service.client("researcher").get(f"/v1/report-batches/{mine['id']}").status_code == 403
    assert sw.get(f"/v1/report-batches/{mine['id']}").status_code == 403  # someone else's batch
    assert psy.get(f"/v1/report-batches/{mine['id']}/archive").status_code == 422  # not done yet
    r = psy.post("/v1/report-batches", json={"registered_from": "2030-01-02", "registered_to": "2030-01-01"})
    assert r.status_code == 422 and "ends before it starts" in r.json()["detail"]
    r = psy.post("/v1/report-batches", json={"registered_to": "2000-01-01"})
    assert r.status_code == 422  # nobody registered before 2000


def _registered_workers(url: str) -> int:
    db = Database(url)
    try:
        with db.read() as s:
            return int(s.execute(text("SELECT count(*) FROM procrastinate_workers")).scalar_one())
    finally:
        db.dispose()


def _wait_for(ready, seconds: float, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while not ready():
        assert time.monotonic() < deadline, f"waited {seconds:.0f} s for {what}"
        time.sleep(0.2)


def test_two_api_processes_and_two_workers_make_each_batch_once(tmp_path: Path) -> None:
    """Two uvicorn servers and two ``proforient worker`` processes on one PostgreSQL: three batches
    requested through both servers are each made once (one claim, one procrastinate job that
    succeeded), every person has exactly one report per batch, and the batches' files match."""
    if not pg_url():
        pytest.fail("PROFORIENT_TEST_DATABASE_URL is not set: run the tests with scripts/test.sh")
    url = fresh_database("postgresql", tmp_path)
    prepare(url)
    with servers(url, tmp_path, n=2) as group:
        sw, psy = group.login(0, "sw"), group.login(1, "psy")
        codes = _people(sw, psy, 4)
        env = {**group.env, "PROFORIENT_LOG_LEVEL": "warning"}
        outs = [(tmp_path / f"worker{k}.log").open("wb") for k in range(2)]
        workers = [
            subprocess.Popen(
                [sys.executable, "-m", "api.cli", "worker"],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=outs[k],
            )
            for k in range(2)
        ]
        try:
            # each worker first makes what is already 'queued' in report_jobs (a batch whose hand-over
            # to the queue failed), then registers with procrastinate: wait for both, so that these
            # batches go through the queue (on a slow machine a starting worker's sweep found them)
            _wait_for(lambda: _registered_workers(url) == 2, 120, "both workers to register with procrastinate")
            other = group.login(0, "psy")
            ids = [
                (psy if k % 2 else other).post("/v1/report-batches", json={"format": "json"}).json()["id"]
                for k in range(3)
            ]
            deadline = time.monotonic() + 240
            states: dict[str, dict] = {}  # type: ignore[type-arg]
            while time.monotonic() < deadline:
                states = {i: psy.get(f"/v1/report-batches/{i}").json() for i in ids}
                if all(s["state"] in ("done", "failed") for s in states.values()):
                    break
                time.sleep(0.5)
            assert all(s["state"] == "done" and s["done"] == 4 for s in states.values()), states
            archives = [_files(other.get(f"/v1/report-batches/{i}/archive").content) for i in ids]
        finally:
            for w in workers:
                w.terminate()
            for w in workers:
                w.wait(timeout=30)
            for f in outs:
                f.close()
        logs = "".join((tmp_path / f"worker{k}.log").read_text(encoding="utf-8", errors="replace") for k in range(2))
    expected = sorted(f"{c}_psychologist_ka.json" for c in codes)
    for files in archives:
        assert sorted(files) == expected
    assert archives[0] == archives[1] == archives[2]  # the same people, the same reports
    db = Database(url)
    try:
        with db.read() as s:
            runs = s.execute(text("SELECT runs FROM report_jobs")).scalars().all()
            per_person = (
                s.execute(text("SELECT count(*) FROM report_job_files GROUP BY job_id, beneficiary_id")).scalars().all()
            )
            queue = s.execute(text("SELECT status, count(*) FROM procrastinate_jobs GROUP BY status")).all()
            names = s.execute(text("SELECT DISTINCT worker FROM report_jobs")).scalars().all()
    finally:
        db.dispose()
    assert runs == [1, 1, 1], logs
    assert per_person == [1] * 12
    assert dict(queue) == {"succeeded": 3}
    assert all(n and ":" in n for n in names)  # host:pid of the worker that made it


def test_the_web_page_asks_shows_progress_and_gives_the_zip(service) -> None:  # type: ignore[no-untyped-def]
    from tests.api_helpers import Web

    codes = _people(service.client("social_worker"), service.client("psychologist"), 2)
    web = Web(service, "psychologist")
    page = web.get("/report-batches?lang=en")
    assert page.status_code == 200 and "Reports for a group" in page.text
    r = web.post("/report-batches", {"from": "", "to": "", "audience": "psychologist", "report_lang": "en",
                                     "format": "json"})  # fmt: skip
    assert r.status_code == 303, r.text
    where = r.headers["location"]
    waiting = web.get(where + "?lang=en")
    assert "Waiting" in waiting.text and "0 of 2 reports" in waiting.text and 'http-equiv="refresh"' in waiting.text
    batch_id = where.rsplit("/", 1)[1]
    assert jobs.run(service.app.state.db, service.settings, batch_id, "w") is True
    ready = web.get(where + "?lang=ka")
    assert "მზადაა" in ready.text and "2 ანგარიში 2-დან" in ready.text and "refresh" not in ready.text
    z = web.get(where + "/archive")
    assert z.status_code == 200
    assert sorted(_files(z.content)) == sorted(f"{c}_psychologist_en.json" for c in codes)
    bad = web.post("/report-batches", {"from": "2030-01-02", "to": "2030-01-01", "audience": "psychologist",
                                       "report_lang": "en", "format": "json"})  # fmt: skip
    assert bad.status_code == 422 and "პერიოდის დასასრული" in bad.text
