"""The employment officer's inbox: the packets sent to their organisation that they may read now."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from api.deps import IpDep, SessionDep
from api.domain import packets as pk
from api.domain.access import Principal

from .core import Need, WebRoute, render

router = APIRouter(route_class=WebRoute, include_in_schema=False)

InboxReader = Annotated[Principal, Depends(Need("packets.inbox"))]


@router.get("/inbox")
def inbox(request: Request, principal: InboxReader, session: SessionDep, ip: IpDep) -> Response:
    return render(request, "inbox.html", rows=pk.inbox(session, principal, ip))
