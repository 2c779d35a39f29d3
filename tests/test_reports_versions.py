"""A 1.0 and a 1.1 result of one person, side by side: scale by scale, with the items that changed
between the versions marked from each version's changes.md.

The expected changed items are read here from the changes.md tables with a regular expression of
their own (not with ``instruments.read_changes``), and the definitions give each item's scale.
"""

from __future__ import annotations

import re
from datetime import date

import pandas as pd
import pytest

import instruments
import reports
from api.scoring_facade import records_of_frame
from reports import Reliability, ReportError
from tests.test_reports_data import PERSON, ppi_answers, sds_answers, vdq_answers

MODELS = {"vdq": "decision", "sds": "holland", "ppi": "bipolar"}


def rec(iid: str, version: str, answers: dict[str, object]) -> object:
    inst = instruments.load(iid, version)
    row = {k: v for k, v in answers.items() if k == "id" or k in inst.item_ids}
    (r,) = records_of_frame(inst, pd.DataFrame([row]).astype(object))
    return r


def listed(iid: str) -> dict[str, bool]:
    """Item id → comparable, from the change table of ``iid``/1.1/changes.md."""
    text = (instruments.DEFINITIONS / iid / "1.1" / "changes.md").read_text(encoding="utf-8")
    out = {}
    for m in re.finditer(r"^\|\s*`item:([A-Za-z0-9_]+)`\s*\|.*\|\s*(yes|no)\s*\|[^|]*\|\s*$", text, flags=re.M):
        out[m.group(1)] = m.group(2) == "yes"
    return out


ANSWERS = {"vdq": vdq_answers, "sds": sds_answers, "ppi": ppi_answers}


@pytest.mark.parametrize("iid", sorted(MODELS))
def test_a_10_and_a_11_result_compare_scale_by_scale_with_the_changed_items_marked(iid: str) -> None:
    answers = ANSWERS[iid]()
    old, new = rec(iid, "1.0", answers), rec(iid, "1.1", answers)
    p = reports.build_profile(
        PERSON, [new], previous=[old], previous_date=date(2025, 3, 1), administered=date(2026, 3, 1)
    )
    (c,) = p.changes
    assert (c.before_version, c.after_version, c.documented) == ("1.0", "1.1", True)
    changed = listed(iid)
    assert changed, "the changes.md lists changed items"
    inst = instruments.load(iid, "1.1")
    rows = {r.id: r for r in c.rows}
    assert rows
    for sid, r in rows.items():
        mine = {i.id for i in inst.items_of(sid)} | {i.id for i in instruments.load(iid, "1.0").items_of(sid)}
        assert set(r.changed) == {i for i in changed if i in mine}, sid
        assert set(r.not_comparable) == {i for i in changed if i in mine and not changed[i]}, sid
        assert r.before == pytest.approx(r.after)  # the same answers score the same in both versions
    assert any(r.changed for r in rows.values())
    for lang in ("ka", "en"):
        view = reports.build_view(p, lang, "psychologist")
        (vc,) = view["changes"]
        s = reports.strings(lang)
        assert s.get("ui.change.version_note") in vc["version_notes"]
        assert {x["item"] for x in vc["item_changes"]} == {i for r in rows.values() for i in r.changed}
        html = reports.render_html(p, lang, "psychologist", charts=False)
        assert s.get("ui.change.version_note") in html and vc["item_changes_title"] in html
        marked = [r for r in vc["rows"] if r["changed_text"]]
        assert marked and all(r["changed_text"] in html for r in marked)


def test_the_sds_competencies_are_not_comparable() -> None:
    old, new = rec("sds", "1.0", sds_answers()), rec("sds", "1.1", sds_answers())
    (c,) = reports.build_profile(PERSON, [new], previous=[old]).changes
    competencies = {i.id for i in instruments.load("sds", "1.1").section_items("competencies")}
    not_comparable = {i for r in c.rows for i in r.not_comparable}
    assert competencies <= not_comparable


def test_no_reliable_change_index_over_changed_items() -> None:
    answers = vdq_answers()
    old, new = rec("vdq", "1.0", answers), rec("vdq", "1.1", answers)
    inst = instruments.load("vdq", "1.1")
    rel = {"decision": {s.id: Reliability(0.8, 0.6, "test") for s in inst.scales}}
    (c,) = reports.build_profile(PERSON, [new], previous=[old], reliabilities=rel).changes
    assert [r.id for r in c.rows if r.changed and r.rci is not None] == []
    assert [r.id for r in c.rows if not r.changed and r.rci is None] == []
    same = reports.build_profile(PERSON, [new], previous=[rec("vdq", "1.1", answers)], reliabilities=rel).changes[0]
    assert all(r.rci is not None and not r.changed for r in same.rows)


def test_results_of_different_instruments_are_not_compared() -> None:
    with pytest.raises(ReportError, match="a previous bipolar result was given but no current one"):
        reports.build_profile(PERSON, [rec("vdq", "1.1", vdq_answers())], previous=[rec("ppi", "1.0", ppi_answers())])


def test_version_changes_read_from_the_definitions() -> None:
    a, b = instruments.load("sds", "1.0"), instruments.load("sds", "1.1")
    vc = instruments.version_changes(b, a)  # either order
    assert (vc.older, vc.newer, vc.documented) == ("1.0", "1.1", True)
    assert {k: c.comparable for k, c in vc.items.items()} == listed("sds")
    assert {c.ref for c in vc.answers_changed} == {"label:competencies/1", "label:competencies/0"}
    assert instruments.version_changes(a, a).items == {}
    with pytest.raises(instruments.InstrumentError):
        instruments.version_changes(a, instruments.load("vdq", "1.0"))
