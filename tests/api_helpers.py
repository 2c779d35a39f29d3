"""Small helpers for the service tests: complete administrations through the API,
and a script-less browser for the web pages."""

from __future__ import annotations

import re

import numpy as np

import instruments
from tests.conftest import PASSWORDS

ANSWER = {
    "ordinal": lambda rng: str(int(rng.integers(1, 5))),
    "binary": lambda rng: "like" if rng.random() < 0.5 else "dislike",
    "paired": lambda rng: f"{'LR'[int(rng.integers(0, 2))]}{int(rng.integers(1, 4))}",
}


def answers_for(iid: str, seed: int = 0) -> dict[str, str]:
    inst = instruments.load(iid)
    rng = np.random.default_rng(seed)
    return {i: ANSWER[inst.response.kind](rng) for i in inst.item_ids}  # type: ignore[union-attr]


INTAKE = {
    "education_level": "secondary",
    "has_profession": "yes",
    "profession": "მკერავი",
    "profession_in_demand": "yes",
    "work_experience_years": "4",
    "months_since_last_job": "20",
    "never_worked": "no",
    "currently_employed": "no",
    "computer_skills": "basic",
    "driving_licence": "no",
    "communication": "with_support",
    "economic_situation": "no_income",
    "rehabilitation_phase": "transition",
    "expectation": "both",
    "constraints": "childcare",
}


def administer(client, code: str, iid: str, answers: dict[str, str], **details) -> dict:  # type: ignore[no-untyped-def]
    r = client.post("/v1/administrations", json={"beneficiary": code, "instrument": iid})
    assert r.status_code == 201, r.text
    aid = r.json()["id"]
    r = client.patch(f"/v1/administrations/{aid}/answers", json={"answers": answers, **details})
    assert r.status_code == 200, r.text
    r = client.post(f"/v1/administrations/{aid}/submit")
    assert r.status_code == 201, r.text
    return r.json()


class Web:
    """A browser without scripts: keeps cookies, reads the CSRF token from the last page."""

    def __init__(self, service, who: str | None = None) -> None:  # type: ignore[no-untyped-def]
        self.c = service.client()
        self.token = ""
        if who is not None:
            r = self.post("/sign-in", {"username": who, "password": PASSWORDS[who]}, start="/sign-in")
            assert r.status_code == 303, r.text
            self.get(r.headers["location"])  # the CSRF cookie is new after a sign-in: take its token

    def get(self, path: str, **kw):  # type: ignore[no-untyped-def]
        r = self.c.get(path, follow_redirects=False, **kw)
        m = re.search(r'name="csrf" value="([0-9a-f]+)"', r.text)
        if m:
            self.token = m.group(1)
        return r

    def post(self, path: str, data: dict, start: str | None = None, csrf: bool = True):  # type: ignore[no-untyped-def]
        if start is not None or not self.token:
            self.get(start or "/sign-in")
        body = {**data, "csrf": self.token} if csrf else data
        return self.c.post(path, data=body, follow_redirects=False)
