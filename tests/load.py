"""Many respondents at once, as a busy morning would bring them: each answers one
questionnaire on their own phone (autosave after every few answers, with active time
and an increment id, as the respondent page's script sends them) and submits.

A respondent behaves like the page: a 503 is asked again after its ``Retry-After``, a
dropped connection after a short pause, with the same save (same increment id). An
*error* is a request that still failed after ``MAX_TRIES`` attempts, or any other
status. Used by ``benchmarks/bench_respondents.py`` and by the load test.
"""

from __future__ import annotations

import asyncio
import random
import statistics
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field

import httpx

MAX_TRIES = 30


@dataclass
class Stats:
    completed: int = 0
    errors: list[str] = field(default_factory=list)
    busy: int = 0
    """503 answers (asked again after Retry-After)."""
    dropped: int = 0
    """Connection errors and timeouts (asked again)."""
    save_ms: list[float] = field(default_factory=list)
    submit_ms: list[float] = field(default_factory=list)
    seconds: float = 0.0

    def line(self, label: str) -> str:
        def pct(v: list[float], q: float) -> float:
            return statistics.quantiles(v, n=100, method="inclusive")[int(q) - 1] if len(v) > 1 else float("nan")

        return (
            f"{label}: {self.completed} completed, {len(self.errors)} errors, {self.busy} × 503 (retried), "
            f"{self.dropped} dropped (retried), in {self.seconds:.1f} s; "
            f"autosave ms p50 {pct(self.save_ms, 50):.0f} p95 {pct(self.save_ms, 95):.0f} "
            f"p99 {pct(self.save_ms, 99):.0f}; submit ms p50 {pct(self.submit_ms, 50):.0f} "
            f"p95 {pct(self.submit_ms, 95):.0f} p99 {pct(self.submit_ms, 99):.0f}"
        )


async def _send(
    client: httpx.AsyncClient, method: str, url: str, stats: Stats, times: list[float], **kw: object
) -> bool:
    for _ in range(MAX_TRIES):
        t0 = time.perf_counter()
        try:
            r = await client.request(method, url, **kw)  # type: ignore[arg-type]
        except (httpx.TransportError, httpx.TimeoutException):
            stats.dropped += 1
            await asyncio.sleep(0.5 + random.random())
            continue
        if r.status_code == 503:
            stats.busy += 1
            await asyncio.sleep(float(r.headers.get("retry-after", "1")) * (0.5 + random.random()))
            continue
        times.append((time.perf_counter() - t0) * 1000)
        if r.status_code >= 300:
            stats.errors.append(f"{method} {url}: {r.status_code} {r.text[:120]}")
            return False
        return True
    stats.errors.append(f"{method} {url}: gave up after {MAX_TRIES} tries")
    return False


async def _respondent(
    base: str, token: str, answers: dict[str, str], chunk: int, stats: Stats, gate: asyncio.Event
) -> None:
    items = list(answers.items())
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        await gate.wait()
        for k in range(0, len(items), chunk):
            body = {
                "answers": dict(items[k : k + chunk]),
                "active_seconds": 4.0 * len(items[k : k + chunk]),
                "increment_id": uuid.uuid4().hex,
            }
            if not await _send(client, "PATCH", f"/v1/respond/{token}/answers", stats, stats.save_ms, json=body):
                return
        if await _send(client, "POST", f"/v1/respond/{token}/submit", stats, stats.submit_ms):
            stats.completed += 1


async def respondents(
    bases: Sequence[str], tokens: Sequence[str], answers: Sequence[dict[str, str]], chunk: int = 5
) -> Stats:
    """All respondents start at the same moment; returns what happened."""
    stats = Stats()
    gate = asyncio.Event()
    tasks = [
        asyncio.create_task(_respondent(bases[k % len(bases)], tok, answers[k], chunk, stats, gate))
        for k, tok in enumerate(tokens)
    ]
    await asyncio.sleep(0.2)
    t0 = time.perf_counter()
    gate.set()
    await asyncio.gather(*tasks)
    stats.seconds = time.perf_counter() - t0
    return stats
