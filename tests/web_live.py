"""A real server for the browser tests: uvicorn in its own process on 127.0.0.1, a fresh SQLite
database, the test users; and Debian's Chromium driven by Playwright.

The listening socket is made here (port 0: the system picks a free one) and handed to uvicorn
with ``--fd``, so two test runs never race for a port. Screenshots are written only when
``PROFORIENT_SCREENSHOTS`` names a folder.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from cryptography.fernet import Fernet

from api.db.session import make_engine, migrate, session_factory, transaction
from api.domain import accounts
from api.domain.access import SYSTEM
from tests.conftest import ORGS, PASSWORDS

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True}
DESKTOP = {"viewport": {"width": 1280, "height": 900}}
SHOTS = os.environ.get("PROFORIENT_SCREENSHOTS")


@dataclass
class Live:
    url: str
    db_url: str
    clients: list[httpx.Client] = field(default_factory=list)

    def api(self, who: str | None = None) -> httpx.Client:
        """A REST client against the live server, signed in as ``who`` (closed with the server)."""
        c = httpx.Client(base_url=self.url, timeout=30)
        self.clients.append(c)
        if who is not None:
            r = c.post("/v1/auth/login", json={"username": who, "password": PASSWORDS[who]})
            assert r.status_code == 200, r.text
        return c


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    folder = tmp_path_factory.mktemp("live")
    db_url = f"sqlite:///{folder / 'web.db'}"
    migrate(db_url)
    engine = make_engine(db_url)
    with transaction(session_factory(engine)) as s:
        for name in PASSWORDS:
            role = "employment_officer" if name == "other_officer" else name
            org = {"employment_officer": "ssa-employment", "other_officer": "other-agency"}.get(name)
            accounts.create_user(s, SYSTEM, name, PASSWORDS[name], role, org)
    engine.dispose()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    port = sock.getsockname()[1]
    env = {
        **os.environ,
        "PROFORIENT_DATABASE_URL": db_url,
        "PROFORIENT_SECRET_KEY": "live-test-" + "k" * 40,
        "PROFORIENT_DATA_KEYS": Fernet.generate_key().decode(),
        "PROFORIENT_ORGANISATIONS": json.dumps([o.model_dump() for o in ORGS]),
        "PROFORIENT_INSTANCE": str(folder / "instance"),
    }
    log = (folder / "server.log").open("wb")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "api.app:create_app",
            "--factory",
            "--fd",
            str(sock.fileno()),
            "--log-level",
            "warning",
        ],
        env=env,
        pass_fds=(sock.fileno(),),
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=Path(__file__).resolve().parents[1],
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            with contextlib.suppress(httpx.HTTPError):  # not listening yet
                if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                    break
            if proc.poll() is not None or time.monotonic() > deadline:
                log.flush()
                raise RuntimeError("the server did not start:\n" + (folder / "server.log").read_text(errors="replace"))
            time.sleep(0.2)
        server = Live(url, db_url)
        yield server
        for c in server.clients:
            c.close()
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        sock.close()
        log.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


def shot(page: object, name: str) -> None:
    """A full-page screenshot for people to look at (only when PROFORIENT_SCREENSHOTS is set)."""
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / f"{name}.png"), full_page=True)  # type: ignore[attr-defined]


def sign_in(page: object, live: Live, who: str) -> None:
    page.goto(f"{live.url}/sign-in")  # type: ignore[attr-defined]
    page.fill("#username", who)  # type: ignore[attr-defined]
    page.fill("#password", PASSWORDS[who])  # type: ignore[attr-defined]
    page.click("main button[type=submit]")  # type: ignore[attr-defined]
    page.wait_for_load_state()  # type: ignore[attr-defined]
