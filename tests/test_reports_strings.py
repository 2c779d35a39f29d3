"""Every band, flag, status, barrier, pole and level of every shipped instrument has ka and en text.

The expected keys are enumerated here from the instrument definitions and the
engine's own outputs, independently of ``reports.required_keys``; the TOML
files are read with ``tomllib`` directly.
"""

from __future__ import annotations

import itertools
import re
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import instruments
import reports
import scoring
from reports._strings import check_strings, read_strings

STRINGS = Path(reports.__file__).parent / "strings"
TEMPLATES = Path(reports.__file__).parent / "templates"


def _flat(lang: str) -> dict[str, str]:
    out: dict[str, str] = {}

    def walk(prefix: str, node: object) -> None:
        if isinstance(node, dict):
            for k, v in node.items():
                walk(f"{prefix}.{k}" if prefix else k, v)
        else:
            out[prefix] = node  # type: ignore[assignment]

    walk("", tomllib.loads((STRINGS / f"{lang}.toml").read_text(encoding="utf-8")))
    return out


KA, EN = _flat("ka"), _flat("en")


def _expected_keys() -> set[str]:
    """Keys by the instrument's model (never its id), for every band, status, level and pole a shipped
    definition has. A barrier's narrative is not required: without a curated text a report uses the
    definition's own description of the scale (checked in ``test_every_barrier_has_a_narrative``)."""
    keys: set[str] = set()
    for iid, ver in instruments.available():
        inst = instruments.load(iid, ver)
        m = inst.model
        if m == "decision":
            for s in inst.scales:
                if s.role == "certainty":
                    keys |= {f"{m}.certainty.{b.id}.{r}" for b in s.bands for r in ("pro", "you")}
                else:
                    keys |= {f"{m}.level.{b.id}.{r}" for b in s.bands for r in ("pro", "you")}
            for status in ("decided", "decided_but_blocked", "exploring", "undecided", "unknown"):
                keys |= {f"{m}.status.{status}.pro", f"{m}.status.{status}.you", f"{m}.status_name.{status}"}
        elif m == "holland":
            keys |= {f"{m}.band.{b.id}" for s in inst.scales for b in s.bands}
            keys |= {f"{m}.type.{letter}.work" for letter in "RIASEC"}
            keys |= {f"{m}.consistency.{c}" for c in ("high", "medium", "low")}
            keys |= {f"{m}.differentiation.{c}" for c in ("low", "moderate", "high")}
            keys |= {f"{m}.coherence.{c}" for c in ("high", "average", "low")}
        elif m == "bipolar":
            for s in inst.scales:
                keys |= {f"{m}.pole.{s.negative_pole.letter}.work", f"{m}.pole.{s.positive_pole.letter}.work"}
            keys |= {f"{m}.clarity.{b.id}" for b in inst.params.clarity_bands}
            keys.add(f"{m}.band.balanced")
        elif m == "intake":
            keys |= {f"{m}.group.{g}" for g in ("I", "II", "III", "IV", "none")}
    return keys


def _barriers() -> list[tuple[str, str]]:
    out = set()
    for iid, ver in instruments.available():
        inst = instruments.load(iid, ver)
        if inst.model == "decision":
            out |= {(inst.ref, s.id) for s in inst.scales if s.role == "barrier"}
    return sorted(out)


@pytest.mark.parametrize("ref, barrier", _barriers())
def test_every_barrier_has_a_narrative(ref: str, barrier: str) -> None:
    """A curated text in both languages and both registers, or the definition's own description."""
    curated = [f"decision.barrier.{barrier}.{r}" for r in ("pro", "you")]
    if any(k in KA or k in EN for k in curated):
        for k in curated:
            assert KA.get(k, "").strip() and EN.get(k, "").strip(), k
        return
    iid, ver = ref.split("@")
    desc = instruments.load(iid, ver).scale(barrier).description
    assert desc is not None and desc.ka.strip() and desc.en.strip(), ref


def test_the_shipped_barriers_have_curated_narratives() -> None:
    """The shipped scales keep their curated texts (the fallback is for new ones)."""
    for _, barrier in _barriers():
        for r in ("pro", "you"):
            assert KA.get(f"decision.barrier.{barrier}.{r}") and EN.get(f"decision.barrier.{barrier}.{r}"), barrier


def test_no_key_names_an_instrument_id() -> None:
    """Narrative keys name the model, so a new instrument id needs no new text."""
    ids = {iid for iid, _ in instruments.available()} - {"intake"}  # the intake's id is also its model
    assert "vdq" in ids and not [k for k in KA if k.split(".")[0] in ids]


def _engine_flags() -> set[str]:
    names: set[str] = set()
    for iid, ver in instruments.available():
        inst = instruments.load(iid, ver)
        if inst.model == "intake":
            continue
        spec = instruments.scoring_spec(inst)
        x = np.full((1, len(spec.items)), scoring.MISSING, dtype=np.int8)
        names |= set(scoring.score(spec, x, seconds=np.array([10.0])).flags)
    return names


def test_strings_files_are_complete_and_consistent() -> None:
    assert check_strings() == []


@pytest.mark.parametrize("key", sorted(_expected_keys()))
def test_every_band_status_barrier_pole_level_has_both_languages(key: str) -> None:
    assert KA.get(key, "").strip(), f"{key} has no Georgian text"
    assert EN.get(key, "").strip(), f"{key} has no English text"


def test_every_engine_flag_has_both_languages() -> None:
    flags = _engine_flags()
    assert {"code_tied", "flat_profile", "inconsistent", "too_fast", "all_dislike"} <= flags
    missing = sorted(f for f in flags if not (KA.get(f"flag.{f}") and EN.get(f"flag.{f}")))
    assert missing == []


def test_every_intake_reason_the_engine_gives_has_text() -> None:
    spec = instruments.intake_spec(instruments.load("intake"))
    grid = itertools.product(
        ("none", "basic", "secondary", "bachelor"),
        ("yes", "no"),
        ("yes", "no"),
        ("0", "6", "40"),
        ("yes", "no"),
        ("", "health"),
        ("none", "basic", "confident"),
        ("difficult", "confident"),
        ("crisis", "inclusion"),
    )
    rows = []
    for edu, prof, demand, months, employed, cons, comp, comm, phase in grid:
        rows.append(
            {
                "education_level": edu,
                "has_profession": prof,
                "profession_in_demand": demand,
                "work_experience_years": "3",
                "months_since_last_job": months,
                "never_worked": "no",
                "currently_employed": employed,
                "seeking_better_job": "yes" if months == "6" else "no",
                "computer_skills": comp,
                "driving_licence": "no",
                "communication": comm,
                "economic_situation": "no_income",
                "rehabilitation_phase": phase,
                "expectation": "both",
                "constraints": cons,
            }
        )
    scored = scoring.score_intake(scoring.parse_intake(spec, pd.DataFrame(rows)), spec)
    groups = set(scored["job_seeker_group"]) - {""}
    assert groups == {"I", "II", "III", "IV"}
    for col, prefix in (
        ("group_reasons", "intake.group_reason"),
        ("retraining_reasons", "intake.retraining_reason"),
        ("hard_skills_needs", "activity_reason.need"),
        ("soft_skills_needs", "activity_reason.need"),
    ):
        produced = {r for v in scored[col] for r in v}
        assert produced, col
        for r in produced:
            assert KA.get(f"{prefix}.{r}") and EN.get(f"{prefix}.{r}"), f"{prefix}.{r}"


def test_check_finds_a_missing_key_a_placeholder_mismatch_and_mtavruli() -> None:
    ka = read_strings(STRINGS / "ka.toml")
    en = read_strings(STRINGS / "en.toml")
    del ka["decision.barrier.practical.you"]
    en["match.training"] = "Training: {lvl}."
    ka["ui.yes"] = "ᲙᲘ"  # Mtavruli
    problems = check_strings({"ka": ka, "en": en})
    assert any("decision.barrier.practical.you" in p and "not in ka.toml" in p for p in problems)
    assert any("match.training" in p and "placeholders differ" in p for p in problems)
    assert any("ui.yes" in p and "Mtavruli" in p for p in problems)


def test_georgian_is_never_upper_cased() -> None:
    assert not [k for k, v in KA.items() if re.search("[\u1c90-\u1cbf]", v)]
    for path in TEMPLATES.iterdir():
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"text-transform:\s*(uppercase|capitalize)", text), path.name
        assert "|upper" not in text.replace(" ", "") and ".upper()" not in text, path.name


NORM_KEYS = {  # the norm texts (reports with and without a norm table), listed by hand
    "ui.prov.no_norms",
    "ui.prov.norms_note",
    "ui.norms.method",
    "ui.norms.partial",
    "ui.norms.plain",
    "ui.norms.compared",
    "ui.norms.inline",
    "ui.norms.group_all",
    "ui.norms.synthetic",
    "ui.norms.prov.pro",
    "ui.norms.prov.plain",
    "ui.col.pr",
    "ui.col.t",
    "ui.col.stanine",
}


@pytest.mark.parametrize("key", sorted(NORM_KEYS))
def test_every_norm_text_has_both_languages(key: str) -> None:
    assert KA.get(key, "").strip(), f"{key} has no Georgian text"
    assert EN.get(key, "").strip(), f"{key} has no English text"
    assert sorted(re.findall(r"\{(\w+)\}", KA[key])) == sorted(re.findall(r"\{(\w+)\}", EN[key]))


def test_every_literal_key_the_template_and_view_use_exists() -> None:
    """Keys written out in the template and in the view code (not built at run time) exist in both files."""
    used = set(re.findall(r"\bt\('([a-z_.]+)'(?!\s*~)", (TEMPLATES / "report.html.j2").read_text(encoding="utf-8")))
    view = (Path(reports.__file__).parent / "_view.py").read_text(encoding="utf-8")
    used |= set(re.findall(r"self\.t\(\s*\"([a-z_.]+)\"", view))
    used |= set(re.findall(r"\"(ui\.[a-z_.]+)\" if", view))  # either-or keys
    used |= set(re.findall(r"else \"(ui\.[a-z_.]+)\"", view))
    assert {"ui.norms.method", "ui.norms.compared", "ui.norms.prov.plain", "ui.col.stanine"} <= used
    missing = sorted(k for k in used if k not in KA or k not in EN)
    assert missing == []
