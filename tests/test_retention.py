"""Deletion that deletes (issue 11): a marker is planted in every free-text and identifying field a
person's case can hold, retention runs as the operator runs it (``proforient retention --apply``),
and then every table, the raw database files and a new backup are searched: 0 markers.

On PostgreSQL the table files are read under the server's data directory when this machine lets us
(the test server runs locally; root can read its files and ask for a CHECKPOINT as the postgres
user, so what is in shared buffers reaches the files). If that is not possible, the files part is
skipped with a message, and the check is ``SELECT`` on every column after ``VACUUM FULL``.
PostgreSQL's write-ahead log (pg_wal) is not searched: it holds the old values until it is recycled
(see ``api.domain.retention``)."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi.encoders import jsonable_encoder
from sqlalchemy import create_engine, text

import reports
from api.backup import read_backup, write_backup
from api.db.tables import Base
from tests.api_helpers import INTAKE, Web
from tests.conftest import BACKENDS

M = "ZQXMARK"
"""Every planted value contains this; none may be found anywhere afterwards."""
EXE = str(Path(sys.executable).parent / "proforient")


def _plant(svc) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """A case with the marker in every free-text and identifying field it can hold."""
    sw, psy, admin = svc.client("social_worker"), svc.client("psychologist"), svc.client("admin")
    r = sw.post(
        "/v1/beneficiaries",
        json={"name": f"{M}-name ნინო", "contact": f"{M}-contact +995 555"},
        headers={"Idempotency-Key": f"{M}-idempotency-key"},
    )
    assert r.status_code == 201, r.text
    code = r.json()["code"]
    assert sw.get("/v1/beneficiaries", params={"search": f"{M}-search"}).status_code == 200
    Web(svc, "social_worker").get(f"/beneficiaries?q={M}-websearch")
    intake = sw.post(
        "/v1/administrations",
        json={"beneficiary": code, "instrument": "intake"},
        headers={"Idempotency-Key": f"{M}-adm-key"},
    ).json()
    answers = {
        **INTAKE,
        "profession": f"{M}-profession",
        "interests": f"{M}-interests",
        "notes": f"{M}-notes ქართული შენიშვნა",
        "aspired_occupations": f"{M}-occupation;მკერავი",
    }
    r = sw.patch(f"/v1/administrations/{intake['id']}/answers", json={"answers": answers})
    assert r.status_code == 200, r.text
    assert sw.post(f"/v1/administrations/{intake['id']}/submit").status_code == 201
    vdq = psy.post("/v1/administrations", json={"beneficiary": code, "instrument": "vdq"}).json()
    assert psy.get(f"/v1/respond/{vdq['resume_token']}").status_code == 200  # a respondent's address is logged
    r = sw.post(
        f"/v1/beneficiaries/{code}/consents",
        json={
            "addressee": "ssa-employment",
            "scope": ["intake_summary", "profile", "outcomes"],
            "note": f"{M}-consent-note",
        },
        headers={"Idempotency-Key": f"{M}-consent-key"},
    )
    assert r.status_code == 201, r.text
    packet = sw.post(
        "/v1/packets",
        json={"beneficiary": code, "addressee": "ssa-employment", "parts": ["intake_summary", "profile"]},
        headers={"Idempotency-Key": f"{M}-packet-key"},
    ).json()
    assert f"{M}-profession" in json.dumps(packet["content"], ensure_ascii=False)  # planted in the packet too
    assert sw.post(f"/v1/packets/{packet['id']}/send").status_code == 201
    # outcomes after the packet: the free notes of a training, a placement and a follow-up (issue 16),
    # from the fund and from an employment system reporting back
    today = reports.today()
    start = (today - dt.timedelta(days=40)).isoformat()
    r = sw.post(
        f"/v1/beneficiaries/{code}/trainings",
        json={"activity": "career_counselling", "started_on": start, "note": f"{M}-training-note"},
        headers={"Idempotency-Key": f"{M}-training-key"},
    )
    assert r.status_code == 201, r.text
    r = svc.client("employer").post(
        f"/v1/beneficiaries/{code}/placements",
        json={"employer_kind": "private", "occupation": "9112", "start_date": start, "note": f"{M}-placement-note"},
        headers={"Idempotency-Key": f"{M}-placement-key"},
    )
    assert r.status_code == 201, r.text
    r = sw.post(
        f"/v1/placements/{r.json()['id']}/follow-ups",
        json={"month": 1, "done_on": today.isoformat(), "still_employed": True, "note": f"{M}-follow-up ნოტა"},
    )
    assert r.status_code == 201, r.text
    r = admin.post(f"/v1/beneficiaries/{code}/break-glass", json={"reason": f"{M}-reason: an emergency request"})
    assert r.status_code == 200
    research = svc.client("researcher").get("/v1/research/results", params={"instrument": "intake", "study": "study-1"})
    assert research.status_code == 200 and research.json()["items"] and M not in research.text  # never exported
    assert sw.post(f"/v1/beneficiaries/{code}/close").status_code == 204
    return {"code": code}


def _rows_with_marker(engine) -> list[str]:  # type: ignore[no-untyped-def]
    hits = []
    with engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            for row in conn.execute(table.select()).mappings():
                for col, value in row.items():
                    shown = (
                        value.decode("utf-8", "replace")
                        if isinstance(value, bytes)
                        else json.dumps(jsonable_encoder(value), ensure_ascii=False)
                    )
                    if M in shown:
                        hits.append(f"{table.name}.{col}: {shown[max(0, shown.find(M) - 300) : shown.find(M) + 80]}")
    return hits


def _sqlite_files(url: str) -> list[Path]:
    path = Path(url.removeprefix("sqlite:///"))
    return [p for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")) if p.exists()]


def _pg_superuser(db: str, sql: str) -> str | None:
    """Run SQL as the server's superuser over the local socket (root may, on the test machine)."""
    runuser = shutil.which("runuser")
    if runuser is None or os.geteuid() != 0:
        return None
    r = subprocess.run(
        [runuser, "-u", "postgres", "--", "psql", "-X", "-At", "-d", db, "-c", sql],
        capture_output=True,
        text=True,
        timeout=60,
    )
    return r.stdout.strip() if r.returncode == 0 else None


def _pg_files(engine, db: str) -> list[Path] | None:  # type: ignore[no-untyped-def]
    """The files of every table of ours, their TOAST tables and indexes (None: not readable here)."""
    if _pg_superuser(db, "CHECKPOINT") is None:
        return None
    data_dir = _pg_superuser(db, "SHOW data_directory")
    if not data_dir or not os.access(data_dir, os.R_OK):
        return None
    with engine.connect() as conn:
        rels = conn.execute(
            text(
                "SELECT pg_relation_filepath(c.oid) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = 'public' AND c.relkind IN ('r', 'i') "
                "UNION SELECT pg_relation_filepath(t.oid) FROM pg_class c "
                "JOIN pg_namespace n ON n.oid = c.relnamespace "
                "JOIN pg_class t ON t.oid = c.reltoastrelid WHERE n.nspname = 'public' "
                "UNION SELECT pg_relation_filepath(i.indexrelid) FROM pg_class c "
                "JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_index i ON i.indrelid = c.reltoastrelid "
                "WHERE n.nspname = 'public'"
            )
        ).scalars()
        paths = []
        for rel in rels:
            if rel is None:
                continue
            base = Path(data_dir) / rel
            paths += [
                p for p in base.parent.glob(base.name + "*") if p.name == base.name or p.name[len(base.name)] == "."
            ]
    return paths


def _files_with_marker(files: list[Path]) -> list[str]:
    return [f"{p} ({p.read_bytes().count(M.encode())})" for p in files if M.encode() in p.read_bytes()]


@pytest.mark.parametrize("backend", BACKENDS)
def test_no_marker_survives_retention(backend: str, service_for, tmp_path) -> None:  # type: ignore[no-untyped-def]
    svc = service_for(backend)
    _plant(svc)
    engine = svc.app.state.engine
    url = svc.settings.database_url
    assert _rows_with_marker(engine), "the markers were not planted"
    db = url.rsplit("/", 1)[1]
    files = _sqlite_files(url) if backend == "sqlite" else _pg_files(engine, db)
    if files is not None:  # the search must be able to see them, or finding none would prove nothing
        assert _files_with_marker(files), f"no marker found in the raw files before retention: {files}"

    svc.app.state.engine.dispose()
    env = {
        **os.environ,
        "PROFORIENT_INSTANCE": str(tmp_path / "instance"),
        "PROFORIENT_DATABASE_URL": url,
        "PROFORIENT_SECRET_KEY": svc.settings.secret_key,
        "PROFORIENT_DATA_KEYS": svc.settings.data_keys,
    }
    r = subprocess.run(
        [EXE, "retention", "--apply", "--days", "0"], env=env, capture_output=True, text=True, timeout=300
    )
    assert r.returncode == 0, r.stdout + r.stderr
    assert "1 case(s) depersonalized" in r.stdout

    engine = create_engine(url)
    try:
        assert _rows_with_marker(engine) == []
        if backend == "sqlite":
            found = _files_with_marker(_sqlite_files(url))
            assert found == [], found
        else:
            files = _pg_files(engine, db)
            if files is None:
                with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                    for table in Base.metadata.sorted_tables:
                        conn.execute(text(f"VACUUM FULL {table.name}"))
                assert _rows_with_marker(engine) == []
                pytest.skip("PostgreSQL's data files are not readable here: checked by SELECT after VACUUM FULL")
            found = _files_with_marker(files)
            with engine.connect() as conn:
                names = [
                    conn.execute(
                        text("SELECT relname FROM pg_class WHERE relfilenode = :n"), {"n": int(Path(f.split()[0]).name)}
                    ).scalar()
                    for f in found
                ]
            assert found == [], list(zip(found, names, strict=True))
        backup = tmp_path / "after.backup"
        write_backup(engine, backup, svc.settings.backup_fernet_key)
        assert M.encode() not in backup.read_bytes()
        data = read_backup(backup, svc.settings.backup_fernet_key)
        assert M not in json.dumps(data, ensure_ascii=False)
        assert data["tables"]["beneficiaries"] and data["tables"]["audit_log"]  # the backup is not empty
    finally:
        engine.dispose()
    v = subprocess.run([EXE, "audit", "verify"], env=env, capture_output=True, text=True, timeout=120)
    assert v.returncode == 0 and "audit log intact" in v.stdout, v.stdout + v.stderr
