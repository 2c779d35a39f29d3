"""Acknowledged means committed: data integrity under failure, concurrency and load.

Each test here attacks one "never" of the design the way the field would: a COMMIT that
fails, the same request sent by several clients at the same moment through two API
processes, a withdrawal racing a sending, a truncated audit log. Every storage test runs
on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import threading
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event, func, select, text

import instruments
from api import scoring_facade as scoring_service
from api.db.session import READONLY, Database
from api.db.tables import Answer, AuditEntry, Beneficiary, Consent, Result, Sending
from api.domain import audit
from tests.api_helpers import answers_for
from tests.conftest import BACKENDS, fresh_database
from tests.servers import prepare, servers

pytestmark = pytest.mark.parametrize("backend", BACKENDS)


# -- a COMMIT that fails is never acknowledged -------------------------------------------------------


class CommitFails(RuntimeError):
    """Raised by the test's hook in place of the database's COMMIT."""


def test_a_failed_commit_is_never_acknowledged(backend: str, service_for) -> None:  # type: ignore[no-untyped-def]
    svc = service_for(backend)
    engine = svc.app.state.engine
    armed = threading.Event()

    def fail(conn) -> None:  # type: ignore[no-untyped-def]
        if armed.is_set() and not conn.get_execution_options().get(READONLY):  # every write's COMMIT
            raise CommitFails("COMMIT failed on purpose")

    event.listen(engine, "commit", fail)
    try:
        sw = svc.client("social_worker")
        sw_raw = TestClient(svc.app, raise_server_exceptions=False, cookies=sw.cookies)
        with svc.app.state.db.read() as s:
            before = s.execute(select(func.count()).select_from(Beneficiary)).scalar_one()
            entries = s.execute(select(func.count()).select_from(AuditEntry)).scalar_one()
        page = sw_raw.get("/beneficiaries/new")
        token = page.text.split('name="csrf" value="')[1].split('"')[0]
        armed.set()
        r = sw_raw.post("/v1/beneficiaries", json={"name": "ნინო"})
        assert r.status_code >= 500, r.text  # never 201 for a write that did not land
        assert r.headers["content-type"].startswith("application/problem+json")
        assert "code" not in r.json()
        # the same through a web form: an error page, not the next page
        r = sw_raw.post("/beneficiaries/new", data={"csrf": token, "name": "თამარ"}, follow_redirects=False)
        assert r.status_code >= 500 and "text/html" in r.headers["content-type"]
        armed.clear()
        with svc.app.state.db.read() as s:
            assert s.execute(select(func.count()).select_from(Beneficiary)).scalar_one() == before
            # nothing of the failed writes reached the audit log either
            assert s.execute(select(func.count()).select_from(AuditEntry)).scalar_one() <= entries + 2
        assert sw.post("/v1/beneficiaries", json={"name": "ნინო"}).status_code == 201  # and it recovers
    finally:
        event.remove(engine, "commit", fail)


# -- two processes, the same moment ---------------------------------------------------------------------


@pytest.fixture
def two(backend: str, tmp_path):  # type: ignore[no-untyped-def]
    url = fresh_database(backend, tmp_path)
    prepare(url)
    with servers(url, tmp_path, n=2) as group:
        yield group, url


def _new_case(c: httpx.Client) -> str:
    r = c.post("/v1/beneficiaries", json={"name": "მარიამ"})
    assert r.status_code == 201, r.text
    return str(r.json()["code"])


def test_read_your_writes_across_processes(backend: str, two) -> None:  # type: ignore[no-untyped-def]
    group, _ = two
    sw_a, sw_b = group.login(0, "sw"), group.login(1, "sw")
    psy_a, psy_b = group.login(0, "psy"), group.login(1, "psy")
    misses = 0
    for k in range(40):
        code = _new_case(sw_a if k % 2 else sw_b)
        other = sw_b if k % 2 else sw_a
        misses += other.get(f"/v1/beneficiaries/{code}").status_code != 200
        adm = (psy_a if k % 2 else psy_b).post("/v1/administrations", json={"beneficiary": code, "instrument": "vdq"})
        assert adm.status_code == 201, adm.text
        r = (psy_b if k % 2 else psy_a).patch(
            f"/v1/administrations/{adm.json()['id']}/answers", json={"answers": {"VDQ01": "3"}}
        )
        misses += r.status_code != 200
    assert misses == 0


def _ready_administration(psy: httpx.Client, code: str, seed: int) -> str:
    adm = psy.post("/v1/administrations", json={"beneficiary": code, "instrument": "vdq"}).json()["id"]
    r = psy.patch(f"/v1/administrations/{adm}/answers", json={"answers": answers_for("vdq", seed)})
    assert r.status_code == 200, r.text
    return str(adm)


def test_three_simultaneous_submits_make_one_result(backend: str, two) -> None:  # type: ignore[no-untyped-def]
    group, url = two
    sw = group.login(0, "sw")
    psys = [group.login(k, "psy") for k in range(3)]
    trials = 12
    statuses: list[list[int]] = []
    admins = []
    for t in range(trials):
        adm = _ready_administration(psys[0], _new_case(sw), t)
        admins.append(adm)
        gate = threading.Barrier(3)

        def go(c: httpx.Client, adm: str = adm, gate: threading.Barrier = gate) -> int:
            gate.wait()
            return c.post(f"/v1/administrations/{adm}/submit").status_code

        with ThreadPoolExecutor(3) as pool:
            statuses.append(sorted(pool.map(go, psys)))
    assert all(s == [201, 409, 409] for s in statuses), statuses
    db = Database(url)
    try:
        with db.read() as s:
            counts = [s.execute(select(func.count()).where(Result.administration_id == a)).scalar_one() for a in admins]
    finally:
        db.dispose()
    assert counts == [1] * trials


def test_an_autosave_racing_a_submit_never_changes_a_scored_administration(backend: str, two) -> None:  # type: ignore[no-untyped-def]
    group, url = two
    sw = group.login(0, "sw")
    psy_a, psy_b = group.login(0, "psy"), group.login(1, "psy")
    outcomes = []
    admins = []
    for t in range(12):
        adm = _ready_administration(psy_a, _new_case(sw), 100 + t)
        admins.append(adm)
        gate = threading.Barrier(2)

        def submit(adm: str = adm, gate: threading.Barrier = gate) -> int:
            gate.wait()
            return psy_a.post(f"/v1/administrations/{adm}/submit").status_code

        def save(adm: str = adm, gate: threading.Barrier = gate) -> int:
            gate.wait()
            changed = {"VDQ01": "1", "VDQ02": "1", "VDQ03": "1"}
            return psy_b.patch(f"/v1/administrations/{adm}/answers", json={"answers": changed}).status_code

        with ThreadPoolExecutor(2) as pool:
            fs, fa = pool.submit(submit), pool.submit(save)
            outcomes.append((fs.result(), fa.result()))
    assert all(s == 201 and a in (200, 409) for s, a in outcomes), outcomes
    # every stored result equals the scores of the answers stored with it
    db = Database(url)
    try:
        with db.read() as s:
            for adm in admins:
                stored = {
                    a.item: a.value for a in s.execute(select(Answer).where(Answer.administration_id == adm)).scalars()
                }
                (result,) = s.execute(select(Result).where(Result.administration_id == adm)).scalars().all()
                inst = instruments.load(result.instrument, result.instrument_version)
                (again,) = scoring_service.score_answers(inst, [{k: v for k, v in stored.items() if v is not None}])
                assert result.record == again.model_dump(mode="json")
    finally:
        db.dispose()


def test_no_sending_or_reading_after_an_acknowledged_withdrawal(backend: str, two) -> None:  # type: ignore[no-untyped-def]
    group, url = two
    sws = [group.login(0, "sw"), group.login(1, "sw")]
    officer = group.login(1, "officer")
    psy = group.login(0, "psy")
    after_withdrawal = []
    for t in range(12):
        code = _new_case(sws[0])
        adm = _ready_administration(psy, code, 200 + t)
        assert psy.post(f"/v1/administrations/{adm}/submit").status_code == 201
        consent = sws[0].post(
            f"/v1/beneficiaries/{code}/consents",
            json={"addressee": "ssa-employment", "scope": ["profile", "activities"]},
        )
        assert consent.status_code == 201, consent.text
        cid = consent.json()["id"]
        packets = []
        for _ in range(3):
            p = sws[t % 2].post(
                "/v1/packets", json={"beneficiary": code, "addressee": "ssa-employment", "parts": ["profile"]}
            )
            assert p.status_code == 201, p.text
            packets.append(p.json()["id"])
        gate = threading.Barrier(4)

        def send(pid: str, k: int, gate: threading.Barrier = gate) -> int:
            gate.wait()
            return sws[k % 2].post(f"/v1/packets/{pid}/send").status_code

        def withdraw(cid: int = cid, gate: threading.Barrier = gate) -> int:
            gate.wait()
            return sws[1].post(f"/v1/consents/{cid}/withdraw").status_code

        with ThreadPoolExecutor(4) as pool:
            sent = [pool.submit(send, pid, k) for k, pid in enumerate(packets)]
            w = pool.submit(withdraw)
            assert w.result() in (200, 204), w.result()
            assert all(f.result() in (201, 200, 409) for f in sent)
        # the withdrawal is acknowledged: nothing more goes out, and nothing sent can be read
        late = sws[0].post(
            "/v1/packets", json={"beneficiary": code, "addressee": "ssa-employment", "parts": ["profile"]}
        )
        after_withdrawal.append(sws[1].post(f"/v1/packets/{late.json()['id']}/send").status_code)
        for pid in packets:
            after_withdrawal.append(officer.get(f"/v1/packets/{pid}").status_code)
    assert set(after_withdrawal) <= {404, 409}, after_withdrawal
    db = Database(url)
    try:
        with db.read() as s:
            rows = s.execute(
                select(Sending.sent_at, Consent.withdrawn_at).join(Consent, Consent.id == Sending.consent_id)
            ).all()
    finally:
        db.dispose()

    def aware(d: dt.datetime) -> dt.datetime:
        return d if d.tzinfo else d.replace(tzinfo=dt.UTC)

    late_sendings = [r for r in rows if r.withdrawn_at is not None and aware(r.sent_at) >= aware(r.withdrawn_at)]
    assert late_sendings == []


# -- a truncated audit log is found --------------------------------------------------------------------


def test_truncation_and_a_reset_head_are_found(backend: str, service_for, tmp_path) -> None:  # type: ignore[no-untyped-def]
    svc = service_for(backend, audit_checkpoint_file=str(tmp_path / "checkpoints.jsonl"))
    sw = svc.client("social_worker")
    for _ in range(5):
        code = sw.post("/v1/beneficiaries", json={"name": "ქეთევან"}).json()["code"]
        assert sw.get(f"/v1/beneficiaries/{code}").status_code == 200
    admin = svc.client("admin")
    assert admin.get("/v1/audit/verify").json()["ok"]
    engine = svc.app.state.engine
    wipe = text("TRUNCATE audit_log" if backend == "postgresql" else "DELETE FROM audit_log")
    # the tables refuse it while the triggers stand
    with engine.begin() as conn, pytest.raises(Exception, match="append-only|only moves forward"):
        conn.execute(wipe)
    with engine.begin() as conn:  # someone with the database owner's rights drops them first
        if backend == "postgresql":
            for trig, table in [
                ("audit_append_only", "audit_log"),
                ("audit_no_truncate", "audit_log"),
                ("audit_head_forward", "audit_head"),
                ("audit_checkpoints_append_only", "audit_checkpoints"),
            ]:
                conn.execute(text(f"DROP TRIGGER {trig} ON {table}"))
            conn.execute(text("TRUNCATE audit_log, audit_checkpoints"))
        else:
            for trig in ("audit_no_delete", "audit_head_forward", "audit_checkpoints_no_delete"):
                conn.execute(text(f"DROP TRIGGER {trig}"))
            conn.execute(text("DELETE FROM audit_log"))
            conn.execute(text("DELETE FROM audit_checkpoints"))
        conn.execute(text(f"UPDATE audit_head SET seq = 0, hash = '{audit.GENESIS}'"))
    v = admin.get("/v1/audit/verify").json()
    assert v["ok"] is False, v
    assert "truncated" in v["problem"] or "rewritten" in v["problem"]


def test_a_forged_checkpoint_is_found(backend: str, service_for, tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "checkpoints.jsonl"
    svc = service_for(backend, audit_checkpoint_file=str(path))
    svc.client("social_worker").post("/v1/beneficiaries", json={"name": "ანა"})
    lines = path.read_text().splitlines()
    assert lines, "a checkpoint is written on the first audited write"
    forged = lines[-1].replace('"seq": ', '"seq": 9').replace('"mac": "', '"mac": "0')
    path.write_text("\n".join([*lines, forged]) + "\n")
    v = svc.client("admin").get("/v1/audit/verify").json()
    assert v["ok"] is False and "not genuine" in v["problem"], v


# -- a row locked once per unit of work ----------------------------------------------------------------


def test_an_administration_is_locked_and_re_read_once_per_unit_of_work(backend: str, service_for) -> None:  # type: ignore[no-untyped-def]
    """``administrations.get(lock=True)`` (every write path calls it, a submit twice) locks and re-reads
    the row the first time in a transaction; again in the same transaction it is the same object and no
    statement; a new transaction locks again; a lock taken inside a savepoint is not remembered (its
    rollback would release the row on PostgreSQL)."""
    from api.domain import administrations

    svc = service_for(backend)
    sw, psy = svc.client("social_worker"), svc.client("psychologist")
    code = sw.post("/v1/beneficiaries", json={"name": "ეკა"}).json()["code"]
    adm_id = psy.post("/v1/administrations", json={"beneficiary": code, "instrument": "vdq"}).json()["id"]
    engine = svc.app.state.engine
    reads: list[str] = []

    def count(conn, cursor, statement, *args) -> None:  # type: ignore[no-untyped-def]
        if statement.lstrip().upper().startswith("SELECT") and "FROM administrations" in statement:
            reads.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        with svc.app.state.db.write() as s:
            first = administrations.get(s, adm_id, lock=True)
            again = administrations.get(s, adm_id, lock=True)
            assert again is first and len(reads) == 1
            if backend == "postgresql":
                assert "FOR UPDATE" in reads[0]
            administrations.get(s, adm_id)  # without lock: always read
            assert len(reads) == 2
        with svc.app.state.db.write() as s:
            administrations.get(s, adm_id, lock=True)  # a new unit of work locks again
            assert len(reads) == 3
        with svc.app.state.db.write() as s:
            with s.begin_nested():
                administrations.get(s, adm_id, lock=True)
            administrations.get(s, adm_id, lock=True)  # the savepoint's lock was not remembered
            assert len(reads) == 5
            administrations.get(s, adm_id, lock=True)
            assert len(reads) == 5
    finally:
        event.remove(engine, "before_cursor_execute", count)
