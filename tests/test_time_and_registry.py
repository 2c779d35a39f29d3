"""Times in Tbilisi, one formatting module, the registry file a spreadsheet opens, and reports that
do not depend on gender.

Stored times are UTC; every time a user reads is in the configured zone (``settings.time_zone``,
default ``Asia/Tbilisi``, UTC+4 all year). The expected local times here are worked out by hand
(UTC + 4 hours), not with the code under test.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re

import pytest
from sqlalchemy import select, update

import reports
from api.db.session import transaction
from api.db.tables import Beneficiary, Sending
from api.settings import Settings
from tests.api_helpers import INTAKE, Web, administer, answers_for

UTC = dt.UTC


# -- the formatting module --------------------------------------------------------------------------


def test_numbers_in_both_languages() -> None:
    assert reports.format_number(1.645, 2, "ka") == "1,65"
    assert reports.format_number(1.645, 2, "en") == "1.65"
    assert reports.format_number(2.675, 2, "en") == "2.68"  # half away from zero, not the float's 2.67
    assert reports.format_number(12.0, 1, "ka") == "12"  # a whole count stays a count
    assert reports.format_number(11.5, 1, "ka") == "11,5"
    assert reports.format_number(2300, 0, "en") == "2,300"
    assert reports.format_number(2300, 0, "ka") == "2\xa0300"  # Georgian groups with a no-break space
    assert reports.format_number(None, 1, "ka") == reports.format_number(float("nan"), 2, "en") == "—"


def test_dates_and_times_in_the_zone() -> None:
    late = dt.datetime(2026, 12, 6, 21, 15, tzinfo=UTC)  # 01:15 on 7 December in Tbilisi
    assert reports.format_day(late, "ka", "Asia/Tbilisi") == "07.12.2026"
    assert reports.format_day(late, "en", "Asia/Tbilisi") == "7 December 2026"
    assert reports.format_when(late, "ka", "Asia/Tbilisi") == "07.12.2026 01:15"
    assert reports.format_when(late, "en", "Asia/Tbilisi") == "7 December 2026, 01:15"
    naive = dt.datetime(2026, 12, 6, 17, 15)  # SQLite gives naive UTC times back
    assert reports.spreadsheet_time(naive, "Asia/Tbilisi") == "2026-12-06 21:15"
    assert reports.local_date(late, "Asia/Tbilisi") == dt.date(2026, 12, 7)
    assert reports.format_when(late, "en", "Europe/London") == "6 December 2026, 21:15"
    assert reports.format_day(dt.date(2025, 3, 14), "ka") == "14.03.2025"


def test_plural_forms() -> None:
    assert reports.plural_category(1, "en") == "one" and reports.plural_category(2, "en") == "other"
    s = reports.strings("en")
    assert s.plural("ui.summary.flags", 1, count=1).startswith("Validity: 1 point ")
    assert s.plural("ui.summary.flags", 3, count=3).startswith("Validity: 3 points ")


def test_the_zone_is_a_checked_setting() -> None:
    assert Settings(secret_key="x").time_zone == "Asia/Tbilisi"
    with pytest.raises(ValueError, match="IANA"):
        Settings(secret_key="x", time_zone="Tbilisi/Nowhere")


# -- through the service ----------------------------------------------------------------------------


def _send_packet(service, code: str) -> tuple[dict, dict]:  # type: ignore[no-untyped-def]
    sw = service.client("social_worker")
    packet = sw.post("/v1/packets", json={"beneficiary": code, "addressee": "ssa-employment", "parts": ["profile"]})
    assert packet.status_code == 201, packet.text
    sw.post(f"/v1/beneficiaries/{code}/consents", json={"addressee": "ssa-employment", "scope": ["profile"]})
    sent = sw.post(f"/v1/packets/{packet.json()['id']}/send")
    assert sent.status_code == 201, sent.text
    return packet.json(), sent.json()


def _at(service, moment: dt.datetime) -> None:  # type: ignore[no-untyped-def]
    """Date every sending at ``moment`` (UTC), as if it had been sent then."""
    with transaction(service.app.state.sessions) as s:
        s.execute(update(Sending).values(sent_at=moment))


def test_registry_csv_opens_in_a_spreadsheet_with_local_times(service) -> None:  # type: ignore[no-untyped-def]
    sw, psy = service.client("social_worker"), service.client("psychologist")
    code = sw.post("/v1/beneficiaries", json={}).json()["code"]
    administer(psy, code, "sds", answers_for("sds", 1))
    packet, _ = _send_packet(service, code)
    _at(service, dt.datetime(2026, 12, 6, 17, 15, tzinfo=UTC))
    org = next(o for o in service.settings.organisations if o.id == "ssa-employment")

    for lang, heads, name in (
        ("ka", ["ბენეფიციარი", "გამგზავნი", "გაგზავნის თარიღი (Asia/Tbilisi)", "ადრესატი"], org.name_ka),
        ("en", ["Beneficiary", "Sender", "Date sent (Asia/Tbilisi)", "Addressee"], org.name_en),
    ):
        r = sw.get("/v1/registry", params={"format": "csv", "lang": lang})
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
        assert r.content.startswith(b"\xef\xbb\xbf")  # the BOM: Excel reads the file as UTF-8
        rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
        assert rows[0][:4] == heads
        (row,) = rows[1:]
        assert row[0] == code and row[1] == "social_worker" and row[3] == name and row[4] == packet["id"]
        assert row[2] == "2026-12-06 21:15"  # 17:15 UTC in Tbilisi, in a form spreadsheets read
    assert sw.get("/v1/registry", params={"format": "csv", "lang": "de"}).status_code == 422


def test_web_pages_show_local_times(service) -> None:  # type: ignore[no-untyped-def]
    sw = service.client("social_worker")
    psy = service.client("psychologist")
    code = sw.post("/v1/beneficiaries", json={}).json()["code"]
    administer(psy, code, "sds", answers_for("sds", 1))
    _send_packet(service, code)
    _at(service, dt.datetime(2026, 12, 6, 21, 15, tzinfo=UTC))  # 7 December, 01:15 in Tbilisi
    web = Web(service, "social_worker")
    page = web.get("/registry?lang=ka").text
    assert "07.12.2026 01:15" in page and "06.12.2026" not in page
    page = web.get("/registry?lang=en").text
    assert "7 December 2026, 01:15" in page
    officer = Web(service, "employment_officer")
    assert "7 December 2026, 01:15" in officer.get("/inbox?lang=en").text


def test_a_consent_is_valid_to_the_end_of_the_chosen_day_in_tbilisi(service) -> None:  # type: ignore[no-untyped-def]
    from api.db.tables import Consent

    sw = service.client("social_worker")
    code = sw.post("/v1/beneficiaries", json={}).json()["code"]
    web = Web(service, "social_worker")
    web.get(f"/beneficiaries/{code}/consents")
    r = web.post(
        f"/beneficiaries/{code}/consents", {"addressee": "ssa-employment", "scope": "profile", "expires": "2026-12-31"}
    )
    assert r.status_code == 303, r.text
    with transaction(service.app.state.sessions) as s:
        c = s.execute(select(Consent)).scalar_one()
        expires = c.expires_at if c.expires_at.tzinfo else c.expires_at.replace(tzinfo=UTC)
    assert expires == dt.datetime(2026, 12, 31, 19, 59, 59, tzinfo=UTC)  # 23:59:59 in Tbilisi
    page = web.get(f"/beneficiaries/{code}/consents?lang=ka").text
    assert "31.12.2026" in page and "01.01.2027" not in page


def test_report_dates_are_the_dates_in_tbilisi(service) -> None:  # type: ignore[no-untyped-def]
    """An administration finished (and scored) at 22:30 UTC was the next day in Tbilisi: the report says so."""
    from api.db.tables import Administration, Result

    sw, psy = service.client("social_worker"), service.client("psychologist")
    code = sw.post("/v1/beneficiaries", json={}).json()["code"]
    res = administer(psy, code, "sds", answers_for("sds", 4))
    with transaction(service.app.state.sessions) as s:
        late = dt.datetime(2026, 3, 13, 22, 30)
        s.execute(update(Result).where(Result.id == res["id"]).values(created_at=late))
        s.execute(update(Administration).where(Administration.id == res["administration"]).values(submitted_at=late))
    js = psy.get(f"/v1/results/{res['id']}/report", params={"lang": "ka", "format": "json"}).json()
    assert js["meta"]["administered"] == "14.03.2026"


# -- gender changes nothing --------------------------------------------------------------------------


def _every_report(client, code: str) -> dict[tuple[str, str], str]:  # type: ignore[no-untyped-def]
    out = {}
    for audience in reports.AUDIENCES:
        for lang in reports.LANGS:
            r = client.get(
                f"/v1/beneficiaries/{code}/profile", params={"lang": lang, "audience": audience, "format": "json"}
            )
            assert r.status_code == 200, r.text
            out[(audience, lang)] = r.text
    return out


def test_swapping_the_gender_changes_nothing_in_any_report(service) -> None:  # type: ignore[no-untyped-def]
    """Gender-stereotyped suggestions are a known trap (seed line 93): matching and every text of every
    audience are the same whatever gender the beneficiary is recorded with."""
    sw, psy = service.client("social_worker"), service.client("psychologist")
    code = sw.post("/v1/beneficiaries", json={"gender": "female", "birth_year": 1990}).json()["code"]
    administer(sw, code, "intake", {**INTAKE, "aspired_occupations": "cook;hairdresser;electrician"})
    administer(psy, code, "vdq", answers_for("vdq", 5))
    administer(psy, code, "sds", answers_for("sds", 5), aspirations=["taxi driver", "nanny"])
    administer(psy, code, "ppi", answers_for("ppi", 5))
    before = _every_report(psy, code)
    assert '"suggested"' in before[("employment", "en")]
    for other in ("male", "other", None):
        with transaction(service.app.state.sessions) as s:
            b = s.execute(select(Beneficiary).where(Beneficiary.code == code)).scalar_one()
            b.gender = other
        after = _every_report(psy, code)
        changed = [k for k in before if before[k] != after[k]]
        assert changed == [], (other, changed)
    # the check can see a difference: another person's answers give other reports
    code2 = sw.post("/v1/beneficiaries", json={"gender": "female"}).json()["code"]
    administer(psy, code2, "sds", answers_for("sds", 6))
    other_person = psy.get(f"/v1/beneficiaries/{code2}/profile", params={"lang": "en", "format": "json"}).text
    assert re.sub(code2, code, other_person) != before[("psychologist", "en")]
