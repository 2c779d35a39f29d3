"""Intake → needs and suggested job-seeker group, checked case by case against the written rules."""

from __future__ import annotations

import pandas as pd
import pytest

import instruments
import scoring

BASE = {
    "education_level": "secondary",
    "has_profession": "yes",
    "profession_in_demand": "yes",
    "work_experience_years": "5",
    "months_since_last_job": "3",
    "never_worked": "no",
    "currently_employed": "no",
    "seeking_better_job": "",
    "computer_skills": "advanced",
    "driving_licence": "no",
    "communication": "confident",
    "economic_situation": "regular_low",
    "rehabilitation_phase": "inclusion",
    "expectation": "employment",
    "constraints": "",
}


def run(**changes):
    spec = instruments.intake_spec(instruments.load("intake"))
    parsed = scoring.parse_intake(spec, pd.DataFrame([{**BASE, **changes}]))
    return scoring.score_intake(parsed, spec).iloc[0]


def test_group_one_profession_in_demand_recent_work():
    r = run()
    assert r["job_seeker_group"] == "I"
    assert not r["retraining_need"]
    assert r["hard_skills_needs"] == () and r["soft_skills_needs"] == ()


@pytest.mark.parametrize(
    "changes,group,reason",
    [
        ({"currently_employed": "კი", "seeking_better_job": "კი"}, "IV", "employed_seeking_better_job"),
        ({"constraints": "childcare;disability"}, "III", "health_or_disability"),
        ({"months_since_last_job": "14"}, "III", "long_term_unemployment"),
        ({"never_worked": "yes", "months_since_last_job": ""}, "III", "long_term_unemployment"),
        ({"education_level": "basic"}, "III", "low_education"),
        ({"profession_in_demand": "no"}, "II", "needs_retraining"),
        (
            {"education_level": "secondary", "has_profession": "no", "profession_in_demand": ""},
            "II",
            "needs_retraining",
        ),
    ],
)
def test_groups(changes, group, reason):
    r = run(**changes)
    assert r["job_seeker_group"] == group
    assert reason in r["group_reasons"]


def test_needs():
    r = run(
        computer_skills="basic",
        communication="difficult",
        rehabilitation_phase="crisis",
        months_since_last_job="40",
        expectation="both",
    )
    assert r["hard_skills_needs"] == ("computer_literacy", "online_platforms")
    assert r["soft_skills_needs"] == (
        "soft_skills_communication",
        "conflict_management",
        "stress_management",
        "job_search_skills",
    )
    assert r["retraining_need"] and r["retraining_reasons"] == ("skills_outdated",)
    assert r["self_employment_interest"]


def test_bad_intake_values_are_named():
    spec = instruments.intake_spec(instruments.load("intake"))
    bad = pd.DataFrame(
        [{**BASE, "education_level": "phd", "constraints": "childcare;moon", "work_experience_years": "-2"}]
    )
    with pytest.raises(scoring.ResponseValidationError) as info:
        scoring.parse_intake(spec, bad, ids=["X-1"])
    items = {p.item for p in info.value.problems}
    assert items == {"education_level", "constraints", "work_experience_years"}
    assert all(p.row == 1 and p.respondent == "X-1" for p in info.value.problems)
    with pytest.raises(scoring.ResponseValidationError, match="required"):
        scoring.parse_intake(spec, pd.DataFrame([{**BASE, "currently_employed": ""}]))
