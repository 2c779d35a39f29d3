"""The SDS aspirations question (issue 14, item 4): "which occupations have you thought about?",
asked after the last statements of a Holland questionnaire in respondent mode and on the check page
in read-aloud and paper modes; catalogue names suggested in Georgian and English, free text kept as
said; the answers feed the result record (codes, congruence, coherence) and the profile.

Expected values are hand-computed: the answers below give the type totals R 22, E 21, A 19, I = S = C
= 0, so the person's code is REA, the same as the catalogue's cook (5120, REA): Iachan's M for two
identical three-letter codes is its maximum, 28."""

from __future__ import annotations

import re

import pytest

import instruments
from api.db.tables import Administration
from api.domain import administrations as adm
from api.web import forms
from api.web.core import strings
from tests.api_helpers import Web

KA = strings("ka")
EN = strings("en")
COOK_KA, COOK_EN = "მზარეული", "cook"  # instruments/data/occupations.csv, ISCO 5120, REA
OWN_WORDS = "ჩემი პატარა საცხობი სოფელში"


def _rea_answers() -> dict[str, str]:
    """All R statements 1; all E but one; all A but three; I, S, C none (letters read from the ids)."""
    inst = instruments.load("sds")
    by_letter: dict[str, list[str]] = {}
    for item in inst.item_ids:
        by_letter.setdefault(re.search(r"_([RIASEC])\d+$", item).group(1), []).append(item)
    out = dict.fromkeys(inst.item_ids, "0")
    for letter, skip in (("R", 0), ("E", 1), ("A", 3)):
        for i in by_letter[letter][skip:]:
            out[i] = "1"
    return out


def _respondent_sds(service):  # type: ignore[no-untyped-def]
    psy = Web(service, "psychologist")
    person = service.client("social_worker").post("/v1/beneficiaries", json={}).json()["code"]
    psy.get(f"/beneficiaries/{person}")
    r = psy.post(f"/beneficiaries/{person}/start", {"instrument": ["sds"], "mode": "respondent"})
    page = psy.get(r.headers["location"]).text
    token = re.findall(r'class="handover-code" lang="en">([A-Z0-9 ]+)<', page)[0].replace(" ", "")
    return psy, person, token


def test_the_respondent_is_asked_after_the_last_page_and_the_record_keeps_what_they_said(service):
    psy, person, token = _respondent_sds(service)
    c = service.client()
    assert c.patch(f"/v1/respond/{token}/answers", json={"answers": _rea_answers()}).status_code == 200
    phone = Web(service)
    pages = len(forms.build(instruments.load("sds"), "ka").pages)
    last_page = phone.get(f"/r/{token}/part/{pages}").text
    aid = re.search(r'name="administration" value="([^"]+)"', last_page).group(1)
    r = phone.post(f"/r/{token}/part/{pages}", {"administration": aid, "go": "next"})
    assert r.headers["location"] == f"/r/{token}/aspirations"

    ask = phone.get(f"/r/{token}/aspirations").text
    assert KA["aspirations.title"] in ask and KA["aspirations.optional"] in ask
    # one suggestion list for both languages: the Georgian name is saved, the English one finds it
    assert f'<option value="{COOK_KA}" label="{COOK_EN}">' in ask
    assert f'<option value="{COOK_EN}" label="{COOK_KA}">' in phone.get(f"/r/{token}/aspirations?lang=en").text
    phone.get(f"/r/{token}/aspirations?lang=ka")

    r = phone.post(
        f"/r/{token}/aspirations",
        {"administration": aid, "aspiration_1": f"  {COOK_KA} ", "aspiration_2": OWN_WORDS, "aspiration_3": ""},
    )
    assert r.headers["location"] == f"/r/{token}/review"
    review = phone.get(f"/r/{token}/review").text
    assert KA["aspirations.named"] in review and f"<li>{COOK_KA}</li>" in review and OWN_WORDS in review
    assert f'href="/r/{token}/aspirations"' in review  # the way back goes through the question

    assert phone.post(f"/r/{token}/submit", {"administration": aid}).headers["location"] == f"/r/{token}/done"
    results = service.client("psychologist").get(f"/v1/beneficiaries/{person}/results").json()
    rec = next(x for x in results if x["instrument"] == "sds")["record"]
    assert rec["codes"] == ["REA"]
    assert rec["aspirations"] == [{"given": COOK_KA, "code": "REA"}, {"given": OWN_WORDS, "code": None}]
    assert rec["congruence"]["m"] == {"min": 28.0, "max": 28.0}
    assert rec["coherence"] is None  # needs three coded aspirations

    # the psychologist's profile uses them (the SDS's, not the intake's)
    report = psy.get(f"/beneficiaries/{person}/report", params={"format": "json", "report_lang": "ka"})
    assert report.status_code == 200 and COOK_KA in report.text and OWN_WORDS in report.text


def test_free_text_first_does_not_move_the_congruence_off_the_first_coded_aspiration(service):
    """The indices are computed against the first aspiration that has a code, as the reports say."""
    psy = service.client("psychologist")
    person = service.client("social_worker").post("/v1/beneficiaries", json={}).json()["code"]
    from tests.api_helpers import administer

    a = administer(psy, person, "sds", _rea_answers(), aspirations=[OWN_WORDS, "hairdresser"])
    b = administer(psy, person, "sds", _rea_answers(), aspirations=["hairdresser"])
    ra, rb = (psy.get(f"/v1/results/{x['id']}").json()["record"] for x in (a, b))
    assert [x["code"] for x in ra["aspirations"]] == [None, "ASE"]
    assert ra["congruence"] == rb["congruence"] and ra["congruence"]["m"]["max"] < 28


def test_the_psychologist_keys_them_in_on_the_check_page(service):
    psy = Web(service, "psychologist")
    person = service.client("social_worker").post("/v1/beneficiaries", json={}).json()["code"]
    psy.get(f"/beneficiaries/{person}")
    r = psy.post(f"/beneficiaries/{person}/start", {"instrument": ["sds"], "mode": "paper"})
    aid = re.search(r"/administrations/([^/]+)/paper", r.headers["location"]).group(1)
    check = psy.get(f"/administrations/{aid}/check?lang=en").text
    assert EN["aspirations.staff_title"] in check and f'<option value="{COOK_EN}" label="{COOK_KA}">' in check
    r = psy.post(f"/administrations/{aid}/aspirations", {"aspiration_1": "hairdresser", "aspiration_2": "cook"})
    assert r.status_code == 303 and r.headers["location"] == f"/administrations/{aid}/check"
    check = psy.get(f"/administrations/{aid}/check").text
    assert 'value="hairdresser"' in check and 'value="cook"' in check

    too_long = psy.post(f"/administrations/{aid}/aspirations", {"aspiration_1": "x" * 121})
    assert too_long.status_code == 422 and "120" in too_long.text
    assert 'value="hairdresser"' in psy.get(f"/administrations/{aid}/check").text  # nothing was lost

    # a social worker may not reach a psychologist's questionnaire
    sw = Web(service, "social_worker")
    sw.get(f"/beneficiaries/{person}")
    assert sw.post(f"/administrations/{aid}/aspirations", {"aspiration_1": "cook"}).status_code in (403, 404)


def test_no_question_for_other_instruments_or_study_participants(service):
    psy = Web(service, "psychologist")
    person = service.client("social_worker").post("/v1/beneficiaries", json={}).json()["code"]
    psy.get(f"/beneficiaries/{person}")
    r = psy.post(f"/beneficiaries/{person}/start", {"instrument": ["vdq"], "mode": "paper"})
    aid = re.search(r"/administrations/([^/]+)/paper", r.headers["location"]).group(1)
    assert KA["aspirations.staff_title"] not in psy.get(f"/administrations/{aid}/check").text
    assert psy.post(f"/administrations/{aid}/aspirations", {"aspiration_1": "cook"}).status_code == 422

    sds = instruments.load("sds")
    case = Administration(instrument=sds.id, instrument_version=sds.version, participant_id=None)
    study = Administration(instrument=sds.id, instrument_version=sds.version, participant_id="p1")
    assert adm.asks_aspirations(case) and not adm.asks_aspirations(study)


@pytest.mark.parametrize(
    "given, kept",
    [
        (["  cook  ", "", "   "], ["cook"]),
        (["ჩემი   საკუთარი\tსაქმე"], ["ჩემი საკუთარი საქმე"]),
        ([], []),
    ],
)
def test_cleaning_keeps_what_was_said(given, kept):
    assert adm.clean_aspirations(given) == kept


def test_more_than_three_is_refused_by_name():
    from api.domain.errors import Invalid

    with pytest.raises(Invalid, match="at most three"):
        adm.clean_aspirations(["a", "b", "c", "d"])
