"""``proforient serve | init-db | create-user | create-api-client | backup | restore | rotate-key |
retention | audit verify``: running the service. Thin wrappers over ``api.domain``."""

from __future__ import annotations

import base64
import datetime as dt
import gzip
import json
import secrets
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from cryptography.fernet import Fernet
from sqlalchemy import func, inspect, select, text
from sqlalchemy.orm import Session

from api.db.session import Database, make_engine, migrate, session_factory, transaction
from api.db.tables import Base, User
from api.domain import accounts, audit, beneficiaries, keys
from api.domain.access import SYSTEM
from api.domain.errors import DomainError
from api.security import Vault, key_fingerprint
from api.settings import get_settings, keyring_for, read_keyring, write_keyring

from ._common import fail as _fail
from ._common import out


def _sessions():  # type: ignore[no-untyped-def]
    return session_factory(make_engine(get_settings().database_url))


def ensure_admin() -> tuple[str, str] | None:
    """On a database without users, create 'admin' with a random password (returned once)."""
    factory = _sessions()
    with transaction(factory) as s:
        if s.execute(select(func.count()).select_from(User)).scalar_one():
            return None
        password = secrets.token_urlsafe(12)
        accounts.create_user(s, SYSTEM, "admin", password, "admin")
        return "admin", password


def init_db() -> None:
    """Create or upgrade the database schema (Alembic migrations)."""
    url = get_settings().database_url
    migrate(url)
    out.print(f"database ready: {url.split('@')[-1]}")


def serve(
    host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port")] = 8000,
    workers: Annotated[int, typer.Option(help="worker processes")] = 1,
) -> None:
    """Start the web service (migrating the database first)."""
    import uvicorn

    migrate(get_settings().database_url)
    first = ensure_admin()
    if first:
        out.print(
            f"[bold]first sign-in:[/] user [cyan]{first[0]}[/] password [cyan]{first[1]}[/] "
            "(shown once; change it or create named accounts)",
            highlight=False,
        )
    out.print(f"proforient at http://{host}:{port}  (API docs: http://{host}:{port}/docs)")
    uvicorn.run("api.app:create_app", factory=True, host=host, port=port, workers=workers, log_level="warning")


def create_user(
    username: str,
    role: Annotated[str, typer.Option(help="admin, psychologist, social_worker, employment_officer, researcher")],
    organisation: Annotated[str | None, typer.Option(help="employment officers: their organisation id")] = None,
    password: Annotated[str | None, typer.Option(help="default: a random one, printed once")] = None,
) -> None:
    """Create a user account."""
    password = password or secrets.token_urlsafe(12)
    settings = get_settings()
    try:
        with transaction(_sessions()) as s:
            accounts.create_user(
                s, SYSTEM, username, password, role, organisation, {o.id for o in settings.organisations}
            )
    except DomainError as e:
        _fail(e.detail)
    out.print(f"user {username} ({role}) created; password: {password}", highlight=False)


def create_api_client(
    name: str,
    scope: Annotated[list[str], typer.Option(help="repeat for several scopes")],
    organisation: Annotated[str | None, typer.Option()] = None,
) -> None:
    """Create an API client; its key is printed once and stored only as a hash."""
    try:
        with transaction(_sessions()) as s:
            _, key = accounts.create_api_client(s, SYSTEM, name, scope, organisation)
    except DomainError as e:
        _fail(e.detail)
    out.print(f"API client {name}: key {key}", highlight=False)


def audit_verify(
    against: Annotated[
        list[Path] | None,
        typer.Option(help="a backup or data-subject export kept elsewhere: its signed audit head must still hold"),
    ] = None,
) -> None:
    """Recompute the hash chain and check every signed checkpoint; exit 1 if anything was edited,
    deleted, truncated or forged."""
    settings = get_settings()
    extra = []
    for path in against or []:
        try:
            opener = gzip.open if path.suffix == ".gz" else open
            with opener(path, "rt", encoding="utf-8") as fh:
                head = json.load(fh).get("audit_head")
        except (OSError, ValueError) as e:
            _fail(f"{path}: not a backup or an export ({e})")
        if not head or "mac" not in head:
            _fail(f"{path}: holds no signed audit head")
        extra.append(audit.Checkpoint(int(head["seq"]), str(head["hash"]), str(head["at"]), str(head["mac"])))
    db = Database(
        settings.database_url,
        audit_key=settings.audit_mac_key,
        audit_checkpoint_file=settings.audit_checkpoint_file or None,
    )
    try:
        with db.read() as s:
            v = audit.verify(s, extra=extra)
    finally:
        db.dispose()
    if not v.ok:
        _fail(f"audit log broken after {v.entries} good entries: {v.problem}", 1)
    out.print(f"audit log intact: {v.entries} entries, {v.checkpoints} signed checkpoint(s) hold")


def rotate_key(
    retire: Annotated[
        bool, typer.Option(help="remove every key but the newest, once no record needs an older one")
    ] = False,
    reencrypt: Annotated[bool, typer.Option(help="only re-encrypt with the newest key (no new key)")] = False,
    wait: Annotated[
        float, typer.Option(help="seconds to let running services pick up a new key before re-encrypting")
    ] = 6.0,
) -> None:
    """Rotate the data key on a running service: add a new key in front of the keyring (running
    services follow the keyring file, so every process can read what another seals), re-encrypt
    every name and contact online in short batches, and report what still needs an older key.
    --retire removes the older keys only when nothing needs them (keep a retired key with the
    backups made before, or those backups cannot be read)."""
    settings = get_settings()
    db = Database(settings.database_url)
    try:
        path = keyring_for(settings)
        if path is None:  # keys from the environment: they change with a restart only
            vault = Vault(settings.fernet_keys)
            if retire:
                _fail(
                    "PROFORIENT_DATA_KEYS comes from the environment: remove a key there, and restart, "
                    "once 'rotate-key' reports that no record needs it"
                )
            n = keys.reencrypt(db, SYSTEM, vault)
            u = keys.usage(db, vault)
            out.print(
                f"{n} record(s) re-encrypted with the newest key (PROFORIENT_DATA_KEYS); "
                f"{u.older} still need an older key"
            )
            return
        current = read_keyring(path)
        if retire:
            u = keys.usage(db, Vault(current))
            if u.older:
                _fail(f"{u.older} record(s) still need an older key: run 'proforient rotate-key --reencrypt' first")
            write_keyring(path, current[:1])
            gone = ", ".join(key_fingerprint(k) for k in current[1:]) or "none"
            out.print(f"older keys retired ({gone}); the keyring holds {key_fingerprint(current[0])} only")
            return
        if not reencrypt:
            current = [Fernet.generate_key(), *current]
            write_keyring(path, current)
            out.print(
                f"new key {key_fingerprint(current[0])} added to {path}; waiting {wait:g} s for running "
                "services to pick it up"
            )
            time.sleep(wait)
        vault = Vault(current)
        n = keys.reencrypt(db, SYSTEM, vault)
        u = keys.usage(db, vault)
        out.print(
            f"{n} record(s) re-encrypted with {key_fingerprint(current[0])}; {u.older} still need an older "
            "key" + ("" if u.older else "; 'rotate-key --retire' may now remove the older ones")
        )
    finally:
        db.dispose()


def retention(
    apply: Annotated[bool, typer.Option(help="really depersonalize (default: only list)")] = False,
    days: Annotated[int | None, typer.Option(help="default: the configured retention_days")] = None,
) -> None:
    """Depersonalize cases closed longer ago than the retention period."""
    settings = get_settings()
    with _sessions()() as s:
        done = beneficiaries.apply_retention(s, SYSTEM, days if days is not None else settings.retention_days)
        if apply:
            s.commit()
        else:
            s.rollback()
    verb = "depersonalized" if apply else "due (run with --apply)"
    out.print(f"{len(done)} case(s) {verb}: {', '.join(done) or '—'}")


def backup(target: Annotated[Path, typer.Argument(help="backup file (.json.gz)")]) -> None:
    """A database-independent backup of every table (names stay encrypted)."""
    engine = make_engine(get_settings().database_url)
    data: dict[str, Any] = {
        "format": "proforient-backup",
        "version": 1,
        "made_at": dt.datetime.now(dt.UTC).isoformat(),
        "tables": {},
    }
    with engine.connect() as conn:
        rev = conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
        data["schema"] = rev
        with Session(conn) as s:  # the chain's head, signed: a later truncation is found against this copy
            data["audit_head"] = audit.head(s, get_settings().audit_mac_key)
        for table in Base.metadata.sorted_tables:
            rows = conn.execute(table.select()).mappings().all()
            data["tables"][table.name] = [{k: _enc(v) for k, v in r.items()} for r in rows]
    tmp = target.with_name(target.name + ".part")
    with gzip.open(tmp, "wt", encoding="utf-8") as fh:
        json.dump(data, fh, ensure_ascii=False)
    tmp.replace(target)
    n = sum(len(v) for v in data["tables"].values())
    out.print(f"backup of {n} rows → {target}")


def restore(source: Annotated[Path, typer.Argument(help="a file made by 'proforient backup'")]) -> None:
    """Restore a backup into an empty database (run init-db first)."""
    url = get_settings().database_url
    migrate(url)
    engine = make_engine(url)
    try:
        with gzip.open(source, "rt", encoding="utf-8") as fh:
            data = json.load(fh)
    except (OSError, json.JSONDecodeError) as e:
        _fail(f"{source}: not a proforient backup ({e})")
    if data.get("format") != "proforient-backup":
        _fail(f"{source}: not a proforient backup")
    with engine.begin() as conn:
        for table in Base.metadata.sorted_tables:
            existing = conn.execute(select(func.count()).select_from(table)).scalar_one()
            if table.name == "audit_head":
                if conn.execute(select(table.c.seq)).scalar_one_or_none():
                    _fail("the database is not empty (its audit log has entries); restore needs an empty one")
            elif existing:
                _fail(f"the database is not empty (table {table.name}); restore needs an empty one")
        for table in Base.metadata.sorted_tables:
            rows = data["tables"].get(table.name, [])
            if table.name == "audit_head":  # the head only moves forward: from the new database's genesis
                for r in rows:
                    conn.execute(table.update().where(table.c.id == r["id"]).values(seq=r["seq"], hash=r["hash"]))
                continue
            if rows:
                cols = {c.name: c for c in table.columns}
                conn.execute(table.insert(), [{k: _dec(v, cols[k].type) for k, v in r.items()} for r in rows])
        if engine.dialect.name == "postgresql":
            for table in Base.metadata.sorted_tables:
                pk = inspect(table).primary_key.columns
                if len(pk) == 1 and pk[0].autoincrement is not False and pk[0].type.python_type is int:
                    conn.execute(
                        text(
                            f"SELECT setval(pg_get_serial_sequence('{table.name}', '{pk[0].name}'), "
                            f"COALESCE((SELECT MAX({pk[0].name}) FROM {table.name}), 1))"
                        )
                    )
    n = sum(len(v) for v in data["tables"].values())
    out.print(f"restored {n} rows from {source}")


def _enc(v: object) -> object:
    if isinstance(v, bytes):
        return {"$b64": base64.b64encode(v).decode()}
    if isinstance(v, dt.datetime):
        return {"$dt": v.isoformat()}
    return v


def _dec(v: object, _type: object) -> object:
    if isinstance(v, dict) and "$b64" in v:
        return base64.b64decode(v["$b64"])
    if isinstance(v, dict) and "$dt" in v:
        return dt.datetime.fromisoformat(v["$dt"])
    return v


def register(app: typer.Typer) -> None:
    """Add the service commands (and the ``audit`` group) to ``app``."""
    app.command("init-db")(init_db)
    app.command()(serve)
    app.command("create-user")(create_user)
    app.command("create-api-client")(create_api_client)
    audit_app = typer.Typer(help="The audit trail.")
    audit_app.command("verify")(audit_verify)
    app.add_typer(audit_app, name="audit")
    app.command("rotate-key")(rotate_key)
    app.command()(retention)
    app.command()(backup)
    app.command()(restore)
