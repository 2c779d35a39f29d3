from __future__ import annotations

from fastapi import APIRouter, Response

from api.deps import IpDep, PrincipalDep, SessionDep, SettingsDep
from api.domain import reporting, results
from api.domain.packets import find_code
from api.routes.common import REPORT_FILES, ReportQueryDep, documented, result_view
from api.schemas import Correct, ReportView, ResultPublic

router = APIRouter(prefix="/v1/results", tags=["results"])


def _view(session: SessionDep, r: object) -> ResultPublic:
    line = {e.result.id: e for e in results.entries(session, r.beneficiary_id)}  # type: ignore[attr-defined]
    e = line.get(r.id)  # type: ignore[attr-defined]
    return result_view(
        r,
        find_code(session, r.beneficiary_id),  # type: ignore[attr-defined]
        e.superseded_by if e else None,
        e.administered if e else None,
    )


@router.get("/{result_id}")
def read(result_id: str, principal: PrincipalDep, session: SessionDep, ip: IpDep) -> ResultPublic:
    """A stored result: its typed record (schema: ``/v1/schemas/record``) and its place in its line."""
    return _view(session, results.read(session, principal, result_id, ip))


@router.post("/{result_id}/rescore", status_code=201)
def rescore(result_id: str, principal: PrincipalDep, session: SessionDep, ip: IpDep) -> ResultPublic:
    """Score the stored answers again (a new engine): a new result superseding the administration's
    current one; the older ones stay readable."""
    return _view(session, results.rescore(session, principal, result_id, ip))


@router.post("/{result_id}/corrections", status_code=201)
def correct(result_id: str, body: Correct, principal: PrincipalDep, session: SessionDep, ip: IpDep) -> ResultPublic:
    """Correct answers of a submitted administration, with a reason: the change is kept (old value,
    new value, who, why) and a new result supersedes the current one. A sent packet is not changed."""
    return _view(session, results.correct(session, principal, result_id, body.answers, body.reason, ip))


@router.get("/{result_id}/report", response_class=Response, **documented(ReportView, files=REPORT_FILES))
def report(
    result_id: str,
    principal: PrincipalDep,
    session: SessionDep,
    settings: SettingsDep,
    ip: IpDep,
    q: ReportQueryDep,
) -> Response:
    """One instrument's interpretation report."""
    body, media = reporting.result_report(
        session, principal, settings, result_id, q.lang, q.audience, q.format, ip, q.norm
    )
    return q.download(body, media, f"report-{result_id[:8]}")
