"""Helpers shared by the routers: pagination, JSON responses with a status, report downloads."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Annotated, Any, Literal

from fastapi import Depends, Query, Response
from fastapi.responses import JSONResponse

from api.schemas import ResultPublic


class Page:
    def __init__(
        self,
        offset: Annotated[int, Query(ge=0, le=1_000_000_000)] = 0,
        limit: Annotated[int, Query(ge=1, le=200)] = 50,
    ) -> None:
        self.offset, self.limit = offset, limit

    def wrap(self, items: list[Any], total: int) -> dict[str, Any]:
        nxt = self.offset + self.limit if self.offset + self.limit < total else None
        return {"items": items, "total": total, "offset": self.offset, "limit": self.limit, "next_offset": nxt}


def created(pair: tuple[int, Any]) -> JSONResponse:
    status, body = pair
    return JSONResponse(body, status_code=status)


def idempotent(
    idem: Any, key: Any, work: Callable[[], Any], replay: Callable[[str], Any] | None = None
) -> JSONResponse:
    """A creating POST under ``Idempotency-Key`` (``api.deps.Idempotency``): ``work`` makes the
    resource and returns its view; a retry answers ``replay(id)`` (the resource as it is now) with the
    first status and writes nothing. ``key`` is what identifies the request (usually the body)."""
    return created(idem.run(key, work, replay=replay))


def documented(model: Any, status: int = 200, files: Iterable[str] = ()) -> dict[str, Any]:
    """Route keywords that publish ``model`` as the JSON answer's schema (``status``) while the route
    returns its view as built in ``api.domain`` (no second validation or serialization on the way
    out); ``files``: other media types the same status may answer (``format=csv`` and the like)."""
    response: dict[str, Any] = {"model": model}
    if files:
        response["content"] = {m.split(";")[0]: {"schema": {"type": "string", "format": "binary"}} for m in files}
    return {"response_model": None, "responses": {status: response}}


def download_only(*media: str, description: str = "the file") -> dict[str, Any]:
    """Route keywords of an endpoint that answers a file: its media types, no JSON."""
    content = {m.split(";")[0]: {"schema": {"type": "string", "format": "binary"}} for m in media}
    return {"response_class": Response, "responses": {200: {"description": description, "content": content}}}


def result_view(r: Any, code: str, superseded_by: str | None = None, administered: Any = None) -> ResultPublic:
    """A stored result with everything it depends on named, and its place in its line."""
    return ResultPublic(
        id=r.id,
        beneficiary=code,
        administration=r.administration_id,
        instrument=r.instrument,
        instrument_version=r.instrument_version,
        instrument_hash=r.instrument_hash,
        engine_version=r.engine_version,
        norm_table=r.norm_table,
        kind=r.kind,
        reason=r.reason,
        supersedes=r.supersedes_id,
        superseded_by=superseded_by,
        current=superseded_by is None,
        administered_at=administered or r.created_at,
        created_at=r.created_at,
        record=r.record,
    )


Lang = Annotated[Literal["ka", "en"], Query()]
Audience = Annotated[Literal["psychologist", "employment", "beneficiary"], Query()]
Format = Annotated[Literal["html", "pdf", "json"], Query()]
Norms = Annotated[list[str] | None, Query(description="norm tables to use, as instrument/norm_id (repeatable)")]


def download(body: bytes, media: str, name: str, fmt: str) -> Response:
    disposition = "attachment" if fmt == "pdf" else "inline"
    return Response(
        body,
        media_type=media,
        headers={"Content-Disposition": f'{disposition}; filename="{name}.{fmt}"', "Cache-Control": "no-store"},
    )


class ReportQuery:
    """The query of a report: ``?lang=&audience=&format=&norm=``."""

    def __init__(
        self,
        lang: Lang = "ka",
        audience: Audience = "psychologist",
        format: Format = "html",
        norm: Norms = None,
    ) -> None:
        self.lang, self.audience, self.format, self.norm = lang, audience, format, norm

    def download(self, body: bytes, media: str, stem: str) -> Response:
        """The rendered report as ``<stem>-<audience>-<lang>.<format>``."""
        return download(body, media, f"{stem}-{self.audience}-{self.lang}", self.format)


ReportQueryDep = Annotated[ReportQuery, Depends()]
REPORT_FILES = ("text/html", "application/pdf")
"""What a report answers besides its JSON (``format=html``, ``format=pdf``)."""
