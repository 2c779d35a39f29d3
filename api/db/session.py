"""Engine, sessions and the write lock. Nothing is created at import; ``Database`` is built by the app.

Every unit of work is either a **read** (a plain transaction that takes no lock) or a
**write** (a transaction that holds the database's write lock from its first statement
to its COMMIT). Requests commit before they answer, so the lock is held only for the
short write itself.

SQLite (the zero-set-up default) gets WAL, foreign keys and ``BEGIN IMMEDIATE`` write
transactions. Writers queue first on an in-process lock (threads of one process take
turns in order) and then on a lock file (``flock``, shared by every process using the
database), rather than in SQLite's sleeping busy handler, whose back-off gives long
latency tails under load. A writer that cannot get the lock within ``lock_timeout``
seconds gets ``Busy`` (the API answers 503 with ``Retry-After``), never a hang.

PostgreSQL needs no lock file: row locks (``SELECT … FOR UPDATE``) order the writers,
``lock_timeout`` bounds the wait the same way, and the pool never hands out more
connections than the process has threads.
"""

from __future__ import annotations

import fcntl
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS = Path(__file__).parent / "migrations"

READONLY = "proforient_readonly"


class Busy(RuntimeError):
    """The database's write lock (or a connection) was not free within the configured time."""

    def __init__(self, detail: str, retry_after: int = 2) -> None:
        super().__init__(detail)
        self.detail = detail
        self.retry_after = retry_after


class _WriteLock:
    """Threads of this process queue on a lock; processes then take turns on an ``flock``."""

    def __init__(self, path: str | None, timeout: float) -> None:
        self.path = path
        self.timeout = timeout
        self.local = threading.Lock()

    def acquire(self, fd: int | None) -> None:
        deadline = time.monotonic() + self.timeout
        if not self.local.acquire(timeout=self.timeout):
            raise Busy(f"the database is busy (no write turn within {self.timeout:g} s); try again")
        if fd is None:
            return
        pause = 0.0005
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    self.local.release()
                    raise Busy(f"the database is busy (no write turn within {self.timeout:g} s); try again") from None
                time.sleep(pause)
                pause = min(pause * 2, 0.01)

    def release(self, fd: int | None) -> None:
        if fd is not None:
            fcntl.flock(fd, fcntl.LOCK_UN)
        self.local.release()


def make_engine(url: str, *, pool_size: int = 20, pool_timeout: float = 10.0, lock_timeout: float = 10.0) -> Engine:
    """An engine whose pool holds ``pool_size`` connections (one per worker thread) and whose
    writers wait at most ``lock_timeout`` seconds for their turn."""
    if url.startswith("sqlite"):
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": lock_timeout},
            pool_size=pool_size,
            max_overflow=0,
            pool_timeout=pool_timeout,
        )
        path = engine.url.database
        lock_path = f"{path}.lock" if path and path != ":memory:" else None
        lock = _WriteLock(lock_path, lock_timeout)
        if lock_path:
            private_files(path)  # type: ignore[arg-type]

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn, record):  # type: ignore[no-untyped-def]
            dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute(f"PRAGMA busy_timeout={int(lock_timeout * 1000)}")
            cur.execute("PRAGMA secure_delete=ON")
            cur.close()
            if lock_path:  # one open file per connection: flock excludes threads too
                record.info["lock_fd"] = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
                private_files(path)  # type: ignore[arg-type]  # -wal and -shm exist once WAL is on

        @event.listens_for(engine, "close")
        def _close(dbapi_conn, record):  # type: ignore[no-untyped-def]
            if record.info.pop("locked", False):
                lock.release(record.info.get("lock_fd"))
            fd = record.info.pop("lock_fd", None)
            if fd is not None:
                os.close(fd)

        @event.listens_for(engine, "begin")
        def _begin(conn):  # type: ignore[no-untyped-def]
            if conn.get_execution_options().get(READONLY):
                conn.exec_driver_sql("BEGIN")
                return
            info = conn.connection._connection_record.info  # noqa: SLF001 - the pool's per-connection info
            if not info.get("locked"):
                lock.acquire(info.get("lock_fd"))
                info["locked"] = True
            try:
                conn.exec_driver_sql("BEGIN IMMEDIATE")
            except Exception:
                info.pop("locked", None)
                lock.release(info.get("lock_fd"))
                raise

        @event.listens_for(engine, "checkin")
        def _release(dbapi_conn, record):  # type: ignore[no-untyped-def]
            # after COMMIT/ROLLBACK, when the connection goes back to the pool
            if record.info.pop("locked", False):
                lock.release(record.info.get("lock_fd"))

        return engine

    engine = create_engine(
        url,
        pool_pre_ping=True,
        pool_size=pool_size,
        max_overflow=0,
        pool_timeout=pool_timeout,
    )
    timeout_ms = int(lock_timeout * 1000)

    @event.listens_for(engine, "connect")
    def _timeouts(dbapi_conn, record):  # type: ignore[no-untyped-def]
        # a row lock (or a statement) that would wait longer gives an error, mapped to 503
        with dbapi_conn.cursor() as cur:
            cur.execute(f"SET lock_timeout = {timeout_ms}")
            cur.execute(f"SET idle_in_transaction_session_timeout = {max(timeout_ms * 6, 60_000)}")
        dbapi_conn.commit()

    return engine


SQLITE_FILES = ("", "-wal", "-shm", "-journal", ".lock")
"""The files of a SQLite database: the database, its write-ahead log and shared memory, its journal,
and our lock file."""


def private_files(path: str) -> None:
    """The SQLite database and its companion files are readable and writable by their owner only
    (0600): they hold the encrypted names, and everything else in clear. The database file is made
    with that mode if it does not exist yet (SQLite gives -wal and -shm the database's mode)."""
    if not os.path.exists(path):
        os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
    for suffix in SQLITE_FILES:
        try:
            os.chmod(path + suffix, 0o600)
        except FileNotFoundError:
            continue


def session_factory(engine: Engine, readonly: bool = False, **info: Any) -> sessionmaker[Session]:
    """Sessions for units of work; ``readonly`` ones never take the write lock (SQLite).

    ``info`` is copied into every session's ``info`` (e.g. the audit checkpoint key)."""
    bind = engine.execution_options(**{READONLY: True}) if readonly else engine
    return sessionmaker(bind, expire_on_commit=False, info={**info, "readonly": readonly})


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: committed as a whole, or rolled back as a whole."""
    with factory() as session, session.begin():
        yield session


class Database:
    """The app's database: the engine, a factory of write sessions and one of read sessions."""

    def __init__(
        self,
        url: str,
        *,
        pool_size: int = 20,
        pool_timeout: float = 10.0,
        lock_timeout: float = 10.0,
        **info: Any,
    ) -> None:
        self.url = url
        self.engine = make_engine(url, pool_size=pool_size, pool_timeout=pool_timeout, lock_timeout=lock_timeout)
        self.writes = session_factory(self.engine, **info)
        self.reads = session_factory(self.engine, readonly=True, **info)
        self._reader = self.engine.execution_options(**{READONLY: True})

    @property
    def backend(self) -> str:
        return self.engine.dialect.name

    def write(self) -> Any:
        """``with db.write() as session:`` one write transaction, committed at the end of the block."""
        return transaction(self.writes)

    def read(self) -> Any:
        """``with db.read() as session:`` one read transaction (takes no lock)."""
        return transaction(self.reads)

    def connection(self) -> Any:
        """``with db.connection() as conn:`` one read transaction on a plain (Core) connection, for
        a hot read by a prebuilt statement: no session and no ORM objects to set up (the API-key
        look-up of every call from another system)."""
        return self._reader.begin()

    def dispose(self) -> None:
        self.engine.dispose()


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def migrate(url: str) -> None:
    """Bring the database to the newest schema (``proforient init-db``)."""
    command.upgrade(alembic_config(url), "head")


def busy(exc: BaseException) -> Busy | None:
    """``Busy`` for an error that means "wait your turn and try again" (a lock or connection
    that was not free in time, a deadlock broken by the server), else None."""
    from sqlalchemy.exc import DBAPIError
    from sqlalchemy.exc import TimeoutError as PoolTimeout

    if isinstance(exc, Busy):
        return exc
    if isinstance(exc, PoolTimeout):
        return Busy("no database connection was free in time; try again")
    if isinstance(exc, DBAPIError):
        orig = exc.orig
        sqlstate = getattr(orig, "sqlstate", None) or getattr(getattr(orig, "diag", None), "sqlstate", None)
        # 55P03 lock_not_available, 57014 query_canceled (statement timeout), 40P01 deadlock, 40001 serialization
        if sqlstate in {"55P03", "57014", "40P01", "40001"}:
            return Busy("the database is busy; try again")
        if "database is locked" in str(orig):
            return Busy("the database is busy; try again")
    return None
