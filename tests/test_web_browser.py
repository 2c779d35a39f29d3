"""The web UI in a real browser (Debian's Chromium through Playwright) against a real uvicorn
server: the four journeys of issue 5, each checked against what the service stored."""

from __future__ import annotations

import datetime as dt
import re

import numpy as np

from api import scoring_facade as facade
from api.web.core import strings
from tests import web_live
from tests.api_helpers import INTAKE, administer, answers_for
from tests.web_live import DESKTOP, PHONE, Live, shot, sign_in

live = web_live.live  # the module's fixtures: a uvicorn server and Debian's Chromium
browser = web_live.browser

KA = strings("ka")


def _new_beneficiary(page, live: Live, name: str) -> str:  # type: ignore[no-untyped-def]
    page.goto(f"{live.url}/beneficiaries/new")
    page.fill("#name", name)
    page.check("input[name=gender][value=female]")
    page.fill("#birth_year", "1993")
    page.click("main form button[type=submit]")
    page.wait_for_url(re.compile(r".*/beneficiaries/B-[A-Z0-9]+$"))
    return page.url.rsplit("/", 1)[1]


def _fits_the_screen(page) -> None:  # type: ignore[no-untyped-def]
    """No sideways scrolling (long Georgian words wrap) and every control is big enough to tap."""
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"), page.url
    small = page.evaluate(
        """() => [...document.querySelectorAll(
                 'label.choice > span, label.option, .button, button, select, '
                 + 'input:not([type=hidden]):not([type=radio]):not([type=checkbox])')]
              .filter(e => e.offsetParent !== null)
              .map(e => [e.textContent.trim().slice(0, 30) || e.name || e.tagName, e.getBoundingClientRect().height])
              .filter(([_, h]) => h < 44)"""
    )
    assert not small, f"controls under 44 px on {page.url}: {small[:5]}"


def _wait_saved(page) -> None:  # type: ignore[no-untyped-def]
    """Every answer given on this page has reached the server (nothing pending on the device)."""
    page.wait_for_function(
        """() => { const f = document.querySelector('form[data-autosave]');
                   return !localStorage.getItem(f.dataset.store)
                          && document.getElementById('save-status').className.includes('saved'); }"""
    )


def _plan(kind: str, rng: np.random.Generator, n: int) -> str:
    if n % 17 == 5:
        return "skip"
    if kind == "binary":
        return str(int(rng.integers(0, 2)))
    if kind == "ordinal":
        return str(int(rng.integers(1, 5)))
    return str(int(rng.choice([-3, -2, -1, 1, 2, 3])))


def _answer_items(page, kind: str, rng, given: dict[str, str], limit: int | None = None) -> None:  # type: ignore[no-untyped-def]
    items = page.locator("fieldset.item")
    count = items.count() if limit is None else limit
    for k in range(count):
        fs = items.nth(k)
        item = fs.get_attribute("data-item")
        n = int(fs.locator("legend .num").inner_text().rstrip("."))
        value = _plan(kind, rng, n)
        fs.locator(f'label.choice:has(input[value="{value}"]) > span').click()
        given[item] = value
    _wait_saved(page)


def test_respondent_completes_all_three_on_a_phone_and_resumes_elsewhere(live: Live, browser) -> None:
    desk = browser.new_context(**DESKTOP)
    page = desk.new_page()
    sign_in(page, live, "psychologist")
    code = _new_beneficiary(page, live, "ნინო ბერიძე")
    page.goto(f"{live.url}/beneficiaries/{code}")
    shot(page, "desktop-beneficiary-psychologist")
    codes, links = [], []
    for iid in ("vdq", "sds", "ppi"):  # each handed over on its own (tests/test_web_browser_sitting.py: one sitting)
        page.goto(f"{live.url}/beneficiaries/{code}")
        page.check(f"input[name=instrument][value={iid}]")
        page.check("input[name=mode][value=respondent]")
        page.click("form[action$='/start'] button[type=submit]")
        page.wait_for_url(re.compile(r".*/handover\?.*"))
        if iid == "vdq":
            shot(page, "desktop-handover")
        codes += page.locator(".handover-code").all_inner_texts()
        links += page.locator(".link-text a").all_inner_texts()
    assert len(codes) == 3 and all(re.fullmatch(r"[A-Z0-9]{4} [A-Z0-9]{4} [A-Z0-9]{4}", c) for c in codes)
    desk.close()

    rng = np.random.default_rng(5)
    given: dict[str, dict[str, str]] = {}
    for k, (typed_code, link) in enumerate(zip(codes, links, strict=True)):
        phone = browser.new_context(**PHONE)
        p = phone.new_page()
        p.goto(f"{live.url}/r")
        assert p.locator("html").get_attribute("lang") == "ka"
        if k == 0:
            shot(p, "phone-respond-code")
        p.fill("#code", typed_code.lower().replace(" ", "-"))  # typed any old way
        p.click("main form button[type=submit]")
        p.wait_for_url(re.compile(r".*/r/[A-Z0-9]{12}$"))
        token = p.url.rsplit("/", 1)[1]
        assert link.endswith(token)
        title = p.locator("h1").inner_text()
        if k == 0:
            shot(p, "phone-respond-welcome")
        p.click("a.button.big")
        kind = {"vdq": "ordinal", "sds": "binary", "ppi": "paired"}[_instrument_of(title)]
        answers: dict[str, str] = {}
        parts = int(re.search(r"/ (\d+)", p.locator(".part-of").inner_text()).group(1))  # type: ignore[union-attr]
        part = 1
        while part <= parts:
            p.wait_for_url(re.compile(rf".*/r/{token}/part/{part}(#.*)?$"))
            _fits_the_screen(p)
            if kind == "binary" and part == 2:
                # six answers into the second page the tab is closed; another device takes over
                _answer_items(p, kind, rng, answers, limit=6)
                first_open = p.locator("fieldset.item").nth(6).get_attribute("data-item")
                shot(p, "phone-respond-sds-part2")
                phone.close()
                phone = browser.new_context(**PHONE)
                p = phone.new_page()
                p.goto(link)
                done_text = KA["respond.welcome_back"].split("{")[0].strip()
                assert done_text in p.inner_text("main")
                assert f"{len(answers)} /" in p.inner_text("main")
                p.click("a.button.big")
                p.wait_for_url(re.compile(rf".*/r/{token}/part/2#item-{first_open}$"))  # at the first open item
                items = p.locator("fieldset.item")
                for j in range(6):  # the answers given on the other device are there
                    item = items.nth(j).get_attribute("data-item")
                    assert items.nth(j).locator(f'input[value="{answers[item]}"]').is_checked()
                for j in range(6, items.count()):
                    fs = items.nth(j)
                    item = fs.get_attribute("data-item")
                    n = int(fs.locator("legend .num").inner_text().rstrip("."))
                    value = _plan(kind, rng, n)
                    fs.locator(f'label.choice:has(input[value="{value}"]) > span').click()
                    answers[item] = value
                _wait_saved(p)
            else:
                _answer_items(p, kind, rng, answers)
                if part == 1:
                    shot(p, f"phone-respond-{_instrument_of(title)}")
            p.click("button[name=go][value=next]")
            part += 1
        if kind == "binary":  # the SDS asks which occupations the person has thought about; skipped here
            p.wait_for_url(re.compile(rf".*/r/{token}/aspirations$"))
            p.click("button[name=go][value=next]")
        p.wait_for_url(re.compile(rf".*/r/{token}/review$"))
        if kind == "ordinal":
            shot(p, "phone-respond-review")
        p.click("form[action$='/submit'] button")
        p.wait_for_url(re.compile(rf".*/r/{token}/done$"))
        text = p.inner_text("main")
        assert KA["respond.done_title"] in text
        for clinical in ("RIASEC", "ბარიერ", "ქულა", "ტიპი", "სტატუს"):
            assert clinical not in text
        if kind == "paired":
            shot(p, "phone-respond-done")
        given[_instrument_of(title)] = answers
        phone.close()

    # what the service stored is exactly what was tapped: skips are missing, not defaults
    psy = live.api("psychologist")
    results = {r["instrument"]: r for r in psy.get(f"/v1/beneficiaries/{code}/results").json()}
    assert set(results) == {"vdq", "sds", "ppi"}
    for iid, answers in given.items():
        inst = facade.instrument(iid)
        assert set(answers) == set(inst.item_ids)
        typed = {k: v for k, v in answers.items() if v != "skip"}
        seconds = psy.get(f"/v1/administrations/{results[iid]['administration']}").json()["seconds"]
        expected = facade.score_answers(inst, [typed], seconds=[seconds])[0]
        skipped = sum(v == "skip" for v in answers.values())
        assert skipped > 0 and results[iid]["record"]["validity"]["n_missing"] == skipped
        assert results[iid]["record"] == expected.model_dump(mode="json"), iid  # exactly what was tapped


def _instrument_of(title: str) -> str:
    for iid in ("vdq", "sds", "ppi"):
        if facade.instrument(iid).title.ka == title:
            return iid
    raise AssertionError(f"unknown questionnaire title {title!r}")


def test_psychologist_keys_in_paper_forms_and_downloads_the_pdf(live: Live, browser) -> None:
    ctx = browser.new_context(**DESKTOP, accept_downloads=True)
    page = ctx.new_page()
    sign_in(page, live, "psychologist")
    code = _new_beneficiary(page, live, "თამარ კაპანაძე")

    # VDQ: digits, '-' for a blank on paper, a wrong key refused, two items left empty
    page.goto(f"{live.url}/beneficiaries/{code}")
    page.check("input[name=instrument][value=vdq]")
    page.check("input[name=mode][value=paper]")
    page.click("form[action$='/start'] button[type=submit]")
    page.wait_for_url(re.compile(r".*/administrations/[0-9a-f-]+/paper$"))
    inst = facade.instrument("vdq")
    ids = list(inst.item_ids)
    assert page.evaluate("document.activeElement.id") == f"p-{ids[0]}"
    typed: dict[str, str | None] = {}
    for k, item in enumerate(ids[:-2]):
        if k == 9:
            page.keyboard.press("9")  # not an answer on a 1–4 scale
            assert page.evaluate("document.activeElement.id") == f"p-{item}"
            assert KA["paper.bad_key"] in page.inner_text("#save-status")
        key = "-" if k == 4 else "4321"[k % 4]
        page.keyboard.press(key)
        typed[item] = None if key == "-" else key
    assert page.evaluate("document.activeElement.id") == f"p-{ids[-2]}"  # moved on by itself
    assert page.inner_text("#missing") == KA["paper.missing"].format(n=3, total=len(ids))
    page.wait_for_function("() => document.getElementById('save-status').className.includes('saved')")
    shot(page, "desktop-paper-vdq")
    page.keyboard.press("Enter")  # past the last two, on to the check button
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.value") == "check"
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r".*/check$"))
    assert KA["check.missing"].format(n=3) in page.inner_text("main")
    assert page.locator(".missing-list li").count() == 3
    shot(page, "desktop-check")
    page.click("form[action$='/submit'] button[type=submit]")
    page.wait_for_url(re.compile(r".*/results/[0-9a-f-]+$"))
    assert page.locator("img.chart").count() >= 1
    shot(page, "desktop-result-vdq")
    expected = facade.score_answers(inst, [typed])[0]
    psy = live.api("psychologist")
    stored = psy.get(f"/v1/results/{page.url.rsplit('/', 1)[1]}").json()["record"]
    assert stored["validity"]["n_missing"] == 3 and stored["certainty"] == expected.certainty

    # the report, as a PDF
    page.select_option("#format", "pdf")
    with page.expect_download() as download:
        page.click("form.report-form button[type=submit]")
    pdf = download.value
    assert pdf.suggested_filename == f"report-{code}-psychologist-ka.pdf"
    data = pdf.path().read_bytes()
    assert data.startswith(b"%PDF") and len(data) > 5000

    # PPI: L or R, then the rating; the cursor moves on after the rating
    page.goto(f"{live.url}/beneficiaries/{code}")
    page.check("input[name=instrument][value=ppi]")
    page.check("input[name=mode][value=paper]")
    page.click("form[action$='/start'] button[type=submit]")
    page.wait_for_url(re.compile(r".*/paper$"))
    ppi = facade.instrument("ppi")
    pairs: dict[str, str] = {}
    for k, item in enumerate(ppi.item_ids):
        side, rating = "LR"[k % 2], "321"[k % 3]
        page.keyboard.press(side)
        assert page.evaluate("document.activeElement.id") == f"p-{item}"
        page.keyboard.press(rating)
        pairs[item] = side + rating
    assert page.inner_text("#missing") == KA["paper.missing"].format(n=0, total=len(ppi.item_ids))
    page.wait_for_function("() => document.getElementById('save-status').className.includes('saved')")
    shot(page, "desktop-paper-ppi")
    page.click("button[name=go][value=check]")
    page.wait_for_url(re.compile(r".*/check$"))
    page.click("form[action$='/submit'] button[type=submit]")
    page.wait_for_url(re.compile(r".*/results/[0-9a-f-]+$"))
    shot(page, "desktop-result-ppi")
    stored = psy.get(f"/v1/results/{page.url.rsplit('/', 1)[1]}").json()["record"]
    expected = facade.score_answers(ppi, [pairs])[0]
    assert stored["validity"]["n_missing"] == 0 and stored == expected.model_dump(mode="json")

    # read-aloud: one statement per screen, answered with the keys; a skip is recorded as missing
    page.goto(f"{live.url}/beneficiaries/{code}")
    page.check("input[name=instrument][value=vdq]")
    page.check("input[name=mode][value=read_aloud]")
    page.click("form[action$='/start'] button[type=submit]")
    page.wait_for_url(re.compile(r".*/read-aloud/1$"))
    admin_id = page.url.split("/administrations/")[1].split("/")[0]
    assert page.locator(".read-first").count() == 1  # the section's instructions come first
    shot(page, "desktop-read-aloud")
    for n, key in enumerate(("4", "s", "2"), start=1):
        page.keyboard.press(key)
        page.wait_for_url(re.compile(rf".*/read-aloud/{n + 1}$"))
    saved = psy.get(f"/v1/administrations/{admin_id}").json()["answers"]
    assert saved == {ids[0]: "4", ids[1]: None, ids[2]: "2"}

    # a second VDQ result, then the two compared
    again = dict.fromkeys(ids, "1")
    a = psy.post("/v1/administrations", json={"beneficiary": code, "instrument": "vdq"}).json()
    psy.patch(f"/v1/administrations/{a['id']}/answers", json={"answers": again})
    assert psy.post(f"/v1/administrations/{a['id']}/submit").status_code == 201
    page.goto(f"{live.url}/beneficiaries/{code}")
    shot(page, "desktop-beneficiary-results")
    page.click("form[action$='/compare'] button[type=submit]")
    page.wait_for_url(re.compile(r".*/compare\?.*"))
    assert page.locator("table.scores tbody tr").count() == len(inst.scales)
    assert page.locator("img.chart").count() == 1
    shot(page, "desktop-compare")
    ctx.close()


def test_social_worker_is_refused_without_consent_then_sends(live: Live, browser) -> None:
    ctx = browser.new_context(**DESKTOP)
    page = ctx.new_page()
    sign_in(page, live, "social_worker")
    code = _new_beneficiary(page, live, "მარიამ გელაშვილი")
    page.goto(f"{live.url}/beneficiaries/{code}")
    assert page.locator("input[name=instrument]").count() == 1  # the intake only
    page.click("form[action$='/start'] button[type=submit]")
    page.wait_for_url(re.compile(r".*/intake$"))
    for field, value in INTAKE.items():
        if page.locator(f"select[name={field}]").count():
            page.select_option(f"select[name={field}]", value)
        elif page.locator(f"input[type=radio][name={field}]").count():
            page.check(f"input[type=radio][name={field}][value={value}]")
        elif page.locator(f"input[type=checkbox][name={field}]").count():
            page.check(f"input[type=checkbox][name={field}][value={value}]")
        else:
            page.fill(f"[name={field}]", value)
    shot(page, "desktop-intake")
    page.click("button[name=go][value=submit]")
    page.wait_for_url(re.compile(rf".*/beneficiaries/{code}\?saved=intake_submitted$"))

    page.click(f"a[href='/beneficiaries/{code}/packets/new']")
    assert KA["packet.no_consent_yet"].split(":")[0] in page.inner_text("main")
    page.click("form[action$='/packets'] button[type=submit]")
    page.wait_for_url(re.compile(r".*/packets/[0-9a-f-]+$"))
    packet_url = page.url
    assert KA["packet.preview_notice"] in page.inner_text("main")
    assert "მარიამ" not in page.content()  # the packet carries the code, never the name
    shot(page, "desktop-packet-preview")

    page.click("form[action$='/send'] button[type=submit]")
    assert KA["packet.refused_title"] in page.inner_text(".refusal")
    shot(page, "desktop-packet-refused")
    page.goto(f"{live.url}/registry")
    assert code not in page.inner_text("main")

    page.goto(packet_url)
    page.click("form[action$='/send'] button[type=submit]")
    page.click(".refusal a.button")  # straight to recording the consent
    page.wait_for_url(re.compile(rf".*/beneficiaries/{code}/consents$"))
    for part in ("intake_summary", "profile", "activities"):
        page.check(f"input[name=scope][value={part}]")
    page.fill("#expires", (dt.date.today() + dt.timedelta(days=180)).isoformat())
    page.click("form[action$='/consents'] button[type=submit]")
    page.wait_for_url(re.compile(r".*/consents$"))
    assert KA["consent.valid"] in page.inner_text(".consent")
    shot(page, "desktop-consents")

    page.goto(packet_url)
    page.click("form[action$='/send'] button[type=submit]")
    page.wait_for_url(packet_url)
    assert page.locator(".notice.success").count() == 1
    page.goto(f"{live.url}/registry")
    row = page.locator("tbody tr", has_text=code)
    assert row.count() == 1 and "social_worker" in row.inner_text()
    shot(page, "desktop-registry")
    ctx.close()


def test_employment_officer_sees_only_their_own_packets(live: Live, browser) -> None:
    sw = live.api("social_worker")
    sent: dict[str, str] = {}
    for org in ("ssa-employment", "other-agency"):
        code = sw.post("/v1/beneficiaries", json={"name": f"ბენეფიციარი {org}"}).json()["code"]
        administer(live.api("psychologist"), code, "ppi", answers_for("ppi", 1))  # a packet needs a result
        sw.post(f"/v1/beneficiaries/{code}/consents", json={"addressee": org, "scope": ["profile"]})
        packet = sw.post("/v1/packets", json={"beneficiary": code, "addressee": org, "parts": ["profile"]}).json()
        assert sw.post(f"/v1/packets/{packet['id']}/send").status_code == 201
        sent[org] = packet["id"]
    ours = {
        r["packet"]
        for r in sw.get("/v1/registry", params={"limit": 200}).json()["items"]
        if r["addressee"] == "ssa-employment"
    }

    ctx = browser.new_context(**PHONE)
    page = ctx.new_page()
    sign_in(page, live, "employment_officer")
    page.wait_for_url(re.compile(r".*/inbox$"))
    listed = {a.get_attribute("href").rsplit("/", 1)[1] for a in page.locator("main a.code").all()}
    assert sent["ssa-employment"] in listed and sent["other-agency"] not in listed and listed <= ours
    assert [a.inner_text() for a in page.locator(".main-nav a").all()] == [KA["nav.inbox"]]
    _fits_the_screen(page)
    shot(page, "phone-inbox")
    page.click(f"a[href='/packets/{sent['ssa-employment']}'] >> nth=0")
    assert KA["packet.profile_draft"] in page.inner_text("main")
    assert "ბენეფიციარი ssa" not in page.content()
    assert page.locator("form[action$='/send']").count() == 0
    shot(page, "phone-packet-officer")
    response = page.goto(f"{live.url}/packets/{sent['other-agency']}")
    assert response is not None and response.status == 404
    for path in ("/beneficiaries", "/registry", "/beneficiaries/new"):
        response = page.goto(f"{live.url}{path}")
        assert response is not None and response.status == 403, path
    ctx.close()
