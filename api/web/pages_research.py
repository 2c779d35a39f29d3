"""The researcher's pages: studies (create, participation codes, progress against quotas),
analysis (the technical report in the browser), norm tables (build from a study, review,
publish), downloads. Researchers see study pseudonyms and aggregates only, never a name.

The participant's side of a study (consent first, demographic questions, then respondent mode)
is in ``pages_study``.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

import instruments
from api import service
from api.deps import IpDep, SessionDep, VaultDep
from api.domain import studies
from api.domain.access import SOCIAL_WORKER_MODELS, Principal
from api.domain.errors import Invalid

from .core import Form, Need, PageError, WebRoute, _finish, attempt, file_response, lang_of, redirect, render

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
        inst = service.instrument(iid, version)
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
    titles = {e["id"]: service.instrument(e["id"], e["version"]).title.get(lang) for e in study.instruments}
    normable = [e for e in study.instruments if not service.instrument(e["id"], e["version"]).ipsative]
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
    inst = service.instrument(row.instrument, row.instrument_version)
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
