"""Backups are encrypted with the backup key, private (0600), and restorable only with that key;
the wrong key fails with a clear message, through the library and through the CLI."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from api.backup import MAGIC, BackupError, read_backup, restore, write_backup
from api.db.session import make_engine, migrate
from tests.conftest import BACKENDS, fresh_database

EXE = str(Path(sys.executable).parent / "proforient")


@pytest.mark.parametrize("backend", BACKENDS)
def test_backup_is_encrypted_private_and_needs_its_key(backend: str, service_for, tmp_path) -> None:  # type: ignore[no-untyped-def]
    svc = service_for(backend)
    sw = svc.client("social_worker")
    code = sw.post("/v1/beneficiaries", json={"name": "BACKUP-MARK", "contact": "x"}).json()["code"]
    key = Fernet.generate_key()
    target = tmp_path / "backup.pfo"
    n = write_backup(svc.app.state.engine, target, key)
    assert n > 10
    raw = target.read_bytes()
    assert raw.startswith(MAGIC) and code.encode() not in raw and b"audit_log" not in raw  # nothing in clear
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o600
    with pytest.raises(BackupError, match="cannot be decrypted with the configured backup key"):
        read_backup(target, Fernet.generate_key())
    tampered = tmp_path / "tampered.pfo"
    tampered.write_bytes(raw[:-5] + b"AAAAA")
    with pytest.raises(BackupError, match="or the file was changed"):
        read_backup(tampered, key)
    other = tmp_path / "other.txt"
    other.write_text("hello")
    with pytest.raises(BackupError, match="not a proforient backup"):
        read_backup(other, key)
    data = read_backup(target, key)
    assert [b["code"] for b in data["tables"]["beneficiaries"]] == [code]
    url = fresh_database("sqlite", tmp_path / "restored")
    migrate(url)
    engine = make_engine(url)
    try:
        assert restore(engine, data) == n
        with pytest.raises(BackupError, match="not empty"):
            restore(engine, data)
    finally:
        engine.dispose()


def test_the_cli_refuses_a_backup_made_with_another_key(tmp_path) -> None:  # type: ignore[no-untyped-def]
    keys = Fernet.generate_key().decode()
    base = {
        **os.environ,
        "PROFORIENT_INSTANCE": str(tmp_path / "instance"),
        "PROFORIENT_SECRET_KEY": "c" * 40,
        "PROFORIENT_DATA_KEYS": keys,
        "COLUMNS": "300",
    }
    source = {**base, "PROFORIENT_DATABASE_URL": f"sqlite:///{tmp_path / 'a.db'}"}
    source["PROFORIENT_BACKUP_KEY"] = Fernet.generate_key().decode()
    subprocess.run([EXE, "init-db"], env=source, check=True, capture_output=True, timeout=120)
    made = subprocess.run([EXE, "backup", str(tmp_path / "b.pfo")], env=source, capture_output=True, text=True)
    assert made.returncode == 0 and "restorable only with the backup key" in made.stdout, made.stderr
    target = {**base, "PROFORIENT_DATABASE_URL": f"sqlite:///{tmp_path / 'b.db'}"}
    target["PROFORIENT_BACKUP_KEY"] = Fernet.generate_key().decode()
    r = subprocess.run([EXE, "restore", str(tmp_path / "b.pfo")], env=target, capture_output=True, text=True)
    assert r.returncode == 2
    assert "cannot be decrypted with the configured backup key" in r.stderr
    target["PROFORIENT_BACKUP_KEY"] = source["PROFORIENT_BACKUP_KEY"]
    r = subprocess.run([EXE, "restore", str(tmp_path / "b.pfo")], env=target, capture_output=True, text=True)
    assert r.returncode == 0 and "restored" in r.stdout, r.stderr
