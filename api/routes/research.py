"""Norm tables and research data: researchers see aggregates and study pseudonyms only."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from api.deps import IpDep, PrincipalDep, SessionDep, SettingsDep
from api.domain import predictive, research
from api.routes.common import Page

router = APIRouter(prefix="/v1", tags=["research"])


@router.get("/norms")
def norms(principal: PrincipalDep) -> list[dict[str, Any]]:
    """The norm tables in data/norms/ (none until a real sample is normed)."""
    return research.norm_tables(principal)


@router.get("/norms/{instrument}/{norm_id}")
def norm(instrument: str, norm_id: str, principal: PrincipalDep) -> dict[str, Any]:
    return research.norm_table(principal, instrument, norm_id)


@router.get("/research/results")
def research_results(
    principal: PrincipalDep,
    session: SessionDep,
    settings: SettingsDep,
    ip: IpDep,
    page: Annotated[Page, Depends()],
    instrument: str,
    study: Annotated[str, Query(min_length=3, max_length=64)],
) -> dict[str, Any]:
    """Scores of one instrument, each under a study pseudonym; no names, no codes, no contacts."""
    items, total = research.results(
        session, principal, settings.secret_key, instrument, study, page.offset, page.limit, ip
    )
    return page.wrap(items, total)


@router.get("/research/item-analysis")
def item_analysis(
    principal: PrincipalDep, session: SessionDep, ip: IpDep, instrument: str, version: str | None = None
) -> dict[str, Any]:
    """Item statistics, α with its interval, ω, λ6, split-half, SEM and scale correlations of the stored answers."""
    return research.item_analysis(session, principal, instrument, version, ip)


@router.get("/research/retention")
def retention_study(principal: PrincipalDep, session: SessionDep, settings: SettingsDep, ip: IpDep) -> dict[str, Any]:
    """Predictive validity (aggregates only): job retention by interest–occupation congruence (Iachan M)
    band, Cox regressions (HR per SD) with 95 % intervals, and the smallest effect detectable with 80 %
    power in the sample at hand."""
    return predictive.study(session, principal, settings, ip)
