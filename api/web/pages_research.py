"""The researcher's pages: studies (create, participation codes, progress against quotas),
analysis (the technical report in the browser), norm tables (build from a study, review,
publish), downloads, data sets (a file of answers checked cell by cell, then analysed) and field
collection (a questionnaire's XLSForm out, ODK Collect / KoboToolbox submissions into a study).
Researchers see study pseudonyms and aggregates only, never a name.

The participant's side of a study (consent first, demographic questions, then respondent mode)
is in ``pages_study``.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

import numpy as np
from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from starlette.datastructures import UploadFile

import instruments
from api import scoring_facade as facade
from api.deps import IpDep, SessionDep, VaultDep
from api.domain import datasets, studies
from api.domain.access import SOCIAL_WORKER_MODELS, Principal
from api.domain.errors import Conflict, Invalid, NotFound

from .core import (
    Form,
    Need,
    PageError,
    Translator,
    WebRoute,
    _finish,
    attempt,
    file_response,
    lang_of,
    page_error,
    redirect,
    render,
)

router = APIRouter(route_class=WebRoute, include_in_schema=False)
Researcher = Annotated[Principal, Depends(Need("studies.manage"))]

EXAMPLE_QUESTIONS = {
    "ka": "gender | choice | სქესი | Gender | female: ქალი / Female; male: კაცი / Male\n"
    "birth_year | birth_year | დაბადების წელი | Year of birth",
    "en": "gender | choice | სქესი | Gender | female: ქალი / Female; male: კაცი / Male\n"
    "birth_year | birth_year | დაბადების წელი | Year of birth",
}
REPORT_CSP = (
    "default-src 'none'; img-src data:; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; "
    "form-action 'none'"
)
"""The technical report is a self-contained page with its own style element and no script."""


def respondent_instruments() -> list[tuple[str, str, str, str]]:
    """(id, version, title ka, title en) of every instrument a participant can answer."""
    out = []
    for iid, version in instruments.available():
        inst = facade.instrument(iid, version)
        if inst.model in SOCIAL_WORKER_MODELS or inst.purpose != "service":
            continue
        out.append((iid, version, inst.title.get("ka"), inst.title.get("en")))
    return out


def parse_questions(text: str) -> list[dict[str, Any]]:
    """The question lines of the form: ``id | type | ka | en | value: ka / en; …`` (options for a choice)."""
    out: list[dict[str, Any]] = []
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        cells = [c.strip() for c in line.split("|")]
        if len(cells) < 4:
            raise Invalid(f"questions, line {n}: id | type | ka | en [| options]", field="questions", value=line)
        q: dict[str, Any] = {"id": cells[0], "type": cells[1], "ka": cells[2], "en": cells[3]}
        if len(cells) > 4 and cells[4]:
            q["options"] = []
            for part in cells[4].split(";"):
                m = re.fullmatch(r"\s*([^:]+?)\s*:\s*(.+?)\s*/\s*(.+?)\s*", part)
                if m is None:
                    raise Invalid(
                        f"questions, line {n}: an option is 'value: Georgian / English'", field="questions", value=part
                    )
                q["options"].append({"value": m[1], "ka": m[2], "en": m[3]})
        out.append(q)
    return out


def parse_quotas(text: str) -> list[dict[str, Any]]:
    """The quota lines: ``question=value target``."""
    out: list[dict[str, Any]] = []
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        m = re.fullmatch(r"\s*([^=\s]+)\s*=\s*(\S+)\s+(\d+)\s*", line)
        if m is None:
            raise Invalid(
                f"quotas, line {n}: question=value target (e.g. gender=female 50)", field="quotas", value=line
            )
        out.append({"question": m[1], "value": m[2], "target": int(m[3])})
    return out


def _form_values(form: Any) -> dict[str, Any]:
    keys = ("title_ka", "title_en", "purpose_ka", "purpose_en", "consent_ka", "consent_en", "opens_on", "closes_on")
    values: dict[str, Any] = {k: str(form.get(k) or "") for k in keys}
    values["questions"] = str(form.get("questions") or "")
    values["quotas"] = str(form.get("quotas") or "")
    values["instruments"] = [str(v) for v in form.getlist("instrument")]
    values["exact"] = form.get("exact") == "1"
    return values


@router.get("/studies")
def study_list(request: Request, principal: Researcher, session: SessionDep) -> Response:
    rows = [(s, studies.progress(session, principal, s.id)) for s in studies.all_studies(session, principal)]
    return render(request, "research/studies.html", rows=rows, title_of=studies.title)


@router.get("/studies/new")
def new_study(request: Request, principal: Researcher) -> Response:
    return render(
        request,
        "research/study_new.html",
        values={
            "questions": EXAMPLE_QUESTIONS[lang_of(request)],
            "quotas": "gender=female 50\ngender=male 50",
            "instruments": [],
            "exact": False,
        },
        error=None,
        available=respondent_instruments(),
    )


@router.post("/studies")
def create_study(
    request: Request, principal: Researcher, form: Form, session: SessionDep, vault: VaultDep, ip: IpDep
) -> Response:
    values = _form_values(form)

    def work() -> Any:
        chosen = []
        for ref in values["instruments"]:
            iid, _, version = ref.partition("@")
            chosen.append({"id": iid, "version": version})
        questions = parse_questions(values["questions"])
        data = {
            **{k: values[k] for k in values if k not in ("questions", "quotas", "instruments", "exact")},
            "instruments": chosen,
            "questions": questions,
            "quotas": parse_quotas(values["quotas"]),
            "exact_quasi_identifiers": values["exact"],
        }
        return studies.create(session, principal, vault, data, ip)

    study, error = attempt(session, work)
    if error is not None or study is None:
        assert error is not None
        return render(
            request,
            "research/study_new.html",
            status=422,
            values=values,
            error=error.detail,
            available=respondent_instruments(),
        )
    return redirect(request, f"/studies/{study.id}")


def _study_page(request: Request, principal: Principal, session: SessionDep, study_id: str, **extra: Any) -> Response:
    study = studies.get(session, principal, study_id)
    lang = lang_of(request)
    titles = {e["id"]: facade.instrument(e["id"], e["version"]).title.get(lang) for e in study.instruments}
    normable = [e for e in study.instruments if not facade.instrument(e["id"], e["version"]).ipsative]
    return render(
        request,
        "research/study.html",
        study=study,
        title=studies.title(study, lang),
        purpose=study.purpose_ka if lang == "ka" else study.purpose_en,
        progress=studies.progress(session, principal, study.id),
        titles=titles,
        normable=normable,
        tables=studies.norm_tables(session, principal, study.id),
        questions={q["id"]: q for q in study.questions},
        codes=extra.pop("codes", None),
        base=str(request.base_url).rstrip("/"),
        norm_error=extra.pop("norm_error", None),
        norm_values=extra.pop("norm_values", {}),
        import_error=extra.pop("import_error", None),
        import_report=extra.pop("import_report", None),
        import_values=extra.pop("import_values", {}),
        max_mb=f"{request.app.state.settings.max_upload_bytes / 1_000_000:g}",
        **extra,
    )


@router.get("/studies/{study_id}")
def study_page(request: Request, study_id: str, principal: Researcher, session: SessionDep) -> Response:
    return _study_page(request, principal, session, study_id)


@router.post("/studies/{study_id}/links")
def make_links(
    request: Request, study_id: str, principal: Researcher, form: Form, session: SessionDep, ip: IpDep
) -> Response:
    """New participation codes, shown on this page once (they are stored hashed)."""
    raw = str(form.get("count") or "")
    if not raw.isdigit():
        raise PageError(422, "invalid", f"count: {raw!r} is not a whole number")
    codes = studies.make_links(session, principal, study_id, int(raw), ip)
    return _study_page(request, principal, session, study_id, codes=codes)


@router.get("/studies/{study_id}/export/{fmt}")
def export(
    request: Request, study_id: str, fmt: str, principal: Researcher, session: SessionDep, vault: VaultDep, ip: IpDep
) -> Response:
    body, media, name = studies.export(session, principal, vault, study_id, fmt, lang_of(request), ip)
    return file_response(request, body, media, name)


@router.get("/studies/{study_id}/analysis/{instrument}")
def analysis(
    request: Request,
    study_id: str,
    instrument: str,
    principal: Researcher,
    session: SessionDep,
    vault: VaultDep,
    ip: IpDep,
    format: str = "html",
) -> Response:
    """The technical report: in the browser (HTML), or as JSON / XLSX to download."""
    body, media = studies.analysis(session, principal, vault, study_id, instrument, format, ip, lang_of(request))
    if format != "html":
        return file_response(request, body, media, f"technical-{instrument}.{format}")
    resp = Response(body, media_type=media)
    resp.headers["Content-Security-Policy"] = REPORT_CSP
    return _finish(request, resp)


@router.post("/studies/{study_id}/norms")
def build_norms(
    request: Request, study_id: str, principal: Researcher, form: Form, session: SessionDep, vault: VaultDep, ip: IpDep
) -> Response:
    values = {
        k: str(form.get(k) or "").strip() for k in ("instrument", "norm_id", "version", "population", "min_group_n")
    }

    def work() -> Any:
        data: dict[str, Any] = dict(values)
        data["min_group_n"] = int(values["min_group_n"]) if values["min_group_n"].isdigit() else values["min_group_n"]
        return studies.build_norm_table(session, principal, vault, study_id, data, ip)

    row, error = attempt(session, work)
    if error is not None or row is None:
        assert error is not None
        return _study_page(request, principal, session, study_id, norm_error=error.detail, norm_values=values)
    return redirect(request, f"/studies/{study_id}/norms/{row.id}")


@router.get("/studies/{study_id}/norms/{table_id}")
def norm_table(request: Request, study_id: str, table_id: int, principal: Researcher, session: SessionDep) -> Response:
    row = studies.norm_table(session, principal, study_id, table_id)
    table = studies.read_table(row)
    lang = lang_of(request)
    inst = facade.instrument(row.instrument, row.instrument_version)
    frame = table.table
    groups = list(dict.fromkeys(frame["group"]))
    return render(
        request,
        "research/norm_table.html",
        row=row,
        table=table,
        study=studies.get(session, principal, study_id),
        inst_title=inst.title.get(lang),
        scale_names={s.id: s.name.get(lang) for s in inst.scales},
        groups=groups,
        rows_of=lambda g, s: frame[(frame["group"] == g) & (frame["scale"] == s)].to_dict("records"),
    )


@router.post("/studies/{study_id}/norms/{table_id}/publish")
def publish(
    request: Request, study_id: str, table_id: int, principal: Researcher, form: Form, session: SessionDep, ip: IpDep
) -> Response:
    studies.publish(session, principal, study_id, table_id, ip)
    return redirect(request, f"/studies/{study_id}/norms/{table_id}")


@router.get("/norm-tables")
def all_norm_tables(request: Request, principal: Researcher, session: SessionDep) -> Response:
    return render(request, "research/norm_tables.html", tables=studies.norm_tables(session, principal))


@router.get("/downloads")
def downloads(request: Request, principal: Researcher, session: SessionDep) -> Response:
    rows = studies.all_studies(session, principal)
    return render(
        request,
        "research/downloads.html",
        rows=rows,
        title_of=studies.title,
        tables=[t for t in studies.norm_tables(session, principal) if t.status == "published"],
    )


# -- data sets: a file of answers, checked cell by cell ------------------------------------------------

MAX_PROBLEMS_SHOWN = 200
"""Problems listed on a page (the rest are counted); the preview marks the first rows' bad cells."""


def scored_instruments() -> list[tuple[str, str, str, str]]:
    """(id, version, title ka, title en) of every instrument a data file can be checked against."""
    out = []
    for iid, version in instruments.available():
        inst = facade.instrument(iid, version)
        if inst.model not in SOCIAL_WORKER_MODELS:
            out.append((iid, version, inst.title.get("ka"), inst.title.get("en")))
    return out


def _codes(text: str) -> list[str]:
    return [c.strip() for c in re.split(r"[,;\s]+", text) if c.strip()]


def _upload(request: Request, form: Any) -> tuple[str, bytes]:
    """The uploaded file's name and bytes; a file over the limit is a form error, never read whole."""
    limit = request.app.state.settings.max_upload_bytes
    file = form.get("file")
    if not isinstance(file, UploadFile) or not file.filename:
        raise Invalid(Translator(lang_of(request))("upload.no_file"), field="file")
    try:
        data = file.file.read(limit + 1)
    finally:
        file.file.close()  # the form's spooled copy: read once, closed at once
    if len(data) > limit:
        raise Invalid(
            Translator(lang_of(request))("upload.too_large", limit=f"{limit / 1_000_000:g}"),
            field="file",
            value=file.filename,
        )
    return file.filename, data


def checked_view(request: Request, checked: datasets.Checked) -> dict[str, Any]:
    """What the pages show of a check: each problem in the page's language, the preview's bad cells."""
    t = Translator(lang_of(request))
    spec = instruments.scoring_spec(checked.inst)
    texts = [datasets.problem_text(t, p, spec) for p in checked.problems]
    return {
        "filename": checked.filename,
        "ok": checked.ok,
        "n_problems": len(texts),
        "problems": texts[:MAX_PROBLEMS_SHOWN],
        "more": max(0, len(texts) - MAX_PROBLEMS_SHOWN),
        "header": checked.header,
        "preview": checked.preview,
        "bad": checked.bad_cells(),
        "bad_rows": {p.row for p in checked.problems if p.row and p.column is None},
        "bad_columns": checked.bad_columns(),
        "n_rows": checked.n_rows,
        "unused": checked.unused,
        "instrument": checked.inst.ref,
    }


def _instrument_choice(request: Request, ref: str) -> instruments.Instrument:
    iid, _, version = ref.partition("@")
    if (iid, version) not in {(i, v) for i, v, _, _ in scored_instruments()}:
        raise Invalid(Translator(lang_of(request))("upload.bad_instrument"), field="instrument", value=ref)
    return facade.instrument(iid, version)


@router.get("/datasets")
def dataset_form(request: Request, principal: Researcher) -> Response:
    return render(
        request,
        "research/datasets.html",
        available=scored_instruments(),
        values={"instrument": "", "missing": "", "groups": ""},
        error=None,
        checked=None,
        max_mb=f"{request.app.state.settings.max_upload_bytes / 1_000_000:g}",
    )


@router.post("/datasets")
def dataset_check(request: Request, principal: Researcher, form: Form, session: SessionDep, ip: IpDep) -> Response:
    """Check an uploaded file against a questionnaire: every problem by row, item and value, the first
    rows with the bad cells marked. Nothing is kept. With ``action=analyse``, a file without problems
    is shown at once as the technical report (the same report as a study's)."""
    values = {k: str(form.get(k) or "") for k in ("instrument", "missing", "groups")}
    page: dict[str, Any] = {
        "available": scored_instruments(),
        "values": values,
        "max_mb": f"{request.app.state.settings.max_upload_bytes / 1_000_000:g}",
    }
    try:
        filename, data = _upload(request, form)
        inst = _instrument_choice(request, values["instrument"])
    except Invalid as exc:
        return render(request, "research/datasets.html", status=422, error=exc.detail, checked=None, **page)
    checked = datasets.check_upload(
        inst, filename, data, missing_codes=_codes(values["missing"]), covariates=_codes(values["groups"])
    )
    view = checked_view(request, checked)
    if checked.dataset is None or not checked.ok:
        return render(request, "research/datasets.html", status=422, error=None, checked=view, **page)
    if form.get("action") == "analyse":
        from reports import technical

        ds = checked.dataset
        if ds.n_rows < studies.MIN_ANALYSIS_ROWS:
            error = Translator(lang_of(request))("upload.too_few", n=studies.MIN_ANALYSIS_ROWS)
            return render(request, "research/datasets.html", status=422, error=error, checked=view, **page)
        groups = [c for c in ds.covariates.columns if ds.covariates[c].dropna().nunique() >= 2]
        with np.errstate(divide="ignore", invalid="ignore"):  # undefined statistics are named in the report
            try:
                report = technical.analyze(inst, ds, groups=groups)
            except ValueError:
                report = technical.analyze(inst, ds)  # groups too small for DIF: the rest still stands
        resp = Response(technical.render(report, "html", lang_of(request)), media_type="text/html; charset=utf-8")
        resp.headers["Content-Security-Policy"] = REPORT_CSP
        return _finish(request, resp)
    return render(request, "research/datasets.html", error=None, checked=view, **page)


# -- field collection: XLSForm out, ODK Collect / KoboToolbox submissions in ---------------------------


@router.get("/studies/{study_id}/xlsform/{instrument}")
def study_xlsform(
    request: Request, study_id: str, instrument: str, principal: Researcher, session: SessionDep
) -> Response:
    """The XLSForm of one of the study's questionnaires (both languages), checked with pyxform."""
    import tempfile
    from pathlib import Path

    from instruments import xlsform as xf

    study = studies.get(session, principal, study_id)
    entry = next((e for e in study.instruments if e["id"] == instrument), None)
    if entry is None:
        raise NotFound(f"the study has no instrument {instrument!r}", field="instrument", value=instrument)
    inst = facade.instrument(entry["id"], entry["version"])
    with tempfile.TemporaryDirectory() as tmp:
        path = xf.write_xlsform(inst, Path(tmp) / "form.xlsx")
        xf.validate_xlsform(path)
        body = path.read_bytes()
    name = f"{inst.id}-{inst.version}-xlsform.xlsx"
    return file_response(request, body, studies.EXPORT_FORMATS["xlsx"], name)


@router.post("/studies/{study_id}/submissions")
def import_submissions(
    request: Request, study_id: str, principal: Researcher, form: Form, session: SessionDep, ip: IpDep
) -> Response:
    """Import a field tool's export into the study: all or nothing; a submission imported before is
    counted, not added again (so sending the same file twice is harmless)."""
    values = {k: str(form.get(k) or "") for k in ("instrument", "missing")}
    try:
        filename, data = _upload(request, form)
    except Invalid as exc:
        return _study_page(request, principal, session, study_id, import_error=exc.detail, import_values=values)

    def work() -> Any:
        return studies.import_submissions(
            session,
            principal,
            study_id,
            values["instrument"],
            filename,
            data,
            _codes(values["missing"]),
            ip,
            max_bytes=request.app.state.settings.max_upload_bytes,
        )

    report, error = attempt(session, work)
    if isinstance(error, studies.ImportProblems):
        study = studies.get(session, principal, study_id)
        return render(
            request,
            "research/study_import.html",
            status=422,
            study=study,
            title=studies.title(study, lang_of(request)),
            checked=checked_view(request, error.checked),
        )
    if isinstance(error, Conflict):  # lost a race with the same import: sending it again is safe
        detail = Translator(lang_of(request))("fieldwork.race")
        return _study_page(request, principal, session, study_id, import_error=detail, import_values=values)
    if error is not None:
        raise page_error(error)
    return _study_page(request, principal, session, study_id, import_report=report, import_values=values)
