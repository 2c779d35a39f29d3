"""Real API processes for the tests that need them: uvicorn servers sharing one database
(SQLite file or PostgreSQL), started as a user would start them, and killed with SIGKILL
where a test says so."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from cryptography.fernet import Fernet

from api.db.session import Database, migrate
from api.domain import accounts
from api.domain.access import SYSTEM

USERS = {
    "psy": ("listens-carefully-1", "psychologist", None),
    "sw": ("social-worker-1", "social_worker", None),
    "boss": ("keeps-the-accounts-1", "admin", None),
    "officer": ("finds-good-jobs-1", "employment_officer", "ssa-employment"),
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def prepare(url: str) -> None:
    """Migrate ``url`` and create the test users."""
    migrate(url)
    db = Database(url)
    try:
        with db.write() as s:
            for name, (password, role, org) in USERS.items():
                accounts.create_user(s, SYSTEM, name, password, role, org)
    finally:
        db.dispose()


@dataclass
class Servers:
    urls: list[str]
    procs: list[subprocess.Popen[bytes]]
    env: dict[str, str]
    clients: list[httpx.Client] = field(default_factory=list)

    def login(self, k: int, user: str, timeout: float = 30) -> httpx.Client:
        c = httpx.Client(base_url=self.urls[k % len(self.urls)], timeout=timeout)
        self.clients.append(c)
        r = c.post("/v1/auth/login", json={"username": user, "password": USERS[user][0]})
        assert r.status_code == 200, r.text
        return c

    def workers(self, k: int) -> list[int]:
        """The worker processes of server ``k`` (uvicorn's master restarts a killed one)."""
        out = subprocess.run(["pgrep", "-P", str(self.procs[k].pid)], capture_output=True, text=True).stdout
        return [int(p) for p in out.split()]

    def kill_worker(self, k: int, n: int = 0) -> int | None:
        pids = self.workers(k)
        if not pids:
            return None
        pid = pids[n % len(pids)]
        os.kill(pid, signal.SIGKILL)
        return pid


def wait_ready(url: str, seconds: float = 90) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            with httpx.Client(timeout=5) as probe:  # a loaded machine answers slowly, not never
                if probe.get(f"{url}/healthz").status_code == 200:
                    return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"server {url} did not start")


@contextmanager
def servers(
    url: str, tmp_path: Path, n: int = 2, workers: int = 1, instance_keys: str | None = None, **settings: str
) -> Iterator[Servers]:
    """``n`` uvicorn servers (``workers`` processes each) on one database; ``settings``: more
    ``PROFORIENT_*`` variables (e.g. ``threads="8"``). ``instance_keys``: the data keys come from the
    instance's settings.toml (this line, e.g. ``data_keys = "…"``), not from the environment."""
    env = {
        **os.environ,
        "PYTHONPATH": str(Path(__file__).resolve().parents[1]),
        "PROFORIENT_DATABASE_URL": url,
        "PROFORIENT_SECRET_KEY": "k" * 40,
        "PROFORIENT_DATA_KEYS": Fernet.generate_key().decode(),
        "PROFORIENT_INSTANCE": str(tmp_path),
        "PROFORIENT_AUDIT_CHECKPOINT_FILE": str(tmp_path / "audit-checkpoints.jsonl"),
        **{f"PROFORIENT_{k.upper()}": v for k, v in settings.items()},
    }
    if instance_keys is not None:
        del env["PROFORIENT_DATA_KEYS"]
        toml = tmp_path / "settings.toml"
        toml.write_text(f'database_url = "{url}"\nsecret_key = "{"k" * 40}"\n{instance_keys}\n', encoding="utf-8")
        toml.chmod(0o600)
    ports = [free_port() for _ in range(n)]
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "api.app:create_app",
                "--factory",
                "--port",
                str(p),
                "--workers",
                str(workers),
                "--log-level",
                "warning",
                "--no-access-log",
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for p in ports
    ]
    group = Servers([f"http://127.0.0.1:{p}" for p in ports], procs, env)
    try:
        for u in group.urls:
            wait_ready(u)
        yield group
    finally:
        for c in group.clients:
            c.close()
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)
