"""Instrument definitions as data, validated on load.

>>> from instruments import load, scoring_spec
>>> vdq = load("vdq")            # newest version
>>> spec = scoring_spec(vdq)     # what scoring.score needs
"""

from __future__ import annotations

import os
from pathlib import Path

from . import _lint, _load
from ._catalogue import (
    Activity,
    Occupation,
    Region,
    activities,
    data_dir,
    find_occupation,
    load_activities,
    load_occupations,
    load_regions,
    occupations,
    regions,
)
from ._compile import default_min_answered, intake_spec, scoring_spec
from ._errors import ErrorCode, InstrumentError, Problem, UnknownInstrument
from ._lint import Change, ChangeLog, VersionChanges, draft_changes, read_changes, version_changes
from ._load import DEFINITIONS
from ._model import FormField, Instrument, Item, Option
from ._schema import Text


def roots() -> list[Path]:
    """Where definitions are looked for: the shipped ones, then the folders in
    ``PROFORIENT_DEFINITIONS`` (separated by ``os.pathsep``), so a deployment adds an instrument or
    a version as data, without code."""
    extra = [Path(p) for p in os.environ.get("PROFORIENT_DEFINITIONS", "").split(os.pathsep) if p.strip()]
    return [DEFINITIONS, *extra]


def available() -> list[tuple[str, str]]:
    """Every ``(id, version)`` in every root, sorted (a version in a later root cannot hide a shipped one)."""
    seen: dict[tuple[str, str], None] = {}
    for root in roots():
        for key in _load.available(root):
            seen.setdefault(key)
    return sorted(seen, key=lambda t: (t[0], _load._version_key(t[1])))  # noqa: SLF001 - its own package


def load(instrument_id: str, version: str | None = None) -> Instrument:
    """An instrument from the roots (newest version if none given), checked against the activity catalogue."""
    versions = [v for i, v in available() if i == instrument_id]
    if version is None and versions:
        version = versions[-1]
    for root in roots():
        if (instrument_id, version) in _load.available(root):
            return _load.load(instrument_id, version, root, activity_ids={a.id for a in activities()})
    return _load.load(instrument_id, version, activity_ids={a.id for a in activities()})  # names what is known


def load_path(folder: str | Path, check_activities: bool = True) -> Instrument:
    """An instrument from any folder (a researcher's own definition), with the lint pass:
    a ``changes.md`` in the folder is checked against the older version it names."""
    ids = {a.id for a in activities()} if check_activities else None
    inst = _load.load_path(folder, ids)
    problems = _lint.check_changes(
        Path(folder), inst, lambda where: _load.load_path(where, ids), shipped=_load.DEFINITIONS
    )
    if problems:
        raise InstrumentError(problems)
    return inst


__all__ = [
    "Activity",
    "Change",
    "ChangeLog",
    "VersionChanges",
    "DEFINITIONS",
    "FormField",
    "Instrument",
    "ErrorCode",
    "InstrumentError",
    "UnknownInstrument",
    "Item",
    "Occupation",
    "Option",
    "Problem",
    "Region",
    "Text",
    "activities",
    "available",
    "data_dir",
    "default_min_answered",
    "draft_changes",
    "read_changes",
    "version_changes",
    "roots",
    "find_occupation",
    "intake_spec",
    "load",
    "load_activities",
    "load_regions",
    "regions",
    "load_occupations",
    "load_path",
    "occupations",
    "scoring_spec",
]
