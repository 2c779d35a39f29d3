"""/v1/research/results: a documented ``study``, ``format=csv``, coarsened quasi-identifiers and
pseudonyms keyed on the research key (issue 15).

Before: the ``study`` parameter was undocumented, ``format=csv`` was ignored (JSON came back),
each row carried the birth year and the exact scoring timestamp, and the pseudonyms were an HMAC
under the cookie-signing secret (rotating it re-keyed every study).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import tomllib

import pytest
from cryptography.fernet import Fernet
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from api.app import create_app
from api.db.tables import Beneficiary, Result
from api.domain.research import age_band
from api.settings import Settings, ensure_instance
from tests.api_helpers import administer, answers_for
from tests.conftest import PASSWORDS, build_service


def _person(client, gender: str, birth_year: int) -> str:  # type: ignore[no-untyped-def]
    r = client.post("/v1/beneficiaries", json={"name": "ნინო ბერიძე", "gender": gender, "birth_year": birth_year})
    assert r.status_code == 201, r.text
    return str(r.json()["code"])


def _scored_at(service, code: str, when: dt.datetime) -> None:  # type: ignore[no-untyped-def]
    with service.app.state.sessions() as s, s.begin():
        bid = s.execute(select(Beneficiary.id).where(Beneficiary.code == code)).scalar_one()
        s.execute(update(Result).where(Result.beneficiary_id == bid).values(created_at=when))


@pytest.mark.parametrize(
    "birth_year, year, band",
    [
        (2009, 2026, "<18"),  # 17
        (2008, 2026, "18-24"),  # 18: the lower edge
        (2002, 2026, "18-24"),  # 24: the upper edge
        (2001, 2026, "25-34"),  # 25
        (1992, 2026, "25-34"),  # 34
        (1991, 2026, "35-44"),
        (1972, 2026, "45-54"),  # 54
        (1962, 2026, "55-64"),  # 64
        (1961, 2026, "65+"),  # 65
        (1930, 2026, "65+"),
        (None, 2026, None),
    ],
)
def test_age_bands_by_hand(birth_year, year, band) -> None:  # type: ignore[no-untyped-def]
    assert age_band(birth_year, year) == band


def test_study_and_format_are_documented(service) -> None:  # type: ignore[no-untyped-def]
    params = {p["name"]: p for p in service.app.openapi()["paths"]["/v1/research/results"]["get"]["parameters"]}
    assert params["study"]["required"] and "pseudonym" in params["study"]["description"]
    assert params["instrument"]["required"] and params["instrument"]["description"]
    assert params["format"]["schema"]["enum"] == ["json", "csv"] or params["format"]["schema"].get("anyOf")
    assert "csv" in params["format"]["description"]


def test_quasi_identifiers_are_coarsened_and_k_reported(service) -> None:  # type: ignore[no-untyped-def]
    sw, psy, res = service.client("social_worker"), service.client("psychologist"), service.client("researcher")
    a = _person(sw, "female", 2002)
    b = _person(sw, "female", 2003)
    c = _person(sw, "male", 1980)
    for code, seed in ((a, 1), (b, 2), (c, 3)):
        administer(psy, code, "sds", answers_for("sds", seed))
    # 21:30 UTC on New Year's Eve is 01:30 on 1 January in Tbilisi (UTC+4): month 2027-01, and
    # person a (born 2002) is 25 in 2027 (25-34) though only 24 in 2026
    _scored_at(service, a, dt.datetime(2026, 12, 31, 21, 30, tzinfo=dt.UTC))
    _scored_at(service, b, dt.datetime(2027, 1, 20, 8, 0, tzinfo=dt.UTC))  # born 2003: 24 → 18-24
    _scored_at(service, c, dt.datetime(2027, 1, 5, 8, 0, tzinfo=dt.UTC))  # born 1980: 47 → 45-54
    body = res.get("/v1/research/results", params={"instrument": "sds", "study": "norms-2027"}).json()
    assert body["total"] == 3
    seen = sorted((i["gender"], i["age_band"], i["scored_month"]) for i in body["items"])
    assert seen == [("female", "18-24", "2027-01"), ("female", "25-34", "2027-01"), ("male", "45-54", "2027-01")]
    text = str(body)
    for exact in ("birth_year", "2002", "2003", "1980", "scored_at", "21:30", "01:30", "08:00"):
        assert exact not in text, exact
    assert body["smallest_group"] == 1  # three different (gender, band, month): k = 1
    # all three made women born 2000-2002: 25-34 in 2027 each, one group of three
    with service.app.state.sessions() as s, s.begin():
        s.execute(update(Beneficiary).where(Beneficiary.code == b).values(birth_year=2001))
        s.execute(update(Beneficiary).where(Beneficiary.code == c).values(gender="female", birth_year=2000))
    body = res.get("/v1/research/results", params={"instrument": "sds", "study": "norms-2027", "limit": 1}).json()
    assert len(body["items"]) == 1 and body["total"] == 3
    assert body["smallest_group"] == 3  # all three: female, 25-34, 2027-01 — k over the export, not the page


def test_csv_is_honoured_with_every_row(service) -> None:  # type: ignore[no-untyped-def]
    sw, psy, res = service.client("social_worker"), service.client("psychologist"), service.client("researcher")
    codes = [_person(sw, "female", 1990 + i) for i in range(3)]
    for i, code in enumerate(codes):
        administer(psy, code, "sds", answers_for("sds", i))
        _scored_at(service, code, dt.datetime(2026, 6, 15, 12, 0, tzinfo=dt.UTC))
    params = {"instrument": "sds", "study": "wave one", "format": "csv", "limit": 1}
    r = res.get("/v1/research/results", params=params)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/csv")
    assert 'filename="sds-wave_one.csv"' in r.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert len(rows) == 3  # the whole export, not a page of limit=1
    assert r.headers["x-smallest-group"] == "1"  # in 2026 born 1990, 1991 → 35-44 (two); 1992 → 34 (alone)
    js = res.get("/v1/research/results", params={**params, "format": "json", "limit": 50}).json()["items"]
    by_pseudonym = {row["pseudonym"]: row for row in rows}
    assert set(by_pseudonym) == {i["pseudonym"] for i in js}
    for item in js:
        row = by_pseudonym[item["pseudonym"]]
        assert "birth_year" not in row and "scored_at" not in row
        assert row["age_band"] == item["age_band"] and row["scored_month"] == item["scored_month"]
        for scale in item["record"]["scales"]:
            assert float(row[f"scales.{scale['id']}.score"]) == pytest.approx(scale["score"], abs=0)
            assert row[f"scales.{scale['id']}.band"] == (scale["band"] or "")
        assert row["provenance.version"] == item["record"]["provenance"]["version"]
    assert all(code not in r.text for code in codes)


def test_pseudonyms_follow_the_research_key_not_the_cookie_secret(tmp_path) -> None:  # type: ignore[no-untyped-def]
    svc = build_service("sqlite", tmp_path, research_key="r" * 40)
    try:
        sw, psy = svc.client("social_worker"), svc.client("psychologist")
        code = _person(sw, "male", 1985)
        administer(psy, code, "sds", answers_for("sds", 4))

        def pseudonym(**changes: str) -> str:
            settings = Settings(**{**svc.settings.model_dump(), **changes})
            app = create_app(settings)
            try:
                c = TestClient(app)
                c.post("/v1/auth/login", json={"username": "researcher", "password": PASSWORDS["researcher"]})
                items = c.get("/v1/research/results", params={"instrument": "sds", "study": "s-1"}).json()["items"]
                return str(items[0]["pseudonym"])
            finally:
                app.state.engine.dispose()

        first = pseudonym()
        assert pseudonym(secret_key="another-cookie-secret-" + "x" * 20) == first  # cookie secret rotated
        assert pseudonym(research_key="q" * 40) != first  # the research key re-keys
        assert pseudonym(research_key="q" * 40) == pseudonym(research_key="q" * 40)
        assert code not in first
    finally:
        svc.app.state.engine.dispose()  # type: ignore[attr-defined]


def test_instances_get_their_own_research_key(tmp_path) -> None:  # type: ignore[no-untyped-def]
    fresh = ensure_instance(tmp_path / "new")
    assert len(str(fresh["research_key"])) >= 32 and fresh["research_key"] != fresh["secret_key"]
    old = tmp_path / "old"
    old.mkdir()
    (old / "settings.toml").write_text(
        f'secret_key = "{"k" * 40}"\ndata_keys = "{Fernet.generate_key().decode()}"', encoding="utf-8"
    )  # an instance from an earlier release, no final newline
    first = ensure_instance(old)["research_key"]
    assert first and ensure_instance(old)["research_key"] == first  # written once, then kept
    assert tomllib.loads((old / "settings.toml").read_text(encoding="utf-8"))["secret_key"] == "k" * 40


def test_item_analysis_of_stored_answers_takes_a_named_missing_data_policy(service) -> None:  # type: ignore[no-untyped-def]
    """Before: the API's item analysis had no missing-data parameter and did not name its policy."""
    import numpy as np

    import instruments

    sw, psy, res = service.client("social_worker"), service.client("psychologist"), service.client("researcher")
    code = _person(sw, "female", 1990)
    vdq = instruments.load("vdq")
    rng = np.random.default_rng(5)
    rows = []
    for n in range(8):
        level = rng.integers(1, 5)
        answers = {i: str(int(np.clip(level + rng.integers(-1, 2), 1, 4))) for i in vdq.item_ids}
        if n in (2, 6):  # two administrations skip one item each
            del answers[vdq.item_ids[n]]
        administer(psy, code, "vdq", answers)
        rows.append([float(answers[i]) if i in answers else np.nan for i in vdq.item_ids])
    x = np.array(rows)
    complete = ~np.isnan(x).any(axis=1)
    assert complete.sum() == 6
    cols = [j for j, it in enumerate(vdq.items) if it.scale == "certainty"]

    def textbook_alpha(block: np.ndarray) -> float:
        keyed = np.array([block[:, j] if vdq.items[j].keyed == 1 else 5 - block[:, j] for j in cols]).T
        k = keyed.shape[1]
        return float(k / (k - 1) * (1 - keyed.var(axis=0, ddof=1).sum() / keyed.sum(axis=1).var(ddof=1)))

    listwise = res.get("/v1/research/item-analysis", params={"instrument": "vdq", "missing": "listwise"}).json()
    assert listwise["n"] == 8 and listwise["n_analysed"] == 6 and listwise["missing"] == "listwise"
    assert listwise["missing_description"].startswith("listwise: only the rows that answered every")
    certainty = next(s for s in listwise["scales"] if s["scale"] == "certainty")
    assert abs(certainty["alpha"] - textbook_alpha(x[complete])) < 1e-10 and certainty["n"] == 6
    pairwise = res.get("/v1/research/item-analysis", params={"instrument": "vdq"}).json()
    assert pairwise["missing"] == "pairwise" and pairwise["n_analysed"] == 8
    assert pairwise["scores_policy"].startswith("prorate")
    bad = res.get("/v1/research/item-analysis", params={"instrument": "vdq", "missing": "everything"})
    assert bad.status_code == 422
