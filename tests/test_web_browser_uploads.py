"""The researcher's uploads in a real browser (Debian's Chromium through Playwright) against a real
uvicorn server, at 1280 and 390 px: a data file with mistakes is checked (every problem listed, the bad
cells marked, nothing kept), then KoboToolbox submissions are imported into a study on its page."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from api.web.core import strings
from tests import web_live
from tests.test_research_uploads import ANSWERS, VDQ, as_csv, kobo_csv, vdq_rows
from tests.test_web_browser import _fits_the_screen
from tests.web_live import DESKTOP, PHONE, Live, shot, sign_in

live = web_live.live
browser = web_live.browser

KA = strings("ka")


def test_a_researcher_checks_a_file_and_imports_field_submissions(browser, live: Live, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "pilot.csv"
    bad.write_bytes(as_csv(vdq_rows([{"id": "P1"}, {"id": "P2", "VDQ03": "7"}, {"id": "P3", "VDQ09": "often"}])))
    today = dt.date.today()
    api = live.api("researcher")
    r = api.post(
        "/v1/studies",
        json={
            "title_ka": "საველე კვლევა",
            "title_en": "Field study",
            "purpose_ka": "ნორმები",
            "purpose_en": "Norms",
            "consent_ka": "მონაწილეობა ნებაყოფლობითია.",
            "consent_en": "Taking part is voluntary.",
            "instruments": [{"id": "vdq", "version": VDQ.version}],
            "opens_on": today.isoformat(),
            "closes_on": (today + dt.timedelta(days=30)).isoformat(),
        },
    )
    assert r.status_code == 201, r.text
    sid = r.json()["id"]
    kobo = tmp_path / "kobo.csv"
    kobo.write_bytes(kobo_csv(ANSWERS))
    for name, options in (("desktop", DESKTOP), ("phone", PHONE)):
        ctx = browser.new_context(**options)
        page = ctx.new_page()
        sign_in(page, live, "researcher")
        page.goto(f"{live.url}/datasets")
        assert KA["upload.title"] in page.inner_text("h1")
        if name == "phone":
            _fits_the_screen(page)
        shot(page, f"{name}-datasets")
        page.select_option("#d-instrument", VDQ.ref)
        page.set_input_files("#d-file", str(bad))
        page.click("button[name=action][value=check]")
        page.wait_for_load_state()
        main = page.inner_text("main")
        assert "რიგი 2, დებულება VDQ03: მნიშვნელობა 7 დასაშვები არ არის" in main
        assert "რიგი 3, დებულება VDQ09: მნიშვნელობა often დასაშვები არ არის" in main
        marked = page.eval_on_selector_all("table.preview td.bad", "cells => cells.map(c => c.firstChild.textContent)")
        assert marked == ["7", "often"]
        color = page.eval_on_selector("table.preview td.bad", "c => getComputedStyle(c).backgroundColor")
        assert color not in ("rgba(0, 0, 0, 0)", "transparent")  # the mark is visible, not only in the markup
        if name == "phone":
            _fits_the_screen(page)  # the wide preview scrolls inside its own box
        shot(page, f"{name}-datasets-problems")
        page.goto(f"{live.url}/studies/{sid}")
        page.set_input_files("#f-file", str(kobo))
        page.click("#fieldwork-h ~ form button[type=submit]")
        page.wait_for_load_state()
        main = page.inner_text("main")
        expected = KA["fieldwork.imported"].format(
            imported=3 if name == "desktop" else 0, already=0 if name == "desktop" else 3, rows=3
        )
        assert expected in main, main[:2000]
        if name == "phone":
            _fits_the_screen(page)
        page.locator("#fieldwork-h").scroll_into_view_if_needed()
        shot(page, f"{name}-study-fieldwork")
        ctx.close()
    assert api.get(f"/v1/studies/{sid}").json()["progress"]["completed"] == 3
