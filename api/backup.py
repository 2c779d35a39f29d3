"""Encrypted, database-independent backups (``proforient backup`` / ``restore``).

A backup is every table as JSON (names and contacts stay encrypted with the data keys as they
are stored), gzip-compressed and then encrypted and authenticated with the **backup key**
(``PROFORIENT_BACKUP_KEY``, a Fernet key: AES-128-CBC + HMAC-SHA256). The file starts with a
short magic line so a wrong file is told apart from a wrong key, and it is written with mode
0600 (owner only) through a temporary file, so a half-written backup never takes a good one's
place. A backup can be restored only with the key it was made with; keep a copy of that key
apart from the backups (a backup and its key together are the whole database).
"""

from __future__ import annotations

import base64
import datetime as dt
import gzip
import json
import os
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import Engine, func, inspect, select, text
from sqlalchemy.orm import Session

from api.db.tables import Base
from api.domain import audit

MAGIC = b"proforient-backup/2 fernet\n"
FORMAT = "proforient-backup"


class BackupError(Exception):
    """The file is not a backup, or cannot be read with this key, or the database is not empty."""


def _enc(v: object) -> object:
    if isinstance(v, bytes):
        return {"$b64": base64.b64encode(v).decode()}
    if isinstance(v, dt.datetime):
        return {"$dt": v.isoformat()}
    if isinstance(v, dt.date):  # a day (follow-up dates); a datetime is caught above
        return {"$d": v.isoformat()}
    return v


def _dec(v: object) -> object:
    if isinstance(v, dict) and "$b64" in v:
        return base64.b64decode(v["$b64"])
    if isinstance(v, dict) and "$dt" in v:
        return dt.datetime.fromisoformat(v["$dt"])
    if isinstance(v, dict) and "$d" in v:
        return dt.date.fromisoformat(v["$d"])
    return v


def _fernet(key: bytes) -> Fernet:
    try:
        return Fernet(key)
    except (ValueError, TypeError) as exc:
        raise BackupError("the backup key is not a Fernet key (make one with Fernet.generate_key())") from exc


def dump(engine: Engine, audit_key: bytes | None = None) -> dict[str, Any]:
    """Every table of the database as JSON-safe rows, with the audit chain's head (signed with
    ``audit_key``: ``proforient audit verify --against`` finds a later truncation against it)."""
    data: dict[str, Any] = {
        "format": FORMAT,
        "version": 2,
        "made_at": dt.datetime.now(dt.UTC).isoformat(),
        "tables": {},
    }
    with engine.connect() as conn:
        data["schema"] = conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
        with Session(conn) as s:
            data["audit_head"] = audit.head(s, audit_key)
        for table in Base.metadata.sorted_tables:
            rows = conn.execute(table.select()).mappings().all()
            data["tables"][table.name] = [{k: _enc(v) for k, v in r.items()} for r in rows]
    return data


def write_backup(engine: Engine, target: Path, key: bytes, audit_key: bytes | None = None) -> int:
    """Write an encrypted backup of the whole database to ``target`` (mode 0600); returns the rows."""
    f = _fernet(key)
    data = dump(engine, audit_key)
    blob = MAGIC + f.encrypt(gzip.compress(json.dumps(data, ensure_ascii=False).encode("utf-8")))
    target = Path(target)
    tmp = target.with_name(target.name + ".part")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(blob)
            fh.flush()
            os.fsync(fh.fileno())
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    tmp.replace(target)
    return sum(len(v) for v in data["tables"].values())


def is_backup(source: Path) -> bool:
    """Whether ``source`` starts like an encrypted backup (as opposed to, say, an export)."""
    try:
        with Path(source).open("rb") as fh:
            return fh.read(len(MAGIC)) == MAGIC
    except OSError:
        return False


def read_backup(source: Path, key: bytes) -> dict[str, Any]:
    """Decrypt and parse a backup; ``BackupError`` with a plain reason if that is not possible."""
    try:
        blob = Path(source).read_bytes()
    except OSError as exc:
        raise BackupError(f"{source}: cannot be read ({exc.strerror})") from exc
    if not blob.startswith(MAGIC):
        if blob[:2] == b"\x1f\x8b":
            raise BackupError(
                f"{source}: an unencrypted backup of an earlier release; restore it with that release, "
                "then make a new (encrypted) backup"
            )
        raise BackupError(f"{source}: not a proforient backup")
    try:
        raw = _fernet(key).decrypt(blob[len(MAGIC) :])
    except InvalidToken as exc:
        raise BackupError(
            f"{source}: cannot be decrypted with the configured backup key (PROFORIENT_BACKUP_KEY): "
            "it was made with another key, or the file was changed"
        ) from exc
    try:
        data = json.loads(gzip.decompress(raw))
    except (OSError, ValueError) as exc:
        raise BackupError(f"{source}: the decrypted backup is damaged ({exc})") from exc
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise BackupError(f"{source}: not a proforient backup")
    return data


def restore(engine: Engine, data: dict[str, Any]) -> int:
    """Load a backup into an empty, migrated database; returns the rows restored."""
    with engine.begin() as conn:
        for table in Base.metadata.sorted_tables:
            existing = conn.execute(select(func.count()).select_from(table)).scalar_one()
            if table.name == "audit_head":
                if conn.execute(select(table.c.seq)).scalar_one_or_none():
                    raise BackupError(
                        "the database is not empty (its audit log has entries); restore needs an empty one"
                    )
            elif existing:
                raise BackupError(f"the database is not empty (table {table.name}); restore needs an empty one")
        for table in Base.metadata.sorted_tables:
            rows = data["tables"].get(table.name, [])
            if table.name == "audit_head":  # the head only moves forward: from the new database's genesis
                for r in rows:
                    conn.execute(table.update().where(table.c.id == r["id"]).values(seq=r["seq"], hash=r["hash"]))
                continue
            if rows:
                cols = {c.name for c in table.columns}
                conn.execute(table.insert(), [{k: _dec(v) for k, v in r.items() if k in cols} for r in rows])
        if engine.dialect.name == "postgresql":
            for table in Base.metadata.sorted_tables:
                pk = inspect(table).primary_key.columns
                if len(pk) == 1 and pk[0].autoincrement is not False and pk[0].type.python_type is int:
                    # table and column names from our own metadata, no input
                    sql = (
                        f"SELECT setval(pg_get_serial_sequence('{table.name}', '{pk[0].name}'), "  # noqa: S608
                        f"COALESCE((SELECT MAX({pk[0].name}) FROM {table.name}), 1))"
                    )
                    conn.execute(text(sql))
    return sum(len(v) for v in data["tables"].values())
