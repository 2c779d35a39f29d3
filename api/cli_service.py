"""CLI commands for running the service: serve, init-db, accounts, backup/restore,
key rotation, retention, audit verification. Thin wrappers over ``api.domain``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from sqlalchemy import func, select

from api.backup import BackupError, read_backup, write_backup
from api.backup import restore as restore_backup
from api.db.session import make_engine, migrate, session_factory, transaction
from api.db.tables import User
from api.domain import accounts, audit, beneficiaries, maintenance
from api.domain import retention as retention_domain
from api.domain.access import SYSTEM
from api.domain.errors import DomainError
from api.security import Vault
from api.settings import get_settings

err = Console(stderr=True)
out = Console()


def _fail(message: str, code: int = 2) -> None:
    err.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def _sessions():  # type: ignore[no-untyped-def]
    settings = get_settings()
    return session_factory(make_engine(settings.database_url), **{accounts.MIN_LENGTH: settings.password_min_length})


def ensure_admin() -> tuple[str, str] | None:
    """On a database without users, create 'admin' with a random password (returned once)."""
    factory = _sessions()
    with transaction(factory) as s:
        if s.execute(select(func.count()).select_from(User)).scalar_one():
            return None
        _, password = accounts.new_account(s, SYSTEM, "admin", None, "admin")
        assert password is not None
        return "admin", password


def register(app: typer.Typer) -> None:
    @app.command("init-db")
    def init_db() -> None:
        """Create or upgrade the database schema (Alembic migrations)."""
        url = get_settings().database_url
        migrate(url)
        out.print(f"database ready: {url.split('@')[-1]}")

    @app.command()
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
                "(shown once; a temporary password: you choose your own at the first sign-in)",
                highlight=False,
            )
        out.print(f"proforient at http://{host}:{port}  (API docs: http://{host}:{port}/docs)")
        uvicorn.run("api.app:create_app", factory=True, host=host, port=port, workers=workers, log_level="warning")

    @app.command("create-user")
    def create_user(
        username: str,
        role: Annotated[str, typer.Option(help="admin, psychologist, social_worker, employment_officer, researcher")],
        organisation: Annotated[str | None, typer.Option(help="employment officers: their organisation id")] = None,
        password: Annotated[str | None, typer.Option(help="default: a temporary one, printed once")] = None,
        full_name: Annotated[
            str | None, typer.Option(help="the person's full name, shown on pages and reports")
        ] = None,
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

    @app.command("create-api-client")
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

    audit_app = typer.Typer(help="The audit trail.")
    app.add_typer(audit_app, name="audit")

    @audit_app.command("verify")
    def audit_verify() -> None:
        """Recompute the hash chain; exit 1 if any entry was edited or deleted."""
        with _sessions()() as s:
            v = audit.verify(s)
        if not v.ok:
            _fail(f"audit log broken after {v.entries} good entries: {v.problem}", 1)
        out.print(f"audit log intact: {v.entries} entries")

    @app.command("rotate-key")
    def rotate_key() -> None:
        """Re-encrypt names and contacts with the first key of PROFORIENT_DATA_KEYS."""
        settings = get_settings()
        with transaction(_sessions()) as s:
            n = beneficiaries.rotate_keys(s, SYSTEM, Vault(settings.fernet_keys))
        out.print(f"{n} record(s) re-encrypted with the newest key; older keys can now be removed")

    @app.command()
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

    @app.command()
    def backup(target: Annotated[Path, typer.Argument(help="backup file")]) -> None:
        """An encrypted, database-independent backup of every table (mode 0600; the backup key decrypts it)."""
        settings = get_settings()
        try:
            n = write_backup(make_engine(settings.database_url), target, settings.backup_fernet_key)
        except BackupError as e:
            _fail(str(e))
        out.print(f"encrypted backup of {n} rows → {target} (restorable only with the backup key)")

    @app.command()
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
