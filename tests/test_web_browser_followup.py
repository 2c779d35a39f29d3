"""Follow-up in a real browser (issue 16's "done when"): a social worker records a placement and two
follow-ups on a phone, the case shows the next follow-up due, and the manager's indicators change
accordingly (people placed, placement rate, and retention once enough jobs are followed up)."""

from __future__ import annotations

import datetime as dt
import re

import reports
from api.domain.outcomes import add_months
from api.web.core import strings
from tests import web_live
from tests.api_helpers import INTAKE
from tests.web_live import DESKTOP, PHONE, Live, shot, sign_in

live = web_live.live
browser = web_live.browser

KA = strings("ka")
TODAY = reports.today()
DUE = {1: "2024-08-01", 3: "2024-10-01", 6: "2025-01-01"}


def _intake(api, code: str) -> None:  # type: ignore[no-untyped-def]
    a = api.post("/v1/administrations", json={"beneficiary": code, "instrument": "intake"}).json()
    assert api.patch(f"/v1/administrations/{a['id']}/answers", json={"answers": INTAKE}).status_code == 200
    assert api.post(f"/v1/administrations/{a['id']}/submit").status_code == 201


def _figure(page, label: str) -> str:  # type: ignore[no-untyped-def]
    return page.locator("dl.indicators div", has_text=label).locator("dd").inner_text()


def test_a_placement_and_two_follow_ups_change_the_indicators(live: Live, browser) -> None:  # type: ignore[no-untyped-def]
    sw_api = live.api("social_worker")
    codes = []
    for k in range(6):
        code = sw_api.post("/v1/beneficiaries", json={"name": f"ბენეფიციარი {k}"}).json()["code"]
        _intake(sw_api, code)
        codes.append(code)
    for code in codes[:4]:  # four jobs followed up already (one lost at 3 months)
        pid = sw_api.post(
            f"/v1/beneficiaries/{code}/placements",
            json={"employer_kind": "private", "occupation": "9112", "start_date": "2024-07-01"},
        ).json()["id"]
        for month in (1, 3, 6):
            employed = not (code == codes[0] and month == 3)
            r = sw_api.post(
                f"/v1/placements/{pid}/follow-ups",
                json={"month": month, "done_on": DUE[month], "still_employed": employed},
            )
            assert r.status_code == 201, r.text
            if not employed:
                break

    desk = browser.new_context(**DESKTOP)
    manager = desk.new_page()
    sign_in(manager, live, "manager")
    manager.wait_for_url(re.compile(r".*/indicators$"))  # the manager's start page
    assert _figure(manager, KA["ind.people_placed"]) == "4"
    assert _figure(manager, KA["ind.placement_rate"]).startswith("67 %")
    assert KA["ind.suppressed"] in manager.locator("main").inner_text()  # 4 followed < 5: no retention yet
    assert "B-" not in manager.content()

    phone = browser.new_context(**PHONE)
    sw = phone.new_page()
    sign_in(sw, live, "social_worker")
    code = codes[4]
    sw.goto(f"{live.url}/beneficiaries/{code}/outcomes")
    start = TODAY - dt.timedelta(days=100)
    sw.click("summary:has-text('" + KA["outcome.new_placement"] + "')")
    sw.fill("#occupation", "მკერავი")
    sw.select_option("#employer_kind", "private")
    sw.fill("#start_date", start.isoformat())
    sw.fill("#hours", "40")
    sw.check("input[name=supported]")
    sw.click(f"form[action='/beneficiaries/{code}/placements'] button[type=submit]")
    sw.wait_for_url(re.compile(r".*/outcomes\?saved=placement$"))
    for month in (1, 3):
        sw.click("summary:has-text('" + KA["outcome.record_follow_up"] + "')")
        form = sw.locator("form[action^='/placements/']")
        assert form.locator("select[name=month]").input_value() == str(month)  # the next one is preselected
        form.locator("input[name=still_employed][value=yes]").check()
        form.locator("input[name=same_job][value=yes]").check()
        form.locator("input[name=satisfaction][value='3']").check()
        if month == 3:
            form.locator("input[name=difficulties][value=transport]").check()
        form.locator("button[type=submit]").click()
        sw.wait_for_url(re.compile(r".*/outcomes\?saved=follow_up$"))
    text = sw.locator("main").inner_text()
    six = reports.format_day(add_months(start, 6), "ka")
    assert KA["outcome.next_due"].format(n=6, date=six) in text
    shot(sw, "phone-outcomes")
    sw.goto(f"{live.url}/beneficiaries/{code}/timeline")
    assert KA["timeline.follow_up"].format(n=3) in sw.locator("main").inner_text()
    shot(sw, "phone-timeline")
    sw.goto(f"{live.url}/follow-ups")
    shot(sw, "phone-follow-ups")

    manager.reload()
    assert _figure(manager, KA["ind.people_placed"]) == "5"
    assert _figure(manager, KA["ind.placement_rate"]).startswith("83 %")
    assert manager.locator("img.chart").count() == 1  # five jobs followed: the retention curve appears
    row = manager.locator("tr", has_text=KA["ind.overall"]).first.inner_text()
    assert "80 %" in row  # one of five lost at its 3-month follow-up (day 92, after 3 months): S(6) = 4/5
    shot(manager, "desktop-indicators")
    small = browser.new_context(**PHONE).new_page()
    sign_in(small, live, "manager")
    shot(small, "phone-indicators")
    xlsx = manager.request.get(f"{live.url}/v1/indicators?format=xlsx&lang=ka")
    assert xlsx.status == 200 and xlsx.body()[:2] == b"PK"
