"""Instrument definitions as data, validated on load.

>>> from instruments import load, scoring_spec
>>> vdq = load("vdq")            # newest version
>>> spec = scoring_spec(vdq)     # what scoring.score needs
"""

from __future__ import annotations

from pathlib import Path

from . import _lint, _load
from ._catalogue import (
    Activity,
    Occupation,
    activities,
    data_dir,
    find_occupation,
    load_activities,
    load_occupations,
    occupations,
)
from ._compile import default_min_answered, intake_spec, scoring_spec
from ._errors import InstrumentError, Problem
from ._lint import draft_changes
from ._load import DEFINITIONS, ISCED_FIELD, available
from ._model import FormField, Instrument, Item, Option
from ._schema import Text


def load(instrument_id: str, version: str | None = None) -> Instrument:
    """A shipped instrument (newest version if none given), checked against the activity catalogue."""
    return _load.load(instrument_id, version, activity_ids={a.id for a in activities()})


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
    "DEFINITIONS",
    "FormField",
    "ISCED_FIELD",
    "Instrument",
    "InstrumentError",
    "Item",
    "Occupation",
    "Option",
    "Problem",
    "Text",
    "activities",
    "available",
    "data_dir",
    "default_min_answered",
    "draft_changes",
    "find_occupation",
    "intake_spec",
    "load",
    "load_activities",
    "load_occupations",
    "load_path",
    "occupations",
    "scoring_spec",
]
