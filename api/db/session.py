"""Engine and sessions. Nothing is created at import; ``make_engine`` is called by the app.

SQLite (the zero-set-up default) gets WAL, foreign keys and ``BEGIN IMMEDIATE``
transactions, so concurrent writers queue instead of failing mid-transaction.
Writers queue on a lock file (``flock``, shared by every process using the
database) rather than in SQLite's sleeping busy handler, whose back-off gives
long latency tails under load. Read-only sessions (``readonly=True``) take no
lock at all. PostgreSQL needs nothing special: its row locks do the same.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS = Path(__file__).parent / "migrations"


READONLY = "proforient_readonly"


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        path = engine.url.database
        lock_path = f"{path}.lock" if path and path != ":memory:" else None

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn, record):  # type: ignore[no-untyped-def]
            dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()
            if lock_path:  # one open file per connection: flock excludes threads too
                record.info["lock_fd"] = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)

        @event.listens_for(engine, "close")
        def _close(dbapi_conn, record):  # type: ignore[no-untyped-def]
            fd = record.info.pop("lock_fd", None)
            if fd is not None:
                os.close(fd)

        @event.listens_for(engine, "begin")
        def _begin(conn):  # type: ignore[no-untyped-def]
            if conn.get_execution_options().get(READONLY):
                conn.exec_driver_sql("BEGIN")
                return
            info = conn.connection._connection_record.info
            fd = info.get("lock_fd")
            if fd is not None and not info.get("locked"):
                fcntl.flock(fd, fcntl.LOCK_EX)
                info["locked"] = True
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        @event.listens_for(engine, "checkin")
        def _release(dbapi_conn, record):  # type: ignore[no-untyped-def]
            # after COMMIT/ROLLBACK, when the connection goes back to the pool
            if record.info.pop("locked", False):
                fcntl.flock(record.info["lock_fd"], fcntl.LOCK_UN)

        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10)


def session_factory(engine: Engine, readonly: bool = False) -> sessionmaker[Session]:
    """Sessions for units of work; ``readonly`` ones never take the write lock (SQLite)."""
    bind = engine.execution_options(**{READONLY: True}) if readonly else engine
    return sessionmaker(bind, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: committed as a whole, or rolled back as a whole."""
    with factory() as session, session.begin():
        yield session


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def migrate(url: str) -> None:
    """Bring the database to the newest schema (``proforient init-db``)."""
    command.upgrade(alembic_config(url), "head")
