"""The loaded, cross-checked instrument: what the rest of proforient uses."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ._schema import (
    BipolarParams,
    DecisionParams,
    GenericParams,
    HollandParams,
    IntakeRules,
    ResponseFormat,
    ResponseLabel,
    Scale,
    Section,
    Text,
    Validity,
)

Params = DecisionParams | HollandParams | BipolarParams | GenericParams


@dataclass(frozen=True)
class Item:
    """One statement (or pair of poles) of an instrument."""

    id: str
    section: str
    scale: str | None
    keyed: int
    text: Text | None = None
    left: Text | None = None
    right: Text | None = None
    repeat_of: str | None = None
    left_scale: str | None = None
    right_scale: str | None = None

    @property
    def scored(self) -> bool:
        return self.repeat_of is None


@dataclass(frozen=True)
class Option:
    value: str
    label: Text
    isced: int | None = None
    """The option's ISCED 2011 level (0–8) when the form classifies this field (isced.csv)."""


@dataclass(frozen=True)
class FormField:
    """One field of an intake form."""

    id: str
    section: str
    type: str
    required: bool
    label: Text
    options: tuple[Option, ...] = ()
    personal: bool = False
    """Holds identifying or free text about the person (retention erases it; research exports leave
    it out). From fields.csv's ``personal`` column; by default true for ``text`` and ``occupations``."""


@dataclass(frozen=True)
class Instrument:
    """A validated instrument definition. Build it with ``instruments.load``."""

    id: str
    version: str
    model: str
    title: Text
    description: Text | None
    response: ResponseFormat | None
    sections: tuple[Section, ...]
    scales: tuple[Scale, ...]
    items: tuple[Item, ...]
    params: Params | None
    validity: Validity
    fields: tuple[FormField, ...] = ()
    rules: IntakeRules | None = None
    """An intake form's rules.toml (roles, value sets, packet fields); None for other models."""
    content_hash: str = ""
    path: Path | None = field(default=None, compare=False)
    purpose: str = "service"
    """``service`` (the fund's instruments) or ``research`` (a researcher's own definition)."""
    languages: tuple[str, ...] = ("ka", "en")
    """The languages every text of this definition is given in (Georgian first)."""
    missing_codes: tuple[str, ...] = ()
    """Answers that mean "not answered" (stripped, lower-case), e.g. ("0", "9")."""

    @property
    def ref(self) -> str:
        """``id@version``, the name stored with every result."""
        return f"{self.id}@{self.version}"

    @property
    def item_ids(self) -> tuple[str, ...]:
        return tuple(i.id for i in self.items)

    @property
    def ipsative(self) -> bool:
        """True when some item is a forced choice between two different scales."""
        return any(i.left_scale is not None for i in self.items)

    def scale(self, scale_id: str) -> Scale:
        for s in self.scales:
            if s.id == scale_id:
                return s
        raise KeyError(f"instrument {self.ref} has no scale {scale_id!r}")

    def items_of(self, scale_id: str) -> tuple[Item, ...]:
        return tuple(i for i in self.items if i.scale == scale_id or scale_id in (i.left_scale, i.right_scale))

    def labels_for(self, section_id: str) -> tuple[ResponseLabel, ...]:
        """The answer labels shown in a section: its own, or else the instrument's."""
        if self.response is None:
            return ()
        for s in self.sections:
            if s.id == section_id and s.labels is not None:
                return tuple(s.labels)
        return tuple(self.response.labels)

    def section_items(self, section_id: str) -> tuple[Item, ...]:
        return tuple(i for i in self.items if i.section == section_id)

    def role(self, role: str) -> FormField | None:
        """The intake field that plays ``role`` (see ``INTAKE_ROLES``), if this form has one."""
        if self.rules is None or role not in self.rules.roles:
            return None
        return self.field_(self.rules.roles[role])

    def value_set(self, name: str) -> frozenset[str]:
        """A named set of option values the intake rules test (see ``INTAKE_VALUE_SETS``)."""
        return frozenset(self.rules.values.get(name, ())) if self.rules is not None else frozenset()

    @property
    def packet_fields(self) -> tuple[FormField, ...]:
        """The fields a packet's intake summary carries, in their order (none without rules.toml)."""
        return tuple(self.field_(f) for f in self.rules.packet.fields) if self.rules is not None else ()

    @property
    def personal_fields(self) -> frozenset[str]:
        """Ids of the fields that hold identifying or free text about the person (intake forms)."""
        return frozenset(f.id for f in self.fields if f.personal)

    def field_(self, field_id: str) -> FormField:
        for f in self.fields:
            if f.id == field_id:
                return f
        raise KeyError(f"instrument {self.ref} has no field {field_id!r}")
