"""Request bodies of the REST API (pydantic). Unknown fields are refused."""

from __future__ import annotations

import datetime as dt
import math
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictFloat, StringConstraints

from scoring import ScoreRecord

Short = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Answer = str | int | float | None


def _no_nan(value: object) -> object:
    """NaN and ±Infinity (Python's JSON parser reads them) are refused as text, so the
    problem response can name them (JSON cannot carry the float itself)."""
    return f"{value} (not a finite number)" if isinstance(value, float) and not math.isfinite(value) else value


Seconds = Annotated[float, BeforeValidator(_no_nan)]
"""A number of seconds: finite; JSON numbers (and, as before, numeric text)."""
ActiveSeconds = Annotated[StrictFloat, BeforeValidator(_no_nan)]
"""An increment of active time: a finite JSON number, nothing else."""


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


Password = Annotated[str, StringConstraints(min_length=1, max_length=200)]


class Login(Body):
    username: Short
    password: Password
    totp: Annotated[str, StringConstraints(max_length=16)] | None = Field(
        default=None, description="the one-time code of an account with a second factor"
    )
    shared_device: bool = Field(
        default=False, description="a shared device (a shelter's tablet): the session ends after a short idle time"
    )


class PasswordChange(Body):
    current_password: Password
    new_password: Password


class PasswordResetRedeem(Body):
    token: Annotated[str, StringConstraints(min_length=20, max_length=100)]
    new_password: Password


class ScoreItem(Body):
    id: Short | None = None
    answers: dict[str, Answer]
    aspirations: list[Short] | None = Field(default=None, max_length=3)
    seconds: float | None = Field(default=None, ge=0)


class ScoreRequest(Body):
    instrument: Short
    version: Short | None = None
    administrations: list[ScoreItem] = Field(min_length=1)


class BeneficiaryCreate(Body):
    name: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] | None = None
    contact: Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)] | None = None
    gender: str | None = None
    birth_year: Annotated[int, Field(ge=1900, le=2100)] | None = None
    region: Short | None = Field(default=None, description="One of Georgia's regions by its id (GET /v1/regions).")


class BeneficiaryUpdate(Body):
    region: Short | None = Field(description="One of Georgia's regions by its id (GET /v1/regions); null clears it.")


class AdministrationCreate(Body):
    beneficiary: Short
    instrument: Short
    version: Short | None = None
    mode: str = "respondent"


class AnswersSave(Body):
    answers: dict[Annotated[str, StringConstraints(max_length=64)], Answer] = Field(max_length=500)
    aspirations: list[Short] | None = Field(default=None, max_length=3)
    seconds: Seconds | None = Field(
        default=None, ge=0, allow_inf_nan=False, description="The total answering time, as stated by the caller."
    )
    active_seconds: ActiveSeconds | None = Field(
        default=None,
        ge=0,
        le=60_000,
        allow_inf_nan=False,
        description="Active answering time since the last save (page visible, at most 120 s per answer "
        "interval), added to the administration's sum; at most 120 s per answer in this request. "
        "Needs `increment_id`.",
    )
    increment_id: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.:-]{1,64}$")] | None = Field(
        default=None,
        description="The sender's id of this increment of active time (e.g. a random UUID made when it was "
        "measured): a retry with the same id adds nothing.",
    )


class ConsentCreate(Body):
    addressee: Short
    scope: list[Short] = Field(min_length=1)
    expires_at: dt.datetime | None = None
    note: Annotated[str, StringConstraints(max_length=2000)] | None = None


class PacketCreate(Body):
    beneficiary: Short
    addressee: Short
    parts: list[Short] = Field(min_length=1)


Username = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_.-]{2,79}$")]
FullName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class UserCreate(Body):
    username: Username
    full_name: FullName | None = None
    password: Password | None = Field(
        default=None,
        description="omit it: a temporary password is made, shown once, and must be changed at the first sign-in",
    )
    role: Short
    organisation: Short | None = None


class UserUpdate(Body):
    full_name: FullName | None = None


class PasswordResetCreate(Body):
    method: Literal["temporary", "link"] = Field(
        default="temporary",
        description="'temporary': a new temporary password, changed at the next sign-in; 'link': a one-time link",
    )


class BreakGlass(Body):
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=20, max_length=1000)] = Field(
        description="why the emergency read is needed (at least 20 characters); kept in the audit log"
    )


class ApiClientCreate(Body):
    name: Short
    scopes: list[Short] = Field(min_length=1)
    organisation: Short | None = None


class Correct(Body):
    answers: dict[Annotated[str, StringConstraints(max_length=64)], Answer] = Field(min_length=1, max_length=500)
    """The corrected answers, by item (any accepted spelling; null = skipped)."""
    reason: Annotated[str, StringConstraints(min_length=3, max_length=2000)]


class Discard(Body):
    reason: Annotated[str, StringConstraints(min_length=3, max_length=2000)]


class ResultPublic(BaseModel):
    """A stored result: its typed record and where it stands in its administration's line."""

    id: str
    beneficiary: str
    administration: str
    instrument: str
    instrument_version: str
    instrument_hash: str
    engine_version: str
    norm_table: str | None
    kind: Literal["scored", "rescored", "corrected"]
    reason: str | None = Field(description="why the answers were corrected (a correction only)")
    supersedes: str | None
    superseded_by: str | None
    current: bool = Field(description="no later result of the same administration supersedes this one")
    administered_at: dt.datetime
    created_at: dt.datetime
    record: ScoreRecord


# -- answers (documented shapes; the routes build them in api.domain) ------------------------------


class AdministrationPublic(BaseModel):
    """An administration: its state and the answers saved so far (never the hand-over token)."""

    id: str
    beneficiary: str = Field(description="the beneficiary's code (never the name)")
    instrument: str
    instrument_version: str
    status: str = Field(description="in_progress, submitted or discarded")
    mode: str = Field(description="respondent (the person answers with a hand-over code) or staff")
    aspirations: list[str | None] | None
    seconds: float | None
    created_at: dt.datetime
    updated_at: dt.datetime
    submitted_at: dt.datetime | None
    discarded_at: dt.datetime | None
    discard_reason: str | None
    answers: dict[str, str | None] = Field(description="item id → the answer as saved (null: skipped)")


class AdministrationStarted(AdministrationPublic):
    resume_token: str | None = Field(description="the hand-over code, shown once (null on a replay)")


class ConsentPublic(BaseModel):
    """A consent: to whom, for which parts, until when; withdrawn or not."""

    id: int
    beneficiary: str
    addressee: str
    scope: list[str]
    given_at: dt.datetime
    expires_at: dt.datetime | None
    withdrawn_at: dt.datetime | None
    note: str | None
    valid_now: bool


class PacketPublic(BaseModel):
    """A packet for one addressee: the parts it carries and its content, fixed by its hash."""

    id: str
    beneficiary: str
    addressee: str
    parts: list[str]
    content: dict[str, object]
    content_hash: str
    created_at: dt.datetime
    sent_at: dt.datetime | None


Note = Annotated[str, StringConstraints(max_length=2000)]


class TrainingCreate(Body):
    activity: Short = Field(description="an activity id of the catalogue (instruments/data/activities.toml)")
    started_on: dt.date
    outcome: Literal["ongoing", "completed", "dropped"] = "ongoing"
    finished_on: dt.date | None = None
    note: Note | None = None


class TrainingFinish(Body):
    outcome: Literal["completed", "dropped"]
    finished_on: dt.date


class PlacementCreate(Body):
    employer_kind: Short = Field(description="private, public, ngo, social_enterprise or own_business")
    occupation: Short = Field(
        description="an occupation of the catalogue (name or ISCO-08 code) or a 4-digit ISCO-08 code"
    )
    start_date: dt.date
    hours_per_week: int | None = None
    pay_band: Short | None = Field(
        default=None, description="up_to_500, 501_1000, 1001_1500 or over_1500 (GEL a month)"
    )
    self_employed: bool = False
    micro_business: bool = False
    supported: bool = Field(default=False, description="supported employment")
    note: Note | None = None


class FollowUpCreate(Body):
    month: int = Field(description="the scheduled point: 1, 3, 6, 12, 24 or 36 months after the start")
    done_on: dt.date
    still_employed: bool
    same_job: bool | None = None
    left_on: dt.date | None = Field(default=None, description="when the job ended, if it did and the day is known")
    satisfaction: int | None = Field(default=None, description="1 (not at all) to 4 (very satisfied)")
    difficulties: list[Short] = Field(default_factory=list, max_length=20)
    note: Note | None = None
