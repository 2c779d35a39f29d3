"""Programme indicators (issue 16, item 4) against a hand computation on a small fixture.

Ten people are assessed; six of them (rehabilitation phase "transition") start work on 1 July 2024 and
are followed up. In days from the start (a month = 30.4375 days):

| person | follow-ups (month: in the job?) | time | lost |
|---|---|---|---|
| P1 | 1 ✓, 3 ✓, 6 ✗ (left on day 150) | 150 | yes |
| P2 | 1 ✓, 3 ✗ (left on day 60) | 60 | yes |
| P3 | 1, 3, 6, 12 ✓ (12: 1 July 2025 = day 365) | 365 | no |
| P4 | 1, 3, 6 ✓ (6: 1 January 2025 = day 184) | 184 | no |
| P5 | 1, 3, 6 ✓, 12 ✗ (left on day 300) | 300 | yes |
| P6 | 1, 3, 6, 12, 24 ✓ (24: 1 July 2026 = day 730) | 730 | no |

Kaplan–Meier by hand: S(3 m) = 5/6; S(6 m) = 5/6 · 4/5 = 2/3; S(12 m) = 2/3 · 2/3 = 4/9. At risk
(time ≥ t): 5 at 3 months (91.3 days), 4 at 6 months (182.6 days: P3, P4, P5, P6), 1 at 12 months
(365.25 days: only P6; P3's 365 days fall short). The 95 % band: Greenwood's variance on the
log(−log) scale, v = Σ dᵢ/(nᵢ(nᵢ − dᵢ)) / ln²S, band S^exp(±1.96·√v), with Σ = 1/30, 1/30 + 1/20,
1/30 + 1/20 + 1/6. Two more "transition" people are assessed and not placed (placement rate 6/8),
and two "crisis" people (a group of 2 < 5: suppressed)."""

from __future__ import annotations

import datetime as dt
import io
import math

import pytest
from openpyxl import load_workbook
from scipy import stats

from tests.api_helpers import INTAKE, administer, answers_for

START = dt.date(2024, 7, 1)
PLAN = [  # (month, still employed, left on day)
    [(1, True, None), (3, True, None), (6, False, 150)],
    [(1, True, None), (3, False, 60)],
    [(1, True, None), (3, True, None), (6, True, None), (12, True, None)],
    [(1, True, None), (3, True, None), (6, True, None)],
    [(1, True, None), (3, True, None), (6, True, None), (12, False, 300)],
    [(1, True, None), (3, True, None), (6, True, None), (12, True, None), (24, True, None)],
]
DUE = {1: "2024-08-01", 3: "2024-10-01", 6: "2025-01-01", 12: "2025-07-01", 24: "2026-07-01"}


def _band(s: float, greenwood: float) -> tuple[float, float]:
    z = stats.norm.ppf(0.975)
    v = greenwood / math.log(s) ** 2
    return s ** math.exp(z * math.sqrt(v)), s ** math.exp(-z * math.sqrt(v))


EXPECTED = {  # month: (S, Greenwood sum, at risk, lost by then)
    3: (5 / 6, 1 / 30, 5, 1),
    6: (2 / 3, 1 / 30 + 1 / 20, 4, 2),
    12: (4 / 9, 1 / 30 + 1 / 20 + 1 / 6, 1, 3),
}


def _fixture(service) -> None:  # type: ignore[no-untyped-def]
    sw, psy = service.client("social_worker"), service.client("psychologist")
    codes = []
    for k in range(10):
        code = sw.post("/v1/beneficiaries", json={"name": f"ადამიანი {k}"}).json()["code"]
        phase = "crisis" if k >= 8 else "transition"
        administer(sw, code, "intake", {**INTAKE, "rehabilitation_phase": phase})
        codes.append(code)
    # one packet, one completed training and one ongoing
    administer(psy, codes[0], "vdq", answers_for("vdq"))
    sw.post(f"/v1/beneficiaries/{codes[0]}/consents", json={"addressee": "ssa-employment", "scope": ["profile"]})
    p = sw.post("/v1/packets", json={"beneficiary": codes[0], "addressee": "ssa-employment", "parts": ["profile"]})
    assert sw.post(f"/v1/packets/{p.json()['id']}/send").status_code == 201
    for code, outcome in ((codes[0], "completed"), (codes[1], "ongoing")):
        body = {"activity": "career_counselling", "started_on": "2024-05-01", "outcome": outcome}
        if outcome == "completed":
            body["finished_on"] = "2024-06-01"
        assert sw.post(f"/v1/beneficiaries/{code}/trainings", json=body).status_code == 201
    for code, plan in zip(codes[:6], PLAN, strict=True):
        r = sw.post(
            f"/v1/beneficiaries/{code}/placements",
            json={"employer_kind": "private", "occupation": "9112", "start_date": START.isoformat()},
        )
        assert r.status_code == 201, r.text
        pid = r.json()["id"]
        for month, employed, left in plan:
            body = {"month": month, "done_on": DUE[month], "still_employed": employed}
            if left is not None:
                body["left_on"] = (START + dt.timedelta(days=left)).isoformat()
            r = sw.post(f"/v1/placements/{pid}/follow-ups", json=body)
            assert r.status_code == 201, r.text


def _check_retention(rows) -> None:  # type: ignore[no-untyped-def]
    assert [r["month"] for r in rows] == [3, 6, 12]
    for r in rows:
        s, gw, at_risk, lost = EXPECTED[r["month"]]
        lo, hi = _band(s, gw)
        assert r["retained"] == pytest.approx(s, abs=1e-12)
        assert r["lower"] == pytest.approx(lo, abs=1e-9) and r["upper"] == pytest.approx(hi, abs=1e-9)
        assert (r["at_risk"], r["lost"]) == (at_risk, lost)


def test_indicators_match_a_hand_computation(service):
    _fixture(service)
    manager = service.client("manager")
    r = manager.get("/v1/indicators")
    assert r.status_code == 200, r.text
    data = r.json()
    o = data["overall"]
    assert (o["people_assessed"], o["people_placed"], o["placement_rate"]) == (10, 6, 0.6)
    assert (o["packets_sent"], o["people_with_packet"], o["trainings_completed"]) == (1, 1, 1)
    assert (o["followed"], o["not_followed"], o["jobs_lost"]) == (6, 0, 3)
    _check_retention(o["retention"])
    phases = {g["value"]: g for g in data["by"]["phase"]}
    t = phases["transition"]
    assert (t["people_assessed"], t["people_placed"], t["placement_rate"]) == (8, 6, 0.75)
    _check_retention(t["retention"])
    assert phases["crisis"] == {"value": "crisis", "n": None, "suppressed": True}
    # aggregates only: no code, no name anywhere
    assert "B-" not in r.text and "ადამიანი" not in r.text
    # the workbook carries the same figures
    x = manager.get("/v1/indicators", params={"format": "xlsx", "lang": "ka"})
    assert x.status_code == 200 and x.headers["content-type"].startswith("application/vnd.openxmlformats")
    wb = load_workbook(io.BytesIO(x.content))
    counts, retention = wb.worksheets
    rows = [[c.value for c in row] for row in counts.iter_rows()]
    header = next(r for r in rows if r[1] == "ჯგუფი")
    overall = next(r for r in rows if r[0] == "სულ")
    assert overall[header.index("შეფასებული ადამიანები")] == 10
    assert overall[header.index("დასაქმების მაჩვენებელი")] == 0.6
    crisis = next(r for r in rows if r[1] == "კრიზისის ინტერვენცია (1–3 თვე)")
    assert crisis[2].startswith("მინიმუმზე ნაკლები")
    ret = [[c.value for c in row] for row in retention.iter_rows()]
    overall12 = next(r for r in ret if r[0] == "სულ" and r[2] == 12)
    assert overall12[3] == pytest.approx(4 / 9) and overall12[6] == 1
    for who in ("social_worker", "psychologist", "researcher", "admin", "employment_officer"):
        assert service.client(who).get("/v1/indicators").status_code == 403


def test_small_programmes_show_nothing(service_for):
    svc = service_for("sqlite", indicators_min_n=20)
    _fixture(svc)
    data = svc.client("manager").get("/v1/indicators").json()
    assert data["overall"] == {"n": None, "suppressed": True}
    assert all(g["suppressed"] for by in data["by"].values() for g in by)


def test_the_manager_page(service_for):
    from tests.api_helpers import Web

    svc = service_for("sqlite")
    _fixture(svc)
    web = Web(svc, "manager")
    page = web.get("/indicators")
    assert page.status_code == 200, page.text
    assert "პროგრამის ინდიკატორები" in page.text and "data:image/svg+xml;base64," in page.text
    assert "83 %" in page.text and "67 %" in page.text and "44 %" in page.text  # 5/6, 2/3, 4/9
    assert "B-" not in page.text  # no codes
    assert Web(svc, "social_worker").get("/indicators").status_code == 403


def test_the_researchers_retention_study(service_for):
    """On the hand fixture (no SDS results): every placement is in the study, without a congruence;
    aggregates only. The manager, the social worker may not run it."""
    svc = service_for("sqlite")
    _fixture(svc)
    r = svc.client("researcher").get("/v1/research/retention")
    assert r.status_code == 200, r.text
    out = r.json()
    assert (out["n"], out["events"]) == (6, 3)
    assert all(b["n"] == 0 for b in out["km_by_band"].values())  # no RIASEC code was measured
    assert [m["covariate"] for m in out["cox"]] == ["congruence", "decided", "indecision"]
    assert all(m.get("too_few") for m in out["cox"])
    assert "B-" not in r.text
    for who in ("manager", "social_worker"):
        assert svc.client(who).get("/v1/research/retention").status_code == 403


def _pdf_text(content: bytes) -> str:
    import pypdf

    text = "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(content)).pages)
    return " ".join(text.split())  # line breaks of the layout do not matter


def _whole_pct(v: float) -> str:
    return f"{math.floor(v * 100 + 0.5)} %"


def test_the_donors_pdf_holds_the_hand_computed_figures(service):
    """The PDF for donors (Georgian and English): the hand-computed counts with their n, the
    retention at 3/6/12 months with its band and number at risk, the small group as suppressed,
    the chart; the page links to it."""
    _fixture(service)
    manager = service.client("manager")
    r = manager.get("/v1/indicators", params={"format": "pdf", "lang": "en"})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/pdf" and r.content.startswith(b"%PDF")
    assert r.headers["content-disposition"].endswith('-en.pdf"')
    text = _pdf_text(r.content)
    assert "Programme indicators" in text and "State Fund" in text
    # counts with their n: 10 assessed, 1 packet, 1 training completed, 6 placed of 10, 6 followed, 3 lost
    assert "People assessed 10" in text
    assert "People whose packet was sent 1 10 % of 10 people assessed" in text
    assert "People placed in work 6 60 % of 10 people assessed" in text
    assert "Jobs lost (among those followed up) 3 50 % of 6 followed up" in text
    # retention of the whole programme, the hand computation: 83 %, 67 %, 44 % with their bands and n at risk
    for month, (s, gw, at_risk, lost) in EXPECTED.items():
        lo, hi = _band(s, gw)
        band = f"95 %: {_whole_pct(lo)[:-2]}–{_whole_pct(hi)}"
        cell = f"{_whole_pct(s)}{'*' if at_risk < 5 else ''} {band} at risk {at_risk} lost {lost}"
        assert cell in text, (month, cell)
    # the phases: transition 8 assessed, 6 placed (75 %); crisis (2 people) listed as suppressed
    assert "Transition (months 4–12) 8 1 (of 8) 1 1 (of 8) 6 (of 8) 75 %" in text
    assert "Crisis intervention (months 1–3) fewer than 5 people: suppressed" in text
    assert "Number at risk" in text  # the chart's rows under the axis (SVG text stays text)
    assert "B-" not in text and "ადამიანი" not in text  # no codes, no names
    ka = manager.get("/v1/indicators", params={"format": "pdf", "lang": "ka"})
    assert ka.status_code == 200
    text = _pdf_text(ka.content)
    assert "პროგრამის ინდიკატორები" in text and "შეფასებული ადამიანები 10" in text
    assert "დასაქმებული ადამიანები 6 60 % 10 შეფასებული ადამიანიდან" in text
    assert "კრიზისის ინტერვენცია (1–3 თვე) 5 ადამიანზე ნაკლები: დაფარულია" in text
    assert "83 % 95 %: 27–97 %" in text.replace("83 %*", "83 %")
    for who in ("social_worker", "researcher"):
        assert service.client(who).get("/v1/indicators", params={"format": "pdf"}).status_code == 403
