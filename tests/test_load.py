"""Many respondents at once on SQLite and on PostgreSQL: every one completes, no errors,
one result each, and each administration's time is the sum of its increments (none twice)."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from sqlalchemy import func, select

from api.db.session import Database
from api.db.tables import Administration, ApiClient, Result
from api.domain import accounts
from api.domain.access import SYSTEM
from tests.api_helpers import answers_for
from tests.conftest import BACKENDS, fresh_database
from tests.load import respondents
from tests.servers import prepare, servers

N = 60


@pytest.mark.parametrize("backend", BACKENDS)
def test_sixty_respondents_at_once_all_complete(backend: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    url = fresh_database(backend, tmp_path)
    prepare(url)
    # the shipped default of threads per process (2): requests really queue and the admission limit is exercised
    with servers(url, tmp_path, n=2, max_queue="400") as group:
        sw, psy = group.login(0, "sw"), group.login(1, "psy")
        tokens, answers, admins = [], [], []
        for k in range(N):
            code = sw.post("/v1/beneficiaries", json={}).json()["code"]
            r = psy.post("/v1/administrations", json={"beneficiary": code, "instrument": "vdq"})
            assert r.status_code == 201, r.text
            tokens.append(r.json()["resume_token"])
            admins.append(r.json()["id"])
            answers.append(answers_for("vdq", k))
        stats = asyncio.run(respondents(group.urls, tokens, answers))
    assert stats.errors == [], stats.errors[:5]
    assert stats.completed == N, stats.line("load")
    db = Database(url)
    try:
        with db.read() as s:
            results = dict(
                s.execute(select(Result.administration_id, func.count()).group_by(Result.administration_id)).all()
            )
            seconds = [s.get(Administration, a).seconds for a in admins]
    finally:
        db.dispose()
    assert all(results.get(a) == 1 for a in admins)
    assert seconds == [pytest.approx(4.0 * len(answers[0]))] * N


@pytest.mark.parametrize("backend", BACKENDS)
def test_one_api_key_from_many_clients_at_once_while_its_last_use_is_due(backend: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Stateless scoring looks its caller up on the event loop and refreshes the key's last use in a
    thread (``api/deps.py``). 32 clients of two processes use one key whose last use is due, so
    both processes write the same row at once (on PostgreSQL each waits for the other's row lock):
    every request is answered 200 with the hand-computed certainty, and the last use is recorded."""
    url = fresh_database(backend, tmp_path)
    prepare(url)
    db = Database(url)
    try:
        with db.write() as s:
            _, key = accounts.create_api_client(s, SYSTEM, "partner-load", ["score"])
    finally:
        db.dispose()
    # every item answered 1: certainty has four items keyed + (1 each) and two keyed − (4 each)
    body = {"instrument": "vdq", "administrations": [{"answers": {f"VDQ{i:02d}": 1 for i in range(1, 57)}}]}

    async def clients(base_urls: list[str]) -> list[tuple[int, float | None]]:
        async def one(k: int) -> list[tuple[int, float | None]]:
            out = []
            async with httpx.AsyncClient(base_url=base_urls[k % 2], timeout=60) as c:
                for _ in range(5):
                    r = await c.post("/v1/score", json=body, headers={"Authorization": f"Bearer {key}"})
                    scales = r.json()["results"][0]["scales"] if r.status_code == 200 else []
                    out.append((r.status_code, next((x["score"] for x in scales if x["id"] == "certainty"), None)))
            return out

        return [x for part in await asyncio.gather(*(one(k) for k in range(32))) for x in part]

    with servers(url, tmp_path, n=2) as group:
        answered = asyncio.run(clients(group.urls))
    assert answered == [(200, 2.0)] * 160  # (4 × 1 + 2 × 4) / 6
    db = Database(url)
    try:
        with db.read() as s:
            used = s.execute(select(ApiClient.last_used_at).where(ApiClient.name == "partner-load")).scalar_one()
    finally:
        db.dispose()
    assert used is not None
