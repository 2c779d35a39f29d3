"""Zero 5xx: every published endpoint, fuzzed from the OpenAPI document by schemathesis, as every
kind of caller (nobody signed in, each role, API clients by scope). Bounded (a few examples per
operation and caller, derandomized) so it runs in the suite; a longer run is
``FUZZ_EXAMPLES=200 pytest tests/test_fuzz.py``. The database is seeded with a person, results,
a consent and packets, so generated requests also reach real records."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from tests.api_helpers import INTAKE, administer, answers_for
from tests.conftest import PASSWORDS, Service, build_service

CALLERS = ["anonymous", *PASSWORDS, "scorer", "reader", "partner"]
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "4"))


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory: pytest.TempPathFactory) -> Service:
    svc = build_service("sqlite", Path(tmp_path_factory.mktemp("fuzz")))
    sw, psy = svc.client("social_worker"), svc.client("psychologist")
    code = sw.post("/v1/beneficiaries", json={"name": "ფაზი"}).json()["code"]
    administer(sw, code, "intake", INTAKE)
    administer(psy, code, "vdq", answers_for("vdq", 1))
    sw.post(f"/v1/beneficiaries/{code}/consents", json={"addressee": "ssa-employment", "scope": ["profile"]})
    p = sw.post("/v1/packets", json={"beneficiary": code, "addressee": "ssa-employment", "parts": ["profile"]})
    sw.post(f"/v1/packets/{p.json()['id']}/send")
    svc.headers = {}  # type: ignore[attr-defined]
    for who in CALLERS:
        if who in svc.keys:
            svc.headers[who] = {"Authorization": f"Bearer {svc.keys[who]}"}  # type: ignore[attr-defined]
        elif who != "anonymous":
            cookie = svc.client(who).cookies.get("pfo_session")
            svc.headers[who] = {"Cookie": f"pfo_session={cookie}"}  # type: ignore[attr-defined]
        else:
            svc.headers[who] = {}  # type: ignore[attr-defined]
    return svc


def _operations(svc: Service) -> list[object]:
    schema = schemathesis.openapi.from_asgi("/openapi.json", svc.app)
    return [r.ok() for r in schema.get_all_operations()]


@pytest.mark.parametrize("index", range(60))
def test_no_server_error(fuzzed: Service, index: int) -> None:
    """One published operation (by its index in the OpenAPI document), fuzzed for every caller."""
    ops = _operations(fuzzed)
    if index >= len(ops):
        pytest.skip(f"the API publishes {len(ops)} operations")
    op = ops[index]
    if op.path in ("/v1/auth/logout",):  # type: ignore[attr-defined]  # would sign the shared callers out
        return

    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
    @given(case=op.as_strategy())  # type: ignore[attr-defined]
    def run(case) -> None:  # type: ignore[no-untyped-def]
        for who in CALLERS:  # the same request from every kind of caller
            r = case.call(headers=fuzzed.headers[who])  # type: ignore[attr-defined]
            assert r.status_code < 500, f"{who} {case.method} {case.formatted_path} → {r.status_code}: {r.text[:300]}"

    run()
