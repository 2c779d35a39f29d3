"""The outcomes pages without a browser: a social worker records a placement and follow-ups in the
form, a refusal is shown beside the form (nothing saved), the schedule page lists what is due, and
the employment officer's page shows only consented cases."""

from __future__ import annotations

import datetime as dt

import reports
from api.domain.outcomes import add_months
from tests.api_helpers import Web
from tests.test_outcomes import _case

TODAY = reports.today()


def test_recording_through_the_pages(service):
    code, _ = _case(service)
    web = Web(service, "social_worker")
    page = web.get(f"/beneficiaries/{code}/outcomes")
    assert page.status_code == 200, page.text
    assert "სამსახურის ჩაწერა" in page.text  # Georgian by default
    start = TODAY - dt.timedelta(days=95)
    bad = web.post(
        f"/beneficiaries/{code}/placements",
        {"occupation": "კოსმონავტი ზღვაზე", "employer_kind": "private", "start_date": start.isoformat()},
    )
    assert bad.status_code == 422 and "ეს პროფესია სიაში არ არის" in bad.text
    assert "კოსმონავტი ზღვაზე" in bad.text  # what was typed stays in the form
    r = web.post(
        f"/beneficiaries/{code}/placements",
        {"occupation": "მკერავი", "employer_kind": "private", "start_date": start.isoformat(), "supported": "1"},
    )
    assert r.status_code == 303, r.text
    page = web.get(f"/beneficiaries/{code}/outcomes")
    pid = page.text.split('id="placement-')[1].split('"')[0]
    for month, done in ((1, add_months(start, 1)), (3, TODAY)):
        r = web.post(
            f"/placements/{pid}/follow-ups",
            {
                "code": code,
                "month": str(month),
                "done_on": done.isoformat(),
                "still_employed": "yes",
                "same_job": "yes",
                "satisfaction": "3",
                "difficulties": "transport",
            },
        )
        assert r.status_code == 303, r.text
    page = web.get(f"/beneficiaries/{code}/outcomes")
    six = add_months(start, 6)
    assert reports.format_day(six, "ka") in page.text and "შემდეგი მონიტორინგი: 6 თვე" in page.text
    assert "ტრანსპორტი, მანძილი" in page.text
    sched = web.get("/follow-ups")
    assert sched.status_code == 200 and "არც ამ კვირის, არც ვადაგადაცილებული" in sched.text  # nothing due now
    late = TODAY - dt.timedelta(days=45)  # its 1-month follow-up is two weeks overdue
    r = web.post(
        f"/beneficiaries/{code}/placements",
        {"occupation": "9112", "employer_kind": "public", "start_date": late.isoformat()},
    )
    assert r.status_code == 303, r.text
    sched = web.get("/follow-ups")
    assert "თქვენი შემთხვევები" in sched.text
    overdue = sched.text.split('class="row overdue"')
    assert len(overdue) == 2 and code in overdue[1] and reports.format_day(add_months(late, 1), "ka") in overdue[1]
    timeline = web.get(f"/beneficiaries/{code}/timeline")
    assert timeline.status_code == 200, timeline.text
    text = timeline.text
    assert (
        text.index("დაიწყო მუშაობა") < text.index("მონიტორინგი 1 თვის შემდეგ") < text.index("მონიტორინგი 3 თვის შემდეგ")
    )


def test_the_officer_sees_consented_cases_only(service):
    code, _ = _case(service)
    other, _ = _case(service, scope=("profile",))
    officer = Web(service, "employment_officer")
    assert officer.get(f"/beneficiaries/{code}/outcomes").status_code == 200
    assert officer.get(f"/beneficiaries/{other}/outcomes").status_code == 404
    assert officer.get("/follow-ups").status_code == 403
    assert Web(service, "psychologist").get(f"/beneficiaries/{code}/outcomes").status_code == 403
