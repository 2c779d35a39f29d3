"""Issue 14 in a real browser (Debian's Chromium through Playwright, a real uvicorn server):
VDQ + SDS + PPI as one sitting with one code on a 390 px phone, paused in the middle of the SDS and
resumed in a second browser context at the first open item; paired items without a split word at
320, 390 and 768 px; paper entry and read-aloud with the Georgian keyboard layout."""

from __future__ import annotations

import re

import numpy as np

from api.web.core import strings
from tests import web_live
from tests.web_live import DESKTOP, PHONE, Live, shot, sign_in

live = web_live.live
browser = web_live.browser

KA = strings("ka")
KIND = {"vdq": "ordinal", "sds": "binary", "ppi": "paired"}


def _new_beneficiary(page, live: Live) -> str:  # type: ignore[no-untyped-def]
    page.goto(f"{live.url}/beneficiaries/new")
    page.fill("#name", "ნინო ბერიძე")
    page.check("input[name=gender][value=female]")
    page.click("main form button[type=submit]")
    page.wait_for_url(re.compile(r".*/beneficiaries/B-[A-Z0-9]+$"))
    return page.url.rsplit("/", 1)[1]


def _plan(kind: str, rng: np.random.Generator, n: int) -> str:
    if n % 13 == 4:
        return "skip"
    if kind == "binary":
        return str(int(rng.integers(0, 2)))
    if kind == "ordinal":
        return str(int(rng.integers(1, 5)))
    return str(int(rng.choice([-3, -2, -1, 1, 2, 3])))


def _wait_saved(page) -> None:  # type: ignore[no-untyped-def]
    page.wait_for_function(
        """() => { const f = document.querySelector('form[data-autosave]');
                   return !localStorage.getItem(f.dataset.store)
                          && !localStorage.getItem(f.dataset.store + '-q')
                          && document.getElementById('save-status').className.includes('saved'); }"""
    )


def _answer(page, kind: str, rng, given: dict[str, str], start: int = 0, stop: int | None = None) -> None:  # type: ignore[no-untyped-def]
    items = page.locator("fieldset.item")
    for k in range(start, items.count() if stop is None else stop):
        fs = items.nth(k)
        n = int(fs.locator("legend .num").inner_text().rstrip("."))
        value = _plan(kind, rng, n)
        fs.locator(f'label.choice:has(input[value="{value}"]) > span').click()
        given[fs.get_attribute("data-item")] = value
    _wait_saved(page)


def _status_near_the_button(page) -> None:  # type: ignore[no-untyped-def]
    """The save status sits in the bar with the bottom button, on screen while the person scrolls."""
    box = page.evaluate(
        """() => { const s = document.getElementById('save-status').getBoundingClientRect();
                   const b = document.querySelector('button[name=go][value=next]').getBoundingClientRect();
                   return [s.bottom, b.top, b.bottom, window.innerHeight]; }"""
    )
    status_bottom, button_top, button_bottom, height = box
    assert status_bottom <= button_top + 1 and button_top - status_bottom < 40 and button_bottom <= height + 1, box


def test_one_sitting_one_code_paused_mid_sds_and_resumed_elsewhere(live: Live, browser) -> None:  # type: ignore[no-untyped-def]
    desk = browser.new_context(**DESKTOP)
    page = desk.new_page()
    sign_in(page, live, "psychologist")
    person = _new_beneficiary(page, live)
    page.goto(f"{live.url}/beneficiaries/{person}")
    for k, iid in enumerate(("vdq", "sds", "ppi"), start=1):
        page.check(f"input[name=instrument][value={iid}]")
        page.select_option(f"select[name=order_{iid}]", str(k))
    page.check("input[name=mode][value=respondent]")
    shot(page, "sitting-desktop-start")
    page.click("form[action$='/start'] button[type=submit]")
    page.wait_for_url(re.compile(r".*/handover\?s=.*"))
    shot(page, "sitting-desktop-handover")
    codes = page.locator(".handover-code").all_inner_texts()
    assert len(codes) == 1 and re.fullmatch(r"[A-Z0-9]{4} [A-Z0-9]{4} [A-Z0-9]{4}", codes[0])
    page.emulate_media(media="print")
    shot(page, "sitting-desktop-slip-print")
    assert page.locator(".slip").is_visible() and not page.locator("form[action$='/new-code']").is_visible()
    desk.close()

    rng = np.random.default_rng(14)
    given: dict[str, dict[str, str]] = {"vdq": {}, "sds": {}, "ppi": {}}
    phone = browser.new_context(**PHONE)
    p = phone.new_page()
    p.goto(f"{live.url}/r")
    p.fill("#code", codes[0].lower().replace(" ", "-"))
    p.click("main form button[type=submit]")
    p.wait_for_url(re.compile(r".*/r/[A-Z0-9]{12}$"))
    token = p.url.rsplit("/", 1)[1]
    shot(p, "sitting-phone-welcome")
    assert KA["respond.questionnaire_of"].format(n=1, total=3) in p.inner_text("main")

    paused = False
    for position, iid in enumerate(("vdq", "sds", "ppi"), start=1):
        kind = KIND[iid]
        p.click("a.button.big")
        while True:
            p.wait_for_url(re.compile(rf".*/r/{token}/part/\d+(#.*)?$"))
            n = int(re.search(r"/part/(\d+)", p.url).group(1))  # type: ignore[union-attr]
            assert p.locator("fieldset.item").count() <= 10  # short pages
            assert KA["respond.questionnaire_of"].format(n=position, total=3) in p.inner_text(".sitting-box")
            assert p.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
            if iid == "sds" and n == 2 and not paused:
                # the middle of the SDS: six answers on page 2, then the phone is put away
                _answer(p, kind, rng, given[iid], 0, 6)
                shot(p, "sitting-phone-sds-page2-paused")
                first_open = p.locator("fieldset.item").nth(6).get_attribute("data-item")
                phone.close()
                paused = True
                # a second browser context (another device) opens the same code
                phone = browser.new_context(**PHONE)
                p = phone.new_page()
                p.goto(f"{live.url}/r/{token}")
                text = p.inner_text("main")
                assert KA["respond.welcome_back"].split("{")[0].strip() in text
                assert KA["respond.questionnaire_of"].format(n=2, total=3) in text
                shot(p, "sitting-phone-welcome-back")
                p.click("a.button.big")
                p.wait_for_url(re.compile(rf".*/r/{token}/part/2#item-{first_open}$"))
                target = p.locator(f"#item-{first_open}")
                assert not target.locator("input:checked").count()
                assert target.evaluate(
                    "e => { const r = e.getBoundingClientRect(); return r.top >= 0 && r.top < window.innerHeight; }"
                )  # scrolled to it
                items = p.locator("fieldset.item")
                for j in range(6):  # the answers given on the other device are there
                    item = items.nth(j).get_attribute("data-item")
                    assert items.nth(j).locator(f'input[value="{given[iid][item]}"]').is_checked()
                shot(p, "sitting-phone-sds-resumed")
                _answer(p, kind, rng, given[iid], 6)
            else:
                _answer(p, kind, rng, given[iid])
                # the whole sitting's progress line moves as answers are given (answered or skipped)
                assert p.evaluate("Number(document.getElementById('sitting-bar').value)") == sum(
                    len(g) for g in given.values()
                )
                assert p.evaluate("Number(document.getElementById('sitting-bar').max)") == 56 + 132 + 36
                if n == 1:
                    _status_near_the_button(p)
                    shot(p, f"sitting-phone-{iid}-page1")
            last = p.locator("button[name=go][value=next]").inner_text() == KA["respond.to_end"]
            p.click("button[name=go][value=next]")
            if last:
                break
        if iid == "sds":  # after the last statements: which occupations the person has thought about
            p.wait_for_url(re.compile(rf".*/r/{token}/aspirations$"))
            assert KA["aspirations.title"] in p.inner_text("main")
            p.fill("#aspiration_1", "მზარეული")
            p.fill("#aspiration_2", "ჩემი პატარა საცხობი")
            assert p.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
            shot(p, "sitting-phone-sds-aspirations")
            p.click("button[name=go][value=next]")
        p.wait_for_url(re.compile(rf".*/r/{token}/review$"))
        assert p.locator("a.open-item").count() == 0  # every item answered or skipped
        if iid == "sds":
            assert "მზარეული" in p.inner_text("main") and "ჩემი პატარა საცხობი" in p.inner_text("main")
        if iid == "vdq":
            shot(p, "sitting-phone-review")
        p.click("form[action$='/submit'] button")
        if position < 3:
            p.wait_for_url(re.compile(rf".*/r/{token}/break$"))
            assert KA["respond.break_title"] in p.inner_text("main")
            if position == 1:
                shot(p, "sitting-phone-break")
        else:
            p.wait_for_url(re.compile(rf".*/r/{token}/done$"))
            shot(p, "sitting-phone-done")
            text = p.inner_text("main")
            assert KA["respond.done_title"] in text
            for clinical in ("RIASEC", "ბარიერ", "ქულა", "ტიპი", "სტატუს"):
                assert clinical not in text
    phone.close()

    # three administrations, three results, each with exactly what was tapped (skips are missing)
    psy = live.api("psychologist")
    results = {r["instrument"]: r for r in psy.get(f"/v1/beneficiaries/{person}/results").json()}
    assert set(results) == {"vdq", "sds", "ppi"}
    assert len({r["administration"] for r in results.values()}) == 3
    for iid, answers in given.items():
        stored = psy.get(f"/v1/administrations/{results[iid]['administration']}").json()["answers"]
        assert stored == {k: (None if v == "skip" else v) for k, v in answers.items()}, iid


WORDS_SPLIT = """(sel) => {
  const out = [];
  for (const el of document.querySelectorAll(sel)) {
    if (!el.offsetParent) continue;
    const box = el.getBoundingClientRect();
    const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      if (node.parentElement.closest('.sr-only')) continue;  // for screen readers only, never shown
      const re = /\\S+/g;
      let m;
      while ((m = re.exec(node.data))) {
        const r = document.createRange();
        r.setStart(node, m.index);
        r.setEnd(node, m.index + m[0].length);
        const lines = new Set([...r.getClientRects()].filter(q => q.width > 0).map(q => Math.round(q.top)));
        const whole = r.getBoundingClientRect();
        if (lines.size > 1) out.push(['split', m[0]]);
        else if (whole.right > box.right + 1 || whole.right > window.innerWidth) out.push(['overflow', m[0]]);
      }
    }
  }
  return out;
}"""


def test_paired_items_never_split_a_word(live: Live, browser) -> None:  # type: ignore[no-untyped-def]
    psy = live.api("psychologist")
    person = live.api("social_worker").post("/v1/beneficiaries", json={}).json()["code"]
    token = psy.post("/v1/administrations", json={"beneficiary": person, "instrument": "ppi"}).json()["resume_token"]
    for width in (320, 390, 768):
        ctx = browser.new_context(**{**PHONE, "viewport": {"width": width, "height": 844}})
        p = ctx.new_page()
        checked = 0
        for n in (1, 2, 3):
            p.goto(f"{live.url}/r/{token}/part/{n}")
            stacked = p.evaluate(
                "() => { const l = document.querySelector('.item .pole-L');"
                " const r = document.querySelector('.item .pole-R');"
                " return l.getBoundingClientRect().bottom <= r.getBoundingClientRect().top; }"
            )
            assert stacked == (width < 480), width
            bad = p.evaluate(WORDS_SPLIT, ".pole-text, .rating .label, .item legend, .choice > span, .pair-intro, h1")
            assert not bad, f"{width} px, page {n}: {bad[:5]}"
            assert p.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"), width
            checked += p.locator(".pole-text").count()
            if n == 1:
                shot(p, f"ppi-paired-{width}")
        assert checked == 2 * 30  # three pages of ten pairs, both poles each
        ctx.close()


def test_every_respondent_page_fits_at_320_and_390(live: Live, browser) -> None:  # type: ignore[no-untyped-def]
    """VDQ and SDS pages (statements, like/dislike), review, code page: no split word, no sideways scroll."""
    psy = live.api("psychologist")
    person = live.api("social_worker").post("/v1/beneficiaries", json={}).json()["code"]
    tokens = {
        iid: psy.post("/v1/administrations", json={"beneficiary": person, "instrument": iid}).json()["resume_token"]
        for iid in ("vdq", "sds")
    }
    for width in (320, 390):
        ctx = browser.new_context(**{**PHONE, "viewport": {"width": width, "height": 760}})
        p = ctx.new_page()
        for iid, token in tokens.items():
            for path, name in (
                (f"/r/{token}", "welcome"),
                (f"/r/{token}/part/1", "page1"),
                (f"/r/{token}/review", "review"),
                (f"/r/{token}/aspirations", "aspirations"),  # the VDQ asks none: its review again
            ):
                p.goto(live.url + path)
                bad = p.evaluate(WORDS_SPLIT, "main p, main li, .item legend, .choice > span, h1, .scale-legend dd")
                assert not bad, f"{iid} {name} at {width}: {bad[:5]}"
                assert p.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"), (iid, name, width)
                shot(p, f"respond-{iid}-{name}-{width}")
        p.goto(f"{live.url}/r")
        shot(p, f"respond-code-{width}")
        ctx.close()


def _georgian_key(locator, key: str, code: str) -> None:  # type: ignore[no-untyped-def]
    """A key press on the Georgian layout: the key types ``key`` (ლ, რ, …), its physical code is ``code``."""
    locator.dispatch_event("keydown", {"key": key, "code": code, "bubbles": True, "cancelable": True})


def test_paper_ppi_keyed_on_the_georgian_layout_and_read_aloud(live: Live, browser) -> None:  # type: ignore[no-untyped-def]
    ctx = browser.new_context(**DESKTOP)
    page = ctx.new_page()
    sign_in(page, live, "psychologist")
    person = _new_beneficiary(page, live)
    page.goto(f"{live.url}/beneficiaries/{person}")
    page.check("input[name=instrument][value=ppi]")
    page.check("input[name=mode][value=paper]")
    page.click("form[action$='/start'] button[type=submit]")
    page.wait_for_url(re.compile(r".*/administrations/[0-9a-f-]+/paper$"))
    admin_id = page.url.split("/")[-2]
    rng = np.random.default_rng(7)
    expected: dict[str, str | None] = {}
    inputs = page.locator(".paper-input")
    total = inputs.count()
    for k in range(total):
        field = inputs.nth(k)
        item = field.get_attribute("name")
        if k % 11 == 3:
            _georgian_key(field, "-", "Minus")
            expected[item] = None
            continue
        side = "L" if rng.integers(0, 2) else "R"
        digit = str(int(rng.integers(1, 4)))
        if k % 5 == 0:  # an on-screen keyboard: the Georgian letter arrives as typed text
            field.fill({"L": "ლ", "R": "რ"}[side] + digit)
        else:
            _georgian_key(field, {"L": "ლ", "R": "რ"}[side], f"Key{side}")
            _georgian_key(field, digit, f"Digit{digit}")
        expected[item] = ("-" if side == "L" else "") + digit
    assert page.locator(".paper-input[aria-invalid=true]").count() == 0
    shot(page, "paper-ppi-georgian")
    page.click("button[name=go][value=check]")
    page.wait_for_url(re.compile(r".*/check$"))
    # the browser applies ``autofocus`` at its next rendering step, not by the load event: wait for it
    focused = page.wait_for_function(
        "t => document.activeElement.textContent.trim() === t ? t : null", arg=KA["check.submit"], timeout=5000
    )
    assert focused.json_value() == KA["check.submit"]
    shot(page, "paper-ppi-check")
    stored = live.api("psychologist").get(f"/v1/administrations/{admin_id}").json()["answers"]
    assert stored == expected

    # read-aloud: L on the Georgian layout arms the left pole visibly, then the digit answers
    page.goto(f"{live.url}/beneficiaries/{person}")
    page.check("input[name=instrument][value=ppi]")
    page.check("input[name=mode][value=read_aloud]")
    page.click("form[action$='/start'] button[type=submit]")
    page.wait_for_url(re.compile(r".*/read-aloud/1$"))
    ra_id = page.url.split("/")[-3]
    item = page.get_attribute("#ra-form", "data-item")
    _georgian_key(page.locator("body"), "ლ", "KeyL")
    assert "armed" in (page.get_attribute(".pole-L", "class") or "")
    assert "armed" not in (page.get_attribute(".pole-R", "class") or "")
    assert page.inner_text("#ra-armed") == KA["readaloud.armed_l"]
    shot(page, "read-aloud-armed-left")
    _georgian_key(page.locator("body"), "რ", "KeyR")
    assert "armed" in (page.get_attribute(".pole-R", "class") or "")
    _georgian_key(page.locator("body"), "2", "Digit2")
    page.wait_for_url(re.compile(r".*/read-aloud/2$"))
    _georgian_key(page.locator("body"), "ს", "KeyS")  # skip, on the Georgian layout
    page.wait_for_url(re.compile(r".*/read-aloud/3$"))
    stored = live.api("psychologist").get(f"/v1/administrations/{ra_id}").json()["answers"]
    assert stored[item] == "2" and len(stored) == 2 and None in stored.values()
    ctx.close()


CHART_LABELS = """() => [...document.querySelectorAll('img.chart')].map(img => {
  const svg = atob(img.src.split(',')[1]);
  const vb = Number(/viewBox="[-\\d.]+ [-\\d.]+ ([\\d.]+)/.exec(svg)[1]);
  const fonts = [...svg.matchAll(/font(?:-size)?:\\s*(?:[a-z]+\\s+)*([\\d.]+)px/g)].map(m => Number(m[1]));
  const box = img.parentElement.getBoundingClientRect();
  return {smallest: Math.min(...fonts) * img.getBoundingClientRect().width / vb,
          boxRight: box.right, alt: img.alt};
})"""


def test_result_charts_keep_labels_readable_on_a_phone(live: Live, browser) -> None:  # type: ignore[no-untyped-def]
    """At 390 px every chart label is drawn at 11 px or more; a wide chart scrolls in its own box,
    never the page; wide tables too."""
    from tests.api_helpers import administer, answers_for

    psy = live.api("psychologist")
    person = live.api("social_worker").post("/v1/beneficiaries", json={}).json()["code"]
    ids = [administer(psy, person, iid, answers_for(iid, 3))["id"] for iid in ("vdq", "sds", "ppi")]
    ctx = browser.new_context(**PHONE)
    page = ctx.new_page()
    sign_in(page, live, "psychologist")
    for rid in ids:
        page.goto(f"{live.url}/results/{rid}")
        charts = page.evaluate(CHART_LABELS)
        assert charts, rid
        for c in charts:
            assert c["smallest"] >= 11 - 0.01, c  # an SVG unit is scaled by rendered width / viewBox width
            assert c["boxRight"] <= 390 + 1, c
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"), rid
        shot(page, f"result-phone-{rid[:8]}")
    ctx.close()
