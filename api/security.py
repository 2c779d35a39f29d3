"""Passwords (argon2; the policy is ``api.passwords``), API keys (random, stored as SHA-256),
session cookies (a random session token, itsdangerous-signed; the session itself is a database
row, ``api.domain.sessions``), and encryption of personal data at rest (Fernet; a
MultiFernet decrypts with any listed key so keys can be rotated).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections.abc import Callable

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

ROLES = ("admin", "psychologist", "social_worker", "employment_officer", "researcher", "manager")
"""Account roles (DESIGN.md §5); the manager reads programme indicators (aggregates only)."""
SCOPES = (
    "score",
    "instruments:read",
    "beneficiaries:read",
    "beneficiaries:write",
    "results:read",
    "administrations:write",
    "packets:read",
    "research:read",
    "outcomes:write",
)
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud and typed by hand

_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    """The argon2 hash of a password (whether it is acceptable is ``api.passwords``' question)."""
    if not password:
        raise ValueError("an empty password cannot be hashed")
    return _hasher.hash(password)


def verify_password(stored: str, password: str) -> bool:
    try:
        return _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def new_api_key() -> tuple[str, str, str]:
    """(full key shown once, prefix stored in clear for look-up, SHA-256 of the key)."""
    prefix = secrets.token_hex(4)
    key = f"pfo_{prefix}_{secrets.token_urlsafe(32)}"
    return key, prefix, hash_token(key)


def hash_token(token: str) -> str:
    """Keys and resume tokens are high-entropy, so a plain SHA-256 is enough (and fast)."""
    return hashlib.sha256(token.encode()).hexdigest()


def split_api_key(key: str) -> str | None:
    parts = key.split("_")
    return parts[1] if len(parts) >= 3 and parts[0] == "pfo" else None


def same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


def new_code() -> str:
    """A pseudonymous beneficiary code such as 'B-7KQ2MX'."""
    return "B-" + "".join(secrets.choice(CODE_ALPHABET) for _ in range(6))


class Sessions:
    """Signed, time-limited session cookies holding only a random session token.

    The signature lets a forged or stale cookie be refused without a database look-up; whether the
    session is still live (not signed out, disabled, idle or expired) is the database's answer."""

    def __init__(self, secret: str, max_age_s: int) -> None:
        self._s = URLSafeTimedSerializer(secret, salt="proforient-session-v2")
        self.max_age_s = max_age_s

    def issue(self, token: str) -> str:
        return self._s.dumps({"t": token})

    def read(self, cookie: str) -> str | None:
        try:
            data = self._s.loads(cookie, max_age=self.max_age_s)
        except (BadSignature, SignatureExpired):
            return None
        token = data.get("t") if isinstance(data, dict) else None
        return token if isinstance(token, str) and 20 <= len(token) <= 100 else None


class Vault:
    """Encrypts names and contacts; the first key encrypts, every key decrypts.

    ``reload`` (optional) returns the currently configured keys. A running service then
    follows a key rotation without a restart: it looks at the keys again every
    ``check_every`` seconds (so new records are sealed with the new first key), and at once
    when a record does not open with the keys it has (a record sealed by another process
    with a key added since)."""

    def __init__(
        self, keys: list[bytes], reload: Callable[[], list[bytes]] | None = None, check_every: float = 5.0
    ) -> None:
        self._reload = reload
        self._every = check_every
        self._lock = threading.Lock()
        self._set(keys)

    def _set(self, keys: list[bytes]) -> None:
        if not keys:
            raise ValueError("no data key configured (PROFORIENT_DATA_KEYS)")
        self._keys = list(keys)
        self._f = MultiFernet([Fernet(k) for k in keys])
        self._checked = time.monotonic()

    def refresh(self, force: bool = False) -> bool:
        """Look at the configured keys again (``force``: now; else at most every ``check_every`` s).
        Returns whether they changed."""
        if self._reload is None or (not force and time.monotonic() - self._checked < self._every):
            return False
        with self._lock:
            try:
                keys = self._reload()
            except (OSError, ValueError):  # a keyring being rewritten: keep what we have, look again soon
                return False
            self._checked = time.monotonic()
            if keys and keys != self._keys:
                self._set(keys)
                return True
        return False

    @property
    def fingerprints(self) -> list[str]:
        """Short, non-secret names of the keys (newest first), for messages and checks."""
        return [key_fingerprint(k) for k in self._keys]

    def seal(self, text: str | None) -> bytes | None:
        if text is None:
            return None
        self.refresh()
        return self._f.encrypt(text.encode("utf-8"))

    def open(self, blob: bytes | None) -> str | None:
        if blob is None:
            return None
        try:
            return self._f.decrypt(blob).decode("utf-8")
        except InvalidToken:
            if self.refresh(force=True):
                return self.open(blob)
            raise ValueError("personal data cannot be decrypted with the configured keys") from None

    def rotate(self, blob: bytes | None) -> bytes | None:
        """Re-encrypt with the first (newest) key."""
        return None if blob is None else self._f.rotate(blob)

    def opens_with_first(self, blob: bytes | None) -> bool:
        """Whether ``blob`` is sealed with the newest key (so the older ones are not needed for it)."""
        if blob is None:
            return True
        try:
            Fernet(self._keys[0]).decrypt(blob)
        except InvalidToken:
            return False
        return True


def key_fingerprint(key: bytes) -> str:
    return hashlib.sha256(b"proforient-key|" + key).hexdigest()[:10]
