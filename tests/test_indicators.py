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
and two "crisis" people (a group of 2 < 5: suppressed).

By region: P1–P5 live in Kvemo Kartli (5 people, all placed: 100 %); P6 and one more in Tbilisi and
three with no region recorded (groups of 2 and 3: suppressed). Kvemo Kartli's retention by hand, in
days: P2 lost at 60, P1 lost at 150, P4 censored at 184, P5 lost at 300, P3 censored at 365.
S(3 m) = 4/5, S(6 m) = 4/5 · 3/4 = 3/5, S(12 m) = 3/5 · 1/2 = 3/10; at risk 4 (P1, P3, P4, P5),
3 (P3, P4, P5); Greenwood sums 1/20, 1/20 + 1/12. At 12 months nobody is still followed (P3's 365
days fall short of 365.25), so there is no estimate there (at risk 0, 3 jobs lost by then)."""

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


REGION_EXPECTED = {  # Kvemo Kartli: month: (S, Greenwood sum, at risk, lost by then)
    3: (4 / 5, 1 / 20, 4, 1),
    6: (3 / 5, 1 / 20 + 1 / 12, 3, 2),
    12: (None, None, 0, 3),  # nobody followed 12 months (P3's 365 days fall short): no estimate
}


def _fixture(service) -> None:  # type: ignore[no-untyped-def]
    sw, psy = service.client("social_worker"), service.client("psychologist")
    codes = []
    for k in range(10):
        person = {"name": f"ადამიანი {k}"} | ({"region": "kvemo_kartli"} if k < 5 else {})
        code = sw.post("/v1/beneficiaries", json=person).json()["code"]
        if k in (5, 6):  # recorded later, on the record
            assert sw.patch(f"/v1/beneficiaries/{code}", json={"region": "tbilisi"}).status_code == 200
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


def _check_retention(rows, expected=EXPECTED) -> None:  # type: ignore[no-untyped-def]
    assert [r["month"] for r in rows] == [3, 6, 12]
    for r in rows:
        s, gw, at_risk, lost = expected[r["month"]]
        if s is None:
            assert (r["retained"], r["lower"], r["upper"], r["at_risk"], r["lost"]) == (None, None, None, at_risk, lost)
            continue
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
    regions = {g["value"]: g for g in data["by"]["region"]}
    kk = regions["kvemo_kartli"]
    assert (kk["people_assessed"], kk["people_placed"], kk["placement_rate"], kk["jobs_lost"]) == (5, 5, 1.0, 3)
    _check_retention(kk["retention"], REGION_EXPECTED)
    assert regions["tbilisi"] == {"value": "tbilisi", "n": None, "suppressed": True}  # 2 people
    assert regions[None] == {"value": None, "n": None, "suppressed": True}  # 3 people, no region recorded
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
    kk = next(r for r in rows if r[0] == "რეგიონი" and r[1] == "ქვემო ქართლი")
    assert kk[header.index("შეფასებული ადამიანები")] == 5 and kk[header.index("დასაქმების მაჩვენებელი")] == 1
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
    # by region: Kvemo Kartli by hand (5 assessed, 1 packet, 1 training, 5 placed, 80 % / 60 % / 30 %)
    assert "Kvemo Kartli 5 1 (of 5) 1 1 (of 5) 5 (of 5) 100 %" in text
    kk = [_band(4 / 5, 1 / 20), _band(3 / 5, 1 / 20 + 1 / 12)]
    assert (
        f"Kvemo Kartli 5 3 80 %* 95 %: {_whole_pct(kk[0][0])[:-2]}–{_whole_pct(kk[0][1])} at risk 4 lost 1 "
        f"60 %* 95 %: {_whole_pct(kk[1][0])[:-2]}–{_whole_pct(kk[1][1])} at risk 3 lost 2 "
        "— no one followed this long yet at risk 0 lost 3"
    ) in text
    assert "Tbilisi fewer than 5 people: suppressed" in text
    assert "not recorded fewer than 5 people: suppressed" in text
    assert "Number at risk" in text  # the chart's rows under the axis (SVG text stays text)
    assert "B-" not in text and "ადამიანი" not in text  # no codes, no names
    ka = manager.get("/v1/indicators", params={"format": "pdf", "lang": "ka"})
    assert ka.status_code == 200
    text = _pdf_text(ka.content)
    assert "პროგრამის ინდიკატორები" in text and "შეფასებული ადამიანები 10" in text
    assert "დასაქმებული ადამიანები 6 60 % 10 შეფასებული ადამიანიდან" in text
    assert "კრიზისის ინტერვენცია (1–3 თვე) 5 ადამიანზე ნაკლები: დაფარულია" in text
    assert "83 % 95 %: 27–97 %" in text.replace("83 %*", "83 %")
    assert "ქვემო ქართლი 5 1 (5-დან) 1 1 (5-დან) 5 (5-დან) 100 %" in text
    for who in ("social_worker", "researcher"):
        assert service.client(who).get("/v1/indicators", params={"format": "pdf"}).status_code == 403


REGIONS_KA = {  # Georgia's regions, written out by hand
    "tbilisi": "თბილისი",
    "adjara": "აჭარა",
    "guria": "გურია",
    "imereti": "იმერეთი",
    "kakheti": "კახეთი",
    "mtskheta_mtianeti": "მცხეთა-მთიანეთი",
    "racha_lechkhumi_kvemo_svaneti": "რაჭა-ლეჩხუმი და ქვემო სვანეთი",
    "samegrelo_zemo_svaneti": "სამეგრელო-ზემო სვანეთი",
    "samtskhe_javakheti": "სამცხე-ჯავახეთი",
    "kvemo_kartli": "ქვემო ქართლი",
    "shida_kartli": "შიდა ქართლი",
    "abkhazia": "აფხაზეთი",
}


def test_the_region_is_on_the_beneficiarys_record(service):
    """A region from the fixed list on creating a person or later (PATCH); anything else is refused
    naming the field; the data-subject export carries it; only the people who register may set it."""
    sw = service.client("social_worker")
    listed = sw.get("/v1/regions").json()
    assert {r["id"]: r["name"]["ka"] for r in listed} == REGIONS_KA
    assert next(r for r in listed if r["id"] == "racha_lechkhumi_kvemo_svaneti")["name"]["en"] == (
        "Racha-Lechkhumi and Kvemo Svaneti"
    )
    made = sw.post("/v1/beneficiaries", json={"name": "ტესტი", "region": "samtskhe_javakheti"})
    assert made.status_code == 201 and made.json()["region"] == "samtskhe_javakheti"
    code = made.json()["code"]
    for bad in ("London", "Tbilisi", ""):
        r = sw.post("/v1/beneficiaries", json={"name": "ტესტი", "region": bad})
        assert r.status_code == 422, (bad, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
        assert "region" in r.text
        r = sw.patch(f"/v1/beneficiaries/{code}", json={"region": bad})
        assert r.status_code == 422 and "region" in r.text
    assert sw.get(f"/v1/beneficiaries/{code}").json()["region"] == "samtskhe_javakheti"  # nothing half-written
    r = sw.patch(f"/v1/beneficiaries/{code}", json={"region": "imereti"})
    assert r.status_code == 200 and r.json()["region"] == "imereti"
    assert sw.get(f"/v1/beneficiaries/{code}/export").json()["beneficiary"]["region"] == "imereti"
    assert sw.patch(f"/v1/beneficiaries/{code}", json={"region": None}).json()["region"] is None
    for who in ("manager", "researcher", "employment_officer", "admin"):
        assert service.client(who).patch(f"/v1/beneficiaries/{code}", json={"region": "guria"}).status_code == 403
    assert sw.get(f"/v1/beneficiaries/{code}").json()["region"] is None


def test_the_region_on_the_case_page(service_for):
    from tests.api_helpers import Web

    svc = service_for("sqlite")
    code = svc.client("social_worker").post("/v1/beneficiaries", json={"name": "ტესტი"}).json()["code"]
    web = Web(svc, "social_worker")
    page = web.get(f"/beneficiaries/{code}")
    assert page.status_code == 200 and 'action="/beneficiaries/' + code + '/region"' in page.text
    assert all(name in page.text for name in REGIONS_KA.values())
    r = web.post(f"/beneficiaries/{code}/region", {"region": "kakheti"})
    assert r.status_code == 303, r.text
    page = web.get(r.headers["location"])
    assert '<option value="kakheti" selected>კახეთი</option>' in page.text
    assert svc.client("social_worker").get(f"/v1/beneficiaries/{code}").json()["region"] == "kakheti"
    assert web.post(f"/beneficiaries/{code}/region", {"region": "nowhere"}).status_code == 422
    assert Web(svc, "manager").post(f"/beneficiaries/{code}/region", {"region": "guria"}).status_code == 403
