"""What every page shares: strings and language, the signed-in user, CSRF, rendering, errors.

Pages are server-rendered Jinja2 (autoescaped, ``StrictUndefined``: a missing
value fails the render instead of printing a blank). A domain refusal raised
while a page works is turned into a ``PageError`` *before* it leaves the
route, so the request's transaction still sees an exception and rolls back;
the error page is rendered afterwards by an exception handler.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import re
import secrets
import tomllib
from collections.abc import Callable, Coroutine
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, TypeVar
from urllib.parse import quote, urlencode

from fastapi import Depends, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.routing import APIRoute
from jinja2 import Environment, FileSystemLoader, StrictUndefined, pass_context
from jinja2.runtime import Context
from markupsafe import Markup, escape
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

import reports
from api import scoring_facade as facade
from api.deps import CSRF_COOKIE, Identity, busy, identify
from api.domain.access import Principal
from api.domain.errors import Conflict, DomainError, Forbidden, Invalid, NotAuthenticated, NotFound, TooManyAttempts

HERE = Path(__file__).parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"
STRINGS = HERE / "strings"
LANGS = ("ka", "en")
LANG_COOKIE = "pfo_lang"
SHARED_COOKIE = "pfo_shared"
"""Marks a device staff handed to respondents or signed in on as shared: its respondent pages close
after ``respondent_idle_minutes`` without input (a person's own phone keeps its page open)."""
_MTAVRULI = re.compile("[\u1c90-\u1cbf]")
T = TypeVar("T")
log = logging.getLogger("proforient.web")


# -- strings -----------------------------------------------------------------------------------


def _flatten(prefix: str, node: object, out: dict[str, str]) -> None:
    if isinstance(node, dict):
        for k, v in node.items():
            _flatten(f"{prefix}.{k}" if prefix else str(k), v, out)
    elif isinstance(node, str):
        out[prefix] = node
    else:
        raise TypeError(f"{prefix}: a UI string must be text, not {type(node).__name__}")


@lru_cache(maxsize=4)
def strings(lang: str) -> dict[str, str]:
    """The UI strings of one language as flat dotted keys (``nav.beneficiaries``)."""
    if lang not in LANGS:
        raise ValueError(f"no UI strings for {lang!r}")
    out: dict[str, str] = {}
    _flatten("", tomllib.loads((STRINGS / f"{lang}.toml").read_text(encoding="utf-8")), out)
    return out


class Translator:
    """``t("nav.inbox", **values)``: a missing key is an error, never a blank or the other language."""

    def __init__(self, lang: str) -> None:
        self.lang = lang
        self.table = strings(lang)

    def __call__(self, key: str, **kw: object) -> str:
        try:
            text = self.table[key]
        except KeyError:
            raise KeyError(f"UI string {key!r} is missing in {self.lang}.toml") from None
        return text.format(**kw) if kw else text

    def has(self, key: str) -> bool:
        return key in self.table


def lang_of(request: Request) -> str:
    """``?lang=`` first (it also sets the cookie), then the cookie, then Georgian."""
    q = request.query_params.get("lang")
    if q in LANGS:
        return q
    c = request.cookies.get(LANG_COOKIE)
    return c if c in LANGS else "ka"


# -- who is signed in --------------------------------------------------------------------------


def identity(request: Request) -> Identity | None:
    """The session cookie's user and the stage of their sign-in (pages are for people; API keys are
    for the REST API). The session is checked in the database on every request."""
    if not hasattr(request.state, "identity"):
        request.state.identity = identify(request, keys=False)
    return request.state.identity  # type: ignore[no-any-return]


def signed_in(request: Request) -> Principal | None:
    """The signed-in user (a sign-in still waiting for a new password or a code does not count)."""
    ident = identity(request)
    return ident.principal if ident is not None and ident.stage == "full" else None


class Need:
    """A page's guard: signed in, and allowed ``action`` by the same policy as the API.

    Every staff page declares one, so a page nobody listed is refused (deny by default). A sign-in
    half done is sent on to its next step (a new password, the one-time code)."""

    def __init__(self, *actions: str) -> None:
        self.actions = actions

    def __call__(self, request: Request) -> Principal:
        ident = identity(request)
        if ident is None:
            raise NotAuthenticated("sign in first")
        if ident.stage == "password":
            raise PageError(401, "password")
        if ident.stage == "totp":
            raise PageError(401, "totp")
        p = ident.principal
        request.state.principal = p
        for action in self.actions:
            p.require(action)
        return p


def half_signed_in(stage: str) -> Callable[[Request], Principal]:
    """The guard of a sign-in step: a session at ``stage`` (or, for 'password', a full one too)."""

    def guard(request: Request) -> Principal:
        ident = identity(request)
        if ident is None:
            raise NotAuthenticated("sign in first")
        if ident.stage != stage and not (stage == "password" and ident.stage == "full"):
            raise PageError(401, "totp" if ident.stage == "totp" else "signin")
        request.state.principal = ident.principal if ident.stage == "full" else None
        request.state.stage = ident.stage
        return ident.principal

    return guard


def optional_principal(request: Request) -> Principal | None:
    p = signed_in(request)
    request.state.principal = p
    return p


MaybePrincipal = Annotated[Principal | None, Depends(optional_principal)]


# -- CSRF --------------------------------------------------------------------------------------


def _csrf_for(request: Request, cookie: str) -> str:
    key = request.app.state.settings.secret_key.encode()
    return hmac.new(key, f"csrf|{cookie}".encode(), hashlib.sha256).hexdigest()[:40]


def _csrf_cookie(request: Request) -> str:
    """The browser's CSRF cookie, or a new one to set with this response (always a new one right
    after a sign-in: a token planted before it is not carried over)."""
    if getattr(request.state, "new_csrf", None):
        return request.state.new_csrf  # type: ignore[no-any-return]
    existing = request.cookies.get(CSRF_COOKIE)
    if existing and re.fullmatch(r"[A-Za-z0-9_\-]{20,80}", existing):
        return existing
    if not hasattr(request.state, "new_csrf"):
        request.state.new_csrf = secrets.token_urlsafe(24)
    return request.state.new_csrf  # type: ignore[no-any-return]


async def checked_form(request: Request) -> FormData:
    """A posted form whose CSRF token matches the browser's cookie (signed double submit)."""
    form = await request.form()
    cookie = request.cookies.get(CSRF_COOKIE)
    token = form.get("csrf")
    if not cookie or not isinstance(token, str) or not hmac.compare_digest(token, _csrf_for(request, cookie)):
        raise PageError(403, "csrf")
    return form


Form = Annotated[FormData, Depends(checked_form)]


# -- errors ------------------------------------------------------------------------------------


class PageError(Exception):
    """A refusal to show as a page: status, a UI string key under ``error.``, the domain's detail."""

    def __init__(self, status: int, kind: str, detail: str | None = None, retry_after: int | None = None) -> None:
        super().__init__(detail or kind)
        self.status, self.kind, self.detail = status, kind, detail
        self.retry_after = retry_after


def page_error(exc: DomainError) -> PageError:
    if isinstance(exc, NotAuthenticated):
        return PageError(401, "signin", exc.detail)
    if isinstance(exc, TooManyAttempts):
        return PageError(429, "paused", exc.detail, retry_after=exc.retry_after)
    if isinstance(exc, Forbidden):
        return PageError(403, "forbidden", exc.detail)
    if isinstance(exc, NotFound):
        return PageError(404, "not_found", exc.detail)
    if isinstance(exc, Conflict):
        return PageError(409, "conflict", exc.detail)
    if isinstance(exc, Invalid):
        return PageError(422, "invalid", exc.detail)
    return PageError(400, "invalid", exc.detail)


class WebRoute(APIRoute):
    """Turns domain refusals into ``PageError`` inside the route, so the transaction rolls back."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        original = super().get_route_handler()

        async def handler(request: Request) -> Response:
            try:
                return await original(request)
            except DomainError as exc:
                raise page_error(exc) from exc
            except RequestValidationError as exc:
                raise PageError(400, "invalid", "; ".join(str(e.get("msg")) for e in exc.errors())) from exc
            except PageError:
                raise
            except Exception as exc:  # a page, not a JSON problem; the details stay in the log
                if busy(exc) is not None:
                    raise PageError(503, "busy") from exc
                log.exception("unexpected error on %s %s", request.method, request.url.path)
                raise PageError(500, "internal") from exc

        return handler


def attempt(session: Session, work: Callable[[], T]) -> tuple[T | None, DomainError | None]:
    """Run ``work`` in a savepoint: on a domain refusal nothing it wrote stays, and the page
    can show the refusal next to the form instead of an error page."""
    try:
        with session.begin_nested():
            return work(), None
    except DomainError as exc:
        return None, exc


# -- rendering ---------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def env() -> Environment:
    e = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    e.filters["day"] = _day
    e.filters["when"] = _when
    e.filters["head"] = lambda text, lang: reports.heading_case(text, lang)  # a name standing as a heading
    e.filters["listed"] = lambda items, lang: reports.strings(lang).join(items, mid_sentence=True)  # "a, b and c"
    e.filters["whole_words"] = whole_words
    e.globals["regions"] = _regions
    return e


def _regions(lang: str) -> list[tuple[str, str]]:
    """Georgia's regions as (id, name in ``lang``), in the catalogue's order (templates: ``regions(lang)``)."""
    import instruments

    return [(r.id, r.name.get(lang)) for r in instruments.regions()]


_HYPHENATED = re.compile(r"\S*\w-\w\S*")


def whole_words(text: str | None) -> Markup:
    """A text whose lines break only at spaces: a hyphenated word ("ნაბიჯ-ნაბიჯ") is kept on one line
    (a browser may otherwise break after its hyphen). Escaped first."""
    out, at = [], 0
    raw = text or ""
    for m in _HYPHENATED.finditer(raw):
        out.append(str(escape(raw[at : m.start()])))
        out.append(f'<span class="nobr">{escape(m.group(0))}</span>')
        at = m.end()
    out.append(str(escape(raw[at:])))
    return Markup("".join(out))  # noqa: S704 (every piece of text in it was escaped above)


def number(value: Any, digits: int = 1, lang: str = "ka") -> str:
    """A number for people (``reports.format_number``: the one formatting module), '—' when missing."""
    if isinstance(value, str):
        return value or "—"
    return reports.format_number(value, digits, lang)


def _report_text(lang: str, key: str, **values: object) -> str:
    """A report text (``reports/strings``) in ``lang``: a stored report view is shown in the words of its PDF."""
    return reports.strings(lang).get(key, **values)


@pass_context
def _day(ctx: Context, value: Any) -> str:
    """A date (a stored time: its date in the configured zone), as the page's language writes it."""
    return reports.format_day(value, ctx["lang"], ctx["tz"]) or "—"


@pass_context
def _when(ctx: Context, value: Any) -> str:
    """A stored time (UTC) in the configured zone, as the page's language writes it."""
    return reports.format_when(value, ctx["lang"], ctx["tz"]) or "—"


NAV = (
    ("/beneficiaries", "nav.beneficiaries", "beneficiaries.read"),
    ("/registry", "nav.registry", "packets.registry"),
    ("/follow-ups", "nav.followups", "followups.schedule"),
    ("/inbox", "nav.inbox", "packets.inbox"),
    ("/report-batches", "nav.batches", "reports.read"),
    ("/indicators", "nav.indicators", "indicators.read"),
    ("/admin/users", "nav.users", "accounts.manage"),
    ("/admin/api-clients", "nav.api_clients", "accounts.manage"),
    ("/admin/audit", "nav.audit", "audit.read"),
    ("/admin/settings", "nav.settings", "settings.read"),
    ("/studies", "nav.studies", "studies.manage"),
    ("/datasets", "nav.datasets", "studies.manage"),
    ("/norm-tables", "nav.norm_tables", "studies.manage"),
    ("/downloads", "nav.downloads", "studies.manage"),
)


def nav_for(p: Principal | None) -> list[tuple[str, str]]:
    """The menu: only what the role may open."""
    return [] if p is None else [(href, key) for href, key, action in NAV if p.can(action)]


def home_for(p: Principal) -> str:
    items = nav_for(p)
    return items[0][0] if items else "/home"


SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",  # links carry hand-over codes: never send them elsewhere
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
}


def _finish(request: Request, resp: Response) -> Response:
    for k, v in SECURITY_HEADERS.items():
        resp.headers.setdefault(k, v)
    settings = request.app.state.settings
    already = any(h.startswith(f"{CSRF_COOKIE}=") for h in resp.headers.getlist("set-cookie"))
    if getattr(request.state, "new_csrf", None) and not already:
        resp.set_cookie(
            CSRF_COOKIE, request.state.new_csrf, httponly=True, samesite="strict", secure=settings.cookie_secure
        )
    q = request.query_params.get("lang")
    if q in LANGS and request.cookies.get(LANG_COOKIE) != q:
        resp.set_cookie(
            LANG_COOKIE, q, max_age=365 * 24 * 3600, samesite="lax", secure=settings.cookie_secure, httponly=True
        )
    return resp


def mark_shared(request: Request, resp: Response, shared: bool) -> None:
    """Remember on this device whether it is shared (a shelter's tablet, a device handed over)."""
    if shared:
        settings = request.app.state.settings
        resp.set_cookie(
            SHARED_COOKIE, "1", max_age=90 * 24 * 3600, httponly=True, samesite="strict", secure=settings.cookie_secure
        )
    elif request.cookies.get(SHARED_COOKIE):
        resp.delete_cookie(SHARED_COOKIE)


def lang_url(request: Request, lang: str) -> str:
    params = [(k, v) for k, v in request.query_params.multi_items() if k != "lang"] + [("lang", lang)]
    return f"{request.url.path}?{urlencode(params)}"


def render(request: Request, template: str, status: int = 200, **ctx: Any) -> Response:
    lang = lang_of(request)
    principal = getattr(request.state, "principal", None)
    context = {
        "t": Translator(lang),
        "lang": lang,
        "principal": principal,
        "nav": nav_for(principal),
        "path": request.url.path,
        "csrf": _csrf_for(request, _csrf_cookie(request)),
        "lang_urls": {code: lang_url(request, code) for code in LANGS},
        "layout": "staff",
        "idle_minutes": request.app.state.settings.respondent_idle_minutes
        if request.url.path.startswith("/r/") and request.cookies.get(SHARED_COOKIE) == "1"
        else 0,
        "tz": request.app.state.settings.time_zone,
        "n": lambda value, digits=1: number(value, digits, lang),
        "rt": _report_text,
        "chart_min": chart_min_class,
        **ctx,
    }
    html = env().get_template(template).render(context)
    return _finish(request, HTMLResponse(html, status_code=status))


def chart_uris(view: dict[str, Any]) -> dict[str, str]:
    """A report view's charts as data: URIs for <img> (the same charts the report file carries)."""
    import reports

    return {
        name: "data:image/svg+xml;base64," + base64.b64encode(svg).decode("ascii")
        for name, svg in reports.view_charts(view).items()
    }


CHART_LABEL_MIN_PX = 11.0
"""The smallest a chart's label may be drawn on a page; a narrower screen scrolls the chart in its box."""
_SVG_WIDTH = re.compile(r'viewBox="[-\d.]+ [-\d.]+ ([\d.]+) [\d.]+"')
_SVG_FONT = re.compile(r"""font(?:-size)?(?::\s*|=")(?:[a-z]+\s+)*([\d.]+)px""")
"""A text's size in an SVG: in a style (``font: 10px …``, ``font-size: 10px``) or as an attribute
(``font-size="7px"``, as matplotlib writes text kept as text)."""


def chart_min_class(uri: str) -> str:
    """``chart_min_width`` as a class (``cmin-800``: steps of 50 px, 300 … 1400) for the page's style
    sheet (the pages' Content-Security-Policy allows no inline style)."""
    px = chart_min_width(uri)
    return f"cmin-{min(1400, max(300, -(-px // 50) * 50))}" if px else ""


@lru_cache(maxsize=256)
def chart_min_width(uri: str) -> int:
    """The narrowest a chart (a data: URI of an SVG) may be shown with its smallest label still at
    least ``CHART_LABEL_MIN_PX`` (its own units scale with its width); 0 when it has no text."""
    svg = base64.b64decode(uri.split(",", 1)[1]).decode("utf-8", "replace")
    width = _SVG_WIDTH.search(svg)
    sizes = [float(m) for m in _SVG_FONT.findall(svg) if float(m) > 0]
    if width is None or not sizes:
        return 0
    return int(-(-CHART_LABEL_MIN_PX * float(width.group(1)) // min(sizes)))


def redirect(request: Request, url: str, **params: str) -> Response:
    """303 See Other (after a POST the browser GETs the next page: a reload never posts twice)."""
    if params:
        url = f"{url}?{urlencode(params)}"
    return _finish(request, RedirectResponse(url, status_code=303))


def safe_next(target: str | None) -> str | None:
    """Only a path on this site (no scheme, no '//host'): never an open redirect."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return None


def file_response(request: Request, data: bytes, media_type: str, filename: str) -> Response:
    resp = Response(data, media_type=media_type)
    resp.headers["Content-Disposition"] = f'attachment; filename="{quote(filename)}"'
    return _finish(request, resp)


async def handle_page_error(request: Request, exc: Exception) -> Response:
    """Render a ``PageError`` (after the transaction was rolled back): sign-in redirect or an error page."""
    assert isinstance(exc, PageError)
    if exc.status == 401:
        if exc.kind == "password":
            return redirect(request, "/account/password")
        if exc.kind == "totp":
            return redirect(request, "/sign-in/code")
        nxt = request.url.path if request.method == "GET" else None
        return redirect(request, "/sign-in", **({"next": nxt} if nxt else {}))
    if not hasattr(request.state, "principal"):
        request.state.principal = signed_in(request)
    resp = render(
        request,
        "error.html",
        status=exc.status,
        kind=exc.kind,
        detail=exc.detail if request.state.principal is not None else None,
        layout="staff"
        if request.state.principal is not None
        else ("respondent" if request.url.path.startswith("/r") else "public"),
    )
    if exc.status == 503:
        resp.headers["Retry-After"] = "2"
    if exc.retry_after is not None:
        resp.headers["Retry-After"] = str(exc.retry_after)
    return resp


def instrument_title(instrument_id: str, version: str, lang: str) -> str:
    """The title of the definition version a result or administration belongs to."""
    return facade.instrument(instrument_id, version).title.get(lang)


def orgs(request: Request) -> list[tuple[str, str]]:
    """The organisations packets may be addressed to, as (id, name in the page's language)."""
    lang = lang_of(request)
    return [(o.id, o.name_ka if lang == "ka" else o.name_en) for o in request.app.state.settings.organisations]


def org_name(request: Request, org_id: str) -> str:
    """An organisation's name in the page's language (its id when it is no longer configured)."""
    org = request.app.state.settings.organisation(org_id)
    if org is None:
        return org_id
    name: str = org.name_ka if lang_of(request) == "ka" else org.name_en
    return name
