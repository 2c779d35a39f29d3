"""Service throughput and latency on loopback.

Starts the API with 2 workers (``proforient serve``, each worker on its own ``SO_REUSEPORT``
socket; ``--launcher uvicorn`` for uvicorn's shared socket) on SQLite by default, or
``--database-url`` for PostgreSQL, and drives it with ``wrk`` (Debian's
package, installed if missing) from another process, bounded in time, at a
few connection counts. Prints requests/s and p50/p95/p99 latency (wrk's, and for scoring also the
server's own from its access log: p99 and the slowest request, with the part of it spent waiting
for an admission slot) for:

- stateless scoring: POST /v1/score, one VDQ administration, API-key auth;
- submitting an administration: POST /v1/administrations/{id}/submit
  (answers saved beforehand), signed-in psychologist.

Goals (issue 17): scoring ≥ 1,000 req/s with p99 ≤ 20 ms at 16 connections, and no
fall in throughput at 64 (the admission queue answers 503 + Retry-After at once
instead); submitting ≥ 300/s with p99 ≤ 100 ms on PostgreSQL at 16 connections.
The server's JSON access log goes to a file in the temporary folder, as in production.

    python benchmarks/bench_service.py [--seconds 10] [--threads 8] [--database-url postgresql+psycopg://…]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
from cryptography.fernet import Fernet

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from api.db.session import make_engine, migrate, session_factory, transaction  # noqa: E402
from api.domain import accounts  # noqa: E402
from api.domain.access import SYSTEM  # noqa: E402
from api.settings import Settings  # noqa: E402
from tests.api_helpers import answers_for  # noqa: E402


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wrk() -> str:
    if shutil.which("wrk") is None:
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=False, capture_output=True)
    if shutil.which("wrk") is None:
        subprocess.run(["apt-get", "update", "-qq"], check=False, capture_output=True)
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True, capture_output=True)
    return "wrk"


LUA_DONE = """
done = function(summary, latency, requests)
  io.write(string.format("RESULT %d %d %d %.3f %.3f %.3f\\n", summary.requests, summary.duration,
    summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write
    + summary.errors.timeout, latency:percentile(50) / 1000, latency:percentile(95) / 1000,
    latency:percentile(99) / 1000))
end
"""


def wrk(
    url: str, script: str, connections: int, seconds: float, tmp: Path
) -> tuple[int, float, int, float, float, float]:
    lua = tmp / f"s{connections}.lua"
    lua.write_text(script + LUA_DONE, encoding="utf-8")
    out = subprocess.run(
        [_wrk(), "-t1", f"-c{connections}", f"-d{seconds:.0f}s", "-s", str(lua), url],
        capture_output=True,
        text=True,
        timeout=seconds + 60,
    ).stdout
    line = next(x for x in out.splitlines() if x.startswith("RESULT"))
    n, micros, errors, p50, p95, p99 = line.split()[1:]
    return int(n), int(micros) / 1e6, int(errors), float(p50), float(p95), float(p99)


def access_entries(log: Path, path: str) -> list[dict[str, Any]]:
    """The access log's entries for ``path`` so far, in order."""
    entries = []
    for line in log.read_text(encoding="utf-8", errors="replace").splitlines():
        if line.startswith("{") and '"proforient.access"' in line:
            entry = json.loads(line)
            if entry.get("path") == path:
                entries.append(entry)
    return entries


def per_worker(entries: list[dict[str, Any]]) -> Counter[int]:
    """Requests per worker process, from the access log's ``pid`` field."""
    return Counter(e["pid"] for e in entries)


def server_side(entries: list[dict[str, Any]]) -> str:
    """The server's own view of these requests (the access log's ``ms`` and ``queued_ms``): p99
    and the slowest, with the part of it spent waiting for an admission slot. Requests the client
    abandoned at the end of a run are left out."""
    done = sorted((e for e in entries if e["status"] == 200), key=lambda e: e["ms"])
    if not done:
        return "no requests logged"
    p99, worst = done[int(0.99 * (len(done) - 1))], done[-1]
    return (
        f"p99 {p99['ms']:.1f} ms, slowest {worst['ms']:.1f} ms "
        f"(of which {worst.get('queued_ms', 0):.1f} ms waiting for an admission slot)"
    )


def shares(counts: Counter[int]) -> str:
    """'52 % / 48 %': each worker's share of the requests counted (busiest first)."""
    done = sorted(counts.values(), reverse=True)
    total = sum(done) or 1
    return " / ".join(f"{100 * d / total:.0f} %" for d in done)


_local = threading.local()


def _answered(base: str, cookie: str, code: str, k: int) -> str:
    """Start a VDQ administration for ``code`` and save answers (the k-th set); its id."""
    if not hasattr(_local, "client"):
        _local.client = httpx.Client(base_url=base, timeout=30, headers={"Cookie": cookie})
    c = _local.client
    r = c.post("/v1/administrations", json={"beneficiary": code, "instrument": "vdq"})
    r.raise_for_status()
    a = r.json()
    c.patch(f"/v1/administrations/{a['id']}/answers", json={"answers": answers_for("vdq", k)}).raise_for_status()
    return str(a["id"])


def report(name: str, r: tuple[int, float, int, float, float, float], connections: int) -> None:
    n, wall, errors, p50, p95, p99 = r
    print(
        f"{name}, {connections} connections: {n / wall:,.0f} req/s ({n} in {wall:.1f} s); "
        f"latency ms p50 {p50:.1f}, p95 {p95:.1f}, p99 {p99:.1f}; errors {errors}"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--database-url", default="")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--threads", type=int, default=0, help="PROFORIENT_THREADS per process (default: the setting's)")
    ap.add_argument("--connections", default="16,64", help="connection counts for the scoring runs")
    ap.add_argument("--scoring-only", action="store_true", help="skip the submit measurement (and its set-up)")
    ap.add_argument(
        "--launcher",
        choices=("proforient", "uvicorn"),
        default="proforient",
        help="proforient serve (a socket per worker, SO_REUSEPORT; the recommended set-up) or uvicorn --workers "
        "(one shared socket)",
    )
    args = ap.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="pfo-bench-"))
    url = args.database_url or f"sqlite:///{tmp / 'bench.db'}"
    migrate(url)
    engine = make_engine(url)
    with transaction(session_factory(engine)) as s:
        accounts.create_user(s, SYSTEM, "psy", "listens-carefully-1", "psychologist")
        accounts.create_user(s, SYSTEM, "sw", "social-worker-1", "social_worker")
        _, key = accounts.create_api_client(s, SYSTEM, "bench", ["score"])
    engine.dispose()
    port = _port()
    env = {
        **os.environ,
        "PROFORIENT_DATABASE_URL": url,
        "PROFORIENT_SECRET_KEY": "b" * 40,
        "PROFORIENT_DATA_KEYS": Fernet.generate_key().decode(),
        "PROFORIENT_INSTANCE": str(tmp),
        **({"PROFORIENT_THREADS": str(args.threads)} if args.threads else {}),
    }
    log = (tmp / "server.log").open("wb")
    if args.launcher == "proforient":
        command = [str(Path(sys.executable).parent / "proforient"), "serve", "--port", str(port)]
        command += ["--workers", str(args.workers)]
    else:
        command = [sys.executable, "-m", "uvicorn", "api.app:create_app", "--factory", "--port", str(port)]
        command += ["--workers", str(args.workers), "--log-level", "warning"]
    server = subprocess.Popen(command, env=env, stdout=log, stderr=log)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                with httpx.Client(timeout=1) as c:
                    if c.get(base + "/healthz").status_code == 200:
                        break
            except httpx.HTTPError:
                time.sleep(0.1)
        print(
            f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
            f"{'proforient serve' if args.launcher == 'proforient' else 'uvicorn --workers'}, {args.workers} workers, "
            f"threads {args.threads or str(Settings.model_fields['threads'].default) + ' (the default)'}, "
            f"{'PostgreSQL' if 'postgres' in url else 'SQLite'}; "
            f"load: wrk, 1 thread, {args.seconds:.0f} s per run"
        )
        body = json.dumps({"instrument": "vdq", "administrations": [{"answers": answers_for("vdq", 1)}]})
        score_lua = (
            f'wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\n'
            f'wrk.headers["Authorization"] = "Bearer {key}"\nwrk.body = {json.dumps(body)}\n'
        )
        wrk(base + "/v1/score", score_lua, 2, 2, tmp)  # warm-up
        for c in (int(x) for x in args.connections.split(",")):
            skip = len(access_entries(tmp / "server.log", "/v1/score"))
            report(
                "stateless scoring (POST /v1/score, 1 VDQ)", wrk(base + "/v1/score", score_lua, c, args.seconds, tmp), c
            )
            time.sleep(0.5)
            run = access_entries(tmp / "server.log", "/v1/score")[skip:]
            print(f"  requests per worker process: {shares(per_worker(run))}")
            print(f"  inside the server: {server_side(run)}")
        print("goal: ≥ 1,000 req/s, p99 ≤ 20 ms at 16 connections; throughput not lower at 64 (503s count as errors)")

        if args.scoring_only:
            return
        with httpx.Client(base_url=base, timeout=30) as sw, httpx.Client(base_url=base, timeout=30) as psy:
            sw.post("/v1/auth/login", json={"username": "sw", "password": "social-worker-1"})
            psy.post("/v1/auth/login", json={"username": "psy", "password": "listens-carefully-1"})
            code = sw.post("/v1/beneficiaries", json={"name": "bench"}).json()["code"]
            m = int(args.seconds * 600)  # more than the fastest rate measured (349/s), so no submit repeats
            cookie = "; ".join(f"{k}={v}" for k, v in psy.cookies.items())
            t0 = time.perf_counter()
            with ThreadPoolExecutor(8) as pool:  # set-up only: started and answered, 8 at a time
                ids = list(pool.map(lambda k: _answered(base, cookie, code, k), range(m)))
            print(f"(set-up: {m} administrations started and answered in {time.perf_counter() - t0:.1f} s)")
        paths = ", ".join(f'"/v1/administrations/{i}/submit"' for i in ids)
        submit_lua = (
            f'local paths = {{{paths}}}\nlocal k = 0\nwrk.headers["Cookie"] = "{cookie}"\n'
            "request = function()\n  k = k + 1\n  if k > #paths then k = #paths end\n"
            '  return wrk.format("POST", paths[k])\nend\n'
        )
        report("submit an administration (POST …/submit, VDQ)", wrk(base, submit_lua, 16, args.seconds, tmp), 16)
        print("goal: submit ≥ 300/s with p99 ≤ 100 ms on PostgreSQL at 16 connections")
    finally:
        server.terminate()
        server.wait(timeout=20)


if __name__ == "__main__":
    main()
