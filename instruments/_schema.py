"""Typed, frozen models of an instrument definition (see FORMAT.md).

The models check the shape of each file (types, unknown keys, allowed values);
cross-references between files are checked afterwards by ``_lint``.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator

RIASEC = "RIASEC"
LANGUAGES = ("ka", "en")
"""Every language a text may have, Georgian first. Service instruments need both."""
LANGUAGE_NAMES = {"ka": "Georgian", "en": "English"}
Identifier = Annotated[str, StringConstraints(pattern=r"^[A-Za-z][A-Za-z0-9_]*$", max_length=64)]
NonEmpty = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
Letter = Literal["R", "I", "A", "S", "E", "C"]


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


Language = Literal["ka", "en"]


class Text(Frozen):
    """A user-visible text in Georgian and/or English; a text that is given is never empty.

    Which languages a definition must give is its own ``languages`` (both for every
    service instrument; see FORMAT.md); the loader checks every text against it.
    Asking for a language the text does not have is an error, never a fallback.
    """

    ka: NonEmpty | None = None
    en: NonEmpty | None = None

    @model_validator(mode="after")
    def _some_language(self) -> Text:
        if self.ka is None and self.en is None:
            raise ValueError("give the text in at least one language (ka, en)")
        return self

    def get(self, lang: str) -> str:
        if lang not in LANGUAGES:
            raise ValueError(f"unknown language {lang!r}; use 'ka' or 'en'")
        value: str | None = getattr(self, lang)
        if value is None:
            raise ValueError(f"this text has no {LANGUAGE_NAMES[lang]} ({lang}) version")
        return value

    def has(self, lang: str) -> bool:
        return getattr(self, lang, None) is not None


class ResponseLabel(Frozen):
    value: int
    ka: NonEmpty | None = None
    en: NonEmpty | None = None
    short: Text | None = None
    """What the answer button shows; the full label (ka / en) is then shown once, in a legend."""


class ResponseFormat(Frozen):
    kind: Literal["ordinal", "binary", "paired"]
    min: int
    max: int
    labels: list[ResponseLabel]


class Section(Frozen):
    id: Identifier
    title: Text
    instructions: Text
    labels: list[ResponseLabel] | None = None
    """This section's own answer labels (same values as [response]); None: the instrument's labels."""
    page_size: int | None = Field(default=None, ge=1, le=100)
    """How many items one respondent page of this section shows (None: the default, 10)."""


class Band(Frozen):
    id: Identifier
    below: float | None = None
    label: Text


class Pole(Frozen):
    letter: Annotated[str, StringConstraints(pattern=r"^[A-Z]$")]
    ka: NonEmpty | None = None
    en: NonEmpty | None = None
    riasec: list[Letter] = []


class Scale(Frozen):
    id: Identifier
    role: Literal["scale", "certainty", "barrier", "type", "dimension"] = "scale"
    letter: Letter | None = None
    score: Literal["mean", "sum"] = "mean"
    min_answered: int | None = Field(default=None, ge=1)
    name: Text
    description: Text | None = None
    interventions: list[Identifier] = []
    bands: list[Band] = []
    """Interpretation bands; required for service instruments, optional for research ones."""
    negative_pole: Pole | None = None
    positive_pole: Pole | None = None
    clinical: bool = False
    """Clinical detail (e.g. emotional strain): an addressee sees it only where the consent covers it."""


class DecisionParams(Frozen):
    certainty_cut: float
    indecision_cut: float
    min_barriers_scored: int = Field(ge=1)


class HollandParams(Frozen):
    code_margin: float = Field(ge=0)
    flat_max_range: float = Field(ge=0)
    depressed_max_total: float = Field(ge=0)


class BipolarParams(Frozen):
    clarity_bands: list[Band] = Field(min_length=1)
    inconsistency_max: int = Field(ge=0)


class GenericParams(Frozen):
    """The generic model takes no parameters: an empty [scoring] table (any key is an error)."""


class Validity(Frozen):
    max_run: int = Field(default=15, ge=2)
    min_seconds_per_item: float = Field(default=0.0, ge=0)


MODEL_PARAMS: dict[str, type[Frozen]] = {
    "generic": GenericParams,
    "decision": DecisionParams,
    "holland": HollandParams,
    "bipolar": BipolarParams,
}


class Header(Frozen):
    """Everything in instrument.toml."""

    schema_version: Literal[1]
    id: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$")]
    version: Annotated[str, StringConstraints(pattern=r"^\d+(\.\d+)*$")]
    model: Literal["generic", "decision", "holland", "bipolar", "intake"]
    purpose: Literal["service", "research"] = "service"
    """``service``: used with the fund's beneficiaries (Georgian and English, bands on every scale);
    ``research``: a researcher's own instrument (any non-empty set of languages, bands optional)."""
    languages: list[Language] = Field(default=["ka", "en"], min_length=1)
    missing_codes: list[int | str] = []
    """Answers that mean "not answered" in this instrument's data files (e.g. 0 or 9)."""
    title: Text
    description: Text | None = None
    response: ResponseFormat | None = None
    sections: list[Section] = Field(min_length=1)
    scales: list[Scale] = []
    scoring: dict[str, object] = {}
    validity: Validity = Validity()


def _blank_to_none(v: object) -> object:
    if isinstance(v, str) and v.strip() == "":
        return None
    return v


class ItemRow(Frozen):
    """One row of items.csv (the text columns used depend on the response kind)."""

    id: Annotated[str, StringConstraints(pattern=r"^[A-Za-z][A-Za-z0-9_]*$")]
    section: Identifier
    scale: Identifier | None = None
    keyed: Literal[1, -1] | None = None
    text_ka: str | None = None
    text_en: str | None = None
    left_ka: str | None = None
    left_en: str | None = None
    right_ka: str | None = None
    right_en: str | None = None
    repeat_of: str | None = None
    left_scale: Identifier | None = None
    right_scale: Identifier | None = None

    _blanks = field_validator("*", mode="before")(_blank_to_none)

    @field_validator("keyed", mode="before")
    @classmethod
    def _keyed_number(cls, v: object) -> object:
        if isinstance(v, str) and re.fullmatch(r"[+-]?1", v.strip()):
            return int(v)
        return v


class FieldRow(Frozen):
    """One row of an intake form's fields.csv."""

    id: Identifier
    section: Identifier
    type: Literal["choice", "multi", "number", "bool", "text", "occupations"]
    required: bool
    label_ka: NonEmpty | None = None
    label_en: NonEmpty | None = None

    _blanks = field_validator("label_ka", "label_en", mode="before")(_blank_to_none)
    personal: bool | None = None
    """Optional (the last column): does the field hold identifying or free text about the person?
    Empty: the default for the type (true for ``text`` and ``occupations``)."""

    @field_validator("personal", mode="before")
    @classmethod
    def _personal_words(cls, v: object) -> object:
        if isinstance(v, str):
            s = v.strip().lower()
            if s in {"true", "1", "yes"}:
                return True
            if s in {"false", "0", "no"}:
                return False
            if s == "":
                return None
        return v

    @field_validator("required", mode="before")
    @classmethod
    def _bool_words(cls, v: object) -> object:
        if isinstance(v, str):
            s = v.strip().lower()
            if s in {"true", "1", "yes"}:
                return True
            if s in {"false", "0", "no", ""}:
                return False
        return v


class OptionRow(Frozen):
    """One row of an intake form's options.csv."""

    field: Identifier
    value: Identifier
    label_ka: NonEmpty | None = None
    label_en: NonEmpty | None = None

    _blanks = field_validator("label_ka", "label_en", mode="before")(_blank_to_none)


class IscedRow(Frozen):
    """One row of an intake form's isced.csv: a choice option's ISCED 2011 level (0–8)."""

    field: Identifier
    value: Identifier
    isced: int = Field(ge=0, le=8)


INTAKE_ROLES: dict[str, tuple[str, ...]] = {
    "education": ("choice",),
    "months_since_last_job": ("number",),
    "never_worked": ("bool",),
    "currently_employed": ("bool",),
    "seeking_better_job": ("bool",),
    "has_profession": ("bool",),
    "profession_in_demand": ("bool",),
    "constraints": ("multi",),
    "computer_skills": ("choice",),
    "communication": ("choice",),
    "rehabilitation_phase": ("choice",),
    "expectation": ("choice",),
    "driving_licence": ("bool",),
    "aspirations": ("occupations",),
    "profession": ("text", "occupations"),
    "experience_years": ("number",),
}
"""What the intake rules (retraining, skills needs, the suggested job-seeker group) and the reports
read from a form, by role, with the field types each role takes. A form names its own fields for them."""

INTAKE_VALUE_SETS: dict[str, str] = {
    "health_limits": "constraints",
    "computer_literacy_needed": "computer_skills",
    "online_platforms_needed": "computer_skills",
    "communication_support": "communication",
    "conflict_management_needed": "communication",
    "stress_phases": "rehabilitation_phase",
    "self_employment": "expectation",
    "night_work_limits": "constraints",
}
"""Named sets of option values the rules test, and the role whose field's options they come from."""


class PacketFields(Frozen):
    fields: list[Identifier] = Field(min_length=1)


class IntakeRules(Frozen):
    """An intake form's ``rules.toml``: which of its fields and answers the rules and reports read,
    and which fields a packet's intake summary carries to the employment department."""

    schema_version: int = 1
    roles: dict[str, Identifier]
    values: dict[str, list[Identifier]] = {}
    packet: PacketFields
