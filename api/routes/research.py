"""Norm tables and research data: researchers see aggregates and study pseudonyms only."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Response

from api.deps import IpDep, PrincipalDep, SessionDep, SettingsDep
from api.domain import predictive, research
from api.routes.common import Page, documented
from api.schemas import ItemAnalysis, NormTableRows, NormTableSummary, ResearchPage, RetentionStudy, RetentionTooFew

router = APIRouter(prefix="/v1", tags=["research"])


def _file_stem(*parts: str) -> str:
    return "-".join(re.sub(r"[^A-Za-z0-9._-]+", "_", p) for p in parts)


@router.get("/norms", **documented(list[NormTableSummary]))
def norms(principal: PrincipalDep) -> list[dict[str, Any]]:
    """The norm tables in instruments/data/norms/ (none until a real sample is normed)."""
    return research.norm_tables(principal)


@router.get("/norms/{instrument}/{norm_id}", **documented(NormTableRows))
def norm(instrument: str, norm_id: str, principal: PrincipalDep) -> dict[str, Any]:
    return research.norm_table(principal, instrument, norm_id)


@router.get("/research/results", **documented(ResearchPage, files=["text/csv"]))
def research_results(
    principal: PrincipalDep,
    session: SessionDep,
    settings: SettingsDep,
    ip: IpDep,
    page: Annotated[Page, Depends()],
    instrument: Annotated[str, Query(description="the instrument whose current results are exported, e.g. its id")],
    study: Annotated[
        str,
        Query(
            min_length=3,
            max_length=64,
            description="your study's name: every person gets a pseudonym of their own in each study (a keyed "
            "hash of the study and the person), stable within the study and unlinkable across studies",
        ),
    ],
    format: Annotated[
        Literal["json", "csv"],
        Query(description="json: one page (offset, limit); csv: every current result as one table"),
    ] = "json",
) -> dict[str, Any] | Response:
    """Current scores of one instrument, each under a study pseudonym; no names, codes or contacts.

    Quasi-identifiers are coarsened: the birth year becomes an age band (``<18``, ``18-24``, …,
    ``65+``, the age reached in the year scored) and the scoring time its month (``YYYY-MM``, in
    the service's time zone). ``smallest_group`` (CSV: the ``X-Smallest-Group`` header) is the
    export's k: the fewest results sharing one gender, age band and month. ``format=csv`` gives
    every field of the record as a dotted column (``scales.<id>.score``, …).
    """
    key, zone = settings.research_pseudonym_key, settings.time_zone
    if format == "csv":
        out = research.results(session, principal, key, instrument, study, 0, 10**9, ip, zone)
        return Response(
            research.results_csv(out.items).encode("utf-8"),
            media_type="text/csv; charset=utf-8",
            headers={
                "Content-Disposition": f'attachment; filename="{_file_stem(instrument, study)}.csv"',
                "X-Smallest-Group": str(out.smallest_group),
                "Cache-Control": "no-store",
            },
        )
    out = research.results(session, principal, key, instrument, study, page.offset, page.limit, ip, zone)
    return {**page.wrap(out.items, out.total), "smallest_group": out.smallest_group}


@router.get("/research/item-analysis", **documented(ItemAnalysis))
def item_analysis(
    principal: PrincipalDep,
    session: SessionDep,
    ip: IpDep,
    instrument: str,
    version: str | None = None,
    missing: Annotated[
        Literal["pairwise", "listwise_scale", "listwise"],
        Query(
            description="skipped answers: pairwise (each covariance from the rows answering both items, psych's "
            "default), listwise_scale (each scale from the rows that answered all of its items) or listwise "
            "(only the administrations that answered every scored item)"
        ),
    ] = "pairwise",
) -> dict[str, Any]:
    """Item statistics, α with its interval, ω, λ6, split-half, SEM and scale correlations of the stored answers.

    ``n`` counts the stored administrations, ``n_analysed`` those the policy keeps; ``missing`` and
    ``missing_description`` name the policy, ``scores_policy`` how the scale scores behind the mean
    and SD treat skipped items."""
    return research.item_analysis(session, principal, instrument, version, ip, missing)


@router.get("/research/retention", **documented(RetentionStudy | RetentionTooFew))
def retention_study(principal: PrincipalDep, session: SessionDep, settings: SettingsDep, ip: IpDep) -> dict[str, Any]:
    """Predictive validity (aggregates only): job retention by interest–occupation congruence (Iachan M)
    band, Cox regressions (HR per SD) with 95 % intervals, and the smallest effect detectable with 80 %
    power in the sample at hand."""
    return predictive.study(session, principal, settings, ip)
