"""Answer buttons from the definition: short labels on the buttons with the full wording in the legend,
and a section's own labels (SDS 1.1 competencies: I can / I can't). Rendered with the pages' own
templates, without a database."""

from __future__ import annotations

import re

import pytest

import instruments
from api import scoring_facade as facade
from api.web import core, forms

PART = (
    '{% import "_controls.html" as c with context %}{{ c.legend() }}'
    "{% for it in section.items[:1] %}{{ c.answer(it, none, it.id) }}{% endfor %}"
)


def _part(iid: str, version: str, section: int, lang: str = "ka") -> str:
    form = forms.build(instruments.load(iid, version), lang)
    html = core.env().from_string(PART).render(form=form, section=form.sections[section - 1], t=core.Translator(lang))
    return re.sub(r"\s+", " ", html)


def _buttons(html: str) -> list[str]:
    return [re.sub(r"<[^>]+>", "", b).strip() for b in re.findall(r'<label class="choice[^"]*">(.*?)</label>', html)]


def test_vdq_1_1_buttons_show_the_short_labels_and_the_legend_the_full_ones():
    html = _part("vdq", "1.1", 1)
    buttons = _buttons(html)
    assert buttons[:4] == [
        "4 სავსებით შემესაბამება",
        "3 მეტწილად შემესაბამება",
        "2 ცოტათი შემესაბამება",
        "1 სრულიად არ შემესაბამება",
    ]
    legend = re.search(r'<section class="scale-legend".*?</section>', html).group(0)
    for lab in instruments.load("vdq", "1.1").response.labels:
        assert f"<dd>{lab.ka}</dd>" in legend
    assert "<dd>Fully true of me: this is exactly how it is for me</dd>" in _part("vdq", "1.1", 1, "en")


def test_vdq_1_0_buttons_still_derive_the_short_label():
    buttons = _buttons(_part("vdq", "1.0", 1))
    assert buttons[1] == "3 ვიზიარებ, მაგრამ არა სრულიად"  # the label up to its ':'
    assert buttons[0] == "4 სავსებით შეესაბამება იმას, რასაც ვფიქრობ და ვგრძნობ"  # no ':' in it


@pytest.mark.parametrize(
    "version,section,expected",
    [
        ("1.1", 1, ["მომწონს", "არ მომწონს"]),
        ("1.1", 2, ["შემიძლია", "არ შემიძლია"]),  # competencies: ability, not liking
        ("1.1", 3, ["მომწონს", "არ მომწონს"]),
        ("1.0", 2, ["მომწონს", "არ მომწონს"]),
    ],
)
def test_a_section_shows_its_own_labels(version, section, expected):
    assert _buttons(_part("sds", version, section))[:2] == expected


def test_the_definition_offers_short_and_section_labels_to_other_systems():
    d = facade.definition(instruments.load("sds", "1.1"), "en")
    comp = next(s for s in d["sections"] if s["id"] == "competencies")  # type: ignore[union-attr]
    assert comp["labels"] == {1: "I can", 0: "I can't"}
    assert all("labels" not in s for s in d["sections"] if s["id"] != "competencies")  # type: ignore[union-attr]
    vdq = facade.definition(instruments.load("vdq", "1.1"), "ka")["response"]
    assert vdq["short"][4] == "სავსებით შემესაბამება"  # type: ignore[index]
    assert facade.definition(instruments.load("vdq", "1.0"), "ka")["response"]["short"] == {}  # type: ignore[index]
