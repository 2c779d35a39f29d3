"""Fixed inputs for the report tests, built from the shipped definitions and scored by the
real pipeline into typed result records (``api.scoring_facade.records_of_frame``), plus checks that
they score as designed.

Person B-001 is built so that, independently of the report code:
- SDS: S 22 > A 16 > E 12 > C 6 > R 4 > I 2 likes, so the code is exactly SAE;
- VDQ: certainty low, salient barriers information, emotional_strain and practical;
- PPI: E and F clear, J very clear, S slight;
- intake: secondary education, wishes cook / hairdresser / nanny, childcare and
  no-night-shift constraints, no driving licence, expects employment or self-employment.
"""

from __future__ import annotations

from datetime import date

import pandas as pd

import instruments
import reports
import scoring
from api.scoring_facade import records_of_frame, score_frame

PERSON = "B-001"
LIKES = {"S": 22, "A": 16, "E": 12, "C": 6, "R": 4, "I": 2}
VDQ_TARGET = {  # wanted scale mean (answers before reverse keying)
    "certainty": 1,
    "information": 4,
    "emotional_strain": 4,
    "practical": 4,
    "readiness": 2,
    "indecisiveness": 2,
    "self_knowledge": 2,
    "confidence": 2,
    "others_opinions": 1,
    "skills_experience": 1,
    "expectations": 1,
}
PPI_TARGET = {"EI": (-1, 3), "SN": (-1, None), "TF": (1, 3), "JP": (-1, 3)}  # (side, rating)

INTAKE = {
    "id": PERSON,
    "education_level": "secondary",
    "has_profession": "no",
    "profession": "",
    "profession_in_demand": "no",
    "work_experience_years": "2",
    "months_since_last_job": "30",
    "never_worked": "no",
    "currently_employed": "no",
    "seeking_better_job": "no",
    "computer_skills": "basic",
    "languages": "ka;ru",
    "driving_licence": "no",
    "communication": "with_support",
    "economic_situation": "no_income",
    "rehabilitation_phase": "transition",
    "interests": "cooking, sewing",
    "values": "stability;helping_people",
    "expectation": "both",
    "expected_monthly_pay": "900",
    "aspired_occupations": "cook;hairdresser;nanny",
    "constraints": "childcare;no_night_shifts",
    "notes": "",
}


def sds_answers() -> dict[str, object]:
    """Like the first LIKES[letter] items of each type (in file order), dislike the rest."""
    inst = instruments.load("sds")
    seen = dict.fromkeys("RIASEC", 0)
    row: dict[str, object] = {"id": PERSON}
    for it in inst.items:
        letter = inst.scale(it.scale).letter
        seen[letter] += 1
        row[it.id] = "like" if seen[letter] <= LIKES[letter] else "dislike"
    return row


def vdq_answers(target: dict[str, int] | None = None) -> dict[str, object]:
    target = target or VDQ_TARGET
    inst = instruments.load("vdq")
    row: dict[str, object] = {"id": PERSON}
    for it in inst.items:
        v = target[it.scale]
        row[it.id] = v if it.keyed == 1 else 5 - v
    return row


def ppi_answers() -> dict[str, object]:
    inst = instruments.load("ppi")
    row: dict[str, object] = {"id": PERSON}
    by_id = {}
    slight_done = slight_started = False
    for it in inst.items:
        if it.repeat_of:
            row[it.id] = -by_id[it.repeat_of]
            continue
        side, rating = PPI_TARGET[it.scale]
        if rating is None:  # slight: alternate sides; the first pair leans by one point
            rating, side = (2 if not slight_started else 1), (side if not slight_done else -side)
            slight_done, slight_started = not slight_done, True
        answer = side * rating * it.keyed
        by_id[it.id] = answer
        row[it.id] = answer
    return row


def scored(iid: str, answers: dict[str, object]) -> dict[str, object]:
    """One scored row (the flat columns of ``proforient score``), for checking the fixtures."""
    frame = pd.DataFrame([answers]).astype(object)
    return score_frame(instruments.load(iid), frame).iloc[0].to_dict()


def record(iid: str, answers: dict[str, object]) -> scoring.ScoreRecord:
    """One typed result record through the same path as the service and ``proforient report``."""
    frame = pd.DataFrame([answers]).astype(object)
    (rec,) = records_of_frame(instruments.load(iid), frame)
    return rec


def intake_record(**changes: str) -> scoring.ScoreRecord:
    return record("intake", {**INTAKE, **changes})


def records() -> dict[str, scoring.ScoreRecord]:
    """The person's record of each instrument, by instrument id."""
    return {
        "intake": intake_record(),
        "vdq": record("vdq", vdq_answers()),
        "sds": record("sds", sds_answers()),
        "ppi": record("ppi", ppi_answers()),
    }


def profile(name: str | None = "Nino Beridze", only: tuple[str, ...] | None = None, **kw: object) -> reports.Profile:
    r = records()
    chosen = [v for k, v in r.items() if only is None or k in only]
    args: dict[str, object] = {
        "name": name,
        "administrator": "Psychologist M. K.",
        "administered": date(2025, 3, 14),
        "report_date": date(2025, 3, 20),
    }
    args.update(kw)
    return reports.build_profile(PERSON, chosen, **args)  # type: ignore[arg-type]


# -- the fixtures score as designed (the other tests rely on it) ------------------------------


def test_fixture_sds_code_is_sae() -> None:
    row = scored("sds", sds_answers())
    assert row["code"] == "SAE"
    assert [row[L] for L in "RIASEC"] == [4, 2, 16, 22, 12, 6]


def test_fixture_vdq_barriers() -> None:
    row = scored("vdq", vdq_answers())
    assert row["decision_status"] == "undecided"
    assert set(row["salient_barriers"].split(";")) == {"information", "emotional_strain", "practical"}


def test_fixture_ppi_preferences() -> None:
    row = scored("ppi", ppi_answers())
    assert (row["EI_pole"], row["TF_pole"], row["JP_pole"]) == ("E", "F", "J")
    assert row["SN_pole"] == "S" and row["SN_clarity_band"] == "slight"
    assert row["JP_clarity_band"] == "very_clear"
    assert row["inconsistency_reversals"] == 0


def test_fixture_intake_group() -> None:
    rec = intake_record()
    assert rec.job_seeker_group == "III"
    assert "long_term_unemployment" in rec.group_reasons
