"""The researcher's uploads (issue 15): a data file checked cell by cell on the web pages, and ODK
Collect / KoboToolbox submissions imported into a study (web and REST), all or nothing, idempotent
on the submission id.

Every expectation is written out by hand: which row, item and value each made-up file gets wrong,
the Georgian and English wording, the answers the made-up submissions carry and how many rows a
study holds after each import.
"""

from __future__ import annotations

import io
import re

import numpy as np
import pandas as pd
import pyreadstat
import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

import instruments
from api.db.tables import Administration, Answer, StudyParticipant
from tests.api_helpers import Web
from tests.test_studies import make_study

VDQ = instruments.load("vdq")
ITEMS = list(VDQ.item_ids)


def vdq_rows(rows: list[dict[str, str]], extra: tuple[str, ...] = ("id",)) -> list[list[str]]:
    """A VDQ data table: every item answered 2 unless the row says otherwise."""
    header = [*extra, *ITEMS]
    return [header] + [[r.get(c, "2" if c in ITEMS else "") for c in header] for r in rows]


def as_csv(table: list[list[str]], sep: str = ",") -> bytes:
    return "\n".join(sep.join(row) for row in table).encode("utf-8")


def upload(web: Web, path: str, filename: str, body: bytes, **fields: str):  # type: ignore[no-untyped-def]
    if not web.token:
        web.get("/datasets")
    return web.c.post(
        path,
        data={**fields, "csrf": web.token},
        files={"file": (filename, body, "application/octet-stream")},
        follow_redirects=False,
    )


def text_of(html: str) -> str:
    """The page's text with tags and repeated spaces gone (entities decoded)."""
    import html as h

    return " ".join(h.unescape(re.sub(r"<[^>]+>", " ", html)).split())


def bad_cells(html: str) -> list[tuple[str, str]]:
    """(row number, cell text) of every marked cell of the preview table."""
    out = []
    for row in re.findall(r"<tr[^>]*>(.*?)</tr>", html.split('class="preview"')[1], re.S):
        num = re.search(r'<th scope="row">(\d+)</th>', row)
        if num is None:
            continue
        for cell in re.findall(r'<td class="bad">(.*?)<span class="sr-only">', row):
            out.append((num.group(1), cell))
    return out


def counts(service) -> tuple[int, int, int]:  # type: ignore[no-untyped-def]
    with service.app.state.sessions() as s:
        return tuple(  # type: ignore[return-value]
            s.execute(select(func.count()).select_from(t)).scalar_one()
            for t in (StudyParticipant, Administration, Answer)
        )


# -- data files on the web pages --------------------------------------------------------------------


def test_every_problem_is_listed_by_row_item_and_value_and_marked_in_the_preview(service):
    web = Web(service, "researcher")
    table = vdq_rows(
        [
            {"id": "P1"},
            {"id": "P2", "VDQ03": "7"},  # row 2: not an answer of 1–4
            {},  # row 3: an empty row
            {"id": "P4", "VDQ05": "9"},  # row 4: 9 is declared as missing: fine
            {"id": "P5", "VDQ01": "0", "VDQ20": "often"},  # row 5: two wrong answers
            {"id": "P1"},  # row 6: the code of row 1 again
        ],
        extra=("id", "note"),
    )
    table[3] = [""] * len(table[0])
    dropped = table[0].index("VDQ10")  # no column for item VDQ10
    table = [row[:dropped] + row[dropped + 1 :] for row in table]
    before = counts(service)
    r = upload(web, "/datasets?lang=en", "answers.csv", as_csv(table), instrument=VDQ.ref, missing="9")
    assert r.status_code == 422, r.text
    text = text_of(r.text)
    for expected in (
        "6 problem(s) found. Nothing was kept.",
        "Column VDQ10 is missing (every item needs a column of its own).",
        "Row 3 is empty: delete it or fill it in.",
        "Row 2, item VDQ03: value 7 is not one of 1–4",
        "Row 5, item VDQ01: value 0 is not one of 1–4",
        "Row 5, item VDQ20: value often is not one of 1–4",
        "Row 6: the code P1 is used in an earlier row already.",
        "These columns are not used (they are not items of this questionnaire): note",
    ):
        assert expected in text, expected
    assert "Row 4" not in text  # a declared missing-value code is no problem
    assert sorted(bad_cells(r.text)) == [("2", "7"), ("5", "0"), ("5", "often"), ("6", "P1")]
    assert '<tr class="bad"><th scope="row">3</th>' in r.text  # the empty row, marked whole
    assert counts(service) == before  # checking keeps nothing

    r = upload(web, "/datasets?lang=ka", "answers.csv", as_csv(table), instrument=VDQ.ref, missing="9")
    text = text_of(r.text)
    assert r.status_code == 422
    assert "ნაპოვნია 6 პრობლემა." in text
    assert "რიგი 2, დებულება VDQ03: მნიშვნელობა 7 დასაშვები არ არის (დასაშვებია 1–4;" in text
    assert "რიგი 3 ცარიელია: წაშალეთ ან შეავსეთ." in text
    assert "სვეტი VDQ10 არ არის" in text


def test_the_file_kinds_and_the_missing_codes_each_get_a_clear_message(service):
    web = Web(service, "researcher")
    good = vdq_rows([{"id": "P1", "VDQ02": "0"}, {"id": "P2"}])
    cases = [
        ("a.csv", as_csv(good), "2", "The missing-value code 2 is also a valid answer of this questionnaire"),
        ("a.csv", as_csv(good), "", "Row 1, item VDQ02: value 0 is not one of 1–4"),
        ("a.txt", b"id,VDQ01\n1,2\n", "", "A '.txt' file cannot be used: upload a .csv, .xlsx or .sav file."),
        ("a.xlsx", b"not a workbook", "", "The file cannot be read as a table"),
        ("a.sav", b"not spss", "", "The file cannot be read as a table"),
        ("a.csv", b"", "", "The file has no data rows."),
        ("a.csv", ",".join(["id", *ITEMS]).encode(), "", "The file has no data rows."),
    ]
    for name, body, missing, expected in cases:
        r = upload(web, "/datasets?lang=en", name, body, instrument=VDQ.ref, missing=missing)
        assert r.status_code == 422, (name, r.text)
        assert expected in text_of(r.text), (name, expected)
    r = upload(web, "/datasets?lang=en", "a.csv", as_csv(good), instrument="vdq@0.1")
    assert r.status_code == 422 and "Choose a questionnaire from the list." in text_of(r.text)
    # declared as missing, the 0 is no longer a problem
    r = upload(web, "/datasets?lang=en", "a.csv", as_csv(good), instrument=VDQ.ref, missing="0")
    assert r.status_code == 200 and "No problems: 2 rows of " + VDQ.ref in text_of(r.text)


def test_excel_and_spss_files_are_checked_the_same_way(service, tmp_path):
    web = Web(service, "researcher")
    table = vdq_rows([{"id": "P1"}, {"id": "P2", "VDQ07": "5"}, {"id": "P3", "VDQ08": "99"}])
    book = Workbook()
    for row in table:
        book.active.append([int(v) if v.isdigit() else v for v in row])
    buf = io.BytesIO()
    book.save(buf)
    r = upload(web, "/datasets?lang=en", "answers.xlsx", buf.getvalue(), instrument=VDQ.ref, missing="99")
    text = text_of(r.text)
    assert r.status_code == 422 and "1 problem(s) found." in text
    assert "Row 2, item VDQ07: value 5 is not one of 1–4" in text
    frame = pd.DataFrame(table[1:], columns=table[0])
    for item in ITEMS:
        frame[item] = frame[item].astype(float)
    pyreadstat.write_sav(frame, str(tmp_path / "a.sav"))
    r = upload(web, "/datasets?lang=en", "a.sav", (tmp_path / "a.sav").read_bytes(), instrument=VDQ.ref)
    text = text_of(r.text)
    assert r.status_code == 422 and "2 problem(s) found." in text
    assert "Row 2, item VDQ07: value 5 is not one of 1–4" in text
    assert "Row 3, item VDQ08: value 99 is not one of 1–4" in text
    assert sorted(bad_cells(r.text)) == [("2", "5"), ("3", "99")]


def test_a_valid_file_is_shown_as_the_technical_report(service):
    web = Web(service, "researcher")
    rng = np.random.default_rng(5)
    rows = [
        {"id": f"P{k}", "gender": "female" if k % 2 else "male", **{i: str(int(rng.integers(1, 5))) for i in ITEMS}}
        for k in range(40)
    ]
    body = as_csv(vdq_rows(rows, extra=("id", "gender")))
    r = upload(web, "/datasets?lang=en", "pilot.csv", body, instrument=VDQ.ref, groups="gender")
    assert r.status_code == 200 and "No problems: 40 rows of" in text_of(r.text)
    assert "not used" not in r.text  # the group column is kept, not reported as unused
    r = upload(web, "/datasets", "pilot.csv", body, instrument=VDQ.ref, groups="gender", action="analyse")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/html")
    assert "form-action 'none'" in r.headers["content-security-policy"]  # the report's own policy
    text = text_of(r.text)
    assert f"({VDQ.ref})" in text and "data file pilot.csv , 40 administrations" in text
    assert "/tmp" not in text  # the upload's own name, not the temporary copy's path
    assert "by gender: female vs male" in text and "r_drop" in text
    # one row is too few for a report: said on the page, never a 500
    one = as_csv(vdq_rows([{"id": "P1"}]))
    r = upload(web, "/datasets?lang=en", "one.csv", one, instrument=VDQ.ref, action="analyse")
    assert r.status_code == 422 and "The technical report needs at least 2 rows." in text_of(r.text)


def test_a_file_over_the_limit_is_refused_with_a_clear_message(service_for, tmp_path):
    from tests.conftest import BACKENDS

    service = service_for(BACKENDS[0], max_upload_bytes=5_000)
    web = Web(service, "researcher")
    body = as_csv(vdq_rows([{"id": f"P{k}"} for k in range(60)]))  # about 7 kB
    assert 5_000 < len(body) < 5_000 + 64_000
    r = upload(web, "/datasets?lang=en", "big.csv", body, instrument=VDQ.ref)
    assert r.status_code == 422 and "The file is larger than 0.005 MB. Split it into smaller files." in text_of(r.text)
    huge = body * 40  # past the request limit as well (the tests' 200 kB): refused before it is read
    r = upload(web, "/datasets?lang=en", "huge.csv", huge, instrument=VDQ.ref)
    assert r.status_code == 413 and "The file is too large" in text_of(r.text)
    assert r.headers["content-type"].startswith("text/html")


def test_only_researchers_may_upload(service):
    web = Web(service, "psychologist")
    assert web.get("/datasets").status_code == 403
    r = upload(web, "/datasets", "a.csv", as_csv(vdq_rows([{"id": "P1"}])), instrument=VDQ.ref)
    assert r.status_code == 403


# -- field submissions into a study -------------------------------------------------------------------


def kobo_csv(answers: dict[str, dict[str, str]], *, gender: dict[str, str] | None = None, sep: str = ";") -> bytes:
    """A KoboToolbox-style export: metadata, group-prefixed questions, the form's checks, a respondent code."""
    header = ["start", "end", "proforient_instrument", "id"]
    header += [f"main/{i}" for i in ITEMS] + (["gender"] if gender else [])
    header += ["meta/instanceID", "_id", "_uuid", "_submission_time", "_index"]
    lines = [sep.join(header)]
    for k, (uuid, row) in enumerate(answers.items()):
        cells = ["2026-11-02T10:00:00.000+04:00", "2026-11-02T10:25:00.000+04:00", VDQ.ref, f"R{k}"]
        cells += [row.get(i, "") for i in ITEMS] + ([gender[uuid]] if gender else [])
        cells += [f"uuid:{uuid}", str(100 + k), uuid, f"2026-11-0{k + 2}T06:25:00", str(k + 1)]
        lines.append(sep.join(cells))
    return "\n".join(lines).encode("utf-8")


ANSWERS = {
    "1c9d0a6e-0001-4f0e-8a11-aaaaaaaaaaaa": {i: str(1 + j % 4) for j, i in enumerate(ITEMS)},
    "1c9d0a6e-0002-4f0e-8a11-bbbbbbbbbbbb": {i: str(4 - j % 4) for j, i in enumerate(ITEMS) if j % 5},
    "1c9d0a6e-0003-4f0e-8a11-cccccccccccc": dict.fromkeys(ITEMS[:30], "3"),
}


def new_study(service):  # type: ignore[no-untyped-def]
    """A study of this VDQ version (the forms name their version) and PPI."""
    return make_study(service, instruments=[{"id": "vdq", "version": VDQ.version}, {"id": "ppi"}])


def study_export(service, sid: str) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    r = service.client("researcher").get(f"/v1/studies/{sid}/export", params={"format": "csv"})
    assert r.status_code == 200, r.text
    return pd.read_csv(io.BytesIO(r.content), encoding="utf-8-sig", dtype=str, keep_default_na=False)


def test_kobo_submissions_import_into_a_study_once_with_their_answers(service):
    study = new_study(service)
    sid = study["id"]
    web = Web(service, "researcher")
    web.get(f"/studies/{sid}?lang=en")
    genders = dict(zip(ANSWERS, ["female", "male", ""], strict=True))
    body = kobo_csv(ANSWERS, gender=genders)
    r = upload(web, f"/studies/{sid}/submissions?lang=en", "kobo.csv", body, instrument="vdq")
    assert r.status_code == 200, r.text
    text = text_of(r.text)
    assert "3 new submission(s) imported; 0 had been imported before (3 in the file)." in text
    assert "Demographic answers taken from the columns: gender" in text
    assert "not used" not in text  # metadata, the form's checks and the respondent code are the tools'
    after_first = counts(service)
    assert after_first == (3, 3, 3 * len(ITEMS))  # three participants, three administrations, every item a row
    # the same file again adds nothing; a file with one more submission adds that one only
    r = upload(web, f"/studies/{sid}/submissions?lang=en", "kobo.csv", body, instrument="vdq")
    assert "0 new submission(s) imported; 3 had been imported before (3 in the file)." in text_of(r.text)
    assert counts(service) == after_first
    progress = service.client("researcher").get(f"/v1/studies/{sid}").json()["progress"]
    assert progress["completed"] == 3
    assert [q["completed"] for q in progress["quotas"]] == [1, 1]  # one female, one male, one unanswered
    df = study_export(service, sid)
    assert len(df) == 3 and set(df["completed_month"]) == {"2026-11"}
    got = sorted(tuple(row[i] for i in ITEMS) for _, row in df.iterrows())
    want = sorted(tuple(a.get(i, "") for i in ITEMS) for a in ANSWERS.values())
    assert got == want  # exactly the answers sent; a skipped question is an empty cell
    assert all(df[c].eq("").all() for c in df.columns if c not in ITEMS and c.startswith("PPI"))  # no PPI sent
    assert sorted(df["gender"]) == ["", "female", "male"]
    for uuid in ANSWERS:
        assert uuid not in df.to_csv()
    # the study's analysis of VDQ takes the imported participants (and PPI has none yet)
    r = web.get(f"/studies/{sid}/analysis/vdq")
    assert r.status_code == 200 and VDQ.ref in r.text


def test_a_file_with_any_problem_adds_nothing_and_lists_every_problem(service):
    study = new_study(service)
    sid = study["id"]
    web = Web(service, "researcher")
    web.get(f"/studies/{sid}")
    bad = {**ANSWERS}
    first = next(iter(bad))
    bad[first] = {**bad[first], "VDQ03": "7"}
    body = kobo_csv(bad, gender=dict(zip(bad, ["female", "other", "male"], strict=True)))
    before = counts(service)
    r = upload(web, f"/studies/{sid}/submissions?lang=en", "kobo.csv", body, instrument="vdq")
    assert r.status_code == 422, r.text
    text = text_of(r.text)
    assert "The submissions were not imported" in text and "2 problem(s) found." in text
    assert "Row 1, item VDQ03: value 7 is not one of 1–4" in text
    assert "Row 2, question gender: 'other' is not an accepted answer." in text
    assert counts(service) == before  # all or nothing
    r = upload(web, f"/studies/{sid}/submissions?lang=en", "kobo.csv", body, instrument="sds")
    assert r.status_code == 404 and "Not found" in text_of(r.text)  # not an instrument of this study
    # the REST API says the same as a problem with every error
    c = service.client("researcher")
    r = c.post(
        f"/v1/studies/{sid}/submissions",
        data={"instrument": "vdq"},
        files={"file": ("kobo.csv", body, "text/csv")},
    )
    assert r.status_code == 422 and r.headers["content-type"].startswith("application/problem+json")
    errors = r.json()["errors"]
    assert [(e["row"], e["item"], e["value"], e["code"]) for e in errors] == [
        (1, "VDQ03", "7", "bad_value"),
        (2, "gender", "other", "bad_answer"),
    ]
    # without a submission id an import could not tell a new submission from an old one
    no_ids = "\n".join(
        ";".join(c for k, c in enumerate(line.split(";")) if k < 4 + len(ITEMS) + 1)
        for line in kobo_csv(ANSWERS, gender=dict.fromkeys(ANSWERS, "female")).decode().splitlines()
    ).encode()
    r = c.post(f"/v1/studies/{sid}/submissions", data={"instrument": "vdq"}, files={"file": ("k.csv", no_ids)})
    assert r.status_code == 422 and r.json()["errors"][0]["code"] == "no_submission_id"
    # another instrument's form, or one the study does not have
    r = c.post(f"/v1/studies/{sid}/submissions", data={"instrument": "ppi"}, files={"file": ("k.csv", body)})
    assert r.status_code == 422 and "wrong_form" in {e["code"] for e in r.json()["errors"]}
    r = c.post(f"/v1/studies/{sid}/submissions", data={"instrument": "sds"}, files={"file": ("k.csv", body)})
    assert r.status_code == 404
    assert counts(service) == before


def test_the_rest_api_imports_idempotently(service):
    study = new_study(service)
    sid = study["id"]
    c = service.client("researcher")
    body = kobo_csv(ANSWERS)
    r = c.post(f"/v1/studies/{sid}/submissions", data={"instrument": "vdq"}, files={"file": ("k.csv", body)})
    assert r.status_code == 201, r.text
    assert {k: r.json()[k] for k in ("rows", "imported", "already")} == {"rows": 3, "imported": 3, "already": 0}
    # ODK Central names the same submissions by meta-instanceID ("uuid:…"): they are the same, not new
    odk = body.decode().replace("meta/instanceID", "meta-instanceID").replace(";_uuid;", ";_uuid_old;").encode()
    r = c.post(f"/v1/studies/{sid}/submissions", data={"instrument": "vdq"}, files={"file": ("k.csv", odk)})
    assert r.status_code == 201 and (r.json()["imported"], r.json()["already"]) == (0, 3), r.text
    assert (
        c.post(f"/v1/studies/{sid}/submissions", data={"instrument": "vdq"}, files={"file": ("k.csv", body)}).json()[
            "imported"
        ]
        == 0
    )
    assert (
        service.client("psychologist")
        .post(f"/v1/studies/{sid}/submissions", data={"instrument": "vdq"}, files={"file": ("k.csv", body)})
        .status_code
        == 403
    )
    assert counts(service)[0] == 3


STUDY_INSTRUMENTS = sorted({i for i, _ in instruments.available() if instruments.load(i).model != "intake"})
"""Every shipped instrument a study can hold (the intake form is filled in by a social worker, never in a
study; its XLSForm round trip into a clean table is in test_research_fieldwork)."""


@pytest.mark.parametrize("iid", STUDY_INSTRUMENTS)
def test_round_trip_xlsform_to_study_export_for_every_study_instrument(service, iid, tmp_path):
    """Export the form → pyxform accepts it → a made-up Kobo export (metadata, group prefixes, skipped
    answers) imports into a study → the study's export holds exactly those answers."""
    from instruments.xlsform import validate_xlsform, write_xlsform
    from tests.test_research_fieldwork import _kobo_export, engine_code

    inst = instruments.load(iid)
    study = make_study(service, instruments=[{"id": iid, "version": inst.version}], quotas=[])
    web = Web(service, "researcher")
    r = web.get(f"/studies/{study['id']}/xlsform/{iid}")
    assert r.status_code == 200 and r.headers["content-disposition"].endswith('-xlsform.xlsx"')
    form = tmp_path / "form.xlsx"
    form.write_bytes(r.content)
    assert validate_xlsform(form)[1] == []
    assert form.read_bytes()[:2] == write_xlsform(inst, tmp_path / "ours.xlsx").read_bytes()[:2]
    export, expected = _kobo_export(iid, form, 12, seed=7, group_sep="/")
    body = export.to_csv(index=False, sep=";").encode()
    r = service.client("researcher").post(
        f"/v1/studies/{study['id']}/submissions", data={"instrument": iid}, files={"file": ("kobo.csv", body)}
    )
    assert r.status_code == 201, r.text
    assert (r.json()["imported"], r.json()["unused_columns"]) == (12, [])
    df = study_export(service, study["id"])
    got = sorted(tuple(row[i] for i in inst.item_ids) for _, row in df.iterrows())
    want = sorted(
        tuple("" if m[i] is None else str(engine_code(m[i])) for i in inst.item_ids) for m in expected.values()
    )
    assert got == want
    assert any("" in row for row in want)  # some answers were skipped and stayed missing


def test_two_imports_of_one_export_at_the_same_moment_add_each_submission_once(service):
    """Two researchers send the same export at once: every submission is added once (the unique key on
    study and submission id decides); the import that loses the race says so and may simply be sent again."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    sid = new_study(service)["id"]
    body = kobo_csv(ANSWERS)
    clients = [service.client("researcher"), service.client("researcher")]
    for trial in range(4):
        gate = threading.Barrier(2)

        def send(c, gate: threading.Barrier = gate):  # type: ignore[no-untyped-def]
            gate.wait()
            return c.post(f"/v1/studies/{sid}/submissions", data={"instrument": "vdq"}, files={"file": ("k.csv", body)})

        with ThreadPoolExecutor(2) as pool:
            answers = list(pool.map(send, clients))
        assert {r.status_code for r in answers} <= {201, 409}, [r.text for r in answers]
        imported = sum(r.json()["imported"] for r in answers if r.status_code == 201)
        assert imported == (3 if trial == 0 else 0) or any(r.status_code == 409 for r in answers)
        assert counts(service) == (3, 3, 3 * len(ITEMS)), trial
