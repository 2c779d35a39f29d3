"""The comparison page puts a 1.0 and a 1.1 result of one person side by side, scale by scale, and
marks the statements that changed between the versions (from the newer version's changes.md)."""

from __future__ import annotations

import re
from html import unescape

import pytest

import instruments
import reports
from tests.api_helpers import Web, answers_for
from tests.test_reports_versions import listed


def administer_version(client, code: str, iid: str, version: str, answers: dict[str, str]) -> dict:  # type: ignore[no-untyped-def]
    r = client.post("/v1/administrations", json={"beneficiary": code, "instrument": iid, "version": version})
    assert r.status_code == 201, r.text
    aid = r.json()["id"]
    inst = instruments.load(iid, version)
    mine = {k: v for k, v in answers.items() if k in inst.item_ids}
    assert client.patch(f"/v1/administrations/{aid}/answers", json={"answers": mine}).status_code == 200
    r = client.post(f"/v1/administrations/{aid}/submit")
    assert r.status_code == 201, r.text
    return r.json()


def two_versions(service, iid: str) -> tuple[str, dict, dict]:  # type: ignore[no-untyped-def]
    psy = service.client("psychologist")
    code = service.client("social_worker").post("/v1/beneficiaries", json={}).json()["code"]
    answers = answers_for(iid, 11)
    old = administer_version(psy, code, iid, "1.0", answers)
    new = administer_version(psy, code, iid, "1.1", answers)
    assert (old["instrument_version"], new["instrument_version"]) == ("1.0", "1.1")
    return code, old, new


@pytest.mark.parametrize("iid", ["vdq", "sds"])
def test_a_10_and_a_11_result_side_by_side_with_the_changed_items_marked(service, iid: str) -> None:  # type: ignore[no-untyped-def]
    code, old, new = two_versions(service, iid)
    web = Web(service, "psychologist")
    home = web.get(f"/beneficiaries/{code}?lang=en").text
    assert f"/beneficiaries/{code}/compare" in home  # offered although the versions differ
    page = web.get(f"/beneficiaries/{code}/compare?before={old['id']}&after={new['id']}&lang=en")
    assert page.status_code == 200, page.text
    html = page.text
    s = reports.strings("en")
    assert s.get("ui.change.version_note") in unescape(html)
    assert "version 1.0" in html and "version 1.1" in html
    changed = listed(iid)
    marked = set()
    for attr in re.findall(r'<tr class="[^"]*changed[^"]*" data-changed="([^"]+)"', html):
        marked |= set(attr.split())
    assert marked == set(changed)  # every changed item of the scales compared, and nothing else
    for item, comparable in changed.items():  # the list of changed statements, with the old and new text
        row = re.search(rf'<tr( class="salient")?><th scope="row">{item}</th>', html)
        assert row is not None, item
        assert (row.group(1) is None) == comparable, item


def test_the_same_version_shows_no_version_marks(service) -> None:  # type: ignore[no-untyped-def]
    psy = service.client("psychologist")
    code = service.client("social_worker").post("/v1/beneficiaries", json={}).json()["code"]
    a = administer_version(psy, code, "vdq", "1.1", answers_for("vdq", 1))
    b = administer_version(psy, code, "vdq", "1.1", answers_for("vdq", 2))
    html = Web(service, "psychologist").get(f"/beneficiaries/{code}/compare?before={a['id']}&after={b['id']}").text
    assert "data-changed" not in html and reports.strings("ka").get("ui.change.version_note") not in unescape(html)


def test_different_instruments_are_not_compared(service) -> None:  # type: ignore[no-untyped-def]
    psy = service.client("psychologist")
    code = service.client("social_worker").post("/v1/beneficiaries", json={}).json()["code"]
    a = administer_version(psy, code, "vdq", "1.1", answers_for("vdq", 1))
    b = administer_version(psy, code, "ppi", "1.1", answers_for("ppi", 2))
    r = Web(service, "psychologist").get(f"/beneficiaries/{code}/compare?before={a['id']}&after={b['id']}")
    assert r.status_code in (409, 422)
