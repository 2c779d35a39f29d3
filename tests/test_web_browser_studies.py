"""The researcher's journey in a real browser (Debian's Chromium through Playwright) against a real
uvicorn server: a researcher creates a study, two anonymous participants complete it on phones
(consent first), the researcher exports SPSS .sav and reads the technical report, builds a draft
norm table and publishes it; a psychologist then chooses that table in a report."""

from __future__ import annotations

import datetime as dt
import re
import tempfile
from pathlib import Path

import numpy as np
import pyreadstat

from api.web.core import strings
from tests import web_live
from tests.api_helpers import administer, answers_for
from tests.test_web_browser import _answer_items, _fits_the_screen
from tests.web_live import DESKTOP, PHONE, Live, shot, sign_in

live = web_live.live
browser = web_live.browser

KA, EN = strings("ka"), strings("en")
CONSENT_KA = "ეს კვლევა აგროვებს პასუხებს ქართული ნორმების შესაქმნელად. მონაწილეობა ნებაყოფლობითია."


def _both_widths(desk, phone, url: str, name: str) -> None:  # type: ignore[no-untyped-def]
    """The same page at 1280 and 390 px: it fits the phone, and both are photographed."""
    desk.goto(url)
    shot(desk, f"desktop-{name}")
    phone.goto(url)
    _fits_the_screen(phone)
    shot(phone, f"phone-{name}")


def _participate(browser, live: Live, code: str, gender: str, year: str, seed: int) -> dict[str, str]:  # type: ignore[no-untyped-def]
    ctx = browser.new_context(**PHONE)
    p = ctx.new_page()
    p.goto(f"{live.url}/s/{code}")
    assert CONSENT_KA in p.inner_text("main")  # the consent text comes first
    _fits_the_screen(p)
    shot(p, f"phone-study-consent-{seed}")
    p.click("button[name=decision][value=accept]")
    p.wait_for_url(re.compile(rf".*/s/{code}$"))
    assert KA["study.about_title"] in p.inner_text("main")
    _fits_the_screen(p)
    shot(p, f"phone-study-about-{seed}")
    p.check(f"input[name=gender][value={gender}]")
    p.fill("#q-birth_year", year)
    p.click("main form button[type=submit]")
    p.wait_for_url(re.compile(r".*/r/[A-Z0-9]+$"))  # respondent mode: the same pages every respondent uses
    token = p.url.rsplit("/", 1)[1]
    p.click("a.button.big")
    answers: dict[str, str] = {}
    rng = np.random.default_rng(seed)
    while re.search(r"/part/\d+(#.*)?$", p.url):  # a page of ten, opened at its first open item
        _answer_items(p, "ordinal", rng, answers)
        p.click("button[name=go][value=next]")
        p.wait_for_load_state()
    p.wait_for_url(re.compile(rf".*/r/{token}/review$"))
    p.click("form[action$='/submit'] button")
    p.wait_for_url(re.compile(rf".*/r/{token}/done$"))
    shot(p, f"phone-study-instrument-done-{seed}")
    p.click("form[action='/s/next'] button")
    p.wait_for_load_state()
    assert KA["study.done_title"] in p.inner_text("main")
    shot(p, f"phone-study-thanks-{seed}")
    ctx.close()
    return answers


def test_researcher_study_to_published_norms_chosen_by_a_psychologist(live: Live, browser) -> None:  # type: ignore[no-untyped-def]
    desk_ctx, phone_ctx = browser.new_context(**DESKTOP), browser.new_context(**PHONE)
    desk, phone = desk_ctx.new_page(), phone_ctx.new_page()
    sign_in(desk, live, "researcher")
    sign_in(phone, live, "researcher")
    assert desk.url.endswith("/studies")  # a researcher's home is now their studies
    _both_widths(desk, phone, f"{live.url}/studies", "research-studies")

    # -- the researcher creates a study
    desk.goto(f"{live.url}/studies/new")
    shot(desk, "desktop-research-study-new")
    phone.goto(f"{live.url}/studies/new")
    _fits_the_screen(phone)
    shot(phone, "phone-research-study-new")
    desk.fill("#title_ka", "ნორმების საპილოტე კვლევა")
    desk.fill("#title_en", "Pilot norm study")
    desk.fill("#purpose_ka", "პროფესიული გადაწყვეტილების კითხვარის ქართული ნორმების შეგროვება.")
    desk.fill("#purpose_en", "Collect Georgian norms for the vocational decision questionnaire.")
    desk.fill("#consent_ka", CONSENT_KA)
    desk.fill("#consent_en", "This study collects answers to build Georgian norms. Taking part is voluntary.")
    vdq = desk.locator("input[name=instrument][value^='vdq@']").last  # the newest version, as staff administer it
    vdq.check()
    desk.fill("#quotas", "gender=female 1\ngender=male 1")
    today = dt.date.today()
    desk.fill("#opens_on", (today - dt.timedelta(days=1)).isoformat())
    desk.fill("#closes_on", (today + dt.timedelta(days=60)).isoformat())
    desk.click("main form button[type=submit]")
    desk.wait_for_url(re.compile(r".*/studies/[0-9a-f\-]{36}$"))
    study_url = desk.url
    study_id = study_url.rsplit("/", 1)[1]

    # -- two anonymous participation codes
    desk.fill("#count", "2")
    desk.click("form[action$='/links'] button[type=submit]")
    codes = [c.inner_text() for c in desk.locator(".codes .code.big").all()]
    assert len(codes) == 2 and all(re.fullmatch(r"[A-Z0-9]{12}", c) for c in codes)
    shot(desk, "desktop-research-study-codes")

    # -- two participants complete it on their phones
    _participate(browser, live, codes[0], "female", str(today.year - 36), seed=1)  # 36 → band 35-44
    _participate(browser, live, codes[1], "male", str(today.year - 23), seed=2)  # 23 → band 18-24

    # -- progress against quotas
    desk.goto(study_url)
    progress = desk.inner_text("#progress-h + dl")
    assert re.search(rf"{re.escape(KA['research.completed'])}\s*2", progress), progress
    quota_rows = desk.locator("section[aria-labelledby=progress-h] tbody tr")
    assert quota_rows.count() == 2 and all("100 %" in quota_rows.nth(k).inner_text() for k in range(2))
    _both_widths(desk, phone, study_url, "research-study")

    # -- the .sav export
    with desk.expect_download() as dl:
        desk.click(f"a[href='/studies/{study_id}/export/sav']")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "study.sav"
        dl.value.save_as(path)
        data, meta = pyreadstat.read_sav(str(path))
    assert len(data) == 2 and set(data["gender"]) == {1.0, 2.0}
    assert meta.variable_value_labels["gender"] == {1.0: "female: ქალი", 2.0: "male: კაცი"}
    assert sorted(data["birth_year_age_band"]) == ["18-24", "35-44"]
    assert "VDQ01" in meta.variable_value_labels

    # -- the technical report in the browser
    desk.click(f"a[href='/studies/{study_id}/analysis/vdq']")
    desk.wait_for_url(re.compile(r".*/analysis/vdq$"))
    assert "Cronbach" in desk.content() or "α" in desk.content()
    shot(desk, "desktop-research-technical-report")
    phone.goto(desk.url)
    shot(phone, "phone-research-technical-report")

    # -- a draft norm table, reviewed, then published
    desk.goto(study_url)
    desk.fill("#n-id", "pilot-2027")
    desk.fill("#n-version", "1.0")
    desk.fill("#n-min", "1")
    desk.fill("#n-population", "საპილოტე შერჩევა, 2027")
    desk.click("form[action$='/norms'] button[type=submit]")
    desk.wait_for_url(re.compile(r".*/norms/\d+$"))
    table_url = desk.url
    assert KA["research.draft_note"] in desk.inner_text("main")
    _both_widths(desk, phone, table_url, "research-norm-draft")

    psy_api = live.api("psychologist")
    sw_api = live.api("social_worker")
    ben = sw_api.post("/v1/beneficiaries", json={"name": "ნინო ტესტი", "gender": "female"}).json()["code"]
    result = administer(psy_api, ben, "vdq", answers_for("vdq", 7))
    psy_ctx = browser.new_context(**DESKTOP)
    psy = psy_ctx.new_page()
    sign_in(psy, live, "psychologist")
    psy.goto(f"{live.url}/results/{result['id']}")
    assert psy.locator("select#norm").count() == 0  # a draft is offered to nobody

    desk.click("form[action$='/publish'] button[type=submit]")
    desk.wait_for_url(table_url)
    assert KA["research.status_published"] in desk.inner_text("main")
    _both_widths(desk, phone, table_url, "research-norm-published")
    _both_widths(desk, phone, f"{live.url}/downloads", "research-downloads")

    # -- the psychologist chooses the published table in a report
    psy.goto(f"{live.url}/results/{result['id']}")
    psy.select_option("select#norm", "vdq/pilot-2027")
    psy.select_option("select#format", "json")
    shot(psy, "desktop-psychologist-report-norm-choice")
    with psy.expect_download() as dl:
        psy.click("form.report-form button[type=submit]")
    body = Path(dl.value.path()).read_text(encoding="utf-8")
    assert "pilot-2027@1.0" in body
    for ctx in (desk_ctx, phone_ctx, psy_ctx):
        ctx.close()
