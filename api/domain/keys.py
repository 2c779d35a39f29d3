"""Key rotation on a running service: every sealed value re-encrypted with the newest key,
online, in short batches; an older key is retired only when nothing needs it any more.

The encrypted columns are listed once here (``ENCRYPTED``). Each batch is a short write
transaction that locks its rows, so the service keeps answering while a rotation runs;
the running processes follow the keyring file (``api.security.Vault``), so a record
sealed by one of them with the new key opens in all of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from api.db.session import Database
from api.db.tables import Beneficiary, Study
from api.security import Vault

from . import audit
from .access import Principal

ENCRYPTED: tuple[tuple[Any, tuple[str, ...]], ...] = (
    (Beneficiary, ("name_enc", "contact_enc")),
    (Study, ("key_enc",)),
)
"""Every table and column holding Fernet ciphertext."""


@dataclass(frozen=True)
class Usage:
    records: int
    """Rows holding at least one sealed value."""
    older: int
    """Of those, rows with a value that does not open with the newest key."""


def reencrypt(db: Database, principal: Principal, vault: Vault, batch: int = 200) -> int:
    """Re-encrypt every sealed value with the vault's first key, ``batch`` rows per transaction."""
    total = 0
    for table, columns in ENCRYPTED:
        last = None
        while True:
            with db.write() as s:
                q = select(table).order_by(table.id).limit(batch).with_for_update()
                if last is not None:
                    q = q.where(table.id > last)
                rows = s.execute(q).scalars().all()
                if not rows:
                    break
                for row in rows:
                    changed = False
                    for col in columns:
                        blob = getattr(row, col)
                        if blob is not None and not vault.opens_with_first(blob):
                            setattr(row, col, vault.rotate(blob))
                            changed = True
                    total += changed
                last = rows[-1].id
    with db.write() as s:
        audit.append(
            s, principal.actor, "rotate_key", "data_keys", detail={"records": total, "key": vault.fingerprints[0]}
        )
    return total


def usage(db: Database, vault: Vault) -> Usage:
    """How many sealed rows there are, and how many still need a key other than the newest."""
    records = older = 0
    for table, columns in ENCRYPTED:
        with db.read() as s:
            for row in s.execute(select(*[getattr(table, c) for c in columns])).all():
                blobs = [b for b in row if b is not None]
                if blobs:
                    records += 1
                    older += not all(vault.opens_with_first(b) for b in blobs)
    return Usage(records, older)
