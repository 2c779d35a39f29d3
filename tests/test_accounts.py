"""Accounts and sessions (issue 11): the account lifecycle in the API and the web, sessions that end
at once (sign-out, disabling, a password change, an idle limit), throttled and audited sign-ins
and hand-over codes whose counts live in the database, TOTP, API clients, the admin without
beneficiary data (and the audited break-glass read), and idempotency records without bodies.

Expected values are written out here, never computed by the code under test."""

from __future__ import annotations

import asyncio
import datetime as dt
import re
import statistics
import time

import pyotp
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event, select, text, update

from api import passwords
from api.app import create_app
from api.db.tables import ApiClient, AuditEntry, IdempotencyRecord, User, UserSession
from api.deps import COOKIE
from api.domain import accounts
from api.domain.access import SYSTEM
from tests.api_helpers import Web, answers_for
from tests.conftest import BACKENDS, PASSWORDS

NAME = "თამარ MARKER-NAME-7Q კაპანაძე"


def _admin(service) -> TestClient:  # type: ignore[no-untyped-def]
    return service.client("admin")


def _new_user(service, username: str, role: str = "psychologist", full_name: str = "ნინო ბერიძე") -> dict:  # type: ignore[no-untyped-def]
    r = _admin(service).post("/v1/users", json={"username": username, "full_name": full_name, "role": role})
    assert r.status_code == 201, r.text
    body = r.json()
    assert re.fullmatch(r"[a-z2-9]{4}(-[a-z2-9]{4}){3}", body["temporary_password"])
    return body


def _login(service, username: str, password: str, **extra: object):  # type: ignore[no-untyped-def]
    c = service.client()
    r = c.post("/v1/auth/login", json={"username": username, "password": password, **extra})
    return c, r


# -- the password policy -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "password, reason",
    [
        ("short-one", "too_short"),
        ("password2024!", "common"),  # a listed password with digits and signs added
        ("qwerty123456", "common"),
        ("1q2w3e4r5t6y", "common"),
        ("Tbilisi2024!!", "common"),  # a local word
        ("saqartvelo-2025", "common"),
        ("abcabcabcabc", "repetitive"),
        ("zzzzzzzzzzzzzz", "repetitive"),
        ("n.beridze-at-work", "personal"),  # the user name
        ("beridze-is-my-name", "personal"),  # a part of the full name
        ("x" * 201, "too_long"),
    ],
)
def test_the_password_policy_refuses(password: str, reason: str) -> None:
    assert passwords.problem(password, 12, "n.beridze", "Nino Beridze") == reason


@pytest.mark.parametrize(
    "password", ["correct horse battery staple", "მზე ამოდის დილით ადრე", "four-rivers-meet-here", "Kv7#pL2@qZ9!m"]
)
def test_the_password_policy_accepts_long_uncommon_ones_without_composition_rules(password: str) -> None:
    assert passwords.problem(password, 12, "n.beridze", "Nino Beridze") is None


# -- the account lifecycle -----------------------------------------------------------------------


def test_first_password_change_sign_out_and_the_old_cookie(service) -> None:  # type: ignore[no-untyped-def]
    made = _new_user(service, "n.beridze")
    assert made["full_name"] == "ნინო ბერიძე" and made["must_change_password"] is True
    c, r = _login(service, "n.beridze", made["temporary_password"])
    assert r.status_code == 200 and r.json()["password_change_required"] is True
    me = c.get("/v1/auth/me")  # a temporary password's session opens nothing but the change
    assert me.status_code == 401 and "temporary" in me.json()["detail"]
    assert c.get("/v1/beneficiaries").status_code == 401
    half = c.cookies.get("pfo_session")
    r = c.post(
        "/v1/auth/password",
        json={"current_password": made["temporary_password"], "new_password": "password2024!"},
    )
    assert r.status_code == 422 and r.json()["reason"] == "common"
    r = c.post(
        "/v1/auth/password",
        json={"current_password": made["temporary_password"], "new_password": "a river runs through tbilisi"},
    )
    assert r.status_code == 200, r.text
    assert c.get("/v1/auth/me").json()["full_name"] == "ნინო ბერიძე"  # the new session of this browser
    stale = service.client()
    stale.cookies.set("pfo_session", half)
    assert stale.get("/v1/auth/me").status_code == 401  # the half session ended with the change

    cookie = c.cookies.get("pfo_session")
    assert c.post("/v1/auth/logout").status_code == 204
    replay = service.client()  # the same cookie, kept by someone else (a shared tablet)
    replay.cookies.set("pfo_session", cookie)
    assert replay.get("/v1/auth/me").status_code == 401
    assert replay.get("/v1/beneficiaries").status_code == 401
    _, r = _login(service, "n.beridze", made["temporary_password"])
    assert r.status_code == 401
    _, r = _login(service, "n.beridze", "a river runs through tbilisi")
    assert r.status_code == 200 and r.json()["password_change_required"] is False


def test_disabling_ends_every_session_at_once_and_enabling_restores_sign_in(service) -> None:  # type: ignore[no-untyped-def]
    made = _new_user(service, "g.tsiklauri", role="social_worker", full_name="გიორგი წიკლაური")
    c, _ = _login(service, "g.tsiklauri", made["temporary_password"])
    c.post(
        "/v1/auth/password",
        json={"current_password": made["temporary_password"], "new_password": "my own long passphrase"},
    )
    other, _ = _login(service, "g.tsiklauri", "my own long passphrase")  # a second device
    assert c.get("/v1/beneficiaries").status_code == 200 and other.get("/v1/beneficiaries").status_code == 200
    users = {u["username"]: u for u in _admin(service).get("/v1/users").json()}
    assert users["g.tsiklauri"]["open_sessions"] == 2
    r = _admin(service).post(f"/v1/users/{made['id']}/disable")
    assert r.status_code == 200 and r.json()["active"] is False
    assert c.get("/v1/beneficiaries").status_code == 401
    assert other.get("/v1/beneficiaries").status_code == 401
    _, r = _login(service, "g.tsiklauri", "my own long passphrase")
    assert r.status_code == 401
    assert _admin(service).post(f"/v1/users/{made['id']}/enable").json()["active"] is True
    _, r = _login(service, "g.tsiklauri", "my own long passphrase")
    assert r.status_code == 200
    me = service.client("admin").get("/v1/users").json()
    admin_id = next(u["id"] for u in me if u["username"] == "admin")
    r = _admin(service).post(f"/v1/users/{admin_id}/disable")  # not oneself (nor the last admin)
    assert r.status_code == 409


def test_resets_by_temporary_password_and_by_one_time_link(service) -> None:  # type: ignore[no-untyped-def]
    made = _new_user(service, "l.gelashvili", role="researcher", full_name="ლაშა გელაშვილი")
    c, _ = _login(service, "l.gelashvili", made["temporary_password"])
    c.post(
        "/v1/auth/password",
        json={"current_password": made["temporary_password"], "new_password": "research is my trade"},
    )
    assert c.get("/v1/auth/me").status_code == 200
    r = _admin(service).post(f"/v1/users/{made['id']}/reset-password", json={"method": "temporary"})
    temporary = r.json()["temporary_password"]
    assert c.get("/v1/auth/me").status_code == 401  # the reset ended the session
    _, r = _login(service, "l.gelashvili", temporary)
    assert r.json()["password_change_required"] is True

    link = _admin(service).post(f"/v1/users/{made['id']}/reset-password", json={"method": "link"}).json()
    assert link["path"] == f"/reset/{link['token']}"
    anon = service.client()
    r = anon.post("/v1/auth/reset", json={"token": link["token"], "new_password": "qwerty123456"})
    assert r.status_code == 422  # the policy holds here too, and the link is not used up by a refusal
    r = anon.post("/v1/auth/reset", json={"token": link["token"], "new_password": "a quiet morning in kakheti"})
    assert r.status_code == 204
    r = anon.post("/v1/auth/reset", json={"token": link["token"], "new_password": "another quiet morning"})
    assert r.status_code == 404  # once only
    _, r = _login(service, "l.gelashvili", "a quiet morning in kakheti")
    assert r.status_code == 200 and r.json()["password_change_required"] is False


def test_full_names_on_pages_and_for_reports(service) -> None:  # type: ignore[no-untyped-def]
    made = _new_user(service, "m.abashidze", role="psychologist", full_name="მარიამ აბაშიძე")
    with service.app.state.sessions() as s:
        assert accounts.display_name(s, made["id"]) == "მარიამ აბაშიძე"
        psy = s.execute(select(User).where(User.username == "psychologist")).scalar_one()
        assert accounts.display_name(s, psy.id) == "psychologist"  # no full name: the login
        assert accounts.display_name(s, None) == ""
        assert accounts.display_name(s, 10**6) == ""
    c, _ = _login(service, "m.abashidze", made["temporary_password"])
    c.post(
        "/v1/auth/password",
        json={"current_password": made["temporary_password"], "new_password": "listening is half the work"},
    )
    web = Web(service)
    web.post("/sign-in", {"username": "m.abashidze", "password": "listening is half the work"}, start="/sign-in")
    page = web.get("/beneficiaries").text
    assert "მარიამ აბაშიძე" in page


# -- sign-in: throttled, audited, constant time ----------------------------------------------------


@pytest.mark.parametrize("backend", BACKENDS)
def test_sign_in_throttling_lives_in_the_database(backend: str, service_for) -> None:  # type: ignore[no-untyped-def]
    svc = service_for(backend, signin_failures_account=3, signin_failures_address=6)
    second = create_app(svc.settings)  # another process on the same database: no shared memory
    try:
        one, two = TestClient(svc.app), TestClient(second)  # type: ignore[arg-type]
        wrong = {"username": "psychologist", "password": "not-the-password"}
        assert one.post("/v1/auth/login", json=wrong).status_code == 401
        assert two.post("/v1/auth/login", json=wrong).status_code == 401
        assert one.post("/v1/auth/login", json=wrong).status_code == 401  # the third: the account pauses
        right = {"username": "psychologist", "password": PASSWORDS["psychologist"]}
        r = two.post("/v1/auth/login", json=right)
        assert r.status_code == 429 and int(r.headers["retry-after"]) > 0
        assert "try again in" in r.json()["detail"]
        # another account from the same address still signs in, until the address's own limit
        assert two.post("/v1/auth/login", json={"username": "researcher", "password": "x"}).status_code == 401
        assert two.post("/v1/auth/login", json={"username": "researcher", "password": "y"}).status_code == 401
        ok = two.post("/v1/auth/login", json={"username": "social_worker", "password": PASSWORDS["social_worker"]})
        assert ok.status_code == 200
        assert one.post("/v1/auth/login", json={"username": "nobody", "password": "z"}).status_code == 401
        r = one.post("/v1/auth/login", json={"username": "social_worker", "password": PASSWORDS["social_worker"]})
        assert r.status_code == 429  # the address paused after six failures
        with svc.app.state.sessions() as s:  # type: ignore[attr-defined]
            failed = s.execute(select(AuditEntry).where(AuditEntry.action == "login_failed")).scalars().all()
            assert len(failed) == 6
            assert all(e.actor == "anonymous" for e in failed)
            assert all("not-the-password" not in str(e.detail) and "nobody" not in str(e.detail) for e in failed)
            assert {e.detail["reason"] for e in failed} == {"password", "unknown_user"}
            rows = s.execute(text("SELECT key, kind FROM rate_limits")).all()
            assert rows and all(re.fullmatch(r"[0-9a-f]{64}", k) for k, _ in rows)  # nothing typed, in clear
    finally:
        second.state.engine.dispose()


def test_web_sign_in_pauses_with_a_plain_message_in_both_languages(service_for) -> None:  # type: ignore[no-untyped-def]
    svc = service_for("sqlite", signin_failures_account=2)
    web = Web(svc)
    for _ in range(2):
        r = web.post("/sign-in", {"username": "social_worker", "password": "wrong-wrong"}, start="/sign-in")
        assert r.status_code == 401
    r = web.post("/sign-in", {"username": "social_worker", "password": PASSWORDS["social_worker"]}, start="/sign-in")
    assert r.status_code == 429
    assert "შესვლა დროებით შეჩერებულია" in r.text and "15 წუთის შემდეგ" in r.text
    r = web.post(
        "/sign-in", {"username": "social_worker", "password": PASSWORDS["social_worker"]}, start="/sign-in?lang=en"
    )
    assert r.status_code == 429 and "signing in is paused: please try again in 15 min" in r.text


def test_unknown_user_names_take_as_long_as_known_ones(service_for) -> None:  # type: ignore[no-untyped-def]
    svc = service_for("sqlite", signin_failures_account=1000, signin_failures_address=1000)
    c = TestClient(svc.app)  # type: ignore[arg-type]
    known, unknown = [], []
    for k in range(9):  # interleaved, so a slow moment of the machine hits both
        for name, out in (("psychologist", known), (f"nobody-{k}", unknown)):
            t = time.perf_counter()
            assert c.post("/v1/auth/login", json={"username": name, "password": "wrong-password"}).status_code == 401
            out.append(time.perf_counter() - t)
    ratio = statistics.median(unknown) / statistics.median(known)
    assert 0.5 < ratio < 2.0, (statistics.median(known), statistics.median(unknown))


def test_idle_sessions_end_and_shared_devices_idle_sooner(service) -> None:  # type: ignore[no-untyped-def]
    c, r = _login(service, "psychologist", PASSWORDS["psychologist"], shared_device=True)
    assert r.status_code == 200
    with service.app.state.sessions() as s:
        row = s.execute(select(UserSession).order_by(UserSession.created_at.desc())).scalars().first()
        assert row.shared_device is True and row.idle_seconds == 5 * 60
    d, _ = _login(service, "psychologist", PASSWORDS["psychologist"])
    assert c.get("/v1/auth/me").status_code == 200 and d.get("/v1/auth/me").status_code == 200
    with service.app.state.sessions() as s, s.begin():  # six minutes pass without a request
        s.execute(update(UserSession).values(last_seen_at=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=6)))
    assert c.get("/v1/auth/me").status_code == 401  # the shared device's 5 minutes are over
    assert d.get("/v1/auth/me").status_code == 200  # the normal 30 minutes are not
    with service.app.state.sessions() as s, s.begin():
        s.execute(update(UserSession).values(last_seen_at=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=31)))
    assert d.get("/v1/auth/me").status_code == 401


def test_the_csrf_cookie_is_new_after_signing_in(service) -> None:  # type: ignore[no-untyped-def]
    web = Web(service)
    web.get("/sign-in")
    before = web.c.cookies.get("pfo_csrf")
    planted = web.token  # a token an attacker fixed before the sign-in
    r = web.post("/sign-in", {"username": "social_worker", "password": PASSWORDS["social_worker"]}, start="/sign-in")
    assert r.status_code == 303
    after = web.c.cookies.get("pfo_csrf")
    assert before and after and before != after
    r = web.c.post("/beneficiaries/new", data={"name": "x", "csrf": planted}, follow_redirects=False)
    assert r.status_code == 403


# -- the second factor -----------------------------------------------------------------------------


def test_totp_set_up_and_sign_in_in_the_web_and_the_api(service) -> None:  # type: ignore[no-untyped-def]
    web = Web(service, "psychologist")
    assert web.get("/account/totp").status_code == 200
    page = web.post("/account/totp/start", {})
    secret = re.search(r'class="handover-code">([A-Z2-7 ]+)<', page.text).group(1).replace(" ", "")
    totp = pyotp.TOTP(secret)
    assert web.post("/account/totp", {"code": "000000" if totp.now() != "000000" else "111111"}).status_code == 422
    page = web.post("/account/totp/start", {})
    secret = re.search(r'class="handover-code">([A-Z2-7 ]+)<', page.text).group(1).replace(" ", "")
    totp = pyotp.TOTP(secret)
    r = web.post("/account/totp", {"code": totp.now()})
    assert r.status_code == 303 and r.headers["location"] == "/account?totp=on"

    _, r = _login(service, "psychologist", PASSWORDS["psychologist"])
    assert r.status_code == 401 and r.json()["totp_required"] is True
    code = totp.at(time.time() + 30)  # the next step: the set-up's code was used already
    c, r = _login(service, "psychologist", PASSWORDS["psychologist"], totp=code)
    assert r.status_code == 200 and c.get("/v1/auth/me").status_code == 200
    _, r = _login(service, "psychologist", PASSWORDS["psychologist"], totp=code)
    assert r.status_code == 401  # a code is accepted once

    browser = Web(service)
    r = browser.post("/sign-in", {"username": "psychologist", "password": PASSWORDS["psychologist"]}, start="/sign-in")
    assert r.headers["location"] == "/sign-in/code"
    assert browser.get("/beneficiaries").headers["location"] == "/sign-in/code"  # nothing opens before the code
    browser.get("/sign-in/code")
    assert browser.post("/sign-in/code", {"code": "123456"}).status_code in (401, 429)
    with service.app.state.sessions() as s, s.begin():  # a minute later: the codes used so far are older
        s.execute(update(User).where(User.username == "psychologist").values(totp_last_step=User.totp_last_step - 2))
    r = browser.post("/sign-in/code", {"code": totp.now()})
    assert r.status_code == 303 and r.headers["location"] == "/beneficiaries"
    assert browser.get("/beneficiaries").status_code == 200

    assert Web(service, "researcher").get("/account/totp").status_code == 403  # admins and psychologists only
    users = {u["username"]: u for u in _admin(service).get("/v1/users").json()}
    assert users["psychologist"]["second_factor"] is True
    assert _admin(service).delete(f"/v1/users/{users['psychologist']['id']}/totp").status_code == 204
    _, r = _login(service, "psychologist", PASSWORDS["psychologist"])
    assert r.status_code == 200  # a lost phone: the admin removed the factor


# -- API clients -----------------------------------------------------------------------------------


def test_api_clients_are_created_used_and_revoked(service) -> None:  # type: ignore[no-untyped-def]
    admin = _admin(service)
    r = admin.post(
        "/v1/api-clients", json={"name": "partner-y", "scopes": ["score"]}, headers={"Idempotency-Key": "k1"}
    )
    assert r.status_code == 201
    key = r.json()["key"]
    again = admin.post(
        "/v1/api-clients", json={"name": "partner-y", "scopes": ["score"]}, headers={"Idempotency-Key": "k1"}
    )
    assert again.status_code == 201 and again.json()["id"] == r.json()["id"] and again.json()["key"] is None
    listed = {c["name"]: c for c in admin.get("/v1/api-clients").json()}
    assert listed["partner-y"]["last_used_at"] is None and "key" not in listed["partner-y"]
    partner = service.client()
    partner.headers["Authorization"] = f"Bearer {key}"
    body = {"instrument": "vdq", "administrations": [{"answers": answers_for("vdq")}]}
    assert partner.post("/v1/score", json=body).status_code == 200
    listed = {c["name"]: c for c in admin.get("/v1/api-clients").json()}
    assert listed["partner-y"]["last_used_at"] is not None
    assert admin.post(f"/v1/api-clients/{r.json()['id']}/revoke").json()["active"] is False
    assert partner.post("/v1/score", json=body).status_code == 401
    with service.app.state.sessions() as s:
        for row in s.execute(select(IdempotencyRecord)).scalars():
            assert key not in str(vars(row)) and row.key != "k1"


def test_the_callers_look_up_runs_on_the_event_loop_and_the_last_use_write_in_a_thread(service) -> None:  # type: ignore[no-untyped-def]
    """``api/deps.py:identify_on_loop``: the read that identifies an API caller runs on the event
    loop (in a worker thread it waited seconds for the interpreter under load; see there); the
    refresh of the key's last use, a write that may wait for the write lock, never does."""
    admin = _admin(service)
    key = admin.post("/v1/api-clients", json={"name": "partner-z", "scopes": ["score"]}).json()["key"]
    engine = service.app.state.db.engine
    seen: list[bool] = []

    def checkout(*_: object) -> None:
        try:
            asyncio.get_running_loop()
            seen.append(True)  # called from code running on an event loop's thread
        except RuntimeError:
            seen.append(False)

    event.listen(engine, "checkout", checkout)
    try:
        partner = service.client()
        partner.headers["Authorization"] = f"Bearer {key}"
        body = {"instrument": "vdq", "administrations": [{"answers": answers_for("vdq")}]}
        assert partner.post("/v1/score", json=body).status_code == 200  # never used: the last use is due
        assert partner.post("/v1/score", json=body).status_code == 200  # used just now: nothing to refresh
    finally:
        event.remove(engine, "checkout", checkout)
    assert seen == [True, False, True]  # read on the loop, refresh in a thread; then the read alone


def test_a_request_with_neither_key_nor_signed_cookie_opens_no_transaction(service) -> None:  # type: ignore[no-untyped-def]
    """``api/deps.py:_look_up``: who is calling is read from the database only when there is
    something to look up (a key, or a cookie with a valid signature); a signed-in page reads it."""
    engine = service.app.state.db.engine
    taken: list[int] = []

    def checkout(*_: object) -> None:
        taken.append(1)

    anonymous, forged, person = service.client(), service.client(), service.client("psychologist")
    forged.cookies.set(COOKIE, "not-signed-by-us")
    event.listen(engine, "checkout", checkout)
    try:
        assert anonymous.get("/sign-in").status_code == 200
        assert forged.get("/sign-in").status_code == 200
        assert not taken
        person.get("/sign-in")
    finally:
        event.remove(engine, "checkout", checkout)
    assert taken  # the signed-in person's session was looked up


# -- least privilege -----------------------------------------------------------------------------


def test_the_admin_reads_no_beneficiary_data_except_by_break_glass(service) -> None:  # type: ignore[no-untyped-def]
    sw = service.client("social_worker")
    code = sw.post("/v1/beneficiaries", json={"name": NAME, "contact": "+995 555 12 34 56"}).json()["code"]
    sw.post(f"/v1/beneficiaries/{code}/consents", json={"addressee": "ssa-employment", "scope": ["profile"]})
    admin = _admin(service)
    for path in (f"/v1/beneficiaries/{code}", f"/v1/beneficiaries/{code}/export", "/v1/beneficiaries"):
        r = admin.get(path)
        assert r.status_code == 403 and "MARKER-NAME" not in r.text
    web = Web(service, "admin")
    assert web.get(f"/beneficiaries/{code}").status_code == 403
    r = admin.post(f"/v1/beneficiaries/{code}/break-glass", json={"reason": "too short"})
    assert r.status_code == 422
    r = admin.post(
        f"/v1/beneficiaries/{code}/break-glass", json={"reason": "police request about a missing person, case 42"}
    )
    assert r.status_code == 200 and r.json()["beneficiary"]["name"] == NAME
    log = admin.get("/v1/audit", params={"action": "break_glass"}).json()["items"]
    assert len(log) == 1 and log[0]["alert"] is True and log[0]["beneficiary"] == code
    assert log[0]["detail"]["reason"] == "police request about a missing person, case 42"
    page = web.get("/admin/audit").text
    assert 'class="alert"' in page and "police request" in page
    assert "break_glass" in str(sw.get(f"/v1/beneficiaries/{code}/export").json()["access_log"])


# -- side tables hold no secrets -------------------------------------------------------------------


def test_idempotency_keeps_no_bodies_and_replays_the_resource_as_it_is_now(service) -> None:  # type: ignore[no-untyped-def]
    sw = service.client("social_worker")
    key = {"Idempotency-Key": "create-MARKER-KEY"}
    first = sw.post("/v1/beneficiaries", json={"name": NAME, "contact": "MARKER-CONTACT"}, headers=key)
    again = sw.post("/v1/beneficiaries", json={"name": NAME, "contact": "MARKER-CONTACT"}, headers=key)
    assert first.status_code == again.status_code == 201
    assert again.json()["code"] == first.json()["code"] and again.json()["name"] == NAME  # read again, now
    other = sw.post("/v1/beneficiaries", json={"name": "someone else"}, headers=key)
    assert other.status_code == 409
    psy = service.client("psychologist")
    a = psy.post(
        "/v1/administrations",
        json={"beneficiary": first.json()["code"], "instrument": "vdq"},
        headers={"Idempotency-Key": "adm-1"},
    )
    b = psy.post(
        "/v1/administrations",
        json={"beneficiary": first.json()["code"], "instrument": "vdq"},
        headers={"Idempotency-Key": "adm-1"},
    )
    assert a.json()["resume_token"] and b.json()["resume_token"] is None and b.json()["id"] == a.json()["id"]
    with service.app.state.engine.connect() as conn:
        rows = conn.execute(text("SELECT * FROM idempotency")).mappings().all()
    dumped = str([dict(r) for r in rows])
    for secret in ("MARKER", "თამარ", a.json()["resume_token"], "adm-1"):
        assert secret not in dumped
    assert {r["resource_id"] for r in rows} == {first.json()["code"], a.json()["id"]}
    with service.app.state.sessions() as s, s.begin():  # a day later the key is forgotten
        s.execute(update(IdempotencyRecord).values(created_at=dt.datetime.now(dt.UTC) - dt.timedelta(hours=25)))
    later = sw.post("/v1/beneficiaries", json={"name": "someone else"}, headers=key)
    assert later.status_code == 201 and later.json()["code"] != first.json()["code"]
    with service.app.state.engine.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM idempotency")).scalar_one() == 1  # the old ones deleted


def test_the_search_box_text_is_never_logged(service) -> None:  # type: ignore[no-untyped-def]
    sw = service.client("social_worker")
    sw.post("/v1/beneficiaries", json={"name": NAME})
    assert sw.get("/v1/beneficiaries", params={"search": "MARKER-SEARCH"}).status_code == 200
    Web(service, "social_worker").get("/beneficiaries?q=MARKER-WEB")
    with service.app.state.engine.connect() as conn:
        rows = conn.execute(text("SELECT detail, actor FROM audit_log")).all()
    assert rows and not any("MARKER" in str(r) for r in rows)
    with service.app.state.sessions() as s:
        listed = s.execute(select(AuditEntry).where(AuditEntry.action == "list", AuditEntry.entity == "beneficiary"))
        assert any(e.detail.get("searched") is True for e in listed.scalars())


def test_hand_over_codes_are_throttled_per_address_and_per_administration(service_for) -> None:  # type: ignore[no-untyped-def]
    svc = service_for("sqlite", code_failures_address=3, code_requests_administration=12)
    code = svc.client("social_worker").post("/v1/beneficiaries", json={}).json()["code"]
    a = svc.client("psychologist").post("/v1/administrations", json={"beneficiary": code, "instrument": "vdq"}).json()
    token = a["resume_token"]
    c = svc.client()
    for k in range(3):
        assert c.get(f"/v1/respond/wrong-token-{k}").status_code == 404
    r = c.get(f"/v1/respond/{token}")  # paused: even the right code waits
    assert r.status_code == 429 and int(r.headers["retry-after"]) > 0
    web = Web(svc)
    r = web.post("/r", {"code": "WRONG-CODE-XX"}, start="/r")
    assert r.status_code == 429 and "წუთს" in r.text
    with svc.app.state.sessions() as s:  # type: ignore[attr-defined]
        wrong = s.execute(select(AuditEntry).where(AuditEntry.action == "code_wrong")).scalars().all()
        assert len(wrong) == 3  # counted and logged although each request failed
    with svc.app.state.sessions() as s, s.begin():  # type: ignore[attr-defined]
        s.execute(text("DELETE FROM rate_limits WHERE kind = 'code_address'"))
    used = [c.get(f"/v1/respond/{token}").status_code for _ in range(14)]
    assert used[:12] == [200] * 12 and used[12:] == [429, 429]


def test_database_files_are_private(service_for, tmp_path) -> None:  # type: ignore[no-untyped-def]
    svc = service_for("sqlite")
    svc.client("social_worker").post("/v1/beneficiaries", json={"name": NAME})
    path = svc.settings.database_url.removeprefix("sqlite:///")
    import os
    import stat

    found = [p for p in (path, path + "-wal", path + "-shm", path + ".lock") if os.path.exists(p)]
    assert path in found and path + ".lock" in found
    for p in found:
        assert stat.S_IMODE(os.stat(p).st_mode) == 0o600, p


def test_web_users_and_api_client_pages(service) -> None:  # type: ignore[no-untyped-def]
    web = Web(service, "admin")
    page = web.get("/admin/users")
    assert page.status_code == 200 and "psychologist" in page.text
    r = web.post("/admin/users", {"full_name": "ეკა ლომიძე", "username": "e.lomidze", "role": "social_worker"})
    assert r.status_code == 200 and "ეკა ლომიძე" in r.text
    temporary = re.search(r"data-secret>([a-z2-9-]+)<", r.text).group(1)
    with service.app.state.sessions() as s:
        u = s.execute(select(User).where(User.username == "e.lomidze")).scalar_one()
        assert u.full_name == "ეკა ლომიძე" and u.must_change_password is True
        uid = u.id
    r = web.post("/admin/users", {"full_name": "", "username": "x.y", "role": "researcher"})
    assert r.status_code == 422
    person = Web(service)
    r = person.post("/sign-in", {"username": "e.lomidze", "password": temporary}, start="/sign-in")
    assert r.headers["location"] == "/account/password"
    assert person.get("/beneficiaries").headers["location"] == "/account/password"
    person.get("/account/password")
    r = person.post("/account/password", {"current": temporary, "new": "short", "repeat": "short"})
    assert r.status_code == 422 and "მინიმუმ 12 სიმბოლო" in r.text
    r = person.post(
        "/account/password", {"current": temporary, "new": "my garden in spring", "repeat": "my garden in spring"}
    )
    assert r.status_code == 303 and r.headers["location"] == "/account?changed=1"
    assert person.get("/beneficiaries").status_code == 200
    web.get(f"/admin/users/{uid}")
    assert web.post(f"/admin/users/{uid}/disable", {}).status_code == 303
    assert person.get("/beneficiaries").status_code == 303  # to the sign-in: the session ended

    r = web.get("/admin/api-clients")
    assert r.status_code == 200
    r = web.post("/admin/api-clients", {"name": "kobo-sync", "scopes": "instruments:read"})
    key = re.search(r"data-secret>(pfo_[^<]+)<", r.text).group(1)
    with service.app.state.sessions() as s:
        client = s.execute(select(ApiClient).where(ApiClient.name == "kobo-sync")).scalar_one()
        assert key not in str(vars(client))
    assert web.post(f"/admin/api-clients/{client.id}/revoke", {}).status_code == 303
    reader = service.client()
    reader.headers["Authorization"] = f"Bearer {key}"
    assert reader.get("/v1/instruments").status_code == 401


def test_the_cli_and_fixtures_still_make_accounts_with_a_chosen_password(service) -> None:  # type: ignore[no-untyped-def]
    with service.app.state.sessions() as s, s.begin(), pytest.raises(Exception, match="most commonly used"):
        accounts.create_user(s, SYSTEM, "weak.one", "password12345", "researcher")
    with service.app.state.sessions() as s, s.begin():
        u = accounts.create_user(s, SYSTEM, "strong.one", "a strong passphrase here", "researcher", full_name="ანა")
        assert u.must_change_password is False and u.full_name == "ანა"


def test_the_data_subject_export_holds_everything_with_labels_in_both_languages(service) -> None:  # type: ignore[no-untyped-def]
    admin = _admin(service)
    admin.patch(
        f"/v1/users/{next(u['id'] for u in admin.get('/v1/users').json() if u['username'] == 'psychologist')}",
        json={"full_name": "ნათია ფსიქოლოგი"},
    )
    sw, psy = service.client("social_worker"), service.client("psychologist")
    code = sw.post("/v1/beneficiaries", json={"name": NAME}).json()["code"]
    consent = sw.post(
        f"/v1/beneficiaries/{code}/consents",
        json={"addressee": "ssa-employment", "scope": ["profile"], "note": "ზეპირი თანხმობა, დედის თანდასწრებით"},
    ).json()
    a = psy.post("/v1/administrations", json={"beneficiary": code, "instrument": "vdq", "mode": "read_aloud"}).json()
    psy.patch(f"/v1/administrations/{a['id']}/answers", json={"answers": answers_for("vdq")})
    psy.post(f"/v1/administrations/{a['id']}/submit")
    psy.get(f"/v1/beneficiaries/{code}")
    packet = sw.post(
        "/v1/packets", json={"beneficiary": code, "addressee": "ssa-employment", "parts": ["profile"]}
    ).json()
    sw.post(f"/v1/packets/{packet['id']}/send")
    doc = sw.get(f"/v1/beneficiaries/{code}/export").json()
    assert doc["labels"]["ka"]["consents"] == "თანხმობები" and doc["labels"]["en"]["consents"] == "Consents"
    assert doc["labels"]["ka"]["access_log"] == "ვინ ნახა მონაცემები"
    assert doc["labels"]["en"]["administrations"] == "Questionnaire administrations"
    for key in ("beneficiary", "administrations", "results", "consents", "packets", "registry", "access_log"):
        assert key in doc and key in doc["labels"]["ka"] and key in doc["labels"]["en"], key
    assert doc["consents"][0]["id"] == consent["id"]
    assert doc["consents"][0]["note"] == "ზეპირი თანხმობა, დედის თანდასწრებით"
    adm = doc["administrations"][0]
    assert adm["mode"] == "read_aloud" and adm["status"] == "submitted" and adm["administered_by"] == "ნათია ფსიქოლოგი"
    assert adm["title"]["ka"] == "პროფესიული გადაწყვეტილების მიღების კითხვარი"
    assert len(adm["answers"]) == 56 and all(x["label"]["ka"] and x["label"]["en"] for x in adm["answers"])
    content = doc["packets"][0]["content"]
    assert content["beneficiary"] == code and content["parts"] == ["profile"]
    for lang in ("ka", "en"):  # what was sent, as it was sent: the VDQ's result, nothing of the intake
        view = content["views"][lang]
        assert view["packet_parts"] == ["profile"] and view["decision"] and view["intake"] is None
    assert doc["registry"][0]["sender"] == "social_worker"
    # what happened after the packet is the person's too: a training, a job and its follow-up
    sw.post(
        f"/v1/beneficiaries/{code}/trainings",
        json={"activity": "career_counselling", "started_on": "2026-10-01", "note": "ტრენინგის შენიშვნა"},
    )
    job = sw.post(
        f"/v1/beneficiaries/{code}/placements",
        json={"employer_kind": "private", "occupation": "7531", "start_date": "2026-10-05", "note": "სამკერვალო"},
    ).json()
    sw.post(
        f"/v1/placements/{job['id']}/follow-ups", json={"month": 1, "done_on": "2026-11-05", "still_employed": True}
    )
    doc = sw.get(f"/v1/beneficiaries/{code}/export").json()
    for key in ("trainings", "placements", "follow_ups", "studies"):
        assert key in doc and key in doc["labels"]["ka"] and key in doc["labels"]["en"], key
    (training,) = doc["trainings"]
    assert (training["activity"], training["note"], training["outcome"]) == (
        "career_counselling",
        "ტრენინგის შენიშვნა",
        "ongoing",
    )
    (placement,) = doc["placements"]
    assert (placement["isco"], placement["start_date"], placement["note"]) == ("7531", "2026-10-05", "სამკერვალო")
    (follow_up,) = doc["follow_ups"]
    assert (follow_up["placement"], follow_up["month"], follow_up["still_employed"]) == (job["id"], 1, True)
    assert doc["studies"] == []
    who = {(e["who"], e["action"], e["entity"]) for e in doc["access_log"]}
    assert ("ნათია ფსიქოლოგი", "read", "beneficiary") in who
    assert ("social_worker", "send", "packet") in who


def test_respondent_pages_close_when_idle_only_on_a_shared_device(service) -> None:  # type: ignore[no-untyped-def]
    code = service.client("social_worker").post("/v1/beneficiaries", json={}).json()["code"]
    token = (
        service.client("psychologist")
        .post("/v1/administrations", json={"beneficiary": code, "instrument": "vdq"})
        .json()["resume_token"]
    )
    own_phone = Web(service)
    page = own_phone.get(f"/r/{token}/part/1").text
    assert "data-idle-minutes" not in page and "idle.js" not in page  # a person's own phone keeps its page
    tablet = Web(service, "psychologist")  # "open on this device": the psychologist hands the tablet over
    r = tablet.post("/sign-out", {"next": f"/r/{token}"})
    assert r.headers["location"] == f"/r/{token}"
    page = tablet.get(f"/r/{token}/part/1").text
    assert 'data-idle-minutes="10"' in page and "/static/idle.js" in page
    assert "/r?idle=1" in tablet.get("/static/idle.js").text
    assert tablet.get("/r?idle=1").status_code == 200
