"""The admission queue (``api/admission.py``): at most ``limit`` requests run, ``queue`` more
wait in arrival order, anything beyond gets 503 with ``Retry-After`` at once, a request that
waits too long gets 503, and a slot is never lost, also when the app is driven from several
event loops (one per thread, as test clients do)."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import threading
from typing import Any

from sqlalchemy import text

from api.admission import Admission
from api.observability import JsonLines, RequestIds, access


class Gated:
    """An ASGI app whose requests wait until their gate opens, then answer 200."""

    def __init__(self) -> None:
        self.gates: dict[str, tuple[asyncio.AbstractEventLoop, asyncio.Event]] = {}
        self.started: dict[str, threading.Event] = {}
        self.served: list[str] = []

    def gate(self, name: str) -> threading.Event:
        self.started[name] = threading.Event()
        return self.started[name]

    def open(self, name: str) -> None:
        loop, event = self.gates[name]
        loop.call_soon_threadsafe(event.set)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        name = scope["path"].strip("/")
        event = asyncio.Event()
        self.gates[name] = (asyncio.get_running_loop(), event)
        if name in self.started:
            self.started[name].set()
            await event.wait()
        self.served.append(name)
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})


async def call(app: Any, name: str) -> tuple[int, dict[str, str], bytes]:
    """One GET /<name> through ``app``: its status, headers and body."""
    scope = {"type": "http", "path": f"/{name}", "method": "GET", "headers": [(b"accept", b"application/json")]}
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(scope, receive, send)
    start, body = sent[0], b"".join(m.get("body", b"") for m in sent[1:])
    return start["status"], {k.decode(): v.decode() for k, v in start["headers"]}, body


async def blocked(app: Any, inner: Gated, name: str) -> asyncio.Task[tuple[int, dict[str, str], bytes]]:
    """GET /<name> started on this loop and holding its slot until ``inner.open(name)``."""
    inner.gate(name)
    task = asyncio.create_task(call(app, name))
    while name not in inner.gates:
        await asyncio.sleep(0.001)
    return task


def in_thread(app: Any, name: str, out: dict[str, Any]) -> threading.Thread:
    """GET /<name> on an event loop of its own, in a thread of its own."""

    def run() -> None:
        out[name] = asyncio.run(call(app, name))

    t = threading.Thread(target=run)
    t.start()
    return t


def test_beyond_the_queue_a_503_with_retry_after_at_once_and_the_waiting_request_is_served_next() -> None:
    inner = Gated()
    admission = Admission(inner, limit=1, queue=1, timeout=30)

    async def scenario() -> None:
        first = await blocked(admission, inner, "a")
        second = asyncio.create_task(call(admission, "b"))
        while not admission.waiters:
            await asyncio.sleep(0.001)
        status, headers, body = await call(admission, "c")  # the queue (1) is full
        assert status == 503
        assert headers["retry-after"] == "2"
        assert headers["content-type"] == "application/problem+json"
        assert json.loads(body)["status"] == 503
        assert admission.refused == 1 and inner.served == []
        inner.open("a")
        assert (await first)[0] == 200
        assert (await second)[0] == 200

    asyncio.run(scenario())
    assert inner.served == ["a", "b"]
    assert admission.active == 0 and not admission.waiters


def test_a_request_that_waits_too_long_gets_a_503_and_its_slot_is_not_lost() -> None:
    inner = Gated()
    admission = Admission(inner, limit=1, queue=5, timeout=0.2)

    async def scenario() -> None:
        first = await blocked(admission, inner, "a")
        status, headers, _ = await call(admission, "b")  # waits 0.2 s, then gives up
        assert status == 503 and headers["retry-after"] == "2"
        inner.open("a")
        assert (await first)[0] == 200
        assert (await call(admission, "c"))[0] == 200

    asyncio.run(scenario())
    assert inner.served == ["a", "c"]
    assert admission.active == 0 and not admission.waiters


def test_a_slot_freed_on_one_event_loop_is_handed_to_a_request_waiting_on_another() -> None:
    """With the slot handed over by setting the waiting future from the wrong thread (the
    earlier code), the waiting loop was not woken: the request sat there until its timeout
    (60 s here) although the slot had been free all along."""
    inner = Gated()
    admission = Admission(inner, limit=1, queue=5, timeout=60)
    out: dict[str, Any] = {}
    started = inner.gate("a")
    first = in_thread(admission, "a", out)
    assert started.wait(5)
    second = in_thread(admission, "b", out)
    for _ in range(5000):
        if admission.waiters:
            break
        threading.Event().wait(0.001)
    assert len(admission.waiters) == 1
    inner.open("a")
    first.join()
    second.join(timeout=20)  # a liveness bound far below the queue's timeout, not a speed goal
    assert not second.is_alive(), "the freed slot did not reach the request waiting on the other loop"
    assert out["a"][0] == 200
    assert out["b"][0] == 200, out["b"]
    assert inner.served == ["a", "b"]
    assert admission.active == 0 and not admission.waiters


def test_the_suites_pool_guard_sees_a_request_holding_two_connections(service) -> None:  # type: ignore[no-untyped-def]
    """``tests/conftest.py`` fails a test whose requests hold two pooled connections at once in one
    thread; here two nested reads do that on purpose, and the guard must have seen it."""
    db = service.app.state.db
    with db.read() as outer, db.read() as inner:  # a session takes its connection at its first statement
        outer.execute(text("SELECT 1"))
        inner.execute(text("SELECT 1"))
    assert len(service.nested) == 1 and "holds 2 connections" in service.nested[0]
    service.nested.clear()  # seen: the fixture's own check at the end is for the other tests
    for _ in range(2):
        with db.read() as one:
            one.execute(text("SELECT 1"))
    assert service.nested == []


def test_the_access_log_says_how_long_a_request_waited_for_its_slot() -> None:
    """``queued_ms``: the first request found a free slot; the second waited until the first
    was let go, which the test holds for at least 300 ms; a 503 beyond the queue says how long it
    was kept (not at all); ``/healthz`` does not queue and has no such field."""
    inner = Gated()
    app = RequestIds(Admission(inner, limit=1, queue=1, timeout=30))
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonLines())
    access.addHandler(handler)

    async def scenario() -> None:
        first = await blocked(app, inner, "a")
        second = asyncio.create_task(call(app, "b"))
        while not app.app.waiters:  # type: ignore[attr-defined]
            await asyncio.sleep(0.001)
        assert (await call(app, "c"))[0] == 503
        await asyncio.sleep(0.3)
        inner.open("a")
        assert (await first)[0] == 200 and (await second)[0] == 200
        assert (await call(app, "healthz"))[0] == 200

    try:
        asyncio.run(scenario())
    finally:
        access.removeHandler(handler)
    lines = {x["path"]: x for x in map(json.loads, stream.getvalue().splitlines())}
    assert lines["/a"]["queued_ms"] < lines["/a"]["ms"]
    assert lines["/b"]["queued_ms"] >= 300 and lines["/b"]["queued_ms"] <= lines["/b"]["ms"]
    assert lines["/c"]["status"] == 503 and lines["/c"]["queued_ms"] < 300
    assert "queued_ms" not in lines["/healthz"]
