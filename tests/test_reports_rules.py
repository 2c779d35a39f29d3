"""Interpretation rules: which activities are recommended, and why."""

from __future__ import annotations

import instruments
import reports
from tests.test_reports_data import intake_record, profile, records

VDQ = instruments.load("vdq")


def _ids(p: reports.Profile) -> list[str]:
    return [r.activity.id for r in p.activities]


def test_salient_barriers_bring_their_interventions_first() -> None:
    p = profile()
    ids = _ids(p)
    salient = [b.id for b in p.decision.salient]  # type: ignore[union-attr]
    assert set(salient) == {"information", "emotional_strain", "practical"}
    first = []
    for b in salient:
        first += [a for a in VDQ.scale(b).interventions if a not in first]
    assert ids[: len(first)] == first


def test_microbusiness_modules_need_enterprising_interests_and_a_wish_for_self_employment() -> None:
    assert "microbusiness_modules" in _ids(profile())  # code SAE, expectation "both"
    r = records()
    employment_only = reports.build_profile("B-001", [r["sds"], intake_record(expectation="employment")])
    assert "microbusiness_modules" not in _ids(employment_only)
    no_sds = reports.build_profile("B-001", [intake_record(expectation="self_employment")])
    assert "microbusiness_modules" not in _ids(no_sds)
    reasons = {x.activity.id: [y.key for y in x.reasons] for x in profile().activities}
    assert "activity_reason.microbusiness" in reasons["microbusiness_modules"]


def test_intake_needs_and_group_iii_bring_activities() -> None:
    p = reports.build_profile("B-001", [records()["intake"]])
    ids = _ids(p)
    # basic computer skills, communication with support, transition phase, 30 months out of work, group III
    for a in (
        "computer_literacy",
        "online_platforms",
        "soft_skills_communication",
        "stress_management",
        "job_search_skills",
        "vocational_retraining",
        "supported_employment",
    ):
        assert a in ids, a


def test_activities_answering_only_emotional_strain_are_hidden_without_consent() -> None:
    p = reports.build_profile("B-001", [records()["vdq"]])
    shown = {a["id"] for a in reports.build_view(p, "en", "employment")["activities"]}
    assert "psychological_support" not in shown and "stress_management" not in shown
    consented = {a["id"] for a in reports.build_view(p, "en", "employment", True)["activities"]}
    assert {"psychological_support", "stress_management"} <= consented
    # supported employment answers emotional strain *and* practical barriers: shown, but without the clinical reason
    view = reports.build_view(p, "en", "employment")
    se = next(a for a in view["activities"] if a["id"] == "supported_employment")
    assert se["reasons"] and not any(VDQ.scale("emotional_strain").name.en in r for r in se["reasons"])


def test_differentiation_level_is_a_criterion_on_the_instruments_margin() -> None:
    from reports._rules import differentiation_level

    assert differentiation_level(2.9, 3) == "low"
    assert differentiation_level(3.0, 3) == "moderate"
    assert differentiation_level(6.0, 3) == "high"
    assert differentiation_level(float("nan"), 3) is None


def test_no_microbusiness_from_an_unreadable_code() -> None:
    from tests.test_reports_data import PERSON, record

    sds = instruments.load("sds")
    flat = record("sds", {"id": PERSON, **{it.id: "like" for it in sds.items}})  # E ties with everything
    p = reports.build_profile(PERSON, [flat, intake_record(expectation="both")])
    assert "microbusiness_modules" not in _ids(p)
    assert "career_counselling" in _ids(p)  # a flat profile sends the person to explore interests first
