"""Worker processes for ``proforient serve --workers N``: each listens on a socket of its own.

uvicorn's ``--workers`` shares one listening socket between the processes, and whichever process
is waiting in ``accept()`` when a burst of connections arrives takes them all. Keep-alive clients
then stay with that process for their whole life: measured on 2 cores (``benchmarks/bench_service.py``),
16 connections sometimes ran on one worker while the other idled (537 requests/s, then 1,136 for
the same set-up when they happened to spread), and at 64 connections the same happened the other
way round. Here every worker binds its own socket to the same address with ``SO_REUSEPORT``, and
the kernel spreads new connections evenly across the sockets (by a hash of the connection's
addresses), so every worker gets its share.

The parent only supervises: it starts the workers, starts a new one when one dies (a crash or an
out-of-memory kill takes down that worker's requests in flight, never the service), and on
SIGTERM or SIGINT stops them all and waits (each finishes the requests it has). On a system
without ``SO_REUSEPORT`` it falls back to uvicorn's own workers.

What a killed worker costs: the requests it was serving, and the connections the kernel had already
queued on its socket but it had not yet accepted (their clients see a reset and retry). Once it is
gone its socket leaves the group and every new connection goes to the workers that are alive.
"""

from __future__ import annotations

import multiprocessing
import signal
import socket
import time
from multiprocessing.process import BaseProcess
from types import FrameType

import uvicorn

APP = "api.app:create_app"
RESTART_PAUSE = 1.0
"""Seconds between restarts of a worker that keeps dying at once (no busy loop of crashes)."""


def listening_socket(host: str, port: int) -> socket.socket:
    """A TCP socket bound to (host, port) with ``SO_REUSEPORT``, listening."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def _worker(host: str, port: int, log_level: str) -> None:  # pragma: no cover - runs in a child process
    config = uvicorn.Config(APP, factory=True, log_level=log_level, workers=1)
    config.load()  # import and build the app first: the kernel sends connections to a socket as soon as it
    sock = listening_socket(host, port)  # listens, and they would wait there while a fresh worker loads
    uvicorn.Server(config).run(sockets=[sock])


def run(host: str, port: int, workers: int, log_level: str = "warning") -> None:
    """Serve the app with ``workers`` processes, each on its own ``SO_REUSEPORT`` socket."""
    if workers <= 1 or not hasattr(socket, "SO_REUSEPORT"):
        uvicorn.run(APP, factory=True, host=host, port=port, workers=workers, log_level=log_level)
        return
    listening_socket(host, port).close()  # the address is free and allowed: fail here, not in N children
    ctx = multiprocessing.get_context("spawn")
    stopping = False

    def start() -> BaseProcess:
        p = ctx.Process(target=_worker, args=(host, port, log_level), daemon=False)
        p.start()
        return p

    def stop(signum: int, frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    previous = {s: signal.signal(s, stop) for s in (signal.SIGTERM, signal.SIGINT)}
    procs = [start() for _ in range(workers)]
    born = [time.monotonic()] * workers
    try:
        while not stopping:
            time.sleep(0.2)
            for k, p in enumerate(procs):
                if p.is_alive() or stopping:
                    continue
                p.join()
                if time.monotonic() - born[k] < RESTART_PAUSE:  # died at once: do not spin
                    time.sleep(RESTART_PAUSE)
                procs[k], born[k] = start(), time.monotonic()
    finally:
        for p in procs:
            if p.is_alive():
                p.terminate()  # uvicorn finishes the requests in flight on SIGTERM
        for p in procs:
            p.join(timeout=30)
            if p.is_alive():
                p.kill()
        for s, handler in previous.items():
            signal.signal(s, handler)
