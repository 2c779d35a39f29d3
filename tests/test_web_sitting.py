"""A sitting (issue 14): several instruments answered one after another with one code, each its own
administration and result; short pages; resume at the first open item; the code renewed, expiring,
and throttled. Scripts off here (the plain form path); tests/test_web_browser_sitting.py drives a browser."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import select, update

from api.db.session import transaction
from api.db.tables import Administration, Sitting
from api.web.core import strings
from tests.api_helpers import Web

KA = strings("ka")


def _sitting(service, order: dict[str, int]):  # type: ignore[no-untyped-def]
    """A psychologist starts the instruments of ``order`` as one sitting; returns (person, code, page)."""
    psy = Web(service, "psychologist")
    person = service.client("social_worker").post("/v1/beneficiaries", json={}).json()["code"]
    psy.get(f"/beneficiaries/{person}")
    form = {"instrument": list(order), "mode": "respondent", **{f"order_{i}": str(k) for i, k in order.items()}}
    r = psy.post(f"/beneficiaries/{person}/start", form)
    assert r.status_code == 303 and r.headers["location"].startswith("/handover?s="), r.text
    page = psy.get(r.headers["location"])
    codes = re.findall(r'class="handover-code" lang="en">([A-Z0-9 ]+)<', page.text)
    assert len(codes) == 1  # one code for the whole sitting
    return psy, person, codes[0].replace(" ", ""), page.text


def _page_items(html: str) -> list[str]:
    return re.findall(r'data-item="([^"]+)"', html)


def test_one_code_leads_through_the_instruments_in_the_chosen_order(service):
    # listed ppi first on the form, but the psychologist put the VDQ first
    psy, person, token, handover = _sitting(service, {"ppi": 2, "vdq": 1})
    titles = re.findall(r"<li>([^<]+)</li>", handover.split('class="sitting-list"')[1].split("</ol>")[0])
    assert titles == [KA_TITLE["vdq"], KA_TITLE["ppi"]]
    assert "data:image/svg+xml" in handover and KA["handover.print_slip"] in handover

    phone = Web(service)
    r = phone.post("/r", {"code": token.lower()}, start="/r")
    assert r.headers["location"] == f"/r/{token}"
    welcome = phone.get(f"/r/{token}").text
    assert KA["respond.questionnaire_of"].format(n=1, total=2) in welcome
    assert welcome.index(KA_TITLE["vdq"]) < welcome.index(KA_TITLE["ppi"])

    # the VDQ: short pages of 10; the third item left open on page 1
    p1 = phone.get(f"/r/{token}/part/1").text
    items = _page_items(p1)
    assert len(items) == 10
    vdq_id = re.search(r'name="administration" value="([^"]+)"', p1).group(1)
    r = phone.post(f"/r/{token}/part/1", {items[0]: "4", items[1]: "skip", "administration": vdq_id, "go": "next"})
    assert r.headers["location"] == f"/r/{token}/part/2"
    # resume: "continue" opens page 1 at its first open item (the third)
    assert f'href="/r/{token}/part/1#item-{items[2]}"' in phone.get(f"/r/{token}").text
    assert phone.post(f"/r/{token}/submit", {"administration": vdq_id}).headers["location"] == f"/r/{token}/break"
    pause = phone.get(f"/r/{token}/break").text
    assert KA["respond.break_title"] in pause and KA_TITLE["ppi"] in pause
    assert KA["respond.questionnaire_of"].format(n=2, total=2) in pause

    # the same code now opens the PPI; a late save for the VDQ never lands in it
    c = service.client()
    late = c.patch(f"/v1/respond/{token}/answers", params={"administration": vdq_id}, json={"answers": {}})
    assert late.status_code == 409
    ppi_page = phone.get(f"/r/{token}/part/1").text
    ppi_items = _page_items(ppi_page)
    ppi_id = re.search(r'name="administration" value="([^"]+)"', ppi_page).group(1)
    assert ppi_id != vdq_id and set(ppi_items).isdisjoint(items)
    stale = phone.post(f"/r/{token}/part/1", {ppi_items[0]: "2", "administration": vdq_id, "go": "next"})
    assert stale.headers["location"] == f"/r/{token}"
    assert c.get(f"/v1/respond/{token}").json()["answers"] == {}
    phone.post(f"/r/{token}/part/1", {ppi_items[0]: "-3", "administration": ppi_id, "go": "next"})
    assert phone.post(f"/r/{token}/submit", {"administration": ppi_id}).headers["location"] == f"/r/{token}/done"
    done = phone.get(f"/r/{token}/done").text
    assert KA["respond.done_title"] in done
    assert phone.get(f"/r/{token}").headers["location"] == f"/r/{token}/done"

    # each instrument is its own administration with its own result, with exactly what was given
    results = {
        r["instrument"]: r for r in service.client("psychologist").get(f"/v1/beneficiaries/{person}/results").json()
    }
    assert set(results) == {"vdq", "ppi"}
    with transaction(service.app.state.sessions) as s:
        admins = {a.instrument: a for a in s.execute(select(Administration)).scalars() if a.sitting_id}
        assert admins["vdq"].sitting_id == admins["ppi"].sitting_id
        assert (admins["vdq"].sitting_position, admins["ppi"].sitting_position) == (1, 2)
        assert admins["vdq"].resume_hash is None and admins["ppi"].resume_hash is None


def test_the_code_is_renewed_expires_and_wrong_codes_pause(service_for):
    service = service_for("sqlite", sitting_code_days=3, code_failures_address=3)
    psy, person, token, _ = _sitting(service, {"sds": 1, "vdq": 2})
    with transaction(service.app.state.sessions) as s:
        sitting = s.execute(select(Sitting)).scalar_one()
        made = sitting.created_at if sitting.created_at.tzinfo else sitting.created_at.replace(tzinfo=dt.UTC)
        expires = (
            sitting.code_expires_at.replace(tzinfo=dt.UTC)
            if sitting.code_expires_at.tzinfo is None
            else sitting.code_expires_at
        )
        assert abs((expires - made) - dt.timedelta(days=3)) < dt.timedelta(seconds=5)
        first = s.execute(select(Administration).where(Administration.sitting_position == 1)).scalar_one().id
    phone = Web(service)
    assert phone.get(f"/r/{token}").status_code == 200

    # renewed: the old code dies at once, the new one opens the same place
    r = psy.post(f"/administrations/{first}/new-code", {})
    assert r.headers["location"].startswith("/handover?s=")
    new = re.search(r'class="handover-code" lang="en">([A-Z0-9 ]+)<', psy.get(r.headers["location"]).text).group(1)
    new = new.replace(" ", "")
    assert new != token
    assert phone.get(f"/r/{token}").status_code == 404
    assert phone.get(f"/r/{new}").status_code == 200
    assert psy.get(r.headers["location"].replace(new, token)).status_code == 404  # the old slip is not shown again

    # expired: a plain message, not counted as a wrong guess
    with transaction(service.app.state.sessions) as s:
        s.execute(update(Sitting).values(code_expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)))
    gone = phone.get(f"/r/{new}")
    assert gone.status_code == 404 and KA["respond.code_expired"] in gone.text
    for _ in range(4):
        typed = phone.post("/r", {"code": new}, start="/r")
        assert typed.status_code == 404 and KA["respond.code_expired"] in typed.text
    # wrong codes: the address pauses after three (the dead old code above was the first)
    for k in range(2):
        assert phone.post("/r", {"code": f"WRONGCODE{k:03d}"}).status_code == 404
    paused = phone.post("/r", {"code": "WRONGCODE999"})
    assert paused.status_code == 429


def test_a_sitting_refuses_a_form_staff_fill_in(service):
    psy = Web(service, "psychologist")
    person = service.client("social_worker").post("/v1/beneficiaries", json={}).json()["code"]
    psy.get(f"/beneficiaries/{person}")
    from api.db.tables import User
    from api.domain import sittings
    from api.domain.access import Principal
    from api.domain.errors import Invalid

    with transaction(service.app.state.sessions) as s:
        uid = s.execute(select(User.id).where(User.username == "psychologist")).scalar_one()
    principal = Principal(kind="user", id=uid, name="psychologist", role="psychologist")
    with pytest.raises(Invalid, match="intake"), transaction(service.app.state.sessions) as s:
        sittings.start(s, principal, person, ["vdq", "intake"], 30)
    with transaction(service.app.state.sessions) as s:  # nothing was started
        assert s.execute(select(Sitting)).first() is None
        assert s.execute(select(Administration)).first() is None


KA_TITLE = {
    "vdq": "პროფესიული გადაწყვეტილების მიღების კითხვარი",
    "ppi": "პიროვნების საკვლევი კითხვარი კარიერული კონსულტაციისათვის",
}
