from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Response
from fastapi.responses import JSONResponse

from api.deps import IdempotencyDep, IpDep, PrincipalDep, SessionDep, SettingsDep, VaultDep
from api.domain import beneficiaries as ben
from api.domain import reporting
from api.domain import results as results_domain
from api.routes.common import REPORT_FILES, Page, ReportQueryDep, documented, idempotent, result_view
from api.schemas import (
    BeneficiaryCreate,
    BeneficiaryPage,
    BeneficiaryPublic,
    BeneficiaryUpdate,
    BreakGlass,
    ReportView,
    ResultPublic,
    SubjectDocument,
)

router = APIRouter(prefix="/v1/beneficiaries", tags=["beneficiaries"])


@router.post("", status_code=201, **documented(BeneficiaryPublic, 201))
def create(
    body: BeneficiaryCreate,
    principal: PrincipalDep,
    session: SessionDep,
    vault: VaultDep,
    ip: IpDep,
    idem: IdempotencyDep,
) -> JSONResponse:
    return idempotent(
        idem,
        body.model_dump(),
        lambda: ben.create(
            session, principal, vault, body.name, body.contact, body.gender, body.birth_year, ip, body.region
        ),
        lambda code: ben.read(session, principal, vault, code, ip),
    )


@router.get("", **documented(BeneficiaryPage))
def listing(
    principal: PrincipalDep,
    session: SessionDep,
    vault: VaultDep,
    ip: IpDep,
    page: Annotated[Page, Depends()],
    search: str | None = None,
) -> dict[str, Any]:
    items, total = ben.listing(session, principal, vault, search, page.offset, page.limit, ip)
    return page.wrap(items, total)


@router.get("/{code}", **documented(BeneficiaryPublic))
def read(code: str, principal: PrincipalDep, session: SessionDep, vault: VaultDep, ip: IpDep) -> dict[str, Any]:
    return ben.read(session, principal, vault, code, ip)


@router.patch("/{code}", **documented(BeneficiaryPublic))
def update(
    code: str, body: BeneficiaryUpdate, principal: PrincipalDep, session: SessionDep, vault: VaultDep, ip: IpDep
) -> dict[str, Any]:
    """Record or correct where the person lives (``region``: an id of ``GET /v1/regions``, null clears it)."""
    return ben.set_region(session, principal, vault, code, body.region, ip)


@router.get("/{code}/export", **documented(SubjectDocument))
def export(code: str, principal: PrincipalDep, session: SessionDep, vault: VaultDep, ip: IpDep) -> dict[str, Any]:
    """Everything held on this person (a data-subject access request)."""
    return ben.export(session, principal, vault, code, ip)


@router.post("/{code}/break-glass", **documented(SubjectDocument))
def break_glass(
    code: str, body: BreakGlass, principal: PrincipalDep, session: SessionDep, vault: VaultDep, ip: IpDep
) -> dict[str, Any]:
    """The admin's emergency read of everything held on a person, with a reason (at least 20
    characters). Audited as ``break_glass`` and shown as an alert in the audit log."""
    return ben.break_glass(session, principal, vault, code, body.reason, ip)


@router.post("/{code}/close", status_code=204)
def close(code: str, principal: PrincipalDep, session: SessionDep, ip: IpDep) -> None:
    ben.close(session, principal, code, ip)


@router.get("/{code}/results")
def results(code: str, principal: PrincipalDep, session: SessionDep, ip: IpDep) -> list[ResultPublic]:
    """Every result of the person, the latest administration first; superseded ones are marked."""
    return [
        result_view(e.result, code, e.superseded_by, e.administered)
        for e in results_domain.of_person(session, principal, code, ip)
    ]


@router.get("/{code}/profile", response_class=Response, **documented(ReportView, files=REPORT_FILES))
def profile(
    code: str,
    principal: PrincipalDep,
    session: SessionDep,
    settings: SettingsDep,
    ip: IpDep,
    q: ReportQueryDep,
) -> Response:
    """The integrated primary career-orientation profile (latest result of each instrument)."""
    body, media = reporting.profile_report(session, principal, settings, code, q.lang, q.audience, q.format, ip, q.norm)
    return q.download(body, media, f"profile-{code}")
