"""The web UI: server-rendered pages for psychologists, respondents, social workers and
employment officers, over the same domain functions (and permissions) as the REST API.

``install(app)`` adds the pages and their static files to an app made by
``api.app.create_app``. Pages are Georgian by default (``?lang=en`` switches,
and a cookie remembers it) and work without JavaScript; the small scripts only
add autosave, keyboard entry and live counts.
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from . import (
    pages_admin,
    pages_administer,
    pages_auth,
    pages_batches,
    pages_beneficiaries,
    pages_consents,
    pages_inbox,
    pages_intake,
    pages_outcomes,
    pages_packets,
    pages_research,
    pages_respond,
    pages_results,
    pages_study,
)
from .core import STATIC, PageError, handle_page_error


def install(app: FastAPI) -> None:
    for module in (
        pages_auth,
        pages_respond,
        pages_study,
        pages_beneficiaries,
        pages_administer,
        pages_results,
        pages_batches,
        pages_intake,
        pages_consents,
        pages_packets,
        pages_inbox,
        pages_outcomes,
        pages_admin,
        pages_research,
    ):
        app.include_router(module.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="web-static")
    app.add_exception_handler(PageError, handle_page_error)
