"""Writers and a killer: clients create cases and submit questionnaires while worker
processes of the API are killed with SIGKILL mid-request. Every write the service
acknowledged (2xx) must be in the database afterwards; a write that was cut off may be
missing (its client was never told it succeeded). Used by ``benchmarks/chaos_kill.py``
and by the kill test.
"""

from __future__ import annotations

import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import httpx
from sqlalchemy import select

from api.db.session import Database
from api.db.tables import Beneficiary, Result
from api.domain import audit
from tests.api_helpers import answers_for
from tests.servers import USERS, Servers


@dataclass
class Outcome:
    created: list[str] = field(default_factory=list)
    """Codes of cases whose creation was acknowledged (201)."""
    submitted: list[str] = field(default_factory=list)
    """Administrations whose submit was acknowledged (201)."""
    cut: int = 0
    """Requests that got no answer (connection reset by the kill) or a 5xx."""
    kills: int = 0
    lost_created: list[str] = field(default_factory=list)
    lost_submitted: list[str] = field(default_factory=list)
    audit_ok: bool = False
    audit_problem: str | None = None

    def line(self) -> str:
        return (
            f"{self.kills} kills; acknowledged: {len(self.created)} creates, {len(self.submitted)} submits; "
            f"cut off (never acknowledged): {self.cut}; lost after acknowledgement: "
            f"{len(self.lost_created)} creates, {len(self.lost_submitted)} submits; "
            f"audit chain {'intact' if self.audit_ok else 'BROKEN: ' + str(self.audit_problem)}"
        )


def _client(base: str, user: str) -> httpx.Client:
    for _ in range(100):
        c = httpx.Client(base_url=base, timeout=20)
        try:
            if c.post("/v1/auth/login", json={"username": user, "password": USERS[user][0]}).status_code == 200:
                return c
        except httpx.HTTPError:
            pass
        c.close()
        time.sleep(0.2)
    raise RuntimeError("could not sign in")


def _writer(
    base: str, k: int, stop: threading.Event, out: Outcome, lock: threading.Lock, ready: threading.Semaphore
) -> None:
    sw, psy = _client(base, "sw"), _client(base, "psy")
    ready.release()
    answers = answers_for("vdq", k)
    n = 0
    try:
        while not stop.is_set():
            n += 1
            try:
                r = sw.post("/v1/beneficiaries", json={"name": f"w{k}-{n}"})
                if r.status_code == 201:
                    code = r.json()["code"]
                    with lock:
                        out.created.append(code)
                else:
                    with lock:
                        out.cut += 1
                    continue
                if n % 2:
                    continue
                a = psy.post("/v1/administrations", json={"beneficiary": code, "instrument": "vdq"})
                if a.status_code != 201:
                    with lock:
                        out.cut += 1
                    continue
                aid = a.json()["id"]
                if psy.patch(f"/v1/administrations/{aid}/answers", json={"answers": answers}).status_code != 200:
                    with lock:
                        out.cut += 1
                    continue
                s = psy.post(f"/v1/administrations/{aid}/submit")
                with lock:
                    if s.status_code == 201:
                        out.submitted.append(aid)
                    else:
                        out.cut += 1
            except httpx.HTTPError:
                with lock:
                    out.cut += 1
                time.sleep(0.05)
    finally:
        sw.close()
        psy.close()


def _settled(group: Servers, workers: int = 2, seconds: float = 120) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if len(group.workers(0)) >= workers:
            try:
                if httpx.get(f"{group.urls[0]}/healthz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
        time.sleep(0.2)


def run(group: Servers, url: str, writers: int, kills: int, every: float, seed: int = 0) -> Outcome:
    """``writers`` threads write through server 0 while ``kills`` workers are SIGKILLed, one every ``every`` s."""
    rnd = random.Random(seed)
    out = Outcome()
    stop = threading.Event()
    lock = threading.Lock()
    ready = threading.Semaphore(0)
    with ThreadPoolExecutor(writers) as pool:
        futures = [pool.submit(_writer, group.urls[0], k, stop, out, lock, ready) for k in range(writers)]
        for _ in range(writers):  # every writer is signed in and writing
            ready.acquire()
        for _ in range(kills):
            _settled(group)  # all workers up again (a loaded machine restarts them slowly)
            time.sleep(every * (0.5 + rnd.random()))
            if group.kill_worker(0, rnd.randrange(8)) is not None:
                out.kills += 1
        _settled(group)
        time.sleep(every)
        stop.set()
        for f in futures:
            f.result()
    db = Database(url)
    try:
        with db.read() as s:
            codes = set(s.execute(select(Beneficiary.code)).scalars())
            done = set(s.execute(select(Result.administration_id)).scalars())
            v = audit.verify(s)
    finally:
        db.dispose()
    out.lost_created = [c for c in out.created if c not in codes]
    out.lost_submitted = [a for a in out.submitted if a not in done]
    out.audit_ok, out.audit_problem = v.ok, v.problem
    return out
