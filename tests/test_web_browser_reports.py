"""Reports in a real browser (Chromium through Playwright, against a real uvicorn server): the
employment officer reads, downloads and prints a packet on a phone and on a desktop; the psychologist
compares a 1.0 and a 1.1 result side by side. Screenshots go to ``PROFORIENT_SCREENSHOTS``."""

from __future__ import annotations

from tests import web_live
from tests.api_helpers import INTAKE, administer, answers_for
from tests.test_reports_versions import listed
from tests.test_web_compare import administer_version
from tests.web_live import DESKTOP, PHONE, Live, shot, sign_in

live = web_live.live
browser = web_live.browser


def _sent_packet(live: Live) -> str:
    sw, psy = live.api("social_worker"), live.api("psychologist")
    code = sw.post("/v1/beneficiaries", json={}).json()["code"]
    administer(sw, code, "intake", {**INTAKE, "profession": "cook", "aspired_occupations": "cook;confectioner"})
    administer(psy, code, "vdq", answers_for("vdq", 3))
    administer(psy, code, "sds", answers_for("sds", 3))
    administer(psy, code, "ppi", answers_for("ppi", 3))
    parts = ["intake_summary", "profile", "activities"]
    packet = sw.post("/v1/packets", json={"beneficiary": code, "addressee": "ssa-employment", "parts": parts}).json()
    sw.post(f"/v1/beneficiaries/{code}/consents", json={"addressee": "ssa-employment", "scope": parts})
    assert sw.post(f"/v1/packets/{packet['id']}/send").status_code == 201
    return str(packet["id"])


def test_the_officer_reads_downloads_and_prints_a_packet_on_a_phone_and_a_desktop(live: Live, browser) -> None:  # type: ignore[no-untyped-def]
    pid = _sent_packet(live)
    for name, device in (("phone", PHONE), ("desktop", DESKTOP)):
        ctx = browser.new_context(**device, accept_downloads=True)
        page = ctx.new_page()
        sign_in(page, live, "employment_officer")
        page.goto(f"{live.url}/packets/{pid}?lang=ka")
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"), name
        for sel in ("#p-start-h", "#p-matches-h", "#p-acts-h", "#p-sds-h"):
            assert page.locator(sel).is_visible(), (name, sel)
        shot(page, f"packet-{name}-ka")
        with page.expect_download() as got:
            page.click("a:has-text('PDF')")
        path = got.value.path()
        assert path is not None and path.read_bytes()[:4] == b"%PDF"
        page.emulate_media(media="print")
        assert not page.locator(".actions").first.is_visible() and not page.locator("header.top").is_visible()
        assert page.locator("#p-matches-h").is_visible()
        shot(page, f"packet-{name}-print")
        page.emulate_media(media="screen")
        ctx.close()


def test_a_10_and_a_11_result_side_by_side_at_1280(live: Live, browser) -> None:  # type: ignore[no-untyped-def]
    psy = live.api("psychologist")
    code = live.api("social_worker").post("/v1/beneficiaries", json={}).json()["code"]
    answers = answers_for("vdq", 21)
    old = administer_version(psy, code, "vdq", "1.0", answers)
    new = administer_version(psy, code, "vdq", "1.1", answers)
    ctx = browser.new_context(**DESKTOP)
    page = ctx.new_page()
    sign_in(page, live, "psychologist")
    page.goto(f"{live.url}/beneficiaries/{code}?lang=en")
    page.click("main form[action$='/compare'] button[type=submit]")
    page.wait_for_url(f"**/beneficiaries/{code}/compare**")
    assert page.locator(".side-by-side .version").count() == 2
    marked = set()
    for row in page.locator("tr.changed").all():
        marked |= set((row.get_attribute("data-changed") or "").split())
    assert marked == set(listed("vdq"))
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    shot(page, "compare-vdq-1.0-1.1-1280")
    page.goto(f"{live.url}/beneficiaries/{code}/compare?before={old['id']}&after={new['id']}&lang=ka")
    shot(page, "compare-vdq-1.0-1.1-1280-ka")
    ctx.close()
