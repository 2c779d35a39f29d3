"""``proforient serve | init-db | create-user | create-api-client | backup | restore | rotate-key |
retention | audit verify``: running the service. Thin wrappers over ``api.domain``."""

from __future__ import annotations

import gzip
import json
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from cryptography.fernet import Fernet
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from api.backup import BackupError, is_backup, read_backup, write_backup
from api.backup import restore as restore_backup
from api.db.session import Database, make_engine, migrate, session_factory, transaction
from api.db.tables import User
from api.domain import accounts, audit, beneficiaries, keys, maintenance
from api.domain import retention as retention_domain
from api.domain.access import SYSTEM
from api.domain.errors import DomainError
from api.security import Vault, key_fingerprint
from api.settings import get_settings, keyring_for, read_keyring, write_keyring

from ._common import fail as _fail
from ._common import out


def _sessions() -> sessionmaker[Session]:
    settings = get_settings()
    info: dict[str, Any] = {accounts.MIN_LENGTH: settings.password_min_length}
    return session_factory(make_engine(settings.database_url), **info)


def ensure_admin() -> tuple[str, str] | None:
    """On a database without users, create 'admin' with a random password (returned once)."""
    factory = _sessions()
    with transaction(factory) as s:
        if s.execute(select(func.count()).select_from(User)).scalar_one():
            return None
        _, password = accounts.new_account(s, SYSTEM, "admin", None, "admin")
        assert password is not None
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
    """Start the web service (migrating the database first). With several workers each process
    listens on its own socket (``SO_REUSEPORT``), so connections spread evenly (``api.serving``)."""
    from api import serving

    migrate(get_settings().database_url)
    first = ensure_admin()
    if first:
        out.print(
            f"[bold]first sign-in:[/] user [cyan]{first[0]}[/] password [cyan]{first[1]}[/] "
            "(shown once; a temporary password: you choose your own at the first sign-in)",
            highlight=False,
        )
    out.print(f"proforient at http://{host}:{port}  (API docs: http://{host}:{port}/docs)")
    serving.run(host, port, workers)


def create_user(
    username: str,
    role: Annotated[str, typer.Option(help="admin, psychologist, social_worker, employment_officer, researcher")],
    organisation: Annotated[str | None, typer.Option(help="employment officers: their organisation id")] = None,
    password: Annotated[str | None, typer.Option(help="default: a temporary one, printed once")] = None,
    full_name: Annotated[str | None, typer.Option(help="the person's full name, shown on pages and reports")] = None,
) -> None:
    """Create a user account (without --password: a temporary one, changed at the first sign-in)."""
    settings = get_settings()
    try:
        with transaction(_sessions()) as s:
            _, temporary = accounts.new_account(
                s,
                SYSTEM,
                username,
                full_name,
                role,
                organisation,
                {o.id for o in settings.organisations},
                password,
            )
    except DomainError as e:
        _fail(e.detail)
    shown = f"temporary password: {temporary}" if temporary else "password as given"
    out.print(f"user {username} ({role}) created; {shown}", highlight=False)


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
            if is_backup(path):
                head = read_backup(path, settings.backup_fernet_key).get("audit_head")
            else:
                opener = gzip.open if path.suffix == ".gz" else open
                with opener(path, "rt", encoding="utf-8") as fh:
                    head = json.load(fh).get("audit_head")
        except BackupError as e:
            _fail(str(e))
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
    full_vacuum: Annotated[
        bool,
        typer.Option(
            help="PostgreSQL: VACUUM FULL, which rewrites the touched tables so no old row version stays in "
            "their files (each is locked while it is rewritten); --no-full-vacuum: plain VACUUM, which frees "
            "the old versions but may leave their bytes in the files until the space is reused"
        ),
    ] = True,
) -> None:
    """Depersonalize cases closed longer ago than the retention period, everywhere they are stored
    (see api/domain/retention.py); then remove expired side records and compact the database."""
    settings = get_settings()
    engine = make_engine(settings.database_url)
    with session_factory(engine)() as s:
        done = beneficiaries.apply_retention(s, SYSTEM, days if days is not None else settings.retention_days)
        if apply:
            s.commit()
        else:
            s.rollback()
    verb = "depersonalized" if apply else "due (run with --apply)"
    out.print(f"{len(done)} case(s) {verb}: {', '.join(done) or '—'}")
    if apply:
        with transaction(session_factory(engine)) as s:
            purged = maintenance.purge(s)
        out.print(f"expired records removed: {purged}")
        out.print(retention_domain.compact(engine, full=full_vacuum))


def backup(target: Annotated[Path, typer.Argument(help="backup file")]) -> None:
    """An encrypted, database-independent backup of every table (mode 0600; the backup key decrypts it),
    carrying the audit chain's signed head."""
    settings = get_settings()
    try:
        n = write_backup(make_engine(settings.database_url), target, settings.backup_fernet_key, settings.audit_mac_key)
    except BackupError as e:
        _fail(str(e))
    out.print(f"encrypted backup of {n} rows → {target} (restorable only with the backup key)")


def restore(source: Annotated[Path, typer.Argument(help="a file made by 'proforient backup'")]) -> None:
    """Restore a backup into an empty database (run init-db first); needs the backup's key."""
    settings = get_settings()
    try:
        data = read_backup(source, settings.backup_fernet_key)
        migrate(settings.database_url)
        n = restore_backup(make_engine(settings.database_url), data)
    except BackupError as e:
        _fail(str(e))
    out.print(f"restored {n} rows from {source}")


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
