"""Accounts in a real browser (Debian's Chromium through Playwright) against a real uvicorn server
(issue 11's "done when"): the admin creates a psychologist; the psychologist changes the first
password, signs out, and the old cookie is refused; the admin disables the account and its open
session ends at once."""

from __future__ import annotations

import re

import httpx

from api.web.core import strings
from tests import web_live
from tests.web_live import DESKTOP, PHONE, Live, shot, sign_in

live = web_live.live  # the module's fixtures: a uvicorn server and Debian's Chromium
browser = web_live.browser

KA = strings("ka")
NEW_PASSWORD = "the river mtkvari in spring"


def _session_cookie(context) -> dict:  # type: ignore[no-untyped-def]
    return next(c for c in context.cookies() if c["name"] == "pfo_session")


def test_admin_creates_a_psychologist_who_changes_the_password_signs_out_and_is_disabled(live: Live, browser) -> None:  # type: ignore[no-untyped-def]
    desk = browser.new_context(**DESKTOP)
    admin = desk.new_page()
    sign_in(admin, live, "admin")
    admin.wait_for_url(re.compile(r".*/admin/users$"))  # the admin's start page: accounts, no beneficiaries
    assert admin.locator("nav.main-nav a[href='/beneficiaries']").count() == 0
    admin.fill("#full_name", "ნინო გოგიჩაიშვილი")
    admin.fill("#username", "n.gogichaishvili")
    admin.select_option("#role", "psychologist")
    admin.click("form[action='/admin/users'] button[type=submit]")
    admin.wait_for_load_state()
    temporary = admin.locator("[data-secret]").inner_text().strip()
    assert re.fullmatch(r"[a-z2-9]{4}(-[a-z2-9]{4}){3}", temporary)
    shot(admin, "desktop-admin-users-created")

    tablet = browser.new_context(**PHONE)  # the psychologist, on a shelter's tablet
    psy = tablet.new_page()
    psy.goto(f"{live.url}/sign-in")
    psy.fill("#username", "n.gogichaishvili")
    psy.fill("#password", temporary)
    psy.check("input[name=shared]")
    psy.click("main form[action='/sign-in'] button[type=submit]")
    psy.wait_for_url(re.compile(r".*/account/password$"))
    assert KA["password.forced"] in psy.locator("main").inner_text()
    psy.goto(f"{live.url}/beneficiaries")  # nothing else opens with a temporary password
    psy.wait_for_url(re.compile(r".*/account/password$"))
    shot(psy, "phone-first-password")
    psy.fill("#current", temporary)
    psy.fill("#new", "password2024!")  # a common one: refused, with the reason
    psy.fill("#repeat", "password2024!")
    psy.click("main form[action='/account/password'] button[type=submit]")
    psy.wait_for_load_state()
    assert KA["password.error.common"] in psy.locator("main").inner_text()
    psy.fill("#current", temporary)
    psy.fill("#new", NEW_PASSWORD)
    psy.fill("#repeat", NEW_PASSWORD)
    psy.click("main form[action='/account/password'] button[type=submit]")
    psy.wait_for_url(re.compile(r".*/account\?changed=1$"))
    assert KA["account.password_changed"] in psy.locator("main").inner_text()
    assert "ნინო გოგიჩაიშვილი" in psy.locator("dl.facts").inner_text()  # the full name, not only the login

    old = _session_cookie(tablet)
    psy.click("header form[action='/sign-out'] button")
    psy.wait_for_url(re.compile(r".*/sign-in$"))
    # the old cookie, kept by whoever picks the tablet up next, is refused by the pages and the API
    thief = browser.new_context(**PHONE)
    thief.add_cookies([old])
    page = thief.new_page()
    page.goto(f"{live.url}/beneficiaries")
    page.wait_for_url(re.compile(r".*/sign-in\?next=(%2F|/)beneficiaries$"))
    r = httpx.get(f"{live.url}/v1/auth/me", cookies={"pfo_session": old["value"]})
    assert r.status_code == 401
    thief.close()

    sign_in_again = psy
    sign_in_again.fill("#username", "n.gogichaishvili")
    sign_in_again.fill("#password", NEW_PASSWORD)
    sign_in_again.click("main form[action='/sign-in'] button[type=submit]")
    sign_in_again.wait_for_url(re.compile(r".*/beneficiaries$"))
    assert sign_in_again.locator("h1").inner_text() == KA["ben.list_title"]

    admin.goto(f"{live.url}/admin/users")
    admin.click("text=n.gogichaishvili")
    admin.wait_for_url(re.compile(r".*/admin/users/\d+$"))
    assert admin.locator("[data-open-sessions]").inner_text() == "1"
    admin.click("button[data-action=disable]")
    admin.wait_for_load_state()
    assert admin.locator("[data-open-sessions]").inner_text() == "0"
    assert KA["users.disabled"] in admin.locator("dl.facts").inner_text()
    shot(admin, "desktop-admin-user-disabled")

    psy.reload()  # the open session ended at once
    psy.wait_for_url(re.compile(r".*/sign-in\?next=(%2F|/)beneficiaries$"))
    psy.fill("#username", "n.gogichaishvili")
    psy.fill("#password", NEW_PASSWORD)
    psy.click("main form[action='/sign-in'] button[type=submit]")
    psy.wait_for_load_state()
    assert KA["signin.wrong"] in psy.locator("main").inner_text()
    desk.close()
    tablet.close()
