"""kill -9 of API workers mid-write: nothing the service acknowledged is lost, on SQLite and
PostgreSQL, and the audit chain stays intact."""

from __future__ import annotations

import pytest

from tests.chaos import run
from tests.conftest import BACKENDS, fresh_database
from tests.servers import prepare, servers


@pytest.mark.parametrize("backend", BACKENDS)
def test_killed_workers_lose_no_acknowledged_write(backend: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    url = fresh_database(backend, tmp_path)
    prepare(url)
    with servers(url, tmp_path, n=1, workers=2) as group:
        out = run(group, url, writers=8, kills=4, every=3.0, seed=1)
    assert out.kills >= 3, out.line()
    assert len(out.created) > 5 and out.submitted, out.line()
    assert out.lost_created == [] and out.lost_submitted == [], out.line()
    assert out.audit_ok, out.line()
