"""One typed settings object, read from the environment (prefix ``PROFORIENT_``) and
an optional ``instance/settings.toml``. Built by ``get_settings()``, never at import.

Secrets have no defaults in code. On a first start with nothing configured,
``ensure_instance`` writes fresh random keys into ``instance/`` (mode 0600),
so the zero-set-up SQLite start still encrypts names at rest.
"""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
import tomllib
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cryptography.fernet import Fernet
from pydantic import BaseModel, Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

INSTANCE = Path(os.environ.get("PROFORIENT_INSTANCE", Path.cwd() / "instance"))


class Organisation(BaseModel):
    """A receiving organisation (an addressee of packets)."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_-]*$")
    name_ka: str
    name_en: str


DEFAULT_ORGANISATIONS = [
    Organisation(
        id="ssa-employment",
        name_ka="სოციალური მომსახურების სააგენტოს დასაქმების პროგრამების დეპარტამენტი",
        name_en="Employment Programmes Department, Social Service Agency",
    )
]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PROFORIENT_", extra="ignore")

    database_url: str = Field(default="", description="SQLAlchemy URL; empty = SQLite file in the instance folder")
    secret_key: str = Field(default="", description="signs session cookies")
    data_keys: str = Field(default="", description="Fernet keys, comma-separated; the first encrypts, all decrypt")
    data_keys_file: str = Field(
        default="",
        description="a keyring file (one Fernet key per line, newest first) used instead of data_keys; a running "
        "service follows changes to it, so 'proforient rotate-key' needs no restart",
    )
    data_keys_source: str = Field(
        default="", description="(set by proforient) the instance settings file the data keys were read from"
    )
    fund_name_ka: str = (
        "ადამიანით ვაჭრობის (ტრეფიკინგის) მსხვერპლთა, დაზარალებულთა დაცვისა და დახმარების სახელმწიფო ფონდი"
    )
    fund_name_en: str = "State Fund for the Protection of and Assistance to (Statutory) Victims of Human Trafficking"
    fund_short_name_ka: str = Field(
        default="", description="how the beneficiary's own report names the fund (empty: 'the fund')"
    )
    fund_short_name_en: str = Field(
        default="", description="how the beneficiary's own report names the fund (empty: 'the fund')"
    )
    organisations: list[Organisation] = Field(default_factory=lambda: list(DEFAULT_ORGANISATIONS))
    max_request_bytes: int = 2_000_000
    max_upload_bytes: int = Field(
        default=5_000_000,
        ge=1_000,
        description="the largest data file a researcher may upload (a data set to check, a field tool's export)",
    )
    max_batch: int = 5_000
    session_hours: int = Field(default=12, ge=1, description="a sign-in ends after this many hours, however active")
    session_idle_minutes: int = Field(
        default=30, ge=1, description="a staff session ends after this many minutes without a request"
    )
    shared_device_idle_minutes: int = Field(
        default=5, ge=1, description="the same on a device marked 'shared' at sign-in (a shelter's tablet)"
    )
    respondent_idle_minutes: int = Field(
        default=10,
        ge=1,
        description="a respondent page left this long without input goes back to the code page "
        "(answers are saved; the code opens it again)",
    )
    sitting_code_days: int = Field(
        default=30,
        ge=1,
        le=365,
        description="a sitting's hand-over code stops working this many days after it was made or renewed",
    )
    password_min_length: int = Field(default=12, ge=8, le=64, description="the shortest password accepted")
    reset_link_hours: int = Field(default=24, ge=1, le=168, description="how long a password-reset link works")
    signin_failures_account: int = Field(
        default=10, ge=1, description="failed sign-ins for one account within the window before it pauses"
    )
    signin_failures_address: int = Field(
        default=30, ge=1, description="failed sign-ins from one address within the window before it pauses"
    )
    code_failures_address: int = Field(
        default=20, ge=1, description="wrong hand-over codes from one address within the window before it pauses"
    )
    code_requests_administration: int = Field(
        default=1500,
        ge=10,
        description="requests with one administration's code within the window (bounds a leaked or scripted code)",
    )
    throttle_window_minutes: int = Field(default=15, ge=1, description="the window the limits above count in")
    throttle_block_minutes: int = Field(default=15, ge=1, description="how long a pause lasts")
    backup_key: str = Field(
        default="",
        description="encrypts backups (a Fernet key; empty: derived from secret_key). Keep a copy apart from them: "
        "a backup is restorable only with it",
    )
    retention_days: int = 365 * 5
    """Records of a closed case are depersonalized this long after closing."""
    cookie_secure: bool = False
    threads: int = Field(
        default=2,
        ge=1,
        le=512,
        description="requests one API process executes at once (its worker threads and its database pool); "
        "a process runs Python on one core, so 2 keep it busy while the other waits on the database "
        "(measured: README, Production set-up)",
    )
    max_queue: int = Field(
        default=256, ge=0, description="requests a process lets wait for a thread; beyond that: 503 at once"
    )
    queue_timeout: float = Field(default=10.0, gt=0, description="seconds a request may wait for a thread")
    db_pool_timeout: float = Field(default=10.0, gt=0, description="seconds to wait for a database connection")
    lock_timeout: float = Field(default=10.0, gt=0, description="seconds a write may wait for its turn (then 503)")
    log_level: str = Field(default="info", description="debug, info, warning or error (JSON lines on stderr)")
    audit_key: str = Field(default="", description="signs the audit log's checkpoints (HMAC); kept apart from it")
    research_key: str = Field(
        default="",
        description="keys the researchers' study pseudonyms (HMAC), apart from the cookie secret so that rotating "
        "secret_key does not re-key every study; changing it re-keys them all (empty: derived from secret_key)",
    )
    audit_checkpoint_file: str = Field(
        default="", description="file outside the database that receives every audit checkpoint (empty: none)"
    )
    time_zone: str = Field(
        default="Asia/Tbilisi",
        description="the IANA time zone every date and time is shown in (times are stored in UTC)",
    )
    reliability_min_n: int = Field(
        default=100,
        ge=3,
        description="scored administrations of an instrument version needed before reports show SEM bands "
        "from Cronbach's α of the answers stored here (when no norm table supplies a reliability)",
    )
    indicators_min_n: int = Field(
        default=5,
        ge=2,
        description="programme indicators: a group of fewer people than this is not shown (small groups "
        "could identify a person)",
    )

    @field_validator("backup_key")
    @classmethod
    def _backup_key_is_fernet(cls, v: str) -> str:
        if v.strip():
            try:
                Fernet(v.strip().encode())
            except ValueError as exc:
                raise ValueError("PROFORIENT_BACKUP_KEY must be a Fernet key (Fernet.generate_key())") from exc
        return v

    @field_validator("data_keys")
    @classmethod
    def _keys_are_fernet(cls, v: str) -> str:
        for k in filter(None, (p.strip() for p in v.split(","))):
            try:
                Fernet(k.encode())
            except ValueError as exc:
                raise ValueError("PROFORIENT_DATA_KEYS must hold Fernet keys (Fernet.generate_key())") from exc
        return v

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(
                f"PROFORIENT_TIME_ZONE must be an IANA time zone such as Asia/Tbilisi (got {v!r})"
            ) from exc
        return v

    @model_validator(mode="after")
    def _org_ids_unique(self) -> Settings:
        ids = [o.id for o in self.organisations]
        if len(ids) != len(set(ids)):
            raise ValueError("organisation ids must be unique")
        return self

    @property
    def audit_mac_key(self) -> bytes:
        """The audit checkpoints' HMAC key (derived from ``secret_key`` when none is configured)."""
        if self.audit_key:
            return self.audit_key.encode()
        return hashlib.sha256(f"proforient-audit|{self.secret_key}".encode()).digest()

    @property
    def research_pseudonym_key(self) -> bytes:
        """The key of every study pseudonym (``research_key``; derived from ``secret_key`` only when none
        is configured, which an instance made by ``ensure_instance`` always has)."""
        if self.research_key:
            return self.research_key.encode()
        return hashlib.sha256(f"proforient-research|{self.secret_key}".encode()).digest()

    @property
    def backup_fernet_key(self) -> bytes:
        """The key backups are encrypted with (``backup_key``, else derived from ``secret_key``)."""
        if self.backup_key:
            return self.backup_key.strip().encode()
        digest = hashlib.sha256(f"proforient-backup|{self.secret_key}".encode()).digest()
        return base64.urlsafe_b64encode(digest)

    @property
    def fernet_keys(self) -> list[bytes]:
        if self.data_keys_file:
            return read_keyring(Path(self.data_keys_file))
        return [k.strip().encode() for k in self.data_keys.split(",") if k.strip()]

    def key_loader(self) -> Callable[[], list[bytes]] | None:
        """How a running service reads the keys again (None: they come from the environment and
        cannot change while it runs)."""
        if self.data_keys_file:
            path = Path(self.data_keys_file)
            return lambda: read_keyring(path)
        if self.data_keys_source:
            source = Path(self.data_keys_source)

            def from_instance() -> list[bytes]:
                data = tomllib.loads(source.read_text(encoding="utf-8"))
                if data.get("data_keys_file"):
                    return read_keyring(Path(str(data["data_keys_file"])))
                return [k.strip().encode() for k in str(data.get("data_keys", "")).split(",") if k.strip()]

            return from_instance
        return None

    def organisation(self, org_id: str) -> Organisation | None:
        return next((o for o in self.organisations if o.id == org_id), None)


def read_keyring(path: Path) -> list[bytes]:
    """The keys of a keyring file: one Fernet key per line, newest first ('#' starts a comment)."""
    keys = []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            Fernet(line.encode())  # raises ValueError for anything that is not a Fernet key
            keys.append(line.encode())
    return keys


def write_keyring(path: Path, keys: list[bytes]) -> None:
    """Replace the keyring atomically (mode 0600): a reader sees the old file or the new one, never half."""
    tmp = path.with_name(path.name + ".part")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write("# proforient data keys: the first encrypts, every one decrypts (newest first)\n")
        fh.write("".join(k.decode() + "\n" for k in keys))
        fh.flush()
        os.fsync(fh.fileno())
    tmp.replace(path)


def ensure_instance(folder: Path = INSTANCE) -> dict[str, object]:
    """Create ``instance/settings.toml`` with fresh secrets if it does not exist yet."""
    path = folder / "settings.toml"
    if not path.exists():
        folder.mkdir(parents=True, exist_ok=True)
        folder.chmod(0o700)  # settings, keys, the SQLite database and checkpoints: the owner's only
        db = (folder / "proforient.db").resolve()
        path.write_text(
            "# generated on first start; keep this file private and backed up\n"
            f'database_url = "sqlite:///{db}"\n'
            f'secret_key = "{secrets.token_urlsafe(32)}"\n'
            f'data_keys_file = "{(folder / "data-keys").resolve()}"\n'
            f'audit_key = "{secrets.token_urlsafe(32)}"\n'
            f'research_key = "{secrets.token_urlsafe(32)}"\n'
            f'backup_key = "{Fernet.generate_key().decode()}"\n'
            f'audit_checkpoint_file = "{(folder / "audit-checkpoints.jsonl").resolve()}"\n',
            encoding="utf-8",
        )
        path.chmod(0o600)
        write_keyring(folder / "data-keys", [Fernet.generate_key()])
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    if not data.get("research_key"):  # an instance made by an earlier release: its own research key, kept
        text = path.read_text(encoding="utf-8")
        with path.open("a", encoding="utf-8") as fh:
            fh.write(
                ("" if text.endswith("\n") or not text else "\n") + f'research_key = "{secrets.token_urlsafe(32)}"\n'
            )
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    return data


def build_settings(**overrides: object) -> Settings:
    """Environment first, then the instance file for whatever the environment leaves empty."""
    env = Settings(**overrides)  # type: ignore[arg-type]
    if env.database_url and env.secret_key and (env.data_keys or env.data_keys_file):
        return env
    file = ensure_instance()
    merged = {k: v for k, v in file.items() if k in Settings.model_fields}
    explicit = env.model_dump(include=env.model_fields_set)
    merged.update({k: v for k, v in explicit.items() if v != ""})
    if not (env.data_keys or env.data_keys_file):  # the keys come from the instance: follow its changes
        merged["data_keys_source"] = str((INSTANCE / "settings.toml").resolve())
    # an instance made by an earlier release: its checkpoints go next to its settings
    merged.setdefault("audit_checkpoint_file", str((INSTANCE / "audit-checkpoints.jsonl").resolve()))
    return Settings(**merged)  # type: ignore[arg-type]


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return build_settings()


def keyring_for(settings: Settings) -> Path | None:
    """The keyring file a running service follows; an instance that still keeps its keys in
    ``settings.toml`` (``data_keys``) is moved to a keyring file first. None when the keys come
    from the environment (``PROFORIENT_DATA_KEYS``): those change only with a restart."""
    if settings.data_keys_file:
        return Path(settings.data_keys_file)
    if not settings.data_keys_source:
        return None
    source = Path(settings.data_keys_source)
    path = source.with_name("data-keys")
    if not path.exists():
        write_keyring(path, settings.fernet_keys)
    lines = source.read_text(encoding="utf-8").splitlines()
    kept = [ln for ln in lines if ln.split("=", 1)[0].strip() not in ("data_keys", "data_keys_file")]
    tmp = source.with_name(source.name + ".part")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write("\n".join([*kept, f'data_keys_file = "{path.resolve()}"']) + "\n")
    tmp.replace(source)
    return path
