"""A new instrument needs data, not code: a renamed copy of the VDQ is reported in every audience.

The shipped VDQ definition is copied to a folder of its own under a new id (``vdqx``) and version
(``2.0``), with one barrier renamed (its id, its names and the item keys that score it). It is
loaded with ``instruments.load_path``, scored by the engine into a typed record, and reported for
every audience in Georgian and English through ``reports.build_profile(..., definitions=[inst])``:
the renamed barrier appears under its own name, with its definition's description as the narrative
(no curated text exists for it), and nothing of the scale it replaced is said.
"""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import tomllib
from html import unescape
from pathlib import Path

import numpy as np
import pytest

import instruments
import reports
import scoring
from reports import ReportError
from tests.test_reports_data import PERSON, VDQ_TARGET, intake_record, ppi_answers, record, sds_answers

OLD, NEW = "information", "labour_market_knowledge"
NAME = {"ka": "შრომის ბაზრის შესახებ ცოდნის ნაკლებობა", "en": "Too little knowledge of the labour market"}
DESCRIPTION = {
    "ka": "ადამიანმა ცოტა რამ იცის ვაკანსიების, ხელფასებისა და იმის შესახებ, თუ სად ეძებენ მუშაკებს.",
    "en": "The person knows little about vacancies, pay and where employers look for workers.",
}


def _toml_text(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


@pytest.fixture(scope="module")
def renamed(tmp_path_factory: pytest.TempPathFactory) -> instruments.Instrument:
    """vdq/1.1 copied to <root>/vdqx/2.0 with the barrier 'information' renamed; loaded from there."""
    source = instruments.DEFINITIONS / "vdq" / "1.1"
    folder = tmp_path_factory.mktemp("definitions") / "vdqx" / "2.0"
    shutil.copytree(source, folder)
    (folder / "changes.md").unlink(missing_ok=True)  # it documents vdq 1.0 → 1.1, not this copy
    meta = (folder / "instrument.toml").read_text(encoding="utf-8")
    meta = meta.replace('id = "vdq"', 'id = "vdqx"', 1).replace('version = "1.1"', 'version = "2.0"', 1)
    old = instruments.load("vdq", "1.1").scale(OLD)
    block = re.search(rf'(?ms)^\[\[scales\]\]\nid = "{OLD}"\n.*?(?=^\[\[scales\]\]\nid = )', meta)
    assert block is not None
    new_block = block.group(0).replace(f'id = "{OLD}"', f'id = "{NEW}"', 1)
    name_line = f"name = {{ ka = {_toml_text(old.name.ka)}, en = {_toml_text(old.name.en)} }}"
    assert name_line in new_block
    new_block = new_block.replace(
        name_line, f"name = {{ ka = {_toml_text(NAME['ka'])}, en = {_toml_text(NAME['en'])} }}"
    )
    new_block = re.sub(
        r"(?m)^description = .*$",
        f"description = {{ ka = {_toml_text(DESCRIPTION['ka'])}, en = {_toml_text(DESCRIPTION['en'])} }}",
        new_block,
        count=1,
    )
    meta = meta.replace(block.group(0), new_block)
    tomllib.loads(meta)  # still valid TOML
    (folder / "instrument.toml").write_text(meta, encoding="utf-8")
    with (folder / "items.csv").open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    fields = list(rows[0])
    for r in rows:
        if r["scale"] == OLD:
            r["scale"] = NEW
    with (folder / "items.csv").open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=fields)
        w.writeheader()
        w.writerows(rows)
    inst = instruments.load_path(folder)
    assert (inst.id, inst.version, inst.model) == ("vdqx", "2.0", "decision")
    assert NEW in {s.id for s in inst.scales} and OLD not in {s.id for s in inst.scales}
    return inst


def _answers(inst: instruments.Instrument) -> np.ndarray:
    """The fixture person's VDQ answers (the renamed barrier as strong as 'information' was: salient)."""
    target = {**VDQ_TARGET, NEW: VDQ_TARGET[OLD]}
    row = []
    for it in inst.items:
        v = target[it.scale]  # type: ignore[index]
        row.append(str(v if it.keyed == 1 else 5 - v))
    return np.array([row], dtype=object)


@pytest.fixture(scope="module")
def scored(renamed: instruments.Instrument) -> scoring.ScoreRecord:
    spec = instruments.scoring_spec(renamed)
    (rec,) = scoring.score(spec, scoring.parse_block(spec, _answers(renamed))).records()
    assert rec.provenance.ref == "vdqx@2.0" and rec.provenance.content_hash == renamed.content_hash
    assert NEW in rec.salient  # type: ignore[union-attr]
    return rec


@pytest.fixture(scope="module")
def profile(renamed: instruments.Instrument, scored: scoring.ScoreRecord) -> reports.Profile:
    others = [intake_record(), record("sds", sds_answers()), record("ppi", ppi_answers())]
    return reports.build_profile(PERSON, [scored, *others], definitions=[renamed], name="N. N.")


def _text(html: str) -> str:
    html = re.sub(r"<style>.*?</style>", "", html, flags=re.S)
    html = re.sub(r'src="data:[^"]*"', "", html)
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html)))


@pytest.mark.parametrize("lang", ["ka", "en"])
@pytest.mark.parametrize("audience", reports.AUDIENCES)
def test_the_renamed_barrier_is_reported_with_its_own_words(profile: reports.Profile, lang: str, audience: str) -> None:
    old = instruments.load("vdq", "1.1").scale(OLD)
    s = reports.strings(lang)
    text = _text(reports.render_html(profile, lang, audience))
    data = json.loads(reports.render_json(profile, lang, audience))
    barrier = next(b for b in data["decision"]["barriers"] if b["id"] == NEW)
    assert barrier["name"] == NAME[lang]
    assert barrier["meaning"] == DESCRIPTION[lang]  # no curated narrative: the definition's description
    assert NAME[lang] in text and DESCRIPTION[lang] in text
    for said in (old.name.get(lang), s.get(f"decision.barrier.{OLD}.pro"), s.get(f"decision.barrier.{OLD}.you")):
        assert said not in text and said not in json.dumps(data, ensure_ascii=False)
    assert "vdqx@2.0" in text
    vdqx = next(p for p in data["provenance"] if p["instrument"] == "vdqx")
    assert vdqx["version"] == "2.0" and vdqx["checksum"] == profile.decision.provenance.content_hash  # type: ignore[union-attr]
    if audience != "beneficiary":  # staff read the salient barriers in the summary (in English lower case mid-list)
        listed = NAME[lang] if lang == "ka" else NAME[lang][0].lower() + NAME[lang][1:]
        assert any(listed in line for line in data["summary"])
    # its interventions (the definition's data) are recommended as for the barrier it replaced
    if audience == "psychologist":
        ids = [a["id"] for a in data["activities"]]
        assert all(a in ids for a in instruments.load("vdq", "1.1").scale(OLD).interventions)


def test_the_packet_and_the_pdf_use_the_given_definition(profile: reports.Profile) -> None:
    import pypdf

    view = reports.packet_view(profile, "en", ["profile", "activities"])
    assert any(b["id"] == NEW and b["name"] == NAME["en"] for b in view["decision"]["barriers"])
    pdf = reports.render_view_pdf(view, charts=False)
    text = re.sub(r"\s+", " ", " ".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(pdf)).pages))
    assert NAME["en"] in text and "vdqx@2.0" in text


def test_a_definition_that_is_not_shipped_must_be_given(
    renamed: instruments.Instrument, scored: scoring.ScoreRecord
) -> None:
    with pytest.raises(ReportError, match=r"(?s)vdqx@2\.0 cannot be loaded.*definitions="):
        reports.build_profile(PERSON, [scored])
    other = scored.model_copy(  # a record scored with another vdqx@2.0 than the one given
        update={"provenance": scored.provenance.model_copy(update={"content_hash": "0" * 64})}
    )
    with pytest.raises(ReportError, match="another definition"):
        reports.build_profile(PERSON, [other], definitions=[renamed])
    # the shipped definitions are still used for the records that name them
    shipped = reports.build_profile(PERSON, [record("sds", sds_answers())], definitions=[renamed])
    assert shipped.holland is not None and shipped.holland.provenance.instrument == "sds"


def test_the_change_section_compares_records_of_the_given_definition(
    renamed: instruments.Instrument, scored: scoring.ScoreRecord
) -> None:
    spec = instruments.scoring_spec(renamed)
    earlier_answers = np.array([[("3" if it.keyed == 1 else "2") for it in renamed.items]], dtype=object)
    (earlier,) = scoring.score(spec, scoring.parse_block(spec, earlier_answers)).records()
    p = reports.build_profile(PERSON, [scored], previous=[earlier], definitions=[renamed])
    rows = {r["id"]: r for r in reports.build_view(p, "en", "psychologist")["changes"][0]["rows"]}
    assert rows[NEW]["label"] == NAME["en"] and rows[NEW]["before"] == 3 and rows[NEW]["after"] == 4


def test_the_copy_is_independent_of_the_shipped_folder(renamed: instruments.Instrument) -> None:
    assert renamed.path is not None and Path(renamed.path).resolve() != (instruments.DEFINITIONS / "vdq" / "1.1")
    assert ("vdqx", "2.0") not in instruments.available()
