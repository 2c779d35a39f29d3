"""Many respondents at once on SQLite and on PostgreSQL: every one completes, no errors,
one result each, and each administration's time is the sum of its increments (none twice)."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select

from api.db.session import Database
from api.db.tables import Administration, Result
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
