"""Outcomes after the packet (issue 16, item 1 and 6): trainings, placements and follow-ups in the
case, through the REST API, with the consent's own part, row-level access for the employment
department, idempotent retries, refusals that name the field and write nothing, and the audit log.

Dates are relative to today in the fund's zone; expected due dates are written out by hand."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

import reports
from api.db.tables import AuditEntry, FollowUp, Placement, Training
from api.domain import accounts
from api.domain.access import SYSTEM
from api.domain.outcomes import add_months, schedule_of
from tests.api_helpers import administer, answers_for

TODAY = reports.today()


def _case(service, scope=("profile", "outcomes"), send=True):  # type: ignore[no-untyped-def]
    """A person with a VDQ result and a packet sent to ssa-employment under a consent of ``scope``."""
    sw, psy = service.client("social_worker"), service.client("psychologist")
    code = sw.post("/v1/beneficiaries", json={"name": "მარიამ"}).json()["code"]
    administer(psy, code, "vdq", answers_for("vdq"))
    r = sw.post(f"/v1/beneficiaries/{code}/consents", json={"addressee": "ssa-employment", "scope": list(scope)})
    assert r.status_code == 201, r.text
    if send:
        p = sw.post("/v1/packets", json={"beneficiary": code, "addressee": "ssa-employment", "parts": ["profile"]})
        assert sw.post(f"/v1/packets/{p.json()['id']}/send").status_code == 201
    return code, r.json()["id"]


def _count(service, table) -> int:  # type: ignore[no-untyped-def]
    with service.app.state.sessions() as s:
        return int(s.execute(select(func.count()).select_from(table)).scalar_one())


def _audit(service, entity: str) -> list[AuditEntry]:  # type: ignore[no-untyped-def]
    with service.app.state.sessions() as s:
        return list(s.execute(select(AuditEntry).where(AuditEntry.entity == entity)).scalars())


def test_a_case_records_training_placement_and_follow_ups(service):
    code, _ = _case(service)
    sw = service.client("social_worker")
    start = TODAY - dt.timedelta(days=100)
    r = sw.post(
        f"/v1/beneficiaries/{code}/trainings",
        json={"activity": "career_counselling", "started_on": start.isoformat()},
    )
    assert r.status_code == 201, r.text
    training = r.json()
    assert training["outcome"] == "ongoing" and training["finished_on"] is None
    r = sw.post(
        f"/v1/trainings/{training['id']}/finish", json={"outcome": "completed", "finished_on": TODAY.isoformat()}
    )
    assert r.status_code == 200 and r.json()["outcome"] == "completed", r.text
    r = sw.post(
        f"/v1/beneficiaries/{code}/placements",
        json={
            "employer_kind": "private",
            "occupation": "მკერავი",  # by its Georgian catalogue name
            "start_date": start.isoformat(),
            "hours_per_week": 40,
            "pay_band": "501_1000",
            "supported": True,
            "note": "შეხვედრა დამსაქმებელთან კარგად ჩაიარა",
        },
    )
    assert r.status_code == 201, r.text
    placement = r.json()
    assert placement["isco"] == "7531" and placement["riasec"]  # the catalogue's tailor/dressmaker
    # 100 days after the start: the 1- and 3-month follow-ups are overdue (or due), the 6-month one upcoming
    months = [s["month"] for s in placement["schedule"]]
    assert months == [1, 3, 6, 12, 24, 36]
    assert [s["due"] for s in placement["schedule"]][:3] == [
        add_months(start, 1).isoformat(),
        add_months(start, 3).isoformat(),
        add_months(start, 6).isoformat(),
    ]
    f1 = sw.post(
        f"/v1/placements/{placement['id']}/follow-ups",
        json={
            "month": 1,
            "done_on": add_months(start, 1).isoformat(),
            "still_employed": True,
            "same_job": True,
            "satisfaction": 3,
            "difficulties": ["transport", "stress", "stress"],
        },
    )
    assert f1.status_code == 201, f1.text
    assert f1.json()["difficulties"] == ["stress", "transport"]  # the list's order, each once
    f3 = sw.post(
        f"/v1/placements/{placement['id']}/follow-ups",
        json={"month": 3, "done_on": TODAY.isoformat(), "still_employed": True, "satisfaction": 4},
    )
    assert f3.status_code == 201, f3.text
    out = sw.get(f"/v1/beneficiaries/{code}/outcomes").json()
    [p] = out["placements"]
    assert [f["month"] for f in p["follow_ups"]] == [1, 3]
    assert p["next_follow_up"] == {"month": 6, "due": add_months(start, 6).isoformat(), "status": "upcoming"}
    assert [t["outcome"] for t in out["trainings"]] == ["completed"]
    # every entry audited; the free note never goes into the log
    assert {e.action for e in _audit(service, "training")} >= {"record", "finish"}
    assert len(_audit(service, "follow_up")) >= 2
    [placed] = [e for e in _audit(service, "placement") if e.action == "record"]
    assert placed.beneficiary == code and "შეხვედრა" not in str(placed.detail)


def test_refusals_name_the_field_and_write_nothing(service):
    code, _ = _case(service)
    sw = service.client("social_worker")
    start = TODAY - dt.timedelta(days=40)
    pid = sw.post(
        f"/v1/beneficiaries/{code}/placements",
        json={"employer_kind": "public", "occupation": "9112", "start_date": start.isoformat()},
    ).json()["id"]
    before = {t: _count(service, t) for t in (Training, Placement, FollowUp)}
    bad = [
        (f"/v1/beneficiaries/{code}/trainings", {"activity": "juggling", "started_on": TODAY.isoformat()}, "activity"),
        (
            f"/v1/beneficiaries/{code}/trainings",
            {"activity": "career_counselling", "started_on": (TODAY + dt.timedelta(days=3)).isoformat()},
            "started_on",
        ),
        (
            f"/v1/beneficiaries/{code}/placements",
            {"employer_kind": "private", "occupation": "astronaut of the sea", "start_date": TODAY.isoformat()},
            "occupation",
        ),
        (
            f"/v1/beneficiaries/{code}/placements",
            {"employer_kind": "pirate", "occupation": "9112", "start_date": TODAY.isoformat()},
            "employer_kind",
        ),
        (
            f"/v1/beneficiaries/{code}/placements",
            {"employer_kind": "private", "occupation": "9112", "start_date": TODAY.isoformat(), "micro_business": True},
            "micro_business",
        ),
        (
            f"/v1/placements/{pid}/follow-ups",
            {"month": 2, "done_on": TODAY.isoformat(), "still_employed": True},
            "month",
        ),
        (  # the 3-month follow-up is two months away
            f"/v1/placements/{pid}/follow-ups",
            {"month": 3, "done_on": TODAY.isoformat(), "still_employed": True},
            "done_on",
        ),
        (
            f"/v1/placements/{pid}/follow-ups",
            {"month": 1, "done_on": TODAY.isoformat(), "still_employed": True, "satisfaction": 5},
            "satisfaction",
        ),
        (
            f"/v1/placements/{pid}/follow-ups",
            {"month": 1, "done_on": TODAY.isoformat(), "still_employed": True, "difficulties": ["boredom"]},
            "difficulties",
        ),
        (
            f"/v1/placements/{pid}/follow-ups",
            {
                "month": 1,
                "done_on": TODAY.isoformat(),
                "still_employed": False,
                "left_on": (start - dt.timedelta(days=1)).isoformat(),
            },
            "left_on",
        ),
    ]
    for path, body, field in bad:
        r = sw.post(path, json=body)
        assert r.status_code == 422, (path, body, r.text)
        assert field in r.text, (field, r.text)
    assert {t: _count(service, t) for t in (Training, Placement, FollowUp)} == before
    # an ended job takes no further follow-ups; a month is recorded once
    ok = {"month": 1, "done_on": TODAY.isoformat(), "still_employed": False, "difficulties": ["conflict_colleagues"]}
    assert sw.post(f"/v1/placements/{pid}/follow-ups", json=ok).status_code == 201
    again = sw.post(f"/v1/placements/{pid}/follow-ups", json=ok)
    assert again.status_code == 409
    p = sw.get(f"/v1/placements/{pid}").json()
    assert p["ended_on"] == TODAY.isoformat() and p["schedule"] == [] and p["next_follow_up"] is None


def test_an_employment_system_reports_back_idempotently(service):
    code, _ = _case(service)
    emp = service.client("employer")
    body = {"employer_kind": "private", "occupation": "5120", "start_date": (TODAY - dt.timedelta(days=35)).isoformat()}
    key = {"Idempotency-Key": "placement-from-hr-system-1"}
    first = emp.post(f"/v1/beneficiaries/{code}/placements", json=body, headers=key)
    assert first.status_code == 201, first.text
    retry = emp.post(f"/v1/beneficiaries/{code}/placements", json=body, headers=key)
    assert retry.status_code == 201 and retry.json()["id"] == first.json()["id"]
    assert _count(service, Placement) == 1
    other = emp.post(f"/v1/beneficiaries/{code}/placements", json={**body, "occupation": "9112"}, headers=key)
    assert other.status_code == 409
    pid = first.json()["id"]
    fu = {"month": 1, "done_on": TODAY.isoformat(), "still_employed": True, "note": "HR: works well"}
    k2 = {"Idempotency-Key": "follow-up-1"}
    a = emp.post(f"/v1/placements/{pid}/follow-ups", json=fu, headers=k2)
    b = emp.post(f"/v1/placements/{pid}/follow-ups", json=fu, headers=k2)
    assert a.status_code == b.status_code == 201 and a.json()["id"] == b.json()["id"]
    assert _count(service, FollowUp) == 1
    # the organisation that recorded it is named; the fund's staff read its note
    seen = service.client("social_worker").get(f"/v1/placements/{pid}").json()
    assert seen["organisation"] == "ssa-employment" and seen["follow_ups"][0]["note"] == "HR: works well"


def test_the_employment_department_sees_only_consented_cases(service):
    sw = service.client("social_worker")
    with_outcomes, _ = _case(service)
    profile_only, _ = _case(service, scope=("profile",))
    not_sent, _ = _case(service, send=False)
    withdrawn, consent_id = _case(service)
    assert sw.post(f"/v1/consents/{consent_id}/withdraw").status_code == 200
    with service.app.state.sessions() as s, s.begin():
        _, other_key = accounts.create_api_client(s, SYSTEM, "other-hr", ["outcomes:write"], "other-agency")
    other = service.client()
    other.headers["Authorization"] = f"Bearer {other_key}"
    officer, employer = service.client("employment_officer"), service.client("employer")
    start = (TODAY - dt.timedelta(days=10)).isoformat()
    body = {"employer_kind": "private", "occupation": "9112", "start_date": start, "note": "ფონდის შენიშვნა"}
    # the social worker's own entry on the consented case (with a note the officer must not read)
    sw_pid = sw.post(f"/v1/beneficiaries/{with_outcomes}/placements", json=body).json()["id"]
    for caller in (officer, employer):
        r = caller.post(f"/v1/beneficiaries/{with_outcomes}/placements", json={**body, "note": None})
        assert r.status_code == 201, r.text
        seen = caller.get(f"/v1/beneficiaries/{with_outcomes}/outcomes")
        assert seen.status_code == 200
        assert "ფონდის შენიშვნა" not in seen.text
        assert caller.get(f"/v1/placements/{sw_pid}").json()["note"] is None
        for code in (profile_only, not_sent, withdrawn):
            assert caller.post(f"/v1/beneficiaries/{code}/placements", json=body).status_code == 404
            assert caller.get(f"/v1/beneficiaries/{code}/outcomes").status_code == 404
    for caller in (other, service.client("other_officer")):
        assert caller.get(f"/v1/beneficiaries/{with_outcomes}/outcomes").status_code == 404
        assert caller.get(f"/v1/placements/{sw_pid}").status_code == 404
        assert caller.post(f"/v1/beneficiaries/{with_outcomes}/placements", json=body).status_code == 404
    for who in ("psychologist", "researcher", "manager", "admin", "partner"):
        assert service.client(who).get(f"/v1/beneficiaries/{with_outcomes}/outcomes").status_code == 403


def _placement(start: dt.date):  # type: ignore[no-untyped-def]
    return Placement(id="p", beneficiary_id=1, start_date=start)


def _fu(month: int, employed: bool = True):  # type: ignore[no-untyped-def]
    return FollowUp(month=month, still_employed=employed)


@pytest.mark.parametrize(
    "today, done, expected",
    [
        # started Monday 2026-01-05; 1 month = 2026-02-05 (a Thursday)
        (dt.date(2026, 2, 2), [], {1: "due", 3: "upcoming"}),  # the week of Mon 2 – Sun 8 February
        (dt.date(2026, 2, 9), [], {1: "overdue", 3: "upcoming"}),
        (dt.date(2026, 1, 20), [], {1: "upcoming", 3: "upcoming"}),
        (dt.date(2026, 4, 6), [_fu(3)], {1: "missed", 6: "upcoming"}),  # 3 done: 1 was missed, not overdue
        (dt.date(2026, 4, 6), [_fu(1, employed=False)], {}),  # the job ended: nothing more is due
    ],
)
def test_schedule_states(today, done, expected):
    got = {d.month: d.status for d in schedule_of(_placement(dt.date(2026, 1, 5)), done, today)}
    for month, status in expected.items():
        assert got[month] == status, (month, got)
    if not expected:
        assert got == {}


def test_the_schedule_lists_due_and_overdue_per_social_worker(service):
    code, _ = _case(service)
    sw = service.client("social_worker")
    # overdue: the 1-month follow-up of a placement started 70 days ago
    start = TODAY - dt.timedelta(days=70)
    pid = sw.post(
        f"/v1/beneficiaries/{code}/placements",
        json={"employer_kind": "private", "occupation": "9112", "start_date": start.isoformat()},
    ).json()["id"]
    monday = TODAY - dt.timedelta(days=TODAY.weekday())
    # due this week: a placement whose 1-month date falls on this week's Monday... or later this week
    due_start = next(
        d for d in (monday - dt.timedelta(days=k) for k in range(26, 40)) if monday <= add_months(d, 1) <= TODAY
    )
    pid2 = sw.post(
        f"/v1/beneficiaries/{code}/placements",
        json={"employer_kind": "private", "occupation": "9112", "start_date": due_start.isoformat()},
    ).json()["id"]
    r = sw.get("/v1/follow-ups/schedule")
    assert r.status_code == 200, r.text
    [mine] = [g for g in r.json()["groups"] if g["mine"]]
    assert mine["social_worker"] == "social_worker"
    assert [(x["placement"], x["month"]) for x in mine["overdue"]] == [(pid, 1)]
    assert [(x["placement"], x["month"], x["due"]) for x in mine["due"]] == [
        (pid2, 1, add_months(due_start, 1).isoformat())
    ]
    assert r.json()["week"]["start"] == monday.isoformat()
    assert service.client("psychologist").get("/v1/follow-ups/schedule").status_code == 403


def test_timeline_shows_a_readministration_with_reliable_change(service_for):
    """Six people answer the VDQ (so a reliability exists with reliability_min_n=5); one answers it
    again after a training: the timeline compares it with the first, scale by scale, and each RCI is
    Jacobson–Truax's (x2 − x1) / (√2 · SD · √(1 − α)) with the stored α and SD."""
    import math

    from api.domain.research import stored_reliability

    svc = service_for("sqlite", reliability_min_n=5)
    code, _ = _case(svc)
    psy, sw = svc.client("psychologist"), svc.client("social_worker")
    import numpy as np

    import instruments

    vdq = instruments.load("vdq")
    rng = np.random.default_rng(7)
    for level in (1, 2, 2, 3, 3, 4, 4):  # answers that hang together (a positive α on most scales)
        other = sw.post("/v1/beneficiaries", json={"name": "სხვა"}).json()["code"]
        answers = {i: str(int(np.clip(level + rng.integers(-1, 2), 1, 4))) for i in vdq.item_ids}
        administer(psy, other, "vdq", answers)
    sw.post(
        f"/v1/beneficiaries/{code}/trainings", json={"activity": "career_counselling", "started_on": TODAY.isoformat()}
    )
    second = administer(psy, code, "vdq", answers_for("vdq", seed=42))
    r = sw.get(f"/v1/beneficiaries/{code}/timeline")
    assert r.status_code == 200, r.text
    events = r.json()["events"]
    kinds = [e["kind"] for e in events]
    assert kinds.index("packet") < kinds.index("training")
    [again] = [e for e in events if e.get("change")]
    assert again["result"] == second["id"]
    with svc.app.state.sessions() as s:
        first_id = again["change"]["first"]
        from api.db.tables import Result

        first = s.get(Result, first_id)
        rel = stored_reliability(s, first.instrument, first.instrument_version, 5)
        assert rel is not None
        before = {x["id"]: x["score"] for x in first.record["scales"]}
    after = {x["id"]: x["score"] for x in second["record"]["scales"]}
    checked = 0
    for row in again["change"]["rows"]:
        alpha, sd = rel.scales.get(row["scale"], (float("nan"), float("nan")))
        if not (0 < alpha < 1 and sd > 0):
            assert row["rci"] is None
            continue
        expected = (after[row["scale"]] - before[row["scale"]]) / (math.sqrt(2) * sd * math.sqrt(1 - alpha))
        assert row["rci"] == pytest.approx(expected, rel=1e-9)
        assert row["reliable"] == (0 if abs(expected) <= 1.959964 else (1 if expected > 0 else -1))
        checked += 1
    assert checked >= len(before) // 2
    # without enough administrations no RCI is claimed
    svc2 = service_for("sqlite")
    code2, _ = _case(svc2)
    administer(svc2.client("psychologist"), code2, "vdq", answers_for("vdq", seed=3))
    [again2] = [
        e
        for e in svc2.client("social_worker").get(f"/v1/beneficiaries/{code2}/timeline").json()["events"]
        if e.get("change")
    ]
    assert again2["change"]["reliability"] is None and all(r["rci"] is None for r in again2["change"]["rows"])
