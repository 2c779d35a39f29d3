"""Studies (norm collection): researchers define studies, give out anonymous participation codes,
follow progress against quotas, export item-level data, analyse it and build norm tables (drafts
until published). A social worker records a fund beneficiary's consent to join a study."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from api.deps import IpDep, PrincipalDep, SessionDep, VaultDep
from api.domain import studies
from api.domain.access import Principal
from api.routes.common import documented, download_only
from api.schemas import StudyEnrolment, StudyLinks, StudyNormTable, StudyPublic, StudyWithProgress, SubmissionsImport
from reports.technical import TechnicalReport

router = APIRouter(prefix="/v1/studies", tags=["studies"])


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class StudyCreate(_Body):
    title_ka: str
    title_en: str
    purpose_ka: str
    purpose_en: str
    consent_ka: str = Field(description="what a participant reads first (Georgian)")
    consent_en: str
    instruments: list[dict[str, Any]] = Field(description='[{"id": ..., "version": ...}] in answering order')
    questions: list[dict[str, Any]] = Field(
        default_factory=list,
        description='demographic questions: {"id", "ka", "en", "type": "choice"|"birth_year", "options": [...]}',
    )
    quotas: list[dict[str, Any]] = Field(default_factory=list, description='[{"question", "value", "target"}]')
    opens_on: str
    closes_on: str
    exact_quasi_identifiers: bool = Field(
        default=False, description="the protocol allows exact birth years and dates in exports"
    )


class Links(_Body):
    count: int = Field(ge=1, le=studies.MAX_LINKS)


class Enrolment(_Body):
    beneficiary: str = Field(min_length=1, max_length=16, description="the beneficiary's code")


class NormBuild(_Body):
    instrument: str
    norm_id: str
    version: str
    population: str
    description: str = ""
    min_group_n: int = 100


def _view(session: SessionDep, principal: PrincipalDep, study: Any) -> dict[str, Any]:
    return {**studies.describe(study), "progress": studies.progress(session, principal, study.id)}


@router.get("", **documented(list[StudyPublic]))
def list_studies(principal: PrincipalDep, session: SessionDep) -> list[dict[str, Any]]:
    return [studies.describe(s) for s in studies.all_studies(session, principal)]


@router.post("", status_code=201, **documented(StudyWithProgress, 201))
def create(body: StudyCreate, principal: PrincipalDep, session: SessionDep, vault: VaultDep, ip: IpDep) -> JSONResponse:
    s = studies.create(session, principal, vault, body.model_dump(), ip)
    return JSONResponse(_view(session, principal, s), status_code=201)


@router.get("/{study_id}", **documented(StudyWithProgress))
def read(study_id: str, principal: PrincipalDep, session: SessionDep) -> dict[str, Any]:
    """The study with its progress: codes given out, consents, declines, completions, quotas."""
    return _view(session, principal, studies.get(session, principal, study_id))


@router.post("/{study_id}/links", status_code=201, **documented(StudyLinks, 201))
def links(study_id: str, body: Links, principal: PrincipalDep, session: SessionDep, ip: IpDep) -> JSONResponse:
    """New anonymous participation codes (shown once); a participant opens /s/{code}."""
    codes = studies.make_links(session, principal, study_id, body.count, ip)
    return JSONResponse({"codes": codes, "paths": [f"/s/{c}" for c in codes]}, status_code=201)


@router.post("/{study_id}/enrolments", status_code=201, **documented(StudyEnrolment, 201))
def enrol(study_id: str, body: Enrolment, principal: PrincipalDep, session: SessionDep, ip: IpDep) -> JSONResponse:
    """A fund beneficiary joins: the social worker records the consent; the person's code is shown once."""
    code = studies.enrol_beneficiary(session, principal, study_id, body.beneficiary, ip)
    return JSONResponse({"code": code, "path": f"/s/{code}"}, status_code=201)


@router.get("/{study_id}/export", **download_only(*studies.EXPORT_FORMATS.values(), description="the data file"))
def export(
    study_id: str,
    principal: PrincipalDep,
    session: SessionDep,
    vault: VaultDep,
    ip: IpDep,
    format: Annotated[Literal["csv", "xlsx", "sav", "codebook"], Query()] = "csv",
    lang: Annotated[Literal["ka", "en"], Query()] = "ka",
) -> Response:
    """Item-level data of the completed participants, pseudonymized with the study's key."""
    body, media, name = studies.export(session, principal, vault, study_id, format, lang, ip)
    return Response(
        body,
        media_type=media,
        headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"},
    )


@router.get(
    "/{study_id}/analysis",
    response_class=Response,
    **documented(TechnicalReport, files=[m for f, m in studies.ANALYSIS_FORMATS.items() if f != "json"]),
)
def analysis(
    study_id: str,
    principal: PrincipalDep,
    session: SessionDep,
    vault: VaultDep,
    ip: IpDep,
    instrument: str,
    format: Annotated[Literal["html", "json", "xlsx"], Query()] = "json",
    lang: Annotated[Literal["ka", "en"], Query()] = "ka",
) -> Response:
    """The technical report of one instrument's study data (items, reliability, structure, DIF, norms);
    ``lang``: the language of the HTML page (JSON and XLSX keep English field names and notes)."""
    body, media = studies.analysis(session, principal, vault, study_id, instrument, format, ip, lang)
    return Response(body, media_type=media, headers={"Cache-Control": "no-store"})


@router.post("/{study_id}/norm-tables", status_code=201, **documented(StudyNormTable, 201))
def build_norms(
    study_id: str, body: NormBuild, principal: PrincipalDep, session: SessionDep, vault: VaultDep, ip: IpDep
) -> JSONResponse:
    """A draft norm table from the study's completed participants (reports never use drafts)."""
    row = studies.build_norm_table(session, principal, vault, study_id, body.model_dump(), ip)
    return JSONResponse(studies.describe_table(row), status_code=201)


@router.get("/{study_id}/norm-tables", **documented(list[StudyNormTable]))
def norm_tables(study_id: str, principal: PrincipalDep, session: SessionDep) -> list[dict[str, Any]]:
    studies.get(session, principal, study_id)
    return [studies.describe_table(r) for r in studies.norm_tables(session, principal, study_id)]


@router.post("/{study_id}/norm-tables/{table_id}/publish", **documented(StudyNormTable))
def publish(study_id: str, table_id: int, principal: PrincipalDep, session: SessionDep, ip: IpDep) -> dict[str, Any]:
    """Publish a draft: psychologists may then choose it in reports (as instrument/norm_id)."""
    return studies.describe_table(studies.publish(session, principal, study_id, table_id, ip))


def _researcher(principal: PrincipalDep) -> Principal:
    """The caller may manage studies: checked before an upload is read (a refusal is 403, not a form error)."""
    principal.require("studies.manage")
    return principal


@router.post("/{study_id}/submissions", status_code=201, **documented(SubmissionsImport, 201))
def import_submissions(
    study_id: str,
    request: Request,
    principal: Annotated[Principal, Depends(_researcher)],
    session: SessionDep,
    ip: IpDep,
    file: Annotated[UploadFile, File(description="the CSV or XLSX a field tool exported (ODK Central, KoboToolbox)")],
    instrument: Annotated[str, Form(description="the study's instrument whose XLSForm collected the submissions")],
    missing_codes: Annotated[str, Form(description="values meaning 'not answered', comma-separated")] = "",
) -> JSONResponse:
    """Import ODK Collect / KoboToolbox submissions: each becomes an anonymous completed participant.

    All or nothing: on any problem (answer, column, id, demographic answer) nothing is written and the
    422 problem lists every one (``errors``: row, item, value, code, reason). Idempotent on the
    submission id (``_uuid`` / ``meta/instanceID``): ``already`` counts submissions imported before."""
    limit = request.app.state.settings.max_upload_bytes
    data = file.file.read(limit + 1)
    codes = [c.strip() for c in missing_codes.replace(";", ",").split(",") if c.strip()]
    report = studies.import_submissions(
        session, principal, study_id, instrument, file.filename or "", data, codes, ip, max_bytes=limit
    )
    return JSONResponse(report, status_code=201)
