"""The employment officer's packet page shows everything the packet's PDF shows, can be downloaded
and printed, and the officer's start page is their own.

The PDF is rendered from the packet's stored view (``reports.render_view_html``: the same HTML
WeasyPrint prints); every paragraph, list item and heading of its body must also be on the web page,
word for word (the charts are the same images; the title block and the "about" lines are laid out
differently and are checked by their parts).
"""

from __future__ import annotations

import re
from html import unescape

import pytest

import reports
from tests.api_helpers import INTAKE, Web, administer, answers_for


def _blocks(html: str) -> list[str]:
    body = re.sub(r"<head>.*?</head>", "", html, flags=re.S)
    body = re.sub(r"<figure.*?</figure>", "", body, flags=re.S)  # charts: the same images on the page
    body = re.sub(r'<div class="running-footer">.*?</div>', "", body, flags=re.S)
    body = re.sub(r"<header>.*?</header>", "", body, flags=re.S)  # fund, title, subtitle: the page's own head
    body = re.sub(r'<table class="meta">.*?</table>', "", body, flags=re.S)  # dates and administrator: checked below
    about = re.search(r'<section class="about">.*?</section>', body, flags=re.S)
    body = body.replace(about.group(0), "") if about else body
    body = re.sub(r"</?(p|div|li|h\d|tr|ul|section|table|thead|span class=\"(name|sentence)\")[^>]*>", "\n", body)
    text = unescape(re.sub(r"<[^>]+>", " ", body))
    return [b for b in (re.sub(r"\s+", " ", x).strip(" ·") for x in text.split("\n")) if b]


def _text(html: str) -> str:
    body = re.sub(r"<(script|style)[^>]*>.*?</\1>", "", html, flags=re.S)
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", body)))


@pytest.fixture
def sent(service):  # type: ignore[no-untyped-def]
    """A packet with every part, sent to ssa-employment: its id and the officer's web client."""
    sw, psy = service.client("social_worker"), service.client("psychologist")
    code = sw.post("/v1/beneficiaries", json={}).json()["code"]
    administer(sw, code, "intake", {**INTAKE, "profession": "cook", "aspired_occupations": "cook;confectioner"})
    administer(psy, code, "vdq", answers_for("vdq", 7))
    administer(psy, code, "sds", answers_for("sds", 7))
    administer(psy, code, "ppi", answers_for("ppi", 7))
    parts = ["intake_summary", "profile", "activities", "clinical"]
    packet = sw.post("/v1/packets", json={"beneficiary": code, "addressee": "ssa-employment", "parts": parts})
    assert packet.status_code == 201, packet.text
    sw.post(f"/v1/beneficiaries/{code}/consents", json={"addressee": "ssa-employment", "scope": parts})
    assert sw.post(f"/v1/packets/{packet.json()['id']}/send").status_code == 201
    return packet.json()["id"], Web(service, "employment_officer"), service.client("employment_officer")


@pytest.mark.parametrize("lang", ["ka", "en"])
def test_the_web_packet_shows_everything_the_pdf_shows(sent, lang: str) -> None:  # type: ignore[no-untyped-def]
    pid, web, api = sent
    report = api.get(f"/v1/packets/{pid}/report", params={"lang": lang, "format": "html"})
    assert report.status_code == 200
    page = web.get(f"/packets/{pid}?lang={lang}")
    assert page.status_code == 200
    text = _text(page.text)
    blocks = _blocks(report.text)
    assert len(blocks) > 40
    missing = [b for b in blocks if b not in text]
    assert missing == [], missing[:10]
    view = api.get(f"/v1/packets/{pid}/report", params={"lang": lang, "format": "json"}).json()
    s = reports.strings(lang)
    assert s.get("ui.heading.pro.start") in text  # the own trade and wishes, first
    assert (
        view["matches"]["suggested"]
        and all(  # an English name standing as a heading takes a capital
            m["name"] in text or m["name"][0].upper() + m["name"][1:] in text for m in view["matches"]["suggested"]
        )
    )
    for p in view["provenance"]:  # the about section, by its parts
        assert p["title"] in text and p["version"] in text and p["norms"] in text
    for x in (view["meta"]["administered"], view["meta"]["administrator"], view["confidentiality"]):
        assert x in text
    assert page.text.count("<img") == report.text.count("<img")  # the same charts


def test_the_check_can_fail(sent) -> None:  # type: ignore[no-untyped-def]
    pid, web, api = sent
    report = api.get(f"/v1/packets/{pid}/report", params={"lang": "en", "format": "html"}).text
    page = _text(web.get(f"/packets/{pid}?lang=en").text)
    first = next(b for b in _blocks(report) if len(b) > 40)
    assert first in page and first not in page.replace(first, "")


def test_the_officer_can_download_and_print(sent) -> None:  # type: ignore[no-untyped-def]
    pid, web, _ = sent
    page = web.get(f"/packets/{pid}?lang=ka").text
    link = re.search(r'href="(/v1/packets/[^"]+/report\?format=pdf&amp;lang=ka)"', page)
    assert link is not None and "data-print" in page and "/static/print.js" in page
    pdf = web.c.get(unescape(link.group(1)))
    assert pdf.status_code == 200 and pdf.content[:4] == b"%PDF"
    assert "attachment" in pdf.headers["content-disposition"]
    css = web.c.get("/static/app.css").text
    assert "@media print" in css and ".no-print" in css


def test_the_officers_home_is_their_inbox_not_the_researchers_text(service) -> None:  # type: ignore[no-untyped-def]
    from tests.test_web_pages import KA

    officer = Web(service, "employment_officer")
    r = officer.get("/")
    assert r.status_code == 303 and r.headers["location"] == "/inbox"
    home = officer.get("/home").text
    assert KA["home.no_pages"] not in home
    assert 'href="/inbox"' in home
    researcher = Web(service, "researcher").get("/home").text  # issue 15: researchers have pages of their own
    assert KA["home.no_pages"] not in researcher and 'href="/studies"' in researcher
