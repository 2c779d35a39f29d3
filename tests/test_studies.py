"""Studies: a researcher's study from definition to export and norm table; anonymous participants
who read the consent first (and may decline); fund beneficiaries only through their social
worker's recorded consent. Expectations are written out by hand (counts, age bands, months,
k-anonymity) or computed independently (the pseudonym's HMAC, the .sav read back by pyreadstat)."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import io
import re

import pandas as pd
import pyreadstat
import pytest
from sqlalchemy import func, select

from api.db.tables import Result, Study
from tests.api_helpers import Web, administer, answers_for

TODAY = dt.date.today()
CONSENT_KA = "ეს კვლევა აგროვებს პასუხებს ნორმების შესაქმნელად. მონაწილეობა ნებაყოფლობითია."
CONSENT_EN = "This study collects answers to build norms. Taking part is voluntary."


def study_body(**over):  # type: ignore[no-untyped-def]
    body = {
        "title_ka": "ნორმების კვლევა 2027",
        "title_en": "Norm study 2027",
        "purpose_ka": "ქართული ნორმების შექმნა",
        "purpose_en": "Georgian norms",
        "consent_ka": CONSENT_KA,
        "consent_en": CONSENT_EN,
        "instruments": [{"id": "vdq", "version": "1.0"}, {"id": "ppi"}],
        "questions": [
            {
                "id": "gender",
                "type": "choice",
                "ka": "სქესი",
                "en": "Gender",
                "options": [
                    {"value": "female", "ka": "ქალი", "en": "Female"},
                    {"value": "male", "ka": "კაცი", "en": "Male"},
                ],
            },
            {"id": "birth_year", "type": "birth_year", "ka": "დაბადების წელი", "en": "Year of birth"},
        ],
        "quotas": [
            {"question": "gender", "value": "female", "target": 4},
            {"question": "gender", "value": "male", "target": 2},
        ],
        "opens_on": (TODAY - dt.timedelta(days=1)).isoformat(),
        "closes_on": (TODAY + dt.timedelta(days=30)).isoformat(),
    }
    body.update(over)
    return body


def make_study(service, **over):  # type: ignore[no-untyped-def]
    r = service.client("researcher").post("/v1/studies", json=study_body(**over))
    assert r.status_code == 201, r.text
    return r.json()


def codes(service, study_id: str, n: int) -> list[str]:  # type: ignore[no-untyped-def]
    r = service.client("researcher").post(f"/v1/studies/{study_id}/links", json={"count": n})
    assert r.status_code == 201, r.text
    return r.json()["codes"]


def participate(service, code: str, about: dict[str, str], seed: int = 0, *, lang: str = "ka") -> Web:  # type: ignore[no-untyped-def]
    """A participant on the web pages: consent, the questions, then each instrument (answers saved through
    the respondent API the page's script uses, submitted with the page's form)."""
    web = Web(service)
    r = web.get(f"/s/{code}?lang={lang}")
    if r.status_code == 200 and "consent" in r.text:
        assert r.status_code == 200
        r = web.post(f"/s/{code}/consent", {"decision": "accept"})
        assert r.status_code == 303, r.text
        r = web.get(f"/s/{code}")
    assert r.status_code == 200, r.text
    r = web.post(f"/s/{code}/about", about)
    assert r.status_code == 303, r.text
    r = web.get(f"/s/{code}")
    while r.status_code == 303 and r.headers["location"].startswith("/r/"):
        token = r.headers["location"].removeprefix("/r/")
        state = web.c.get(f"/v1/respond/{token}").json()
        r = web.c.patch(f"/v1/respond/{token}/answers", json={"answers": answers_for(state["instrument"], seed)})
        assert r.status_code == 200, r.text
        web.get(f"/r/{token}/review")
        assert web.post(f"/r/{token}/submit", {}).status_code == 303
        done = web.get(f"/r/{token}/done")
        assert (
            done.status_code == 200 and 'action="/s/next"' in done.text
        )  # a participant goes on, not to "another code"
        r = web.post("/s/next", {"token": token})
    assert r.status_code == 200, r.text
    return web


def test_a_study_is_checked_before_anything_is_written(service):
    c = service.client("researcher")
    cases = [
        ({"consent_en": "  "}, "consent_en"),
        ({"instruments": [{"id": "intake"}]}, "instruments[0]"),
        ({"instruments": [{"id": "vdq", "version": "9.9"}]}, "instruments[0]"),
        ({"quotas": [{"question": "gender", "value": "other", "target": 3}]}, "quotas[0].value"),
        ({"quotas": [{"question": "birth_year", "value": "1990", "target": 3}]}, "quotas[0]"),
        ({"closes_on": (TODAY - dt.timedelta(days=5)).isoformat()}, "closes_on"),
        ({"questions": [{"id": "Gender!", "type": "choice", "ka": "ა", "en": "a"}]}, "questions[0].id"),
    ]
    for over, field in cases:
        r = c.post("/v1/studies", json=study_body(**over))
        assert r.status_code == 422, (over, r.text)
        assert field in r.text, (field, r.text)
    assert c.get("/v1/studies").json() == []
    with service.app.state.sessions() as s:
        assert s.execute(select(func.count()).select_from(Study)).scalar_one() == 0


def test_a_participant_reads_the_consent_first_and_may_decline(service):
    study = make_study(service)
    code_a, code_b = codes(service, study["id"], 2)
    web = Web(service)
    r = web.get(f"/s/{code_a}?lang=ka")
    assert r.status_code == 200 and CONSENT_KA in r.text and 'name="decision"' in r.text
    assert CONSENT_EN in Web(service).get(f"/s/{code_b}?lang=en").text
    assert web.post(f"/s/{code_a}/consent", {"decision": "decline"}).status_code == 303
    r = web.get(f"/s/{code_a}")
    assert r.status_code == 200 and "/r/" not in r.text  # nothing more is asked
    # a declined code cannot be turned into a consent afterwards, nor answer the questions
    assert web.post(f"/s/{code_a}/consent", {"decision": "accept"}).status_code == 409
    assert web.post(f"/s/{code_a}/about", {"gender": "female"}).status_code == 409
    progress = service.client("researcher").get(f"/v1/studies/{study['id']}").json()["progress"]
    assert progress == {
        "codes": 2,
        "invited": 1,
        "consented": 0,
        "declined": 1,
        "completed": 0,
        "quotas": [
            {"question": "gender", "value": "female", "target": 4, "completed": 0, "percent": 0},
            {"question": "gender", "value": "male", "target": 2, "completed": 0, "percent": 0},
        ],
    }
    assert Web(service).get("/s/XXXXXXXXXXXX").status_code == 404  # a well-formed code no study issued


def test_participants_answer_anonymously_and_the_researcher_sees_progress_and_exports(service):
    study = make_study(service)
    sid = study["id"]
    c1, c2, c3 = codes(service, sid, 3)
    participate(service, c1, {"gender": "female", "birth_year": "1990"}, seed=1)
    participate(service, c2, {"gender": "male", "birth_year": "2001"}, seed=2)
    participate(service, c3, {"gender": "female", "birth_year": ""}, seed=3, lang="en")
    res = service.client("researcher")
    progress = res.get(f"/v1/studies/{sid}").json()["progress"]
    assert (progress["completed"], progress["invited"], progress["declined"]) == (3, 0, 0)
    assert progress["quotas"] == [
        {"question": "gender", "value": "female", "target": 4, "completed": 2, "percent": 50},
        {"question": "gender", "value": "male", "target": 2, "completed": 1, "percent": 50},
    ]
    # no result rows and no beneficiaries: a study keeps answers, not case files
    with service.app.state.sessions() as s:
        assert s.execute(select(func.count()).select_from(Result)).scalar_one() == 0
    assert service.client("psychologist").get("/v1/beneficiaries").json()["total"] == 0

    r = res.get(f"/v1/studies/{sid}/export", params={"format": "csv"})
    assert r.status_code == 200, r.text
    df = pd.read_csv(io.BytesIO(r.content), encoding="utf-8-sig", dtype=str, keep_default_na=False)
    month = f"{TODAY:%Y-%m}"
    year = TODAY.year
    band = {1990: {35: "35-44", 36: "35-44", 37: "35-44"}, 2001: {25: "25-34", 26: "25-34", 24: "18-24"}}
    assert list(df.columns[:4]) == ["pseudonym", "gender", "birth_year_age_band", "completed_month"]
    assert "birth_year" not in df.columns
    assert sorted(df["gender"]) == ["female", "female", "male"]
    assert sorted(df["birth_year_age_band"]) == sorted(["", band[1990][year - 1990], band[2001][year - 2001]])
    assert set(df["completed_month"]) == {month}
    vdq, ppi = answers_for("vdq", 2), answers_for("ppi", 2)
    male = df[df["gender"] == "male"].iloc[0]
    assert male["VDQ01"] == vdq["VDQ01"]  # '1'…'4' are stored as given
    first_ppi = next(iter(ppi))
    expected_ppi = int(ppi[first_ppi][1]) * (-1 if ppi[first_ppi][0] == "L" else 1)
    assert int(male[first_ppi]) == expected_ppi
    # the pseudonym: HMAC-SHA256 of the participant row with the study's own key, computed here independently
    with service.app.state.sessions() as s:
        key = service.app.state.vault.open(s.get(Study, sid).key_enc).encode()
        from api.db.tables import StudyParticipant

        ids = (
            s.execute(select(StudyParticipant.id).where(StudyParticipant.study_id == sid).order_by(StudyParticipant.id))
            .scalars()
            .all()
        )
    expected = {hmac.new(key, f"participant:{i}".encode(), hashlib.sha256).hexdigest()[:16] for i in ids}
    assert set(df["pseudonym"]) == expected
    for code in (c1, c2, c3):
        assert code not in r.text

    # k-anonymity over (gender, age band, month): three rows, each combination once → k = 1, 3 groups
    book = res.get(f"/v1/studies/{sid}/export", params={"format": "codebook", "lang": "en"}).text
    assert "k = 1 (3 groups)" in book and "birth_year_age_band" in book and "1 = " in book

    # SPSS: the same values, the answer labels attached
    r = res.get(f"/v1/studies/{sid}/export", params={"format": "sav", "lang": "en"})
    assert r.status_code == 200
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as tmp:
        p = Path(tmp) / "d.sav"
        p.write_bytes(r.content)
        sav, meta = pyreadstat.read_sav(str(p))
    assert len(sav) == 3
    assert meta.variable_value_labels["VDQ01"][4.0] and meta.variable_value_labels["gender"] == {
        1.0: "female: Female",
        2.0: "male: Male",
    }
    row = sav[sav["pseudonym"] == male["pseudonym"]].iloc[0]
    assert row["VDQ01"] == float(vdq["VDQ01"]) and row["gender"] == 2.0
    assert row[first_ppi] == float(expected_ppi)
    # XLSX: data and codebook sheets
    r = res.get(f"/v1/studies/{sid}/export", params={"format": "xlsx"})
    sheets = pd.read_excel(io.BytesIO(r.content), sheet_name=None)
    assert set(sheets) == {"data", "codebook"} and len(sheets["data"]) == 3


def test_an_exact_protocol_keeps_birth_years_and_times(service):
    study = make_study(service, exact_quasi_identifiers=True, instruments=[{"id": "vdq"}])
    (code,) = codes(service, study["id"], 1)
    participate(service, code, {"gender": "male", "birth_year": "1985"})
    r = service.client("researcher").get(f"/v1/studies/{study['id']}/export", params={"format": "csv"})
    df = pd.read_csv(io.BytesIO(r.content), encoding="utf-8-sig", dtype=str)
    assert df["birth_year"].tolist() == ["1985"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", df["completed"][0])


def test_bad_demographic_answers_name_the_question(service):
    study = make_study(service)
    (code,) = codes(service, study["id"], 1)
    web = Web(service)
    web.get(f"/s/{code}")
    web.post(f"/s/{code}/consent", {"decision": "accept"})
    web.get(f"/s/{code}")
    r = web.post(f"/s/{code}/about", {"gender": "female", "birth_year": "85"})
    assert r.status_code == 422 and 'aria-invalid="true"' in r.text
    r = web.post(f"/s/{code}/about", {"gender": "robot"})
    assert r.status_code == 422


def test_fund_beneficiaries_join_only_through_their_social_workers_consent(service):
    study = make_study(service, instruments=[{"id": "vdq"}])
    sw = service.client("social_worker")
    ben = sw.post("/v1/beneficiaries", json={"name": "ნინო ბერიძე", "gender": "female", "birth_year": 1992}).json()[
        "code"
    ]
    for who in ("researcher", "psychologist", "employment_officer", "admin"):
        r = service.client(who).post(f"/v1/studies/{study['id']}/enrolments", json={"beneficiary": ben})
        assert r.status_code == 403, who
    r = sw.post(f"/v1/studies/{study['id']}/enrolments", json={"beneficiary": ben})
    assert r.status_code == 201, r.text
    code = r.json()["code"]
    assert sw.post(f"/v1/studies/{study['id']}/enrolments", json={"beneficiary": ben}).status_code == 409
    # the consent is recorded: the person goes straight to the questions (no second consent screen)
    web = Web(service)
    r = web.get(f"/s/{code}")
    assert r.status_code == 200 and 'action="/s/' + code + '/about"' in r.text
    participate(service, code, {"gender": "female"})
    r = service.client("researcher").get(f"/v1/studies/{study['id']}/export", params={"format": "csv"})
    assert ben not in r.text and "ნინო" not in r.text
    # the person's case file gets no result from the study
    assert service.client("psychologist").get(f"/v1/beneficiaries/{ben}/results").json() == []


def test_staff_never_reach_a_study_administration(service):
    study = make_study(service, instruments=[{"id": "vdq"}])
    (code,) = codes(service, study["id"], 1)
    web = Web(service)
    web.get(f"/s/{code}")
    web.post(f"/s/{code}/consent", {"decision": "accept"})
    web.post(f"/s/{code}/about", {})
    r = web.get(f"/s/{code}")
    token = r.headers["location"].removeprefix("/r/")
    from api.db.tables import Administration

    with service.app.state.sessions() as s:
        aid = s.execute(select(Administration.id).where(Administration.participant_id.is_not(None))).scalar_one()
    psy = service.client("psychologist")
    assert psy.get(f"/v1/administrations/{aid}").status_code == 404
    assert psy.post(f"/v1/administrations/{aid}/submit").status_code == 404
    assert web.c.get(f"/v1/respond/{token}").status_code == 200


def test_draft_norm_tables_are_never_used_and_published_ones_can_be_chosen(service):
    study = make_study(service, instruments=[{"id": "vdq"}])
    sid = study["id"]
    for k, code in enumerate(codes(service, sid, 3)):
        participate(service, code, {"gender": "female" if k else "male"}, seed=10 + k)
    res = service.client("researcher")
    body = {"instrument": "vdq", "norm_id": "pilot-2027", "version": "1.0", "population": "pilot", "min_group_n": 2}
    r = res.post(f"/v1/studies/{sid}/norm-tables", json=body)
    assert r.status_code == 201, r.text
    table = r.json()
    assert table["status"] == "draft" and table["sample"]["n"] == 3
    assert table["sample"]["groups"] == {"gender": {"male": 1, "female": 2}}
    assert res.post(f"/v1/studies/{sid}/norm-tables", json=body).status_code == 409  # versions never change

    psy, sw = service.client("psychologist"), service.client("social_worker")
    ben = sw.post("/v1/beneficiaries", json={"name": "ტესტი"}).json()["code"]
    result = administer(psy, ben, "vdq", answers_for("vdq", 11))
    url = f"/v1/results/{result['id']}/report"
    r = psy.get(url, params={"format": "json", "norm": "vdq/pilot-2027"})
    assert r.status_code == 404, r.text  # a draft is not there for reports
    page = Web(service, "psychologist").get(f"/results/{result['id']}")
    assert "vdq/pilot-2027" not in page.text

    r = res.post(f"/v1/studies/{sid}/norm-tables/{table['id']}/publish")
    assert r.status_code == 200 and r.json()["status"] == "published"
    assert res.post(f"/v1/studies/{sid}/norm-tables/{table['id']}/publish").status_code == 409
    r = psy.get(url, params={"format": "json", "norm": "vdq/pilot-2027"})
    assert r.status_code == 200, r.text
    assert "pilot-2027@1.0" in r.text
    web = Web(service, "psychologist")
    page = web.get(f"/results/{result['id']}")
    assert 'value="vdq/pilot-2027"' in page.text
    query = {"result": result["id"], "format": "json", "audience": "psychologist", "report_lang": "en"}
    r = web.get(f"/beneficiaries/{ben}/report", params={**query, "norm": "vdq/pilot-2027"})
    assert r.status_code == 200, r.text[:2000]
    assert "pilot-2027@1.0" in r.text
    r = web.get(f"/beneficiaries/{ben}/report", params={**query, "norm": ""})  # "no norms" chosen
    assert r.status_code == 200 and "pilot-2027" not in r.text


def test_the_technical_report_of_a_study(service):
    study = make_study(service, instruments=[{"id": "vdq"}])
    sid = study["id"]
    res = service.client("researcher")
    assert res.get(f"/v1/studies/{sid}/analysis", params={"instrument": "vdq"}).status_code == 409  # no data yet
    for k, code in enumerate(codes(service, sid, 4)):
        participate(service, code, {"gender": ("female", "male")[k % 2]}, seed=20 + k)
    r = res.get(f"/v1/studies/{sid}/analysis", params={"instrument": "vdq", "format": "json"})
    assert r.status_code == 200, r.text
    report = r.json()
    assert report["meta"]["n_rows"] == 4 and report["meta"]["instrument"] == "vdq"
    web = Web(service, "researcher")
    page = web.get(f"/studies/{sid}/analysis/vdq")
    assert page.status_code == 200 and "<table" in page.text
    assert (
        "script-src" not in page.headers["content-security-policy"]
        and "'none'" in page.headers["content-security-policy"]
    )
    assert res.get(f"/v1/studies/{sid}/analysis", params={"instrument": "sds"}).status_code == 404


RESEARCH_PAGES = (
    "/studies",
    "/studies/new",
    "/norm-tables",
    "/downloads",
    "/studies/{sid}",
    "/studies/{sid}/export/csv",
)


@pytest.mark.parametrize("who", ["admin", "psychologist", "social_worker", "employment_officer", "researcher", None])
def test_researcher_pages_are_the_researchers_only(service, who):
    sid = make_study(service)["id"]
    web = Web(service, who)
    for template in RESEARCH_PAGES:
        r = web.get(template.format(sid=sid))
        if who == "researcher":
            assert r.status_code == 200, (template, r.status_code)
        elif who is None:
            assert r.status_code == 303 and r.headers["location"].startswith("/sign-in"), template
        else:
            assert r.status_code == 403, (who, template, r.status_code)
    if who is not None and who != "researcher":
        r = web.post("/studies", {"title_ka": "x"})
        assert r.status_code == 403
        r = web.post(f"/studies/{sid}/links", {"count": "3"})
        assert r.status_code == 403
    menu = web.get("/home").text
    assert ('href="/studies"' in menu) == (who == "researcher")


def test_the_social_worker_records_the_consent_on_the_beneficiary_page(service):
    study = make_study(service, instruments=[{"id": "vdq"}])
    closed = make_study(
        service,
        title_en="Closed study",
        opens_on=(TODAY - dt.timedelta(days=30)).isoformat(),
        closes_on=(TODAY - dt.timedelta(days=2)).isoformat(),
    )
    web = Web(service, "social_worker")
    r = web.post("/beneficiaries/new", {"name": "ეკა ტესტი", "gender": "female"})
    code = r.headers["location"].rsplit("/", 1)[1]
    page = web.get(f"/beneficiaries/{code}?lang=en")
    assert f'value="{study["id"]}"' in page.text and closed["id"] not in page.text  # only open studies
    r = web.post(f"/beneficiaries/{code}/studies", {"study": study["id"]})  # consent not confirmed
    assert r.status_code == 422
    r = web.post(f"/beneficiaries/{code}/studies", {"study": study["id"], "consent": "yes"})
    assert r.status_code == 200
    token = re.search(r'<p class="code big">([A-Z0-9]{12})</p>', r.text)[1]
    page = web.get(f"/beneficiaries/{code}")
    assert f'value="{study["id"]}"' not in page.text  # joined: not offered again
    # the code opens the study past the consent screen (the consent is recorded)
    participant = Web(service)
    assert 'action="/s/' + token + '/about"' in participant.get(f"/s/{token}").text
    assert (
        Web(service, "psychologist")
        .post(f"/beneficiaries/{code}/studies", {"study": study["id"], "consent": "yes"})
        .status_code
        == 403
    )
