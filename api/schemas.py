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


class Out(BaseModel):
    """An answer's documented shape (the models below): every field named, none beyond them
    (``additionalProperties: false``), so a field added to a view without its model fails
    ``tests/test_api_contract.py``. Routes return the views ``api.domain`` builds; these models
    publish their schema (``api.routes.common.documented``)."""

    model_config = ConfigDict(extra="forbid")


class ResultPublic(Out):
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


class AdministrationPublic(Out):
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


class ConsentPublic(Out):
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


class PacketPublic(Out):
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


class Bilingual(Out):
    ka: str | None
    en: str | None


class PageOf(Out):
    """One page of a list: ``next_offset`` is null on the last page."""

    total: int
    offset: int
    limit: int
    next_offset: int | None


# auth


class SignedIn(Out):
    username: str
    full_name: str | None
    role: str
    organisation: str | None
    password_change_required: bool = Field(description="a temporary password: only a new password can be set")


class Me(Out):
    kind: Literal["user", "client"] = Field(description="a signed-in person or an API client")
    name: str
    full_name: str | None
    role: str | None
    organisation: str | None
    scopes: list[str] = Field(description="an API client's scopes (empty for a user, whose role decides)")


class PasswordChanged(Out):
    changed: Literal[True]


# instruments and scoring


class InstrumentSummary(Out):
    id: str
    version: str
    model: str
    title: Bilingual
    items: int = Field(description="items (or, for a form, fields)")


class SectionText(Out):
    id: str
    title: str | None
    instructions: str | None
    page_size: int | None
    labels: dict[str, str] | None = Field(default=None, description="the section's own answer labels, if any")
    short: dict[str, str | None] | None = None


class ResponseScale(Out):
    kind: str = Field(description="ordinal, binary or paired")
    min: int | None
    max: int | None
    labels: dict[str, str] = Field(description="answer value → its label")
    short: dict[str, str | None] = Field(description="answer value → what the button shows, where shorter")


class ItemText(Out):
    id: str
    section: str | None
    text: str | None
    left: str | None = Field(description="a paired item's left pole")
    right: str | None


class FieldOption(Out):
    value: str
    label: str | None


class FormField(Out):
    id: str
    section: str | None
    type: str
    required: bool
    label: str | None
    options: list[FieldOption]


class InstrumentDefinition(Out):
    """An instrument in one language: ``response`` and ``items`` for a questionnaire, ``fields`` for a form."""

    id: str
    version: str
    model: str
    lang: Literal["ka", "en"]
    title: str | None
    description: str | None
    sections: list[SectionText]
    response: ResponseScale | None = None
    items: list[ItemText] | None = None
    fields: list[FormField] | None = None


class Scored(Out):
    """``format=record``: one typed record each (``/v1/schemas/record``); ``format=flat``: one row of
    columns each, as ``proforient score`` writes them."""

    instrument: str
    instrument_version: str
    results: list[ScoreRecord] | list[dict[str, str | float | int | bool | None]]


class RecordSchema(BaseModel):
    """A JSON Schema (draft 2020-12) document: one record model per instrument model, by ``model``."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)
    schema_uri: str = Field(alias="$schema")
    defs: dict[str, dict[str, object]] = Field(alias="$defs")
    oneOf: list[dict[str, object]]  # noqa: N815 - the JSON Schema keyword
    discriminator: dict[str, object]


# beneficiaries


class BeneficiaryPublic(Out):
    """A beneficiary as staff see them; ``name`` and ``contact`` only for a role that may read names."""

    code: str
    gender: str | None
    birth_year: int | None
    region: str | None = Field(default=None, description="an id of GET /v1/regions; null: not recorded")
    created_at: dt.datetime
    closed_at: dt.datetime | None
    depersonalized: bool
    name: str | None = None
    contact: str | None = None


class BeneficiaryPage(PageOf):
    items: list[BeneficiaryPublic]


class SubjectPerson(Out):
    code: str
    name: str | None
    contact: str | None
    gender: str | None
    birth_year: int | None
    region: str | None
    registered_by: str | None
    created_at: dt.datetime
    closed_at: dt.datetime | None
    depersonalized_at: dt.datetime | None


class SubjectAnswer(Out):
    item: str
    label: Bilingual | None = Field(description="what the answer answered (intake label or item text)")
    value: str | None
    saved_at: dt.datetime


class SubjectAdministration(Out):
    id: str
    instrument: str
    title: Bilingual | None
    version: str
    mode: str
    status: str
    administered_by: str | None
    created_at: dt.datetime
    updated_at: dt.datetime
    submitted_at: dt.datetime | None
    aspirations: list[str | None] | None
    answering_seconds: float | None
    answers: list[SubjectAnswer]


class SubjectResult(Out):
    id: str
    instrument: str
    version: str
    engine_version: str
    norm_table: str | None
    created_at: dt.datetime
    kind: Literal["scored", "rescored", "corrected"]
    reason: str | None
    supersedes: str | None
    record: ScoreRecord


class SubjectConsent(Out):
    id: int
    addressee: str
    scope: list[str]
    given_at: dt.datetime
    recorded_by: str | None
    expires_at: dt.datetime | None
    withdrawn_at: dt.datetime | None
    withdrawn_by: str | None
    note: str | None


class SubjectPacket(Out):
    id: str
    addressee: str
    parts: list[str]
    prepared_by: str | None
    created_at: dt.datetime
    sent_at: dt.datetime | None
    content: dict[str, object]


class SubjectSending(Out):
    packet: str
    addressee: str
    sender: str | None
    sent_at: dt.datetime


class SubjectTraining(Out):
    activity: str
    started_on: dt.date
    finished_on: dt.date | None
    outcome: str
    note: str | None
    organisation: str | None
    recorded_by: str


class SubjectPlacement(Out):
    id: str
    employer_kind: str
    isco: str
    start_date: dt.date
    hours_per_week: int | None
    pay_band: str | None
    self_employed: bool
    micro_business: bool
    supported: bool
    note: str | None
    organisation: str | None
    recorded_by: str


class SubjectFollowUp(Out):
    placement: str
    month: int
    done_on: dt.date
    still_employed: bool
    same_job: bool | None
    left_on: dt.date | None
    satisfaction: int | None
    difficulties: list[str]
    note: str | None
    recorded_by: str


class SubjectStudy(Out):
    study: Bilingual
    status: str
    consented_at: dt.datetime | None
    declined_at: dt.datetime | None
    completed_at: dt.datetime | None
    consent_recorded_by: str | None
    answers: dict[str, object] | None = Field(description="the study's demographic answers")


class SubjectAccess(Out):
    at: dt.datetime
    who: str
    actor: str
    action: str
    entity: str
    entity_id: str | None
    alert: bool


class AuditHead(Out):
    """The audit chain's head when the document was made, signed (``mac``) when the service has an audit key."""

    seq: int
    hash: str
    at: str
    mac: str | None = None


class SubjectDocument(Out):
    """Everything held on one person, with Georgian and English labels (a data-subject access request)."""

    labels: dict[Literal["ka", "en"], dict[str, str]]
    made_at: dt.datetime
    beneficiary: SubjectPerson
    administrations: list[SubjectAdministration]
    results: list[SubjectResult]
    consents: list[SubjectConsent]
    packets: list[SubjectPacket]
    registry: list[SubjectSending]
    trainings: list[SubjectTraining]
    placements: list[SubjectPlacement]
    follow_ups: list[SubjectFollowUp]
    studies: list[SubjectStudy]
    access_log: list[SubjectAccess]
    audit_head: AuditHead


# administrations and the respondent


class AnswersSaved(Out):
    saved: int = Field(description="answers written by this request")
    answered: int = Field(description="answers the administration holds now (not skipped)")


class RespondentState(Out):
    administration: str
    instrument: str
    instrument_version: str
    status: str
    answers: dict[str, str | None]


class RespondentSaved(Out):
    saved: int


class RespondentSubmitted(Out):
    status: Literal["submitted"]


# report batches


class BatchProgress(Out):
    id: str
    state: Literal["queued", "running", "done", "failed"]
    total: int
    done: int
    percent: int
    lang: str
    audience: str
    format: str
    registered_from: dt.date | None
    registered_to: dt.date | None
    created_at: dt.datetime
    finished_at: dt.datetime | None
    error: str | None


# packets


class Sent(Out):
    packet: str
    beneficiary: str
    addressee: str
    sent_at: dt.datetime
    sender: str
    content_hash: str
    consent: int | None


class RegistryRow(Out):
    beneficiary: str
    sender: str
    sent_at: dt.datetime
    addressee: str
    packet: str
    content_hash: str


class RegistryPage(PageOf):
    items: list[RegistryRow]


class InboxEntry(Out):
    packet: str
    beneficiary: str
    sent_at: dt.datetime


class ReportView(Out):
    """``format=json`` of a report: the content one audience reads, in one language (the same content as
    the HTML and PDF). Sections a consent or an audience leaves out are null or empty."""

    schema_: Literal["proforient.report/1"] = Field(alias="schema")
    lang: Literal["ka", "en"]
    audience: str
    register_: str = Field(alias="register", description="how the text addresses the reader")
    technical: bool
    clinical_included: bool
    title: str
    subtitle: str
    meta: dict[str, object]
    provenance: list[dict[str, object]]
    confidentiality: str
    intro: str
    closing: str | None
    clinical_note: str | None
    norms_note: str | None
    sem_shown: bool
    sem_note: str | None
    sem_sources: list[str]
    ipsative_note: str | None
    intake: dict[str, object] | None
    decision: dict[str, object] | None
    holland: dict[str, object] | None
    bipolar: dict[str, object] | None
    start: dict[str, object] | None
    matches: dict[str, object] | None
    group: dict[str, object] | None
    activities: list[dict[str, object]]
    validity: dict[str, object] | None
    changes: list[dict[str, object]]
    packet_parts: list[str] | None
    notes: list[str]
    summary: list[str] = Field(description="the report's main points, in order")


# outcomes


class TrainingPublic(Out):
    id: str
    beneficiary: str
    activity: str
    started_on: dt.date
    finished_on: dt.date | None
    outcome: Literal["ongoing", "completed", "dropped"]
    note: str | None = Field(description="null for an organisation that did not write it")
    organisation: str | None
    created_at: dt.datetime


class FollowUpPublic(Out):
    id: str
    placement: str
    beneficiary: str
    month: int
    done_on: dt.date
    still_employed: bool
    same_job: bool | None
    left_on: dt.date | None
    satisfaction: int | None
    difficulties: list[str]
    note: str | None
    organisation: str | None
    created_at: dt.datetime


class Scheduled(Out):
    month: int
    due: dt.date
    status: Literal["overdue", "due", "upcoming", "missed"]


class PlacementPublic(Out):
    id: str
    beneficiary: str
    employer_kind: str
    isco: str
    riasec: str | None = Field(description="the occupation's Holland code")
    start_date: dt.date
    hours_per_week: int | None
    pay_band: str | None
    self_employed: bool
    micro_business: bool
    supported: bool
    note: str | None
    organisation: str | None
    created_at: dt.datetime
    ended_on: dt.date | None
    follow_ups: list[FollowUpPublic]
    next_follow_up: Scheduled | None
    schedule: list[Scheduled] = Field(description="follow-ups not yet recorded")


class CaseOutcomes(Out):
    beneficiary: str
    trainings: list[TrainingPublic]
    placements: list[PlacementPublic]


class DueFollowUp(Out):
    beneficiary: str
    placement: str
    month: int
    due: dt.date


class ScheduleGroup(Out):
    social_worker: str | None = Field(description="who opened the cases (null: someone else)")
    mine: bool
    due: list[DueFollowUp]
    overdue: list[DueFollowUp]


class Week(Out):
    start: dt.date
    end: dt.date


class FollowUpSchedule(Out):
    today: dt.date
    week: Week
    groups: list[ScheduleGroup]


class ChangeRow(Out):
    scale: str
    name: str | None
    before: float | None
    after: float | None
    change: float | None = None
    rci: float | None = Field(description="the reliable-change index (null without a stored reliability)")
    reliable: int | None = Field(default=None, description="-1, 0 or 1: a reliable fall, none, a reliable rise")


class StoredReliability(Out):
    n: int
    as_of: dt.date = Field(description="the day the reliability was computed")


class ChangeAgainstFirst(Out):
    first: str
    result: str
    rows: list[ChangeRow]
    reliability: StoredReliability | None
    needed: int = Field(description="administrations needed before a reliability is stored")


class Congruence(Out):
    min: float
    max: float


class ProfileSoFar(Out):
    codes: list[str] | None = None
    status: str | None = None


class ResultSummary(Out):
    model: str
    codes: list[str] | None = None
    status: str | None = None
    certainty: float | None = None
    salient: list[str | None] | None = None
    type: str | None = None
    group: str | None = None
    phase: str | None = None


class _Event(Out):
    on: dt.date
    profile: ProfileSoFar = Field(description="the latest Holland code and decision status known that day")


class AssessmentEvent(_Event):
    kind: Literal["intake", "assessment"]
    title: str | None
    version: str
    result: str
    summary: ResultSummary
    change: ChangeAgainstFirst | None = None
    first_on: dt.date | None = None


class PacketEvent(_Event):
    kind: Literal["packet"]
    addressee: str
    packet: str


class TrainingEvent(_Event):
    kind: Literal["training"]
    activity: str | None


class TrainingEndEvent(_Event):
    kind: Literal["training_end"]
    activity: str | None
    outcome: str


class PlacementEvent(_Event):
    kind: Literal["placement"]
    placement: str
    isco: str
    occupation: str | None
    riasec: str | None
    employer_kind: str
    congruence: Congruence | None = None


class FollowUpEvent(_Event):
    kind: Literal["follow_up"]
    month: int
    still_employed: bool
    satisfaction: int | None
    difficulties: list[str]


TimelineEvent = Annotated[
    AssessmentEvent | PacketEvent | TrainingEvent | TrainingEndEvent | PlacementEvent | FollowUpEvent,
    Field(discriminator="kind"),
]


class Timeline(Out):
    beneficiary: str
    events: list[TimelineEvent]


class RetentionPoint(Out):
    month: int
    retained: float | None
    lower: float | None
    upper: float | None
    at_risk: int
    lost: int


class CurvePoint(Out):
    month: float
    retained: float
    lower: float | None
    upper: float | None


class Suppressed(Out):
    """A group smaller than the minimum size: nothing is shown."""

    n: None
    suppressed: Literal[True]


class IndicatorBlock(Out):
    suppressed: Literal[False]
    people_assessed: int
    people_with_packet: int
    packets_sent: int
    trainings_completed: int
    people_trained: int
    people_placed: int
    placement_rate: float | None
    followed: int
    not_followed: int
    jobs_lost: int
    retention: list[RetentionPoint] | None = Field(description="Kaplan–Meier at each retention month")
    retention_suppressed: bool
    curve: list[CurvePoint] | None


class SuppressedGroup(Suppressed):
    value: str | None


class IndicatorGroup(IndicatorBlock):
    value: str | None = Field(description="the breakdown's value (a phase, a group, a quarter)")


class Indicators(Out):
    as_of: dt.date
    min_n: int
    retention_months: list[int]
    overall: IndicatorBlock | Suppressed
    by: dict[str, list[IndicatorGroup | SuppressedGroup]] = Field(description="phase, group, region and quarter")


# research


class NormSampleOut(Out):
    population: str
    n: int
    collected_from: dt.date
    collected_to: dt.date
    groups: dict[str, dict[str, int]]
    description: str


class NormTableSummary(Out):
    id: str
    version: str
    ref: str
    instrument: str
    instrument_version: str
    scales: list[str]
    groups: list[str]
    sample: NormSampleOut


class NormSampleSize(Out):
    population: str
    n: int


class NormTableRows(Out):
    ref: str
    instrument: str
    instrument_version: str
    scales: list[str]
    sample: NormSampleSize
    table: list[dict[str, str | float | int | None]] = Field(description="one row per group, scale and raw score")


class ResearchRow(Out):
    pseudonym: str = Field(description="the person's pseudonym in this study")
    gender: str | None
    age_band: str | None
    scored_month: str
    instrument_version: str
    engine_version: str
    record: ScoreRecord


class ResearchPage(PageOf):
    items: list[ResearchRow]
    smallest_group: int = Field(description="k: the fewest results sharing one gender, age band and month")


Stat = float | int | str | None


class ItemAnalysis(Out):
    instrument: str
    instrument_version: str
    n: int
    n_analysed: int
    missing: Literal["pairwise", "listwise_scale", "listwise"]
    missing_description: str
    scores_policy: str
    scales: list[dict[str, Stat]] = Field(description="per scale: α (with interval), ω, λ4, λ6, split half, SEM, …")
    items: list[dict[str, Stat]] = Field(description="per item: missing rate, mean, SD, answer shares, r, α if dropped")
    intercorrelations: dict[str, list[float | None]]
    notes: list[str]


class KmPoint(Out):
    month: float
    survival: float | None
    lower: float | None
    upper: float | None
    at_risk: int
    events: int


class CongruenceBand(Out):
    range: list[int]
    n: int
    events: int
    km: list[KmPoint]


class CoxModel(Out):
    covariate: str
    n: int
    events: int
    sd: float
    too_few: bool | None = None
    hr: float | None = None
    lower: float | None = None
    upper: float | None = None
    p: float | None = None
    concordance: float | None = None
    detectable_hr: float | None = None


class RetentionStudy(Out):
    n: int
    events: int
    alpha: float
    power: float
    km_by_band: dict[str, CongruenceBand]
    cox: list[CoxModel]


class RetentionTooFew(Out):
    n: int
    events: int
    too_few: Literal[True]


# studies


class StudyProgressQuota(Out):
    question: str
    value: str
    target: int
    completed: int
    percent: int


class StudyProgress(Out):
    codes: int
    invited: int
    consented: int
    declined: int
    completed: int
    quotas: list[StudyProgressQuota]


class StudyPublic(Out):
    id: str
    title: Bilingual
    purpose: Bilingual
    consent: Bilingual
    instruments: list[dict[str, str]] = Field(description='[{"id": ..., "version": ...}] in answering order')
    questions: list[dict[str, object]]
    quotas: list[dict[str, object]]
    opens_on: dt.date
    closes_on: dt.date
    exact_quasi_identifiers: bool
    created_at: dt.datetime


class StudyWithProgress(StudyPublic):
    progress: StudyProgress


class StudyLinks(Out):
    codes: list[str] = Field(description="shown once")
    paths: list[str]


class StudyEnrolment(Out):
    code: str = Field(description="the person's participation code, shown once")
    path: str


class StudyNormSample(Out):
    population: str
    n: int
    collected_from: dt.date
    collected_to: dt.date
    groups: dict[str, dict[str, int]]


class StudyNormTable(Out):
    id: int
    study: str
    ref: str
    choose_as: str = Field(description="what a report's ``norm`` parameter takes")
    instrument: str
    instrument_version: str
    status: Literal["draft", "published"]
    sample: StudyNormSample
    min_group_n: int
    published_at: dt.datetime | None


# the service's administration


class UserPublic(Out):
    id: int
    username: str
    full_name: str | None
    role: str
    organisation: str | None
    active: bool
    must_change_password: bool
    second_factor: bool
    created_at: dt.datetime
    disabled_at: dt.datetime | None
    last_sign_in_at: dt.datetime | None
    open_sessions: int | None = Field(default=None, description="where the endpoint counts them")


class UserCreated(UserPublic):
    temporary_password: str | None = Field(description="shown once (null when a password was given, or on a replay)")


class TemporaryPassword(Out):
    method: Literal["temporary"]
    temporary_password: str


class ResetLink(Out):
    method: Literal["link"]
    token: str
    path: str
    hours: int


class ApiClientPublic(Out):
    id: int
    name: str
    key_prefix: str
    scopes: list[str]
    organisation: str | None
    active: bool
    created_at: dt.datetime
    last_used_at: dt.datetime | None
    revoked_at: dt.datetime | None


class ApiClientCreated(ApiClientPublic):
    key: str | None = Field(description="the API key, shown once (null on a replay)")


class AuditEntryPublic(Out):
    seq: int
    at: dt.datetime
    actor: str
    action: str
    entity: str
    entity_id: str | None
    beneficiary: str | None
    ip: str | None
    detail: dict[str, object] | None
    alert: bool = Field(description="an emergency read (break_glass) and the like")
    redacted: bool


class AuditPage(PageOf):
    items: list[AuditEntryPublic]


class AuditCheck(Out):
    ok: bool
    entries: int
    problem: str | None
    seq: int | None = Field(description="the first entry that does not check out")
    checkpoints: int


class SubmissionsImport(Out):
    """What an import of ODK Collect / KoboToolbox submissions into a study did."""

    rows: int = Field(description="submissions in the file")
    imported: int = Field(description="new anonymous participants made from them")
    already: int = Field(description="submissions imported before (same submission id): not added again")
    instrument: str = Field(description="the instrument and version, e.g. vdq@1.1")
    unused_columns: list[str] = Field(description="columns of the file that are neither items nor questions")
    questions: list[str] = Field(description="the study's demographic questions found as columns")


class Region(Out):
    """One of Georgia's regions (``instruments/data/regions.toml``)."""

    id: str
    name: Bilingual
