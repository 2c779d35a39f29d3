"""Active answering time for the "too fast" validity flag, on SQLite and on PostgreSQL.

The browser measures (page visible, at most ``ACTIVE_SECONDS_CAP`` per answer interval) and
sends increments with each autosave; the server adds them up, so a resume on another device
continues the sum. Answers saved without a measurement (no script, paper entry) make the total
unknown, and then the flag is not computed at all. The browser's side is checked in Chromium
at the end of this file, with a fake clock.
"""

from __future__ import annotations

import json
import re
import tomllib
import uuid
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text

import instruments
from api.db.session import alembic_config, transaction
from api.db.tables import Administration, Base
from api.domain.administrations import ACTIVE_SECONDS_CAP
from tests import web_live
from tests.api_helpers import Web, answers_for
from tests.conftest import BACKENDS, fresh_database
from tests.web_live import DESKTOP, PHONE, Live

VDQ = instruments.load("vdq")
MIN_PER_ITEM = VDQ.validity.min_seconds_per_item
ITEMS = list(VDQ.item_ids)
REPORT_TEXTS = {
    lang: tomllib.loads((Path(__file__).resolve().parents[1] / "reports" / "strings" / f"{lang}.toml").read_text())
    for lang in ("ka", "en")
}


def _start(service, instrument: str = "vdq", mode: str = "respondent") -> tuple[str, str, str]:  # type: ignore[no-untyped-def]
    code = service.client("social_worker").post("/v1/beneficiaries", json={}).json()["code"]
    r = service.client("psychologist").post(
        "/v1/administrations", json={"beneficiary": code, "instrument": instrument, "mode": mode}
    )
    assert r.status_code == 201, r.text
    return code, r.json()["id"], r.json()["resume_token"]


def _state(service, admin_id: str) -> tuple[float | None, str | None, dict]:  # type: ignore[no-untyped-def]
    with transaction(service.app.state.sessions) as s:
        a = s.get(Administration, admin_id)
        n = s.execute(text("SELECT count(*) FROM answers WHERE administration_id = :a"), {"a": admin_id}).scalar()
        return a.seconds, a.timing, {"answers": n, "status": a.status}


def _flags(service, code: str) -> tuple[list[str], str]:  # type: ignore[no-untyped-def]
    """The flags of the person's one result, and its id."""
    (result,) = service.client("psychologist").get(f"/v1/beneficiaries/{code}/results").json()
    return list(result["record"]["validity"]["flags"]), result["id"]


def _patch(client, token: str, answers: dict, **time):  # type: ignore[no-untyped-def]
    if "active_seconds" in time:  # every increment carries an id of its own (a retry reuses it)
        time.setdefault("increment_id", uuid.uuid4().hex)
    return client.patch(f"/v1/respond/{token}/answers", json={"answers": answers, **time})


def _answers(seed: int = 3) -> dict[str, str]:
    return answers_for("vdq", seed)


# -- the sum, across devices -----------------------------------------------------------------------


def test_increments_add_up_across_two_devices_and_the_form(service) -> None:  # type: ignore[no-untyped-def]
    code, admin, token = _start(service)
    answers = _answers()
    phone, laptop = service.client(), service.client()  # two devices, nothing shared but the code
    assert _patch(phone, token, {ITEMS[0]: answers[ITEMS[0]]}, active_seconds=12.5).status_code == 200
    assert _patch(phone, token, {ITEMS[1]: answers[ITEMS[1]]}, active_seconds=7).status_code == 200
    assert _state(service, admin)[:2] == (pytest.approx(19.5), "active")
    # days later, on another device: the sum continues
    rest = {i: answers[i] for i in ITEMS[2:30]}
    assert _patch(laptop, token, rest, active_seconds=100.25).status_code == 200
    assert _state(service, admin)[:2] == (pytest.approx(119.75), "active")
    # the page's form (moved on with the script running) carries the seconds not sent yet
    web = Web(service)
    assert web.get(f"/r/{token}/part/1").status_code == 200
    r = web.post(
        f"/r/{token}/part/1",
        {**{i: answers[i] for i in ITEMS}, "active_seconds": "3.25", "increment_id": uuid.uuid4().hex, "go": "next"},
    )
    assert r.status_code == 303, r.text
    seconds, timing, _ = _state(service, admin)
    assert timing == "active" and seconds == pytest.approx(123.0)
    # a save carrying no answers may still carry one interval (the cap), not more
    assert _patch(laptop, token, {}, active_seconds=ACTIVE_SECONDS_CAP).status_code == 200
    assert _state(service, admin)[0] == pytest.approx(123.0 + ACTIVE_SECONDS_CAP)
    assert web.post(f"/r/{token}/submit", {}).headers["location"] == f"/r/{token}/done"
    flags, _ = _flags(service, code)
    assert "too_fast" not in flags
    # submitted: no more time is added
    assert _patch(laptop, token, {}, active_seconds=5).status_code == 409
    assert _state(service, admin)[0] == pytest.approx(123.0 + ACTIVE_SECONDS_CAP)


def test_a_retried_increment_counts_once(service) -> None:  # type: ignore[no-untyped-def]
    """The response to a save is lost and the page sends it again with the same id: 9 s, not 18."""
    _, admin, token = _start(service)
    c = service.client()
    first = {"answers": {ITEMS[0]: "3"}, "active_seconds": 9.0, "increment_id": "inc-1"}
    for _ in range(3):
        r = c.patch(f"/v1/respond/{token}/answers", json=first)
        assert r.status_code == 200, r.text
    assert _state(service, admin)[:2] == (pytest.approx(9.0), "active")
    r = c.patch(f"/v1/respond/{token}/answers", json={**first, "increment_id": "inc-2", "active_seconds": 4.5})
    assert r.status_code == 200
    assert _state(service, admin)[0] == pytest.approx(13.5)
    # an increment without an id cannot be told apart from its retry: refused, nothing stored
    r = c.patch(f"/v1/respond/{token}/answers", json={"answers": {ITEMS[1]: "2"}, "active_seconds": 3.0})
    assert r.status_code == 422 and "increment_id" in r.text
    assert ITEMS[1] not in c.get(f"/v1/respond/{token}").json()["answers"]
    assert _state(service, admin)[0] == pytest.approx(13.5)
    # the same for the page's form (its script adds the id; a form that has the time but no id is refused)
    web = Web(service)
    r = web.post(f"/r/{token}/part/1", {ITEMS[1]: "3", "active_seconds": "2", "go": "next"}, start=f"/r/{token}/part/1")
    assert r.status_code == 422
    assert _state(service, admin)[0] == pytest.approx(13.5)


def test_absurd_times_are_refused_and_nothing_is_stored(service) -> None:  # type: ignore[no-untyped-def]
    code, admin, token = _start(service)
    c = service.client()
    one = {ITEMS[0]: "2"}
    assert _patch(c, token, one, active_seconds=4).status_code == 200
    before = _state(service, admin)
    bad: list[object] = [-1, -0.001, 1e9, 60_001, ACTIVE_SECONDS_CAP + 0.5, "abc", "", True, [3], {"s": 1}]
    for value in bad:
        r = _patch(c, token, {ITEMS[1]: "3"}, active_seconds=value)
        assert r.status_code == 422, (value, r.status_code, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
        assert "active_seconds" in r.text
    for raw, field in [
        (r, f) for r in ("NaN", "Infinity", "-Infinity", "1e400") for f in ("active_seconds", "seconds")
    ]:
        # not JSON, but Python's parser reads them: refused, and the problem names them
        body = json.dumps({"answers": {ITEMS[1]: "3"}}).replace("}}", "}, " + f'"{field}": {raw}}}')
        r = c.patch(f"/v1/respond/{token}/answers", content=body, headers={"content-type": "application/json"})
        assert r.status_code == 422 and field in r.json()["detail"], (raw, field, r.status_code, r.text)
    # the bound grows with the answers a save carries: 120 s per answer, no more
    two = {ITEMS[1]: "3", ITEMS[2]: "3"}
    assert _patch(c, token, two, active_seconds=2 * ACTIVE_SECONDS_CAP + 1).status_code == 422
    assert _patch(c, token, one, seconds=10, active_seconds=1).status_code == 422  # a total and an increment
    assert _state(service, admin) == before  # neither the time nor the answers changed

    # the same refusals through the respondent's form: an error page, never a stack trace
    web = Web(service)
    web.get(f"/r/{token}/part/1")
    for value in ("-5", "abc", "nan", "inf", "1e9", str(ACTIVE_SECONDS_CAP * len(ITEMS) + 1)):
        r = web.post(
            f"/r/{token}/part/1",
            {ITEMS[1]: "3", "active_seconds": value, "increment_id": uuid.uuid4().hex, "go": "next"},
        )
        assert r.status_code == 422, (value, r.status_code)
        assert r.headers["content-type"].startswith("text/html") and "Traceback" not in r.text
    assert _state(service, admin) == before


# -- the flag ------------------------------------------------------------------------------------


@pytest.mark.parametrize("per_item", [0.5, 5.0])
def test_a_fast_respondent_is_flagged_and_a_careful_one_is_not(service, per_item: float) -> None:  # type: ignore[no-untyped-def]
    assert MIN_PER_ITEM > 0.5 and MIN_PER_ITEM < 5.0  # read from the definition: the cases straddle it
    code, admin, token = _start(service)
    answers, c = _answers(7), service.client()
    for item in ITEMS:  # what respond.js does: one autosave per answer, with that interval's time
        assert _patch(c, token, {item: answers[item]}, active_seconds=per_item).status_code == 200
    assert _state(service, admin)[:2] == (pytest.approx(per_item * len(ITEMS)), "active")
    web = Web(service)
    web.get(f"/r/{token}/review")
    assert web.post(f"/r/{token}/submit", {}).headers["location"] == f"/r/{token}/done"
    done = web.get(f"/r/{token}/done").text  # nothing about time is shown to the respondent
    for lang in ("ka", "en"):
        assert REPORT_TEXTS[lang]["flag"]["too_fast"] not in done
    flags, result = _flags(service, code)
    assert ("too_fast" in flags) is (per_item < MIN_PER_ITEM)
    page = Web(service, "psychologist").get(f"/results/{result}").text
    assert (REPORT_TEXTS["ka"]["flag"]["too_fast"] in page) is (per_item < MIN_PER_ITEM)


def test_a_page_answered_without_javascript_makes_the_time_unknown(service) -> None:  # type: ignore[no-untyped-def]
    code, admin, token = _start(service)
    answers, c, web = _answers(5), service.client(), Web(service)
    first = {i: answers[i] for i in ITEMS[:20]}
    assert _patch(c, token, first, active_seconds=0.5 * 20).status_code == 200  # fast, and measured
    # the script re-posting what it autosaved already, and a plain post that changes nothing: still measured
    web.get(f"/r/{token}/part/1")
    assert (
        web.post(f"/r/{token}/part/1", {**first, "active_seconds": "0", "increment_id": uuid.uuid4().hex}).status_code
        == 303
    )
    assert web.post(f"/r/{token}/part/1", first).status_code == 303
    assert _state(service, admin)[:2] == (pytest.approx(10.0), "active")
    # answers given without the script (on the page that holds items 21–30): nothing can be known about their time
    rest = {i: answers[i] for i in ITEMS[20:30]}
    web.get(f"/r/{token}/part/3")
    assert web.post(f"/r/{token}/part/3", {**rest, "go": "next"}).status_code == 303
    assert _state(service, admin)[:2] == (None, "incomplete")
    # later measurements do not make the total whole again
    assert _patch(c, token, {ITEMS[0]: answers[ITEMS[0]]}, active_seconds=0.5).status_code == 200
    assert _state(service, admin)[:2] == (None, "incomplete")
    web.get(f"/r/{token}/review")
    web.post(f"/r/{token}/submit", {})
    flags, _ = _flags(service, code)
    assert "too_fast" not in flags  # 0.5 s per item was measured for part, but the total is unknown
    assert service.client("psychologist").get(f"/v1/administrations/{admin}").json()["seconds"] is None


def test_an_autosave_without_time_is_untimed_but_a_stated_total_stands(service) -> None:  # type: ignore[no-untyped-def]
    code, admin, token = _start(service)
    answers = _answers(2)
    assert _patch(service.client(), token, {ITEMS[0]: answers[ITEMS[0]]}).status_code == 200
    assert _state(service, admin)[:2] == (None, "incomplete")
    # an integrator stating the total (the API's `seconds`, as before): it stands, later answers or not
    psy = service.client("psychologist")
    r = psy.patch(f"/v1/administrations/{admin}/answers", json={"answers": {}, "seconds": 0.5 * len(ITEMS)})
    assert r.status_code == 200, r.text
    r = psy.patch(f"/v1/administrations/{admin}/answers", json={"answers": answers})
    assert r.status_code == 200
    assert _state(service, admin)[:2] == (pytest.approx(0.5 * len(ITEMS)), "given")
    assert _patch(service.client(), token, {}, active_seconds=60).status_code == 200  # not added to a given total
    assert _state(service, admin)[0] == pytest.approx(0.5 * len(ITEMS))
    assert psy.post(f"/v1/administrations/{admin}/submit").status_code == 201
    assert "too_fast" in _flags(service, code)[0]


# -- read-aloud and paper entry --------------------------------------------------------------------


def test_read_aloud_is_timed_through_the_script_and_paper_entry_never(service) -> None:  # type: ignore[no-untyped-def]
    _, admin, _ = _start(service, mode="read_aloud")
    psy, api = Web(service, "psychologist"), service.client("psychologist")
    # what readaloud.js does: save the answer with the page's active time, then post the form
    psy.get(f"/administrations/{admin}/read-aloud/1")
    r = api.patch(
        f"/v1/administrations/{admin}/answers",
        json={"answers": {ITEMS[0]: "4"}, "active_seconds": 6.5, "increment_id": "a1"},
    )
    assert r.status_code == 200, r.text
    assert psy.post(f"/administrations/{admin}/read-aloud/1", {"answer": "4", "go": "next"}).status_code == 303
    assert _state(service, admin)[:2] == (pytest.approx(6.5), "active")
    r = api.patch(
        f"/v1/administrations/{admin}/answers",
        json={"answers": {ITEMS[1]: "2"}, "active_seconds": 121, "increment_id": "a2"},
    )
    assert r.status_code == 422 and "active_seconds" in r.json()["detail"]
    # without the script the answer arrives untimed
    assert psy.post(f"/administrations/{admin}/read-aloud/2", {"answer": "2", "go": "next"}).status_code == 303
    assert _state(service, admin)[:2] == (None, "incomplete")

    code, paper, _ = _start(service, mode="paper")
    psy.get(f"/administrations/{paper}/paper")
    sheet = dict.fromkeys(ITEMS, "3")
    assert psy.post(f"/administrations/{paper}/paper", {**sheet, "go": "save"}).status_code == 303
    r = api.patch(f"/v1/administrations/{paper}/answers", json={"answers": {ITEMS[0]: "2"}})  # paper.js
    assert r.status_code == 200
    for time in ({"active_seconds": 1.0}, {"seconds": 30.0}):  # keyed in afterwards: no time is recorded
        r = api.patch(f"/v1/administrations/{paper}/answers", json={"answers": {ITEMS[1]: "2"}, **time})
        assert r.status_code == 422 and "paper" in r.json()["detail"], r.text
    seconds, timing, _ = _state(service, paper)
    assert seconds is None and timing != "active"
    assert psy.post(f"/administrations/{paper}/submit", {}).status_code == 303
    assert "too_fast" not in _flags(service, code)[0]
    assert api.get(f"/v1/administrations/{paper}").json()["seconds"] is None


# -- the migration ---------------------------------------------------------------------------------


@pytest.mark.parametrize("backend", BACKENDS)
def test_migration_0002_up_down_and_matching_the_tables(backend: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    url = fresh_database(backend, tmp_path)
    cfg = alembic_config(url)
    command.upgrade(cfg, "0001")
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO beneficiaries (id, code, created_at) VALUES (1, 'B-T', CURRENT_TIMESTAMP)"))
            for aid, sec in (("a-given", 42.0), ("a-none", None)):
                conn.execute(
                    text(
                        "INSERT INTO administrations (id, beneficiary_id, instrument, instrument_version, status, "
                        "mode, seconds, created_at, updated_at) VALUES (:id, 1, 'vdq', '1.0', 'in_progress', "
                        "'respondent', :s, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
                    ),
                    {"id": aid, "s": sec},
                )
        command.upgrade(cfg, "head")
        with engine.connect() as conn:
            rows = dict(conn.execute(text("SELECT id, timing FROM administrations")).all())
            assert rows == {"a-given": "given", "a-none": None}  # a total stored before was stated by a caller
            # procrastinate's own job-queue tables (PostgreSQL) are its schema, not ours
            ours = MigrationContext.configure(
                conn, opts={"include_name": lambda name, kind, parent: not str(name or "").startswith("procrastinate")}
            )
            diff = compare_metadata(ours, Base.metadata)
            assert diff == [], diff
        command.downgrade(cfg, "0001")
        with engine.connect() as conn:
            assert "timing" not in {c["name"] for c in inspect(conn).get_columns("administrations")}
        command.upgrade(cfg, "head")
        with engine.connect() as conn:
            assert "timing" in {c["name"] for c in inspect(conn).get_columns("administrations")}
    finally:
        engine.dispose()


# -- the browser's side (Chromium, a fake clock) ----------------------------------------------------

live = web_live.live
browser = web_live.browser
T0 = 1_800_000_000_000  # a fixed start for the pages' fake clock (ms since the epoch)

HIDE = """(hidden) => {
  Object.defineProperty(document, 'visibilityState', {configurable: true, get: () => hidden ? 'hidden' : 'visible'});
  Object.defineProperty(document, 'hidden', {configurable: true, get: () => hidden});
  document.dispatchEvent(new Event('visibilitychange'));
}"""


def _live_start(live: Live, mode: str) -> tuple[str, str]:
    code = live.api("social_worker").post("/v1/beneficiaries", json={}).json()["code"]
    r = live.api("psychologist").post(
        "/v1/administrations", json={"beneficiary": code, "instrument": "vdq", "mode": mode}
    )
    assert r.status_code == 201, r.text
    return r.json()["id"], r.json()["resume_token"]


def _live_seconds(live: Live, admin: str) -> float | None:
    return live.api("psychologist").get(f"/v1/administrations/{admin}").json()["seconds"]  # type: ignore[no-any-return]


def _click(page, item: str, value: str) -> None:  # type: ignore[no-untyped-def]
    page.locator(f'#item-{item} label.choice:has(input[value="{value}"]) > span').click()


def _saved(page) -> None:  # type: ignore[no-untyped-def]
    page.wait_for_function(
        """() => { const f = document.querySelector('form[data-autosave]');
                   return !localStorage.getItem(f.dataset.store)
                          && document.getElementById('save-status').className.includes('saved'); }"""
    )


def test_the_browser_counts_visible_time_capped_per_answer(live: Live, browser) -> None:  # type: ignore[no-untyped-def]
    admin, token = _live_start(live, "respondent")
    ctx = browser.new_context(**PHONE)
    try:
        page = ctx.new_page()
        # a paused clock: only the time the test moves on passes (a loaded machine adds nothing)
        page.clock.install(time=T0)
        page.clock.pause_at(T0 + 1000)
        page.goto(f"{live.url}/r/{token}/part/1")
        page.clock.fast_forward("10:00")  # ten minutes on the first statement: one interval, the cap
        _click(page, ITEMS[0], "2")
        _saved(page)
        assert _live_seconds(live, admin) == pytest.approx(ACTIVE_SECONDS_CAP, abs=0.2)
        page.clock.fast_forward(3000)
        page.evaluate(HIDE, True)  # the phone is put away for a day
        page.clock.fast_forward("24:00:00")
        page.evaluate(HIDE, False)
        page.clock.fast_forward(4000)
        _click(page, ITEMS[1], "3")  # 3 s before, 4 s after the day away
        _saved(page)
        assert _live_seconds(live, admin) == pytest.approx(ACTIVE_SECONDS_CAP + 7, abs=0.5)
        page.clock.fast_forward(2000)
        _click(page, ITEMS[2], "skip")  # a skip is an answer too: its interval counts
        _saved(page)
        total = _live_seconds(live, admin)
        assert total == pytest.approx(ACTIVE_SECONDS_CAP + 9, abs=0.8)
        # offline: the time waits on the device with the answers, and goes with the form
        ctx.set_offline(True)
        page.clock.fast_forward(5000)
        _click(page, ITEMS[3], "1")
        page.wait_for_function("() => document.getElementById('save-status').className.includes('offline')")
        ctx.set_offline(False)
        page.locator("button[name=go][value=next]").click()
        page.wait_for_url(re.compile(r".*/part/2([#?].*)?$"))  # pages hold ten statements: on to the second
        after = _live_seconds(live, admin)
        assert after == pytest.approx(total + 5, abs=0.8)
        state = live.api().get(f"/v1/respond/{token}").json()["answers"]
        assert state[ITEMS[3]] == "1"
    finally:
        ctx.close()


def test_read_aloud_sends_the_time_with_each_answer(live: Live, browser) -> None:  # type: ignore[no-untyped-def]
    admin, _ = _live_start(live, "read_aloud")
    ctx = browser.new_context(**DESKTOP)
    try:
        page = ctx.new_page()
        web_live.sign_in(page, live, "psychologist")
        page.clock.install(time=T0)
        page.clock.pause_at(T0 + 1000)
        page.goto(f"{live.url}/administrations/{admin}/read-aloud/1")
        page.clock.fast_forward(6000)
        page.keyboard.press("3")
        page.wait_for_url(re.compile(r".*/read-aloud/2$"))
        assert _live_seconds(live, admin) == pytest.approx(6, abs=0.8)
        page.clock.fast_forward("15:00")  # the person thought for a long time: the cap
        page.locator('label.choice:has(input[value="2"]) > span').first.click()
        page.wait_for_url(re.compile(r".*/read-aloud/3$"))
        assert _live_seconds(live, admin) == pytest.approx(6 + ACTIVE_SECONDS_CAP, abs=1.2)
        page.clock.fast_forward(2000)
        page.locator('input[name=answer][value="1"]').evaluate("e => { e.checked = true; }")  # chosen, not yet sent
        page.locator("button[name=go][value=check]").click()
        page.wait_for_url(re.compile(r".*/check$"))
        assert _live_seconds(live, admin) == pytest.approx(8 + ACTIVE_SECONDS_CAP, abs=1.5)
        answers = live.api("psychologist").get(f"/v1/administrations/{admin}").json()["answers"]
        assert answers == {ITEMS[0]: "3", ITEMS[1]: "2", ITEMS[2]: "1"}
    finally:
        ctx.close()
