"""Back-pressure: a process executes at most ``limit`` requests at once and lets at most
``queue`` more wait, each for at most ``timeout`` seconds. Beyond that it answers **503 with
``Retry-After`` at once** instead of letting requests pile up into multi-second (or
two-minute) tails. Browsers get a short bilingual page; the respondent page's script keeps
the answers in its offline queue and sends them again after the pause.

Waiting requests are served in arrival order. The limiter keeps no state between
requests beyond its counters, so any number of processes can run side by side.

A server runs one event loop per process, but an app may be driven from several loops
at once (a test client per thread does that): the counters are guarded by a lock, and a
slot handed to a request waiting on another loop is handed over on that loop's thread.
If that request has given up meanwhile, the slot goes to the next one (or is freed), so
a slot is never lost.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections import deque

from starlette.types import ASGIApp, Receive, Scope, Send

from api.observability import QUEUED_MS, request_id

BUSY_HTML = (
    "<!doctype html><html lang='ka'><meta charset='utf-8'>"
    "<meta name='viewport' content='width=device-width,initial-scale=1'><title>proforient</title>"
    "<body style='font-family:sans-serif;max-width:36rem;margin:3rem auto;padding:0 1rem;line-height:1.5'>"
    "<p>სერვისი ახლა ძალიან დატვირთულია. გთხოვთ, ერთ წუთში სცადოთ თავიდან: თქვენი პასუხები არ დაიკარგება.</p>"
    "<p lang='en'>The service is very busy right now. Please try again in a minute: your answers are not lost.</p>"
    "</body></html>"
)
EXEMPT = ("/healthz", "/static/")


class Admission:
    """ASGI middleware: a bounded, first-come-first-served admission queue per process."""

    def __init__(self, app: ASGIApp, limit: int, queue: int, timeout: float, retry_after: int = 2) -> None:
        self.app = app
        self.limit = limit
        self.queue = queue
        self.timeout = timeout
        self.retry_after = retry_after
        self.active = 0
        self.waiters: deque[asyncio.Future[None]] = deque()
        self.refused = 0
        self._lock = threading.Lock()

    async def _acquire(self) -> bool:
        with self._lock:
            if self.active < self.limit and not self.waiters:
                self.active += 1
                return True
            if len(self.waiters) >= self.queue:
                return False
            fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self.waiters.append(fut)
        try:
            await asyncio.wait_for(fut, self.timeout)
            return True  # the slot was handed over by ``_release``
        except TimeoutError:
            return False
        except asyncio.CancelledError:  # the client went away while waiting
            if fut.done() and not fut.cancelled():
                self._release()
            raise
        finally:
            with self._lock:
                if fut in self.waiters:
                    self.waiters.remove(fut)

    def _release(self) -> None:
        with self._lock:
            if not self.waiters:
                self.active -= 1
                return
            fut = self.waiters.popleft()  # the slot is handed over: ``active`` stays as it is
        loop = fut.get_loop()
        try:
            same_loop = asyncio.get_running_loop() is loop
        except RuntimeError:
            same_loop = False
        if same_loop:
            self._hand_over(fut)
        else:
            try:
                loop.call_soon_threadsafe(self._hand_over, fut)
            except RuntimeError:  # that loop has closed: its request is gone
                self._release()

    def _hand_over(self, fut: asyncio.Future[None]) -> None:
        """Give the slot to ``fut`` (on its own loop), or to the next one if it has given up."""
        if fut.done():
            self._release()
        else:
            fut.set_result(None)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(EXEMPT) or scope["path"] == "/healthz":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        admitted = await self._acquire()
        # how long it waited for a slot, for the access log (``api/observability.py``)
        scope.setdefault("state", {})[QUEUED_MS] = round((time.perf_counter() - started) * 1000, 1)
        if not admitted:
            self.refused += 1
            await self._busy(scope, send)
            return
        try:
            await self.app(scope, receive, send)
        finally:
            self._release()

    async def _busy(self, scope: Scope, send: Send) -> None:
        accept = dict(scope.get("headers") or []).get(b"accept", b"").decode("latin-1")
        headers = [(b"retry-after", str(self.retry_after).encode()), (b"cache-control", b"no-store")]
        if "text/html" in accept and not scope["path"].startswith("/v1/"):
            body = BUSY_HTML.encode()
            headers.append((b"content-type", b"text/html; charset=utf-8"))
        else:
            body = json.dumps(
                {
                    "type": "urn:proforient:problem:busy",
                    "title": "Service busy",
                    "status": 503,
                    "detail": f"too many requests at once; nothing was done, try again in {self.retry_after} s",
                    "instance": scope["path"],
                    "request_id": request_id(),
                }
            ).encode()
            headers.append((b"content-type", b"application/problem+json"))
        headers.append((b"content-length", str(len(body)).encode()))
        await send({"type": "http.response.start", "status": 503, "headers": headers})
        await send({"type": "http.response.body", "body": body})
