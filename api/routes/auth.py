from __future__ import annotations

from fastapi import APIRouter, Request, Response

from api.deps import COOKIE, IpDep, PrincipalDep, SessionDep, SettingsDep, start_session
from api.domain import accounts
from api.schemas import Login

router = APIRouter(prefix="/v1/auth", tags=["auth"])


@router.post("/login")
def login(
    body: Login, request: Request, response: Response, session: SessionDep, settings: SettingsDep, ip: IpDep
) -> dict[str, object]:
    user = accounts.login(session, body.username, body.password, ip)
    start_session(request, response, settings, user.id)
    return {"username": user.username, "role": user.role, "organisation": user.organisation}


@router.post("/logout", status_code=204)
def logout(response: Response) -> Response:
    response.delete_cookie(COOKIE)
    response.status_code = 204
    return response


@router.get("/me")
def me(principal: PrincipalDep) -> dict[str, object]:
    return {
        "kind": principal.kind,
        "name": principal.name,
        "role": principal.role,
        "organisation": principal.organisation,
        "scopes": sorted(principal.scopes),
    }
