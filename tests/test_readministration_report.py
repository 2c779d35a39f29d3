"""The psychologist's normal report of a questionnaire given again shows the change against the first
administration of the same instrument and version, scale by scale, with the Jacobson–Truax reliable
change index (issue 16, item 2) — not only the explicit comparison page.

A hand-made sample of five VDQ administrations (reliability_min_n = 5, so the stored answers give
α and SD). Every scale's five keyed item values per administration (a reversed item is answered
5 − value):

| administration | items | mean |
|---|---|---|
| the person, first  | 1 2 1 2 1 | 7/5 = 1.4 |
| the person, again  | 3 4 3 3 4 | 17/5 = 3.4 |
| other B            | 2 2 3 2 2 | 11/5 |
| other C            | 4 3 4 4 3 | 18/5 |
| other D            | 2 1 2 1 2 | 8/5 |

By hand: every item's variance (n − 1) is 13/10; the sums 7, 17, 11, 18, 8 have variance 257/10, so
Cronbach's α = 5/4 · (1 − 5 · (13/10) / (257/10)) = 240/257; the means' SD² = 257/250, so
SEM² = SD² · (1 − α) = 257/250 · 17/257 = 17/250, and RCI = (3.4 − 1.4) / (√2 · SEM) = √(500/17)
≈ 5.42 (a reliable change: |RCI| > 1.96).
"""

from __future__ import annotations

import math

import pytest

import instruments
from tests.api_helpers import Web, administer

PATTERNS = {
    "first": [1, 2, 1, 2, 1],
    "again": [3, 4, 3, 3, 4],
    "b": [2, 2, 3, 2, 2],
    "c": [4, 3, 4, 4, 3],
    "d": [2, 1, 2, 1, 2],
}
SCALE = "readiness"  # five items, one of them reversed
RCI = math.sqrt(500 / 17)


def _answers(pattern: list[int]) -> dict[str, str]:
    vdq = instruments.load("vdq")
    out = {}
    for scale in vdq.scales:
        for j, item in enumerate(vdq.items_of(scale.id)):
            value = pattern[j % len(pattern)]
            out[item.id] = str(5 - value if item.keyed < 0 else value)
    return out


def _case(svc):  # type: ignore[no-untyped-def]
    sw, psy = svc.client("social_worker"), svc.client("psychologist")
    code = sw.post("/v1/beneficiaries", json={"name": "ტესტი"}).json()["code"]
    first = administer(psy, code, "vdq", _answers(PATTERNS["first"]))
    for who in ("b", "c", "d"):
        other = sw.post("/v1/beneficiaries", json={"name": "სხვა"}).json()["code"]
        administer(psy, other, "vdq", _answers(PATTERNS[who]))
    again = administer(psy, code, "vdq", _answers(PATTERNS["again"]))
    return code, first, again


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_the_psychologists_report_of_a_readministration_shows_reliable_change(service_for, backend):
    svc = service_for(backend, reliability_min_n=5)
    code, first, again = _case(svc)
    psy = svc.client("psychologist")
    r = psy.get(f"/v1/results/{again['id']}/report", params={"format": "json", "lang": "en"})
    assert r.status_code == 200, r.text
    [change] = r.json()["changes"]
    row = next(x for x in change["rows"] if x["id"] == SCALE)
    assert (row["before"], row["after"]) == (pytest.approx(1.4), pytest.approx(3.4))
    assert row["rci"] == pytest.approx(RCI, rel=1e-9) and row["reliable"] is True
    assert change["before_version"] == change["after_version"] == first["instrument_version"]
    # the integrated profile (latest of each instrument) shows it too, and the HTML names the RCI
    profile = psy.get(f"/v1/beneficiaries/{code}/profile", params={"format": "json", "lang": "en"}).json()
    [change] = profile["changes"]
    assert next(x for x in change["rows"] if x["id"] == SCALE)["rci"] == pytest.approx(RCI, rel=1e-9)
    html = psy.get(f"/v1/results/{again['id']}/report", params={"format": "html", "lang": "en"}).text
    assert "5.42" in html
    # the first administration has nothing before it; other audiences get no automatic comparison
    assert psy.get(f"/v1/results/{first['id']}/report", params={"format": "json"}).json()["changes"] == []
    for audience in ("employment", "beneficiary"):
        view = psy.get(f"/v1/results/{again['id']}/report", params={"format": "json", "audience": audience}).json()
        assert view["changes"] == []


def test_no_automatic_change_against_another_version(service_for):
    """Only the same instrument version counts as "given before" in the normal report (comparing two
    versions, with their changed items named, is the comparison page's explicit choice)."""
    svc = service_for("sqlite", reliability_min_n=5)
    sw, psy = svc.client("social_worker"), svc.client("psychologist")
    code = sw.post("/v1/beneficiaries", json={"name": "ტესტი"}).json()["code"]
    versions = sorted(v for i, v in instruments.available() if i == "vdq")
    assert len(versions) >= 2
    a = psy.post("/v1/administrations", json={"beneficiary": code, "instrument": "vdq", "version": versions[0]})
    assert a.status_code == 201, a.text
    aid = a.json()["id"]
    answers = dict.fromkeys(instruments.load("vdq", versions[0]).item_ids, "2")
    assert psy.patch(f"/v1/administrations/{aid}/answers", json={"answers": answers}).status_code == 200
    assert psy.post(f"/v1/administrations/{aid}/submit").status_code == 201
    latest = administer(psy, code, "vdq", _answers(PATTERNS["again"]))
    assert latest["instrument_version"] == versions[-1]
    view = psy.get(f"/v1/results/{latest['id']}/report", params={"format": "json"}).json()
    assert view["changes"] == []


def test_the_web_result_page_and_report_show_reliable_change(service_for):
    svc = service_for("sqlite", reliability_min_n=5)
    code, first, again = _case(svc)
    web = Web(svc, "psychologist")
    page = web.get(f"/results/{again['id']}?lang=en")
    assert page.status_code == 200 and "5.42" in page.text  # RCI = √(500/17)
    r = web.get(f"/beneficiaries/{code}/report?format=html&report_lang=en&result={again['id']}")
    assert "5.42" in r.text
    assert "5.42" not in web.get(f"/beneficiaries/{code}/report?format=html&report_lang=en&audience=employment").text
