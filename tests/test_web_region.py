"""Region on the social worker's pages (issue 16): chosen when the person is registered, corrected on the
case page; anything not on the list of Georgia's regions is refused with a clear message."""

from __future__ import annotations

from tests.api_helpers import Web


def test_new_form_region(service_for):
    svc = service_for("sqlite")
    web = Web(svc, "social_worker")
    page = web.get("/beneficiaries/new")
    assert "აფხაზეთი" in page.text
    r = web.post("/beneficiaries/new", {"name": "ტესტი", "region": "guria"})
    assert r.status_code == 303, r.text
    code = r.headers["location"].rsplit("/", 1)[1].split("?")[0]
    assert svc.client("social_worker").get(f"/v1/beneficiaries/{code}").json()["region"] == "guria"
    r = web.post("/beneficiaries/new", {"name": "ტესტი", "region": "mars"})
    assert r.status_code == 422 and "აირჩიეთ რეგიონი სიიდან" in r.text
    r = web.post(f"/beneficiaries/{code}/region", {"region": "kakheti"})
    assert "რეგიონი შენახულია" in web.get(r.headers["location"]).text
