"""Instrument definitions as data, validated on load.

>>> from instruments import load, scoring_spec
>>> vdq = load("vdq")            # newest version
>>> spec = scoring_spec(vdq)     # what scoring.score needs
"""

from __future__ import annotations

from pathlib import Path

from . import _load
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
from ._load import DEFINITIONS, available
from ._model import FormField, Instrument, Item, Option
from ._schema import Text


def load(instrument_id: str, version: str | None = None) -> Instrument:
    """A shipped instrument (newest version if none given), checked against the activity catalogue."""
    return _load.load(instrument_id, version, activity_ids={a.id for a in activities()})


def load_path(folder: str | Path, check_activities: bool = True) -> Instrument:
    """An instrument from any folder (a researcher's own definition)."""
    ids = {a.id for a in activities()} if check_activities else None
    return _load.load_path(folder, ids)


__all__ = [
    "Activity",
    "DEFINITIONS",
    "FormField",
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
    "find_occupation",
    "intake_spec",
    "load",
    "load_activities",
    "load_occupations",
    "load_path",
    "occupations",
    "scoring_spec",
]
