"""The web pages with FastAPI's TestClient, on SQLite and on PostgreSQL: who may open what
(written out by hand, as for the API), forms with CSRF, the no-script paths of respondent,
read-aloud and paper entry, consent-gated sending, and the audit of every page view."""

from __future__ import annotations

import datetime as dt
import json
import re

from fastapi.routing import APIRoute
from sqlalchemy import select

import instruments
from api.db.tables import AuditEntry, Consent, Sending
from api.domain import jobs
from api.web.core import WebRoute, strings
from tests.api_helpers import INTAKE, Web, answers_for
from tests.conftest import PASSWORDS

KA, EN = strings("ka"), strings("en")
USERS = ("admin", "psychologist", "social_worker", "employment_officer", "other_officer", "researcher", "manager")


def _setup(service) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """A beneficiary with a VDQ in progress, a VDQ result, an intake, and a packet sent to ssa-employment."""
    sw, psy = service.client("social_worker"), service.client("psychologist")
    code = sw.post("/v1/beneficiaries", json={"name": "სანდრო ქავთარაძე"}).json()["code"]
    sw.post(f"/v1/beneficiaries/{code}/consents", json={"addressee": "ssa-employment", "scope": ["profile"]})
    intake = sw.post("/v1/administrations", json={"beneficiary": code, "instrument": "intake"}).json()
    results = []
    for seed in (1, 2):
        a = psy.post("/v1/administrations", json={"beneficiary": code, "instrument": "vdq"}).json()
        psy.patch(f"/v1/administrations/{a['id']}/answers", json={"answers": answers_for("vdq", seed)})
        results.append(psy.post(f"/v1/administrations/{a['id']}/submit").json()["id"])
    open_vdq = psy.post("/v1/administrations", json={"beneficiary": code, "instrument": "vdq"}).json()
    packet = sw.post("/v1/packets", json={"beneficiary": code, "addressee": "ssa-employment", "parts": ["profile"]})
    assert sw.post(f"/v1/packets/{packet.json()['id']}/send").status_code == 201
    users = {u["username"]: u["id"] for u in service.client("admin").get("/v1/users").json()}
    batch = psy.post("/v1/report-batches", json={"format": "json"}).json()["id"]
    assert jobs.run(service.app.state.db, service.settings, batch, "test-worker")
    return {
        "batch": batch,
        "user_id": str(users["researcher"]),
        "code": code,
        "admin": open_vdq["id"],
        "token": open_vdq["resume_token"],
        "intake": intake["id"],
        "result": results[1],
        "before": results[0],
        "packet": packet.json()["id"],
    }


CARE = {"psychologist", "social_worker"}
PSY = {"psychologist"}
SW = {"social_worker"}
ADMIN = {"admin"}
# page → who may open it; everyone else is refused (403, or 404 where the thing must not be known).
# The admin runs accounts, API clients and the audit log and reads no beneficiary's data.
PAGES: dict[str, set[str]] = {
    "/home": set(USERS),
    "/account": set(USERS),
    "/account/password": set(USERS),
    "/account/totp": {"admin", "psychologist"},
    "/beneficiaries": CARE,
    "/beneficiaries/new": CARE,
    "/beneficiaries/{code}": CARE,
    "/beneficiaries/{code}/consents": SW,
    "/beneficiaries/{code}/packets/new": SW,
    "/beneficiaries/{code}/compare?before={before}&after={result}": PSY,
    "/beneficiaries/{code}/report?format=json&audience=psychologist": PSY,
    "/results/{result}": PSY,
    "/administrations/{admin}/read-aloud/1": PSY,
    "/administrations/{admin}/paper": PSY,
    "/administrations/{admin}/check": PSY,
    "/administrations/{intake}/intake": CARE,
    "/registry": SW,
    "/report-batches": CARE,
    "/report-batches/{batch}": PSY,  # a batch is shown to the one who asked for it
    "/report-batches/{batch}/archive": PSY,
    "/inbox": {"employment_officer", "other_officer"},
    "/packets/{packet}": {"social_worker", "employment_officer"},
    "/admin/users": ADMIN,
    "/admin/users/{user_id}": ADMIN,
    "/admin/api-clients": ADMIN,
    "/admin/audit": ADMIN,
    "/admin/break-glass": ADMIN,
    "/admin/settings": ADMIN,
}
PUBLIC = {
    "/",
    "/sign-in",
    "/sign-in/code",
    "/reset/{token}",
    "/r",
    "/r/{token}",
    "/r/{token}/part/{n}",
    "/r/{token}/review",
    "/r/{token}/break",
    "/r/{token}/done",
}


def test_every_page_has_an_expectation(service):
    pages = {
        r.path for r in service.app.routes if isinstance(r, APIRoute) and isinstance(r, WebRoute) and "GET" in r.methods
    }
    listed = {p.split("?")[0] for p in PAGES} | PUBLIC
    generic = {re.sub(r"\{(\w+)\}", "{}", p) for p in listed}
    missing = {p for p in pages if re.sub(r"\{(\w+)\}", "{}", p) not in generic and p != "/handover"}
    assert not missing, f"pages without an expectation: {missing}"


def test_role_page_matrix(service):
    ids = _setup(service)
    anonymous = Web(service)
    users = {who: Web(service, who) for who in USERS}
    failures = []
    for template, allowed in PAGES.items():
        path = template.format(**ids)
        r = anonymous.get(path)
        if r.status_code != 303 or not r.headers["location"].startswith("/sign-in"):
            failures.append(f"anonymous {path}: {r.status_code}")
        for who, web in users.items():
            r = web.get(path)
            if who in allowed and r.status_code != 200:
                failures.append(f"{who} refused {template}: {r.status_code}")
            if who not in allowed and r.status_code not in (403, 404):
                failures.append(f"{who} {template}: {r.status_code}, expected 403/404")
            if r.status_code >= 500:
                failures.append(f"{who} {template}: {r.status_code}")
    assert not failures, "\n".join(failures)


def test_menus_show_only_what_the_role_may_open(service):
    menus = {}
    for who in USERS:
        page = Web(service, who).get("/home").text
        nav = re.search(r'<nav class="main-nav".*?</nav>', page, re.S)
        menus[who] = re.findall(r'href="([^"]+)"', nav.group(0)) if nav else []
    assert menus["psychologist"] == ["/beneficiaries", "/report-batches"]
    assert menus["social_worker"] == ["/beneficiaries", "/registry", "/follow-ups", "/report-batches"]
    assert menus["employment_officer"] == ["/inbox"]
    # issue 15: the researcher's pages
    assert menus["researcher"] == ["/studies", "/datasets", "/norm-tables", "/downloads"]
    assert menus["manager"] == ["/indicators"]  # aggregates only: no beneficiaries


def test_sign_in_sends_each_role_home_and_never_off_site(service):
    for who, home in (("psychologist", "/beneficiaries"), ("employment_officer", "/inbox"), ("researcher", "/studies")):
        web = Web(service)
        r = web.post("/sign-in", {"username": who, "password": PASSWORDS[who]}, start="/sign-in")
        assert r.status_code == 303 and r.headers["location"] == home
    web = Web(service)
    r = web.post(
        "/sign-in",
        {"username": "psychologist", "password": PASSWORDS["psychologist"], "next": "//evil.example/x"},
        start="/sign-in",
    )
    assert r.headers["location"] == "/beneficiaries"
    wrong = Web(service)
    r = wrong.post("/sign-in", {"username": "psychologist", "password": "not-the-password"}, start="/sign-in")
    assert r.status_code == 401 and KA["signin.wrong"] in r.text
    with service.app.state.sessions() as s:  # the failed attempt is logged, not rolled back
        assert s.execute(select(AuditEntry).where(AuditEntry.action == "login_failed")).scalars().first()
    out = Web(service, "psychologist")
    out.get("/beneficiaries")
    assert out.post("/sign-out", {}).status_code == 303
    assert out.get("/beneficiaries").status_code == 303


def test_forms_need_the_csrf_token(service):
    web = Web(service, "social_worker")
    web.get("/beneficiaries/new")
    r = web.post("/beneficiaries/new", {"name": "ტესტი"}, csrf=False)
    assert r.status_code == 403 and KA["error.csrf.title"] in r.text
    other = Web(service)  # a token made for another browser's cookie
    other.get("/sign-in")
    r = web.c.post("/beneficiaries/new", data={"name": "ტესტი", "csrf": other.token}, follow_redirects=False)
    assert r.status_code == 403
    assert service.client("social_worker").get("/v1/beneficiaries").json()["total"] == 0
    r = web.post("/beneficiaries/new", {"name": "ტესტი"})
    assert r.status_code == 303


def test_language_switch_and_security_headers(service):
    web = Web(service, "psychologist")
    r = web.get("/beneficiaries")
    assert '<html lang="ka">' in r.text and KA["ben.list_title"] in r.text
    assert (
        r.headers["referrer-policy"] == "no-referrer"
        and "frame-ancestors 'none'" in r.headers["content-security-policy"]
    )
    assert r.headers["cache-control"] == "no-store"
    r = web.get("/beneficiaries?lang=en")
    assert '<html lang="en">' in r.text and EN["ben.list_title"] in r.text
    r = web.get("/beneficiaries")  # remembered
    assert '<html lang="en">' in r.text


def test_page_views_are_audited(service):
    ids = _setup(service)
    psy = Web(service, "psychologist")
    for path in (f"/beneficiaries/{ids['code']}", f"/results/{ids['result']}"):
        assert psy.get(path).status_code == 200
    log = service.client("admin").get("/v1/audit", params={"beneficiary": ids["code"], "limit": 200}).json()
    mine = [(e["action"], e["entity"]) for e in log["items"] if e["actor"] == "user:psychologist"]
    assert ("read", "beneficiary") in mine and ("read", "result") in mine and ("report", "result") in mine
    names = Web(service, "employment_officer").get(f"/packets/{ids['packet']}").text
    assert "სანდრო" not in names and ids["code"] in names


def test_respondent_without_javascript(service):
    psy = Web(service, "psychologist")
    code = service.client("social_worker").post("/v1/beneficiaries", json={}).json()["code"]
    psy.get(f"/beneficiaries/{code}")
    r = psy.post(f"/beneficiaries/{code}/start", {"instrument": "sds", "mode": "respondent"})
    assert r.status_code == 303 and r.headers["location"].startswith("/handover?s=")  # a sitting of one
    page = psy.get(r.headers["location"])
    grouped = re.search(r'class="handover-code" lang="en">([A-Z0-9 ]+)<', page.text).group(1)
    token = grouped.replace(" ", "")
    assert "data:image/svg+xml" in page.text  # the QR code

    phone = Web(service)
    r = phone.post("/r", {"code": grouped.lower().replace(" ", "-")}, start="/r")
    assert r.headers["location"] == f"/r/{token}"
    assert phone.post("/r", {"code": "WRONG-CODE"}).status_code == 404
    page = phone.get(f"/r/{token}/part/1")
    items = re.findall(r'data-item="([^"]+)"', page.text)
    assert len(items) == 10 and 'value="skip"' in page.text  # a short page: the definition's default size
    answers = {items[0]: "1", items[1]: "0", items[2]: "skip"}
    r = phone.post(f"/r/{token}/part/1", {**answers, "go": "next"})
    assert r.headers["location"] == f"/r/{token}/part/2"
    state = service.client().get(f"/v1/respond/{token}").json()
    assert state["answers"] == {items[0]: "1", items[1]: "0", items[2]: None}
    again = phone.get(f"/r/{token}/part/1").text  # on another visit the answers are shown chosen
    assert re.search(rf'name="{items[0]}" value="1" checked', again)
    assert re.search(rf'name="{items[2]}" value="skip" checked', again)
    review = phone.get(f"/r/{token}/review").text
    # the open items by number, each linked to its page and place: 4 … 10 on page 1, 11 … on page 2
    assert f'href="/r/{token}/part/1#item-{items[3]}"' in review and ">4</a>" in review
    assert f'href="/r/{token}/part/1#item-{items[0]}"' not in review
    assert len(re.findall(r'class="open-item"', review)) == 132 - 3
    assert phone.post(f"/r/{token}/submit", {}).headers["location"] == f"/r/{token}/done"
    done = phone.get(f"/r/{token}/done").text
    assert KA["respond.done_title"] in done and "RIASEC" not in done
    assert phone.get(f"/r/{token}/part/1").headers["location"] == f"/r/{token}/done"
    assert phone.post(f"/r/{token}/part/1", {items[3]: "1"}).headers["location"] == f"/r/{token}/done"
    result = service.client("psychologist").get(f"/v1/beneficiaries/{code}/results").json()[0]
    assert result["record"]["validity"]["n_missing"] == 132 - 2


def test_intake_is_not_handed_to_a_respondent_and_codes_can_be_replaced(service):
    ids = _setup(service)
    intake_token = (
        service.client("social_worker")
        .post("/v1/administrations", json={"beneficiary": ids["code"], "instrument": "intake"})
        .json()["resume_token"]
    )
    assert Web(service).get(f"/r/{intake_token}").status_code == 404
    psy = Web(service, "psychologist")
    psy.get(f"/beneficiaries/{ids['code']}")
    first = psy.post(f"/administrations/{ids['admin']}/new-code", {}).headers["location"]
    second = psy.post(f"/administrations/{ids['admin']}/new-code", {}).headers["location"]
    assert psy.get(second).status_code == 200
    assert Web(service, "employment_officer").get(second).status_code == 403
    assert Web(service, "social_worker").get(second).status_code == 404  # a psychologist's questionnaire
    assert psy.get(first).status_code == 404  # the older code no longer works, nor is it shown
    old = first.split(".")[-1]
    assert Web(service).get(f"/r/{old}").status_code == 404
    assert Web(service).get(f"/r/{ids['token']}").status_code == 404


def test_read_aloud_and_paper_entry_without_javascript(service):
    ids = _setup(service)
    psy = Web(service, "psychologist")
    admin = ids["admin"]
    page = psy.get(f"/administrations/{admin}/read-aloud/1")
    assert 'class="read-first"' in page.text
    assert (
        psy.post(f"/administrations/{admin}/read-aloud/1", {"answer": "4", "go": "next"})
        .headers["location"]
        .endswith("/read-aloud/2")
    )
    assert (
        psy.post(f"/administrations/{admin}/read-aloud/2", {"answer": "skip", "go": "back"})
        .headers["location"]
        .endswith("/read-aloud/1")
    )
    items = list(answers_for("vdq"))
    state = service.client("psychologist").get(f"/v1/administrations/{admin}").json()["answers"]
    assert state == {items[0]: "4", items[1]: None}

    psy.get(f"/administrations/{admin}/paper")
    sheet = dict.fromkeys(items, "3")
    sheet[items[5]] = "7"  # not on a 1–4 scale: nothing of the sheet is saved
    r = psy.post(f"/administrations/{admin}/paper", {**sheet, "go": "save"})
    assert r.status_code == 422 and f'href="#p-{items[5]}"' in r.text
    assert service.client("psychologist").get(f"/v1/administrations/{admin}").json()["answers"] == state
    sheet[items[5]] = "-"
    sheet[items[0]] = ""  # cleared on the sheet: missing now
    r = psy.post(f"/administrations/{admin}/paper", {**sheet, "go": "check"})
    assert r.headers["location"].endswith("/check")
    saved = service.client("psychologist").get(f"/v1/administrations/{admin}").json()["answers"]
    assert saved[items[0]] is None and saved[items[5]] is None and saved[items[6]] == "3"
    check = psy.get(f"/administrations/{admin}/check").text
    assert KA["check.missing"].format(n=2) in check
    r = psy.post(f"/administrations/{admin}/submit", {})
    assert r.status_code == 303 and r.headers["location"].startswith("/results/")
    result = psy.get(r.headers["location"]).text
    assert "<table" in result and "data:image/svg+xml" in result
    assert psy.post(f"/administrations/{admin}/submit", {}).status_code == 409


def test_reports_and_comparison(service):
    ids = _setup(service)
    psy = Web(service, "psychologist")
    r = psy.get(f"/beneficiaries/{ids['code']}/report?format=json&audience=employment&report_lang=en")
    assert r.status_code == 200 and r.headers["content-disposition"].endswith(
        f'report-{ids["code"]}-employment-en.json"'
    )
    report = json.loads(r.content)
    assert report["audience"] == "employment" and report["lang"] == "en"
    html = psy.get(f"/beneficiaries/{ids['code']}/report?format=html&result={ids['result']}")
    assert html.status_code == 200 and html.text.lstrip().startswith("<!DOCTYPE html>")
    assert psy.get(f"/beneficiaries/{ids['code']}/report?format=docx").status_code == 422
    r = psy.get(f"/beneficiaries/{ids['code']}/compare?before={ids['result']}&after={ids['before']}")
    assert r.status_code == 200 and KA["compare.rci"] in r.text
    same = f"/beneficiaries/{ids['code']}/compare?before={ids['result']}&after={ids['result']}"
    assert psy.get(same).status_code == 422


def test_social_worker_intake_consent_and_packet(service):
    sw = Web(service, "social_worker")
    code = service.client("social_worker").post("/v1/beneficiaries", json={"name": "ქეთევან"}).json()["code"]
    sw.get(f"/beneficiaries/{code}")
    r = sw.post(f"/beneficiaries/{code}/start", {"instrument": "intake", "mode": "paper"})
    intake = r.headers["location"]
    assert intake.endswith("/intake")
    sw.get(intake)
    r = sw.post(intake, {"education_level": "secondary", "go": "submit"})  # required fields missing
    assert r.status_code == 422 and KA["intake.error_required"] in r.text
    r = sw.post(
        intake,
        {**INTAKE, "constraints": ["childcare", "transport"], "aspired_occupations_1": "მკერავი", "go": "submit"},
    )
    assert r.headers["location"] == f"/beneficiaries/{code}?saved=intake_submitted"

    sw.get(f"/beneficiaries/{code}/packets/new")
    r = sw.post(
        f"/beneficiaries/{code}/packets", {"addressee": "ssa-employment", "parts": ["intake_summary", "activities"]}
    )
    packet = r.headers["location"]
    preview = sw.get(packet).text
    assert KA["packet.preview_notice"] in preview and "ქეთევან" not in preview
    assert "ბავშვის მოვლა" in preview  # the constraint's label, not its code
    r = sw.post(f"{packet}/send", {})
    assert r.status_code == 409 and KA["packet.refused_title"] in r.text
    with service.app.state.sessions() as s:
        assert s.execute(select(Sending)).scalars().all() == []

    sw.get(f"/beneficiaries/{code}/consents")
    r = sw.post(f"/beneficiaries/{code}/consents", {"addressee": "ssa-employment"})
    assert r.status_code == 422 and KA["consent.error.scope"] in r.text
    past = (dt.date.today() - dt.timedelta(days=2)).isoformat()
    r = sw.post(
        f"/beneficiaries/{code}/consents", {"addressee": "ssa-employment", "scope": ["profile"], "expires": past}
    )
    assert r.status_code == 422 and KA["consent.error.expires_at"] in r.text
    with service.app.state.sessions() as s:
        assert s.execute(select(Consent)).scalars().all() == []
    r = sw.post(
        f"/beneficiaries/{code}/consents", {"addressee": "ssa-employment", "scope": ["intake_summary", "activities"]}
    )
    assert r.status_code == 303
    r = sw.post(f"{packet}/send", {})
    assert r.status_code == 303
    registry = sw.get("/registry").text
    assert code in registry and "social_worker" in registry
    assert code in Web(service, "employment_officer").get("/inbox").text
    assert code not in Web(service, "other_officer").get("/inbox").text

    consents = sw.get(f"/beneficiaries/{code}/consents").text
    consent_id = re.search(r'action="/consents/(\d+)/withdraw"', consents).group(1)
    assert sw.post(f"/consents/{consent_id}/withdraw", {}).status_code == 303
    assert code not in Web(service, "employment_officer").get("/inbox").text
    assert KA["consent.withdrawn"] in sw.get(f"/beneficiaries/{code}/consents").text


def test_packet_preview_shows_every_part_in_words(service):
    import reports

    sw, psy = service.client("social_worker"), service.client("psychologist")
    code = sw.post("/v1/beneficiaries", json={"name": "ზეინაბ ოქრუაშვილი"}).json()["code"]
    from tests.api_helpers import administer

    administer(sw, code, "intake", {**INTAKE, "aspired_occupations": "hairdresser;cook"})
    vdq = administer(psy, code, "vdq", dict.fromkeys(answers_for("vdq"), "4"))
    sds = administer(psy, code, "sds", answers_for("sds", 2))
    ppi = administer(psy, code, "ppi", answers_for("ppi", 3))
    web = Web(service, "social_worker")
    pages = {}
    for parts in (["intake_summary", "profile", "activities"], ["intake_summary", "profile", "activities", "clinical"]):
        web.get(f"/beneficiaries/{code}/packets/new")
        r = web.post(f"/beneficiaries/{code}/packets", {"addressee": "ssa-employment", "parts": parts})
        pages["clinical" in parts] = web.get(r.headers["location"]).text
    status = reports.strings("ka").get(f"decision.status_name.{vdq['record']['status']}")
    for page in pages.values():
        assert sds["record"]["codes"][0] in page and ppi["record"]["type"] in page and status in page
        assert "პარიკმახერი" in page  # the aspired occupation by its catalogue name
        assert "ოქრუაშვილი" not in page
    strain = instruments.load("vdq").scale("emotional_strain").name.ka
    assert strain in pages[True] and strain not in pages[False]
    assert "ფსიქოლოგიური მხარდაჭერა" in pages[True] and "ფსიქოლოგიური მხარდაჭერა" not in pages[False]


def test_a_refused_page_writes_nothing(service):
    sw = Web(service, "social_worker")
    code = service.client("social_worker").post("/v1/beneficiaries", json={}).json()["code"]
    sw.get(f"/beneficiaries/{code}")
    # the intake is the social worker's, the VDQ is not: the whole request is refused, nothing is started
    r = sw.post(f"/beneficiaries/{code}/start", {"instrument": ["intake", "vdq"], "mode": "paper"})
    assert r.status_code == 403 and KA["error.forbidden.title"] in r.text
    assert KA["adm.none_in_progress"] in sw.get(f"/beneficiaries/{code}").text


def test_an_unexpected_error_is_a_page_not_a_trace(service, monkeypatch):
    from api.web import pages_packets

    ids = _setup(service)

    def broken(view):  # type: ignore[no-untyped-def]
        raise RuntimeError("boom")

    monkeypatch.setattr(pages_packets, "chart_uris", broken)
    r = Web(service, "social_worker").get(f"/packets/{ids['packet']}")
    assert r.status_code == 500 and KA["error.internal.title"] in r.text and "boom" not in r.text
    assert r.headers["content-type"].startswith("text/html")


def test_a_chart_is_never_shown_so_narrow_that_its_smallest_label_is_under_11_px():
    """Issue 14, item 6: the narrowest width is the SVG's width × 11 / its smallest font size, whether
    the size is in a style or an attribute (matplotlib's text kept as text)."""
    import base64

    from api.web.core import chart_min_class, chart_min_width

    def uri(svg: str) -> str:
        return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()

    styled = '<svg viewBox="0 0 460.8 277.2"><text style="font: 10px sans-serif">a</text></svg>'
    attribute = '<svg viewBox="0 0 460.8 277.2"><text font-size="7px">0</text><text font-size="9px">b</text></svg>'
    assert chart_min_width(uri(styled)) == 507  # ⌈11 · 460.8 / 10⌉
    assert chart_min_width(uri(attribute)) == 725  # ⌈11 · 460.8 / 7⌉
    assert chart_min_class(uri(attribute)) == "cmin-750"
    assert chart_min_width(uri('<svg viewBox="0 0 100 50"><rect/></svg>')) == 0  # no text: no minimum
