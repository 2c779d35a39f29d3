"""Database tables (SQLAlchemy 2). API schemas live apart, in ``api/schemas.py``.

Personal data: ``Beneficiary.name_enc`` and ``contact_enc`` hold Fernet
ciphertext; everything else about a person is keyed by the pseudonymous
``code``. Results are immutable: re-scoring adds a row that points back.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON}


UTC = DateTime(timezone=True)


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    full_name: Mapped[str | None] = mapped_column(String(200))
    """What pages and reports show (``accounts.display_name``); the login only where there is none."""
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(32))
    organisation: Mapped[str | None] = mapped_column(String(64))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTC, default=utcnow)
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    """A temporary password was set (first start, admin reset): sign-in leads only to the change form."""
    password_changed_at: Mapped[dt.datetime | None] = mapped_column(UTC)
    totp_secret_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    """The TOTP secret (second factor), encrypted like names; set up but unconfirmed while not ``totp_active``."""
    totp_active: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)
    """The last accepted TOTP time step: a code is accepted once."""
    disabled_at: Mapped[dt.datetime | None] = mapped_column(UTC)
    last_sign_in_at: Mapped[dt.datetime | None] = mapped_column(UTC)


class UserSession(Base):
    """A signed-in browser (server-side session): the cookie holds a random token, this row its hash.

    Checked on every request; sign-out, disabling the account and a password change end it at once."""

    __tablename__ = "user_sessions"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    """SHA-256 of the session token (the token itself is only in the cookie)."""
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    stage: Mapped[str] = mapped_column(String(16))
    """'full' = signed in; 'password' = must set a new password first; 'totp' = second factor awaited."""
    created_at: Mapped[dt.datetime] = mapped_column(UTC, default=utcnow)
    last_seen_at: Mapped[dt.datetime] = mapped_column(UTC, default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(UTC)
    """Absolute end, however active the session is."""
    idle_seconds: Mapped[int] = mapped_column(Integer)
    """Ends after this long without a request (short on a shared device)."""
    shared_device: Mapped[bool] = mapped_column(Boolean, default=False)
    ip: Mapped[str | None] = mapped_column(String(64))
    ended_at: Mapped[dt.datetime | None] = mapped_column(UTC)
    ended_reason: Mapped[str | None] = mapped_column(String(32))


class PasswordReset(Base):
    """A one-time link to set a new password (made by an admin; valid for hours, used once)."""

    __tablename__ = "password_resets"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    """SHA-256 of the link's token."""
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTC, default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(UTC)
    used_at: Mapped[dt.datetime | None] = mapped_column(UTC)


class RateLimit(Base):
    """Failed attempts counted per key (an account, an address, an administration), shared by every
    API process: sign-in and hand-over codes are throttled from here, never from process memory."""

    __tablename__ = "rate_limits"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    """SHA-256 of '<kind>|<subject>': no typed user name or address is stored in clear."""
    kind: Mapped[str] = mapped_column(String(32))
    count: Mapped[int] = mapped_column(Integer)
    window_start: Mapped[dt.datetime] = mapped_column(UTC, index=True)
    blocked_until: Mapped[dt.datetime | None] = mapped_column(UTC)


class ApiClient(Base):
    __tablename__ = "api_clients"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    key_prefix: Mapped[str] = mapped_column(String(16), unique=True)
    key_hash: Mapped[str] = mapped_column(String(128))
    scopes: Mapped[list[Any]] = mapped_column(JSON)
    organisation: Mapped[str | None] = mapped_column(String(64))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTC, default=utcnow)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    last_used_at: Mapped[dt.datetime | None] = mapped_column(UTC)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTC)


class Beneficiary(Base):
    __tablename__ = "beneficiaries"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    name_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    contact_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    gender: Mapped[str | None] = mapped_column(String(16))
    birth_year: Mapped[int | None] = mapped_column(Integer)
    region: Mapped[str | None] = mapped_column(String(40))
    """Where the person lives: an id of ``instruments.regions()`` (the programme indicators' breakdown)."""
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTC, default=utcnow)
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTC)
    depersonalized_at: Mapped[dt.datetime | None] = mapped_column(UTC)


class Sitting(Base):
    """Several instruments a person answers one after another with one hand-over code (only its
    hash is kept). Each instrument is still its own administration (``Administration.sitting_id``,
    in ``sitting_position`` order) with its own result."""

    __tablename__ = "sittings"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    beneficiary_id: Mapped[int] = mapped_column(ForeignKey("beneficiaries.id"), index=True)
    code_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    code_expires_at: Mapped[dt.datetime | None] = mapped_column(UTC)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTC, default=utcnow)


class Administration(Base):
    __tablename__ = "administrations"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    beneficiary_id: Mapped[int | None] = mapped_column(ForeignKey("beneficiaries.id"), index=True)
    """The person answering; NULL for a study participant's administration (``participant_id``)."""
    participant_id: Mapped[int | None] = mapped_column(ForeignKey("study_participants.id"), index=True)
    """Set when a study participant answers: no beneficiary record, no result row (studies export answers)."""
    instrument: Mapped[str] = mapped_column(String(64))
    instrument_version: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="in_progress")
    mode: Mapped[str] = mapped_column(String(16), default="respondent")
    resume_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    aspirations: Mapped[list[Any] | None] = mapped_column(JSON)
    seconds: Mapped[float | None] = mapped_column(Float)
    """Answering time for the "too fast" flag; NULL = unknown (never guessed)."""
    timing: Mapped[str | None] = mapped_column(String(16))
    """Where ``seconds`` comes from: NULL = nothing measured yet; 'active' = the sum of the
    browser's active-time increments; 'given' = a total the API caller stated; 'incomplete' =
    some answers came without a measurement (no script, paper entry), so ``seconds`` stays NULL."""
    administered_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTC, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTC, default=utcnow)
    submitted_at: Mapped[dt.datetime | None] = mapped_column(UTC)
    discarded_at: Mapped[dt.datetime | None] = mapped_column(UTC)
    """Set when the administration was started by mistake and discarded (it then has no result)."""
    discarded_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    discard_reason: Mapped[str | None] = mapped_column(Text)
    sitting_id: Mapped[str | None] = mapped_column(ForeignKey("sittings.id"), index=True)
    """The sitting this administration is part of (NULL: handed over with a code of its own)."""
    sitting_position: Mapped[int | None] = mapped_column(Integer)


class Study(Base):
    """A norm study: what participants are told and asked, who it wants (quotas), when it runs.

    ``key_enc``: the study's own pseudonymization key (sealed like names); exports key every
    participant's pseudonym on it, so two studies cannot be linked and no service secret re-keys them."""

    __tablename__ = "studies"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    title_ka: Mapped[str] = mapped_column(String(200))
    title_en: Mapped[str] = mapped_column(String(200))
    purpose_ka: Mapped[str] = mapped_column(Text)
    purpose_en: Mapped[str] = mapped_column(Text)
    consent_ka: Mapped[str] = mapped_column(Text)
    consent_en: Mapped[str] = mapped_column(Text)
    instruments: Mapped[list[Any]] = mapped_column(JSON)
    """[{"id": ..., "version": ...}] in the order participants answer them."""
    questions: Mapped[list[Any]] = mapped_column(JSON)
    """Demographic questions: [{"id", "ka", "en", "type": "choice"|"birth_year", "options": [{"value","ka","en"}]}]."""
    quotas: Mapped[list[Any]] = mapped_column(JSON)
    """Targets: [{"question", "value", "target"}]."""
    opens_on: Mapped[dt.date] = mapped_column(Date)
    closes_on: Mapped[dt.date] = mapped_column(Date)
    exact_quasi_identifiers: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    """The protocol allows exact birth years and dates in exports (else: age bands and months)."""
    key_enc: Mapped[bytes] = mapped_column(LargeBinary)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTC, default=utcnow)


class StudyParticipant(Base):
    """One participation code: anonymous (no name, no beneficiary record) unless a social worker
    recorded a fund beneficiary's consent (``beneficiary_id``, ``consent_recorded_by``)."""

    __tablename__ = "study_participants"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    study_id: Mapped[str] = mapped_column(ForeignKey("studies.id"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    status: Mapped[str] = mapped_column(String(16), default="invited")
    """'invited' → 'consented' (or 'declined') → 'completed'."""
    answers: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    """The demographic answers (question id → value)."""
    beneficiary_id: Mapped[int | None] = mapped_column(ForeignKey("beneficiaries.id"), index=True)
    consent_recorded_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTC, default=utcnow)
    consented_at: Mapped[dt.datetime | None] = mapped_column(UTC)
    declined_at: Mapped[dt.datetime | None] = mapped_column(UTC)
    completed_at: Mapped[dt.datetime | None] = mapped_column(UTC)
    submission_key: Mapped[str | None] = mapped_column(String(64))
    """For a row imported from an ODK Collect / KoboToolbox export: SHA-256 of the study and the
    submission's id (``_uuid`` / ``meta/instanceID``), so importing the same file again adds nothing.
    NULL for a participant who answered on the service's own pages."""


Index(
    "uq_study_participants_submission",
    StudyParticipant.study_id,
    StudyParticipant.submission_key,
    unique=True,
)
"""One participant per field submission in a study (NULL keys, the service's own participants, never clash)."""


class StudyNormTable(Base):
    """A norm table built from a study's data: a draft until a researcher publishes it; reports use
    published tables only. Stored in the norm-table file format (``write_norms``: metadata + CSV)."""

    __tablename__ = "study_norm_tables"
    __table_args__ = (UniqueConstraint("instrument", "norm_id", "version"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    study_id: Mapped[str] = mapped_column(ForeignKey("studies.id"), index=True)
    instrument: Mapped[str] = mapped_column(String(64))
    instrument_version: Mapped[str] = mapped_column(String(16))
    norm_id: Mapped[str] = mapped_column(String(64))
    version: Mapped[str] = mapped_column(String(16))
    meta: Mapped[dict[str, Any]] = mapped_column(JSON)
    table_csv: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="draft")
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTC, default=utcnow)
    published_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    published_at: Mapped[dt.datetime | None] = mapped_column(UTC)


class Answer(Base):
    """One saved answer; one row per item, so concurrent autosaves never overwrite each other."""

    __tablename__ = "answers"
    administration_id: Mapped[str] = mapped_column(ForeignKey("administrations.id"), primary_key=True)
    item: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str | None] = mapped_column(String(255))
    """The normalized answer ('3', '-2', '1'); NULL = explicitly skipped."""
    saved_at: Mapped[dt.datetime] = mapped_column(UTC, default=utcnow)


class Result(Base):
    __tablename__ = "results"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    administration_id: Mapped[str] = mapped_column(ForeignKey("administrations.id"), index=True)
    beneficiary_id: Mapped[int] = mapped_column(ForeignKey("beneficiaries.id"), index=True)
    instrument: Mapped[str] = mapped_column(String(64))
    instrument_version: Mapped[str] = mapped_column(String(16))
    instrument_hash: Mapped[str] = mapped_column(String(64))
    engine_version: Mapped[str] = mapped_column(String(16))
    norm_table: Mapped[str | None] = mapped_column(String(64))
    record: Mapped[dict[str, Any]] = mapped_column(JSON)
    """The typed result record (``scoring.ScoreRecord``), as ``model_dump(mode="json")``; read it back with
    ``scoring.read_record``, which validates it."""
    record_schema: Mapped[int] = mapped_column(Integer, default=1)
    kind: Mapped[str] = mapped_column(String(16), default="scored")
    """'scored' (at submission), 'rescored' (the same answers, scored again) or 'corrected' (answers changed)."""
    reason: Mapped[str | None] = mapped_column(Text)
    """Why the answers were corrected (a correction only)."""
    supersedes_id: Mapped[str | None] = mapped_column(ForeignKey("results.id"))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTC, default=utcnow)


class Correction(Base):
    """One answer changed after submission: old and new value, who, why; the result it led to."""

    __tablename__ = "corrections"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    administration_id: Mapped[str] = mapped_column(ForeignKey("administrations.id"), index=True)
    result_id: Mapped[str] = mapped_column(ForeignKey("results.id"))
    item: Mapped[str] = mapped_column(String(64))
    old_value: Mapped[str | None] = mapped_column(String(255))
    new_value: Mapped[str | None] = mapped_column(String(255))
    reason: Mapped[str] = mapped_column(Text)
    corrected_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    at: Mapped[dt.datetime] = mapped_column(UTC, default=utcnow)


class Consent(Base):
    __tablename__ = "consents"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    beneficiary_id: Mapped[int] = mapped_column(ForeignKey("beneficiaries.id"), index=True)
    addressee: Mapped[str] = mapped_column(String(64))
    scope: Mapped[list[Any]] = mapped_column(JSON)
    given_at: Mapped[dt.datetime] = mapped_column(UTC, default=utcnow)
    recorded_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    expires_at: Mapped[dt.datetime | None] = mapped_column(UTC)
    withdrawn_at: Mapped[dt.datetime | None] = mapped_column(UTC)
    withdrawn_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    note: Mapped[str | None] = mapped_column(Text)


class Packet(Base):
    """What the social worker built for one addressee; immutable once sent."""

    __tablename__ = "packets"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    beneficiary_id: Mapped[int] = mapped_column(ForeignKey("beneficiaries.id"), index=True)
    addressee: Mapped[str] = mapped_column(String(64), index=True)
    parts: Mapped[list[Any]] = mapped_column(JSON)
    content: Mapped[dict[str, Any]] = mapped_column(JSON)
    content_hash: Mapped[str] = mapped_column(String(64))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTC, default=utcnow)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTC)
    consent_id: Mapped[int | None] = mapped_column(ForeignKey("consents.id"))


class Sending(Base):
    """The registry (რეესტრი): one row per packet sent."""

    __tablename__ = "sendings"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    packet_id: Mapped[str] = mapped_column(ForeignKey("packets.id"), unique=True)
    beneficiary_id: Mapped[int] = mapped_column(ForeignKey("beneficiaries.id"), index=True)
    sender_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    addressee: Mapped[str] = mapped_column(String(64))
    sent_at: Mapped[dt.datetime] = mapped_column(UTC, default=utcnow)
    content_hash: Mapped[str] = mapped_column(String(64))
    consent_id: Mapped[int] = mapped_column(ForeignKey("consents.id"))


class AuditEntry(Base):
    """Append-only, hash-chained: hash = sha256(prev_hash + canonical JSON of the entry).

    Since migration 0005 the chain covers ``private_hash`` (SHA-256 over a random ``salt``, the
    address and the detail) instead of the address and detail themselves, so retention can erase
    those two (and the salt) from a depersonalized person's entries and the chain still verifies."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, unique=True)
    at: Mapped[dt.datetime] = mapped_column(UTC)
    actor: Mapped[str] = mapped_column(String(120))
    action: Mapped[str] = mapped_column(String(64))
    entity: Mapped[str] = mapped_column(String(64))
    entity_id: Mapped[str | None] = mapped_column(String(64))
    beneficiary: Mapped[str | None] = mapped_column(String(16), index=True)
    ip: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
    salt: Mapped[str | None] = mapped_column(String(32))
    """Random; NULL once the entry's address and detail were erased by retention."""
    private_hash: Mapped[str | None] = mapped_column(String(64))
    """SHA-256 of salt, address and detail; NULL on entries written before migration 0005."""
    redacted_at: Mapped[dt.datetime | None] = mapped_column(UTC)


class AuditHead(Base):
    """One row: the chain's last seq and hash; locked while appending, so processes take turns."""

    __tablename__ = "audit_head"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger)
    hash: Mapped[str] = mapped_column(String(64))


class AuditCheckpoint(Base):
    """A signed copy of the chain's head at one moment (also kept in a file outside the database)."""

    __tablename__ = "audit_checkpoints"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, index=True)
    hash: Mapped[str] = mapped_column(String(64))
    at: Mapped[str] = mapped_column(String(32))
    mac: Mapped[str] = mapped_column(String(64))


class TimeIncrement(Base):
    """One increment of active answering time, by the id its sender gave it: a retry adds nothing."""

    __tablename__ = "time_increments"
    administration_id: Mapped[str] = mapped_column(ForeignKey("administrations.id"), primary_key=True)
    increment_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    seconds: Mapped[float] = mapped_column(Float)
    at: Mapped[dt.datetime] = mapped_column(UTC, default=utcnow)


class IdempotencyRecord(Base):
    """An ``Idempotency-Key`` seen in the last 24 hours: keyed hashes of the key and the request,
    the response's status and the id of what it made; never a body (no names, contacts or keys)."""

    __tablename__ = "idempotency"
    __table_args__ = (UniqueConstraint("principal", "key"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    principal: Mapped[str] = mapped_column(String(120))
    key: Mapped[str] = mapped_column(String(64))
    """HMAC of the client's key (a client may put anything in it)."""
    request_hash: Mapped[str] = mapped_column(String(64))
    """HMAC of the route and the body."""
    status: Mapped[int] = mapped_column(Integer)
    resource_id: Mapped[str | None] = mapped_column(String(64), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTC, default=utcnow, index=True)


class Training(Base):
    """A training of the activities catalogue a beneficiary started (and perhaps finished)."""

    __tablename__ = "trainings"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    beneficiary_id: Mapped[int] = mapped_column(ForeignKey("beneficiaries.id"), index=True)
    activity: Mapped[str] = mapped_column(String(64))
    """An id of ``instruments/data/activities.toml``."""
    started_on: Mapped[dt.date] = mapped_column(Date)
    finished_on: Mapped[dt.date | None] = mapped_column(Date)
    outcome: Mapped[str] = mapped_column(String(16), default="ongoing")
    """'ongoing', 'completed' or 'dropped'."""
    note: Mapped[str | None] = mapped_column(Text)
    organisation: Mapped[str | None] = mapped_column(String(64))
    """The recording organisation (an employment officer's or client's); NULL = the fund."""
    recorded_by: Mapped[str] = mapped_column(String(120))
    """The audit log's name of who recorded it (``user:…`` or ``client:…``)."""
    created_at: Mapped[dt.datetime] = mapped_column(UTC, default=utcnow)


class Placement(Base):
    """A job (or self-employment) a beneficiary started; follow-ups are scheduled from ``start_date``."""

    __tablename__ = "placements"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    beneficiary_id: Mapped[int] = mapped_column(ForeignKey("beneficiaries.id"), index=True)
    employer_kind: Mapped[str] = mapped_column(String(32))
    isco: Mapped[str] = mapped_column(String(8))
    riasec: Mapped[str | None] = mapped_column(String(8))
    """The occupation's code in the catalogue (NULL for an ISCO code the catalogue does not hold)."""
    start_date: Mapped[dt.date] = mapped_column(Date)
    hours_per_week: Mapped[int | None] = mapped_column(Integer)
    pay_band: Mapped[str | None] = mapped_column(String(16))
    self_employed: Mapped[bool] = mapped_column(Boolean, default=False)
    micro_business: Mapped[bool] = mapped_column(Boolean, default=False)
    supported: Mapped[bool] = mapped_column(Boolean, default=False)
    """Supported employment (a job coach or the fund's accompaniment)."""
    note: Mapped[str | None] = mapped_column(Text)
    organisation: Mapped[str | None] = mapped_column(String(64))
    recorded_by: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[dt.datetime] = mapped_column(UTC, default=utcnow)


class FollowUp(Base):
    """What a scheduled follow-up found (``month`` after the placement's start)."""

    __tablename__ = "follow_ups"
    __table_args__ = (UniqueConstraint("placement_id", "month"),)
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    placement_id: Mapped[str] = mapped_column(ForeignKey("placements.id"), index=True)
    beneficiary_id: Mapped[int] = mapped_column(ForeignKey("beneficiaries.id"), index=True)
    month: Mapped[int] = mapped_column(Integer)
    done_on: Mapped[dt.date] = mapped_column(Date)
    still_employed: Mapped[bool] = mapped_column(Boolean)
    same_job: Mapped[bool | None] = mapped_column(Boolean)
    left_on: Mapped[dt.date | None] = mapped_column(Date)
    """When the job ended (if it did and the day is known); otherwise the follow-up's day counts."""
    satisfaction: Mapped[int | None] = mapped_column(Integer)
    difficulties: Mapped[list[Any]] = mapped_column(JSON)
    note: Mapped[str | None] = mapped_column(Text)
    organisation: Mapped[str | None] = mapped_column(String(64))
    recorded_by: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[dt.datetime] = mapped_column(UTC, default=utcnow)


Index("ix_sendings_addressee", Sending.addressee)
Index(
    "uq_results_one_original",
    Result.administration_id,
    unique=True,
    sqlite_where=Result.supersedes_id.is_(None),
    postgresql_where=Result.supersedes_id.is_(None),
)
"""One submission, one result: every further result of an administration supersedes an earlier one."""
Index("uq_results_supersedes", Result.supersedes_id, unique=True)
"""A result is superseded at most once: the results of an administration form one line."""


class ReportJob(Base):
    """A batch of reports made in the background (``proforient worker``): one report per
    beneficiary of a cohort, in one language, audience and format. ``done`` counts the files
    made; a worker claims a queued job with one conditional UPDATE, so only one ever runs it."""

    __tablename__ = "report_jobs"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    requested_by: Mapped[str] = mapped_column(String(120))
    """The principal's actor string (who asked; every report made is audited in their name)."""
    created_at: Mapped[dt.datetime] = mapped_column(UTC, default=utcnow, index=True)
    state: Mapped[str] = mapped_column(String(16), default="queued", index=True)
    """queued → running → done (or failed, with ``error``)."""
    lang: Mapped[str] = mapped_column(String(8))
    audience: Mapped[str] = mapped_column(String(32))
    fmt: Mapped[str] = mapped_column(String(8))
    registered_from: Mapped[dt.date | None] = mapped_column(Date)
    registered_to: Mapped[dt.date | None] = mapped_column(Date)
    """The cohort: beneficiaries registered in this period (both ends included; none: everyone)."""
    total: Mapped[int] = mapped_column(Integer, default=0)
    done: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    worker: Mapped[str | None] = mapped_column(String(120))
    runs: Mapped[int] = mapped_column(Integer, default=0)
    """How many times a worker claimed the job (1 unless a worker died and it was put back)."""
    started_at: Mapped[dt.datetime | None] = mapped_column(UTC)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTC)


class ReportJobFile(Base):
    """One report of a batch: at most one per beneficiary and job (a unique constraint)."""

    __tablename__ = "report_job_files"
    __table_args__ = (UniqueConstraint("job_id", "beneficiary_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job_id: Mapped[str] = mapped_column(ForeignKey("report_jobs.id", ondelete="CASCADE"), index=True)
    beneficiary_id: Mapped[int] = mapped_column(ForeignKey("beneficiaries.id"))
    name: Mapped[str] = mapped_column(String(120))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[dt.datetime] = mapped_column(UTC, default=utcnow)
