"""Concurrent clients on the write paths of follow-up, sittings and studies (issues 14–16), the way
``test_integrity`` attacks the older ones: two API processes on one database (SQLite file or
PostgreSQL), requests released at the same moment by a barrier, and the database read afterwards.

- two follow-ups of one placement and month recorded at once: exactly one is stored; the other
  caller gets a clear conflict (409 problem+json naming the month), never a 500;
- a sitting's code renewed while the respondent saves answers with it: every save is either
  acknowledged and kept, or refused as an invalid code; after the renewal the old code opens
  nothing and the new one opens the answers acknowledged;
- two participants of one study starting at once (each with their own code): two distinct
  participants, each with one administration; and one code opened on two devices at once: one
  participant with one administration, and a consent answered "yes" on one device and "no" on the
  other at the same moment gets exactly one acknowledged answer, the one stored.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

import reports
from api.db.session import Database
from api.db.tables import Administration, Answer, FollowUp, StudyParticipant
from api.domain import accounts
from api.domain.access import SYSTEM
from tests.conftest import BACKENDS, fresh_database
from tests.servers import USERS, prepare, servers

pytestmark = pytest.mark.parametrize("backend", BACKENDS)

RESEARCHER = ("research.lead", "reads-the-numbers-1")
TRIALS = 6


@pytest.fixture
def two(backend: str, tmp_path):  # type: ignore[no-untyped-def]
    url = fresh_database(backend, tmp_path)
    prepare(url)
    db = Database(url)
    try:
        with db.write() as s:
            accounts.create_user(s, SYSTEM, RESEARCHER[0], RESEARCHER[1], "researcher")
    finally:
        db.dispose()
    with servers(url, tmp_path, n=2) as group:
        yield group, url


def _at_once(*calls: Callable[[], Any]) -> list[Any]:
    """Run the calls in threads, released together by a barrier; their results in order."""
    gate = threading.Barrier(len(calls))

    def run(call: Callable[[], Any]) -> Any:
        gate.wait()
        return call()

    with ThreadPoolExecutor(len(calls)) as pool:
        return [f.result() for f in [pool.submit(run, c) for c in calls]]


def _count(url: str, query: Any) -> int:
    db = Database(url)
    try:
        with db.read() as s:
            return int(s.execute(query).scalar_one())
    finally:
        db.dispose()


# -- two follow-ups of one placement and month ------------------------------------------------------


def test_one_follow_up_per_placement_and_month(backend: str, two) -> None:  # type: ignore[no-untyped-def]
    group, url = two
    sw_a, sw_b = group.login(0, "sw"), group.login(1, "sw")
    started = (reports.today() - dt.timedelta(days=45)).isoformat()  # the one-month follow-up is due
    done = reports.today().isoformat()
    placements = []
    outcomes = []
    for t in range(TRIALS):
        code = sw_a.post("/v1/beneficiaries", json={"name": "ნინო"}).json()["code"]
        r = sw_a.post(
            f"/v1/beneficiaries/{code}/placements",
            json={"employer_kind": "private", "occupation": "9112", "start_date": started},
        )
        assert r.status_code == 201, r.text
        pid = r.json()["id"]
        placements.append(pid)
        # the two callers found different things (one still in the job, one not): only one may stand
        bodies = [
            {"month": 1, "done_on": done, "still_employed": True, "satisfaction": 3},
            {"month": 1, "done_on": done, "still_employed": t % 2 == 0, "note": "ტელეფონით"},
        ]
        outcomes.append(
            _at_once(
                lambda c=sw_a, b=bodies[0], pid=pid: c.post(f"/v1/placements/{pid}/follow-ups", json=b),
                lambda c=sw_b, b=bodies[1], pid=pid: c.post(f"/v1/placements/{pid}/follow-ups", json=b),
            )
        )
    for pair in outcomes:
        assert sorted(r.status_code for r in pair) == [201, 409], [(r.status_code, r.text[:200]) for r in pair]
        refused = next(r for r in pair if r.status_code == 409)
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert "month" in refused.text
    for pid, pair in zip(placements, outcomes, strict=True):
        assert _count(url, select(func.count()).where(FollowUp.placement_id == pid)) == 1
        kept = next(r for r in pair if r.status_code == 201).json()
        stored = group.login(0, "sw").get(f"/v1/placements/{pid}").json()
        [only] = stored["follow_ups"]
        assert only["id"] == kept["id"] and only["still_employed"] == kept["still_employed"]


# -- a sitting's code renewed while the respondent saves ----------------------------------------------


def _csrf(page: httpx.Response) -> str:
    m = re.search(r'name="csrf" value="([0-9a-f]+)"', page.text)
    assert m, page.text[:500]
    return m.group(1)


def _client(group, k: int) -> httpx.Client:  # type: ignore[no-untyped-def]
    """A client of server ``k``, closed with the servers."""
    c = httpx.Client(base_url=group.urls[k % len(group.urls)], timeout=30)
    group.clients.append(c)
    return c


def _web_staff(group, k: int, user: str) -> httpx.Client:  # type: ignore[no-untyped-def]
    c = _client(group, k)
    token = _csrf(c.get("/sign-in"))
    r = c.post("/sign-in", data={"username": user, "password": USERS[user][0], "csrf": token})
    assert r.status_code == 303, r.text
    return c


def test_a_sitting_code_renewed_while_the_respondent_saves(backend: str, two) -> None:  # type: ignore[no-untyped-def]
    group, url = two
    sw = group.login(0, "sw")
    psy = _web_staff(group, 0, "psy")
    respondent = _client(group, 1)
    for t in range(3):  # a refused save counts as a wrong code from this address: stay under the pause
        code = sw.post("/v1/beneficiaries", json={"name": "თამარ"}).json()["code"]
        page = psy.get(f"/beneficiaries/{code}")
        r = psy.post(
            f"/beneficiaries/{code}/start",
            data={"csrf": _csrf(page), "instrument": ["vdq", "sds"], "order_vdq": "1", "order_sds": "2"},
        )
        assert r.status_code == 303 and "s=" in r.headers["location"], r.text
        sitting, old = r.headers["location"].split("s=")[1].split("&")[0].split(".")
        first = respondent.get(f"/v1/respond/{old}").json()["administration"]
        answers = [{f"VDQ0{k}": str(1 + (k + t) % 4)} for k in range(1, 4)]
        token = _csrf(psy.get(f"/beneficiaries/{code}"))

        def saves(old: str = old, answers: list[dict[str, str]] = answers) -> list[int]:
            return [respondent.patch(f"/v1/respond/{old}/answers", json={"answers": a}).status_code for a in answers]

        def renew(first: str = first, token: str = token) -> httpx.Response:
            return psy.post(f"/administrations/{first}/new-code", data={"csrf": token})

        saved, renewed = _at_once(saves, renew)
        assert renewed.status_code == 303, renewed.text
        new = renewed.headers["location"].split("s=")[1].split("&")[0].split(".")[1]
        assert new != old
        assert all(s in (200, 404) for s in saved), saved  # acknowledged, or the code was replaced: never a 500
        assert saved == sorted(saved)  # once refused, the old code never works again
        assert respondent.get(f"/v1/respond/{old}").status_code == 404
        state = respondent.get(f"/v1/respond/{new}")
        assert state.status_code == 200 and state.json()["administration"] == first
        kept = {k: v for a, s in zip(answers, saved, strict=True) if s == 200 for k, v in a.items()}
        stored = {k: v for k, v in state.json()["answers"].items() if v is not None}
        assert stored == kept
        assert respondent.patch(f"/v1/respond/{new}/answers", json={"answers": {"VDQ05": "2"}}).status_code == 200
        assert _count(url, select(func.count()).where(Answer.administration_id == first)) >= len(kept)


# -- studies: participants starting at once -----------------------------------------------------------


STUDY = {
    "title_ka": "კვლევა",
    "title_en": "Study",
    "purpose_ka": "ნორმები",
    "purpose_en": "Norms",
    "consent_ka": "თანხმობა",
    "consent_en": "Consent",
    "instruments": [{"id": "vdq"}],
    "opens_on": "2026-01-01",
    "closes_on": "2036-01-01",
}


def _study_codes(group, n: int) -> list[str]:  # type: ignore[no-untyped-def]
    c = _client(group, 0)
    assert c.post("/v1/auth/login", json={"username": RESEARCHER[0], "password": RESEARCHER[1]}).status_code == 200
    study = c.post("/v1/studies", json=STUDY)
    assert study.status_code == 201, study.text
    links = c.post(f"/v1/studies/{study.json()['id']}/links", json={"count": n})
    assert links.status_code == 201, links.text
    return list(links.json()["codes"])


def _participant(url: str, code: str) -> StudyParticipant:
    from api.security import hash_token

    db = Database(url)
    try:
        with db.read() as s:
            p = s.execute(select(StudyParticipant).where(StudyParticipant.code_hash == hash_token(code))).scalar_one()
            s.expunge(p)
            return p
    finally:
        db.dispose()


def _consent(c: httpx.Client, code: str, decision: str = "accept") -> httpx.Response:
    token = _csrf(c.get(f"/s/{code}"))
    return c.post(f"/s/{code}/consent", data={"csrf": token, "decision": decision})


def _about(c: httpx.Client, code: str) -> httpx.Response:
    return c.post(f"/s/{code}/about", data={"csrf": _csrf(c.get(f"/s/{code}"))})


def test_two_participants_start_at_once(backend: str, two) -> None:  # type: ignore[no-untyped-def]
    group, url = two
    codes = _study_codes(group, 2 * TRIALS)
    devices = [_client(group, k) for k in range(2)]
    for t in range(TRIALS):
        pair = codes[2 * t : 2 * t + 2]

        def start(k: int, pair: list[str] = pair) -> tuple[int, int, str]:
            c, code = devices[k], pair[k]
            a = _consent(c, code).status_code
            b = _about(c, code).status_code
            opened = c.get(f"/s/{code}")
            return a, b, opened.headers.get("location", "")

        results = _at_once(lambda: start(0), lambda: start(1))
        assert [r[:2] for r in results] == [(303, 303), (303, 303)], results
        assert all(r[2].startswith("/r/") for r in results) and results[0][2] != results[1][2], results
        people = [_participant(url, code) for code in pair]
        assert people[0].id != people[1].id and all(p.status == "consented" for p in people)
        for p in people:
            assert _count(url, select(func.count()).where(Administration.participant_id == p.id)) == 1


def test_one_code_on_two_devices_at_once(backend: str, two) -> None:  # type: ignore[no-untyped-def]
    group, url = two
    codes = _study_codes(group, 2 * TRIALS)
    devices = [_client(group, k) for k in range(2)]
    for t in range(TRIALS):
        # the consent answered "yes" on one device and "no" on the other at the same moment
        code = codes[2 * t]
        tokens = [_csrf(d.get(f"/s/{code}")) for d in devices]
        answers = _at_once(
            *[
                lambda d=d, tok=tok, choice=choice, code=code: d.post(
                    f"/s/{code}/consent", data={"csrf": tok, "decision": choice}
                )
                for d, tok, choice in zip(devices, tokens, ("accept", "decline"), strict=True)
            ]
        )
        statuses = [r.status_code for r in answers]
        assert sorted(statuses) == [303, 409], [(r.status_code, r.text[:200]) for r in answers]
        acknowledged = ("consented", "declined")[statuses.index(303)]
        assert _participant(url, code).status == acknowledged
        # a participant who consented opens the study on two devices at once: one administration
        code = codes[2 * t + 1]
        assert _consent(devices[0], code).status_code == 303
        assert _about(devices[0], code).status_code == 303
        opened = _at_once(*[lambda d=d, code=code: d.get(f"/s/{code}") for d in devices])
        assert all(r.status_code == 303 and r.headers["location"].startswith("/r/") for r in opened), [
            (r.status_code, r.text[:200]) for r in opened
        ]
        p = _participant(url, code)
        assert _count(url, select(func.count()).where(Administration.participant_id == p.id)) == 1
        # the device that opened last holds the working token (a new token on each visit)
        last = [r.headers["location"].removeprefix("/r/") for r in opened]
        assert sum(devices[0].get(f"/v1/respond/{tok}").status_code == 200 for tok in last) == 1


# -- the aspirations question answered on one device while the other submits (issue 14) -------------


def test_aspirations_saved_while_the_questionnaire_is_submitted(backend: str, two) -> None:  # type: ignore[no-untyped-def]
    """Saved before the submission (acknowledged: on to the review) means in the result; otherwise the
    save is not acknowledged (on to the end page) and the result has none. Never an acknowledged save
    the result lacks, never two results."""
    from tests.api_helpers import answers_for

    group, url = two
    sw = group.login(0, "sw")
    psy = _web_staff(group, 0, "psy")
    for t in range(TRIALS):
        code = sw.post("/v1/beneficiaries", json={"name": "ეკა"}).json()["code"]
        page = psy.get(f"/beneficiaries/{code}")
        r = psy.post(f"/beneficiaries/{code}/start", data={"csrf": _csrf(page), "instrument": ["sds"]})
        assert r.status_code == 303 and "s=" in r.headers["location"], r.text
        token = r.headers["location"].split("s=")[1].split("&")[0].split(".")[1]
        a, b = _client(group, 1), _client(group, 0)
        assert a.patch(f"/v1/respond/{token}/answers", json={"answers": answers_for("sds", t)}).status_code == 200
        forms = []
        for device in (a, b):
            shown = device.get(f"/r/{token}/aspirations")
            aid = re.search(r'name="administration" value="([^"]+)"', shown.text).group(1)  # type: ignore[union-attr]
            forms.append({"csrf": _csrf(shown), "administration": aid})
        saved, submitted = _at_once(
            lambda a=a, path=f"/r/{token}/aspirations", form=forms[0]: a.post(
                path, data={**form, "aspiration_1": "cook", "go": "next"}
            ),
            lambda b=b, path=f"/r/{token}/submit", form=forms[1]: b.post(path, data=form),
        )
        assert submitted.status_code == 303 and submitted.headers["location"].endswith("/done"), submitted.text
        assert saved.status_code == 303, saved.text
        results = psy.get(f"/v1/beneficiaries/{code}/results").json()
        assert len(results) == 1  # one submission, one result
        given = [x["given"] for x in results[0]["record"]["aspirations"]]
        if saved.headers["location"].endswith("/review"):  # acknowledged before the submission
            assert given == ["cook"]
        else:
            assert saved.headers["location"].endswith("/done") and given == []
        assert _count(url, select(func.count()).where(Administration.beneficiary_id.is_not(None))) >= t + 1
