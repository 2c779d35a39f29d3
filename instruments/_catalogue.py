"""Reference catalogues in ``data/``: occupations (ISCO-08 + RIASEC) and activities.

Validated on load like the instruments: every problem listed with file and row.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

from pydantic import ValidationError

from ._errors import InstrumentError, Problem
from ._load import _pydantic_problems, _read_csv
from ._schema import RIASEC, Frozen, Identifier, Text

TAGS = frozenset(
    "seed microbusiness care food beauty textile retail office it construction agriculture "
    "transport cleaning health education creative hospitality manufacturing finance law "
    "science social security technical night".split()
)
ACTIVITY_KINDS = frozenset(
    "guidance soft_skills hard_skills retraining employment_support business practical psychological".split()
)


def data_dir() -> Path:
    """The catalogues and examples shipped in the package (``instruments/data/``), or ``PROFORIENT_DATA_DIR``."""
    return Path(os.environ.get("PROFORIENT_DATA_DIR") or str(resources.files("instruments") / "data"))


@dataclass(frozen=True)
class Occupation:
    isco: str
    name: Text
    riasec: str
    training_level: int
    self_employment: bool
    excluded: bool
    tags: frozenset[str]
    aliases: tuple[str, ...] = ()
    """Other names it is found by (former catalogue names, other names in use); never shown."""


class Activity(Frozen):
    id: Identifier
    kind: str
    name: Text
    description: Text
    clinical: bool = False
    """Psychological help: named to an addressee only where the consent covers clinical detail."""


class _ActivityFile(Frozen):
    schema_version: int
    activity: list[Activity]


class Region(Frozen):
    """One of Georgia's regions (``data/regions.toml``)."""

    id: Identifier
    name: Text


class _RegionFile(Frozen):
    schema_version: int
    region: list[Region]


def _bool01(v: str, file: str, row: int, col: str, problems: list[Problem]) -> bool:
    if v.strip() not in ("0", "1"):
        problems.append(Problem("E050", file, row, col, f"must be 0 or 1 (got {v!r})"))
    return v.strip() == "1"


def load_occupations(path: Path | None = None) -> tuple[Occupation, ...]:
    """Read and check ``occupations.csv``; raise ``InstrumentError`` listing every problem."""
    path = path or data_dir() / "occupations.csv"
    if not path.is_file():
        raise InstrumentError([Problem("E000", str(path), None, "", "is missing")])
    rows, _, problems = _read_csv(path)
    f = path.name
    out: list[Occupation] = []
    names: dict[tuple[str, str], int] = {}
    expected = ["isco", "name_ka", "name_en", "riasec", "training_level", "self_employment", "excluded", "tags"]
    if rows and list(rows[0][1].keys()) not in (expected, [*expected, "aliases"]):
        raise InstrumentError(
            [Problem("E050", f, 1, "", f"columns must be {', '.join(expected)} (and optionally aliases)")]
        )
    for n, r in rows:
        isco, code = r["isco"].strip(), r["riasec"].strip()
        if not (len(isco) == 4 and isco.isdigit()):
            problems.append(Problem("E050", f, n, "isco", f"must be a 4-digit ISCO-08 code (got {isco!r})"))
        if len(code) != 3 or len(set(code)) != 3 or any(c not in RIASEC for c in code):
            problems.append(Problem("E050", f, n, "riasec", f"must be three distinct RIASEC letters (got {code!r})"))
        level = r["training_level"].strip()
        if level not in {"1", "2", "3", "4", "5"}:
            problems.append(Problem("E050", f, n, "training_level", f"must be 1–5 (got {level!r})"))
        tags = frozenset(t.strip() for t in r["tags"].split(";") if t.strip())
        if tags - TAGS:
            problems.append(Problem("E050", f, n, "tags", f"unknown tag(s) {sorted(tags - TAGS)}"))
        for lang in ("ka", "en"):
            name = r[f"name_{lang}"].strip()
            if not name:
                problems.append(Problem("E013", f, n, f"name_{lang}", "is empty"))
            key = (lang, name.casefold())
            if key in names or ("alias", key[1]) in names:
                seen = names.get(key, names.get(("alias", key[1])))
                problems.append(Problem("E010", f, n, f"name_{lang}", f"{name!r} is already on row {seen}"))
            names[key] = n
        aliases = tuple(a.strip() for a in r.get("aliases", "").split(";") if a.strip())
        for alias in aliases:
            key = ("alias", alias.casefold())
            if key in names or any(names.get((lang, key[1]), n) != n for lang in ("ka", "en")):
                problems.append(Problem("E010", f, n, "aliases", f"{alias!r} already names another row"))
            names[key] = n
        se = _bool01(r["self_employment"], f, n, "self_employment", problems)
        ex = _bool01(r["excluded"], f, n, "excluded", problems)
        if r["name_ka"].strip() and r["name_en"].strip():
            out.append(
                Occupation(
                    isco,
                    Text(ka=r["name_ka"].strip(), en=r["name_en"].strip()),
                    code,
                    int(level) if level.isdigit() else 0,
                    se,
                    ex,
                    tags,
                    aliases,
                )
            )
    if problems:
        raise InstrumentError(problems)
    return tuple(out)


def load_activities(path: Path | None = None) -> tuple[Activity, ...]:
    """Read and check ``activities.toml``."""
    path = path or data_dir() / "activities.toml"
    if not path.is_file():
        raise InstrumentError([Problem("E000", str(path), None, "", "is missing")])
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        parsed = _ActivityFile.model_validate(data)
    except tomllib.TOMLDecodeError as exc:
        raise InstrumentError([Problem("E000", path.name, None, "", f"cannot be parsed: {exc}")]) from exc
    except ValidationError as err:
        raise InstrumentError(_pydantic_problems(err, path.name)) from err
    problems = [
        Problem("E051", path.name, None, f"activity[{k}].kind", f"unknown kind {a.kind!r}")
        for k, a in enumerate(parsed.activity)
        if a.kind not in ACTIVITY_KINDS
    ]
    seen: set[str] = set()
    for k, a in enumerate(parsed.activity):
        if a.id in seen:
            problems.append(Problem("E010", path.name, None, f"activity[{k}].id", f"{a.id!r} is defined twice"))
        seen.add(a.id)
    if problems:
        raise InstrumentError(problems)
    return tuple(parsed.activity)


def load_regions(path: Path | None = None) -> tuple[Region, ...]:
    """Read and check ``regions.toml`` (ids unique)."""
    path = path or data_dir() / "regions.toml"
    if not path.is_file():
        raise InstrumentError([Problem("E000", str(path), None, "", "is missing")])
    try:
        parsed = _RegionFile.model_validate(tomllib.loads(path.read_text(encoding="utf-8")))
    except tomllib.TOMLDecodeError as exc:
        raise InstrumentError([Problem("E000", path.name, None, "", f"cannot be parsed: {exc}")]) from exc
    except ValidationError as err:
        raise InstrumentError(_pydantic_problems(err, path.name)) from err
    seen: set[str] = set()
    problems = []
    for k, r in enumerate(parsed.region):
        if r.id in seen:
            problems.append(Problem("E010", path.name, None, f"region[{k}].id", f"{r.id!r} is defined twice"))
        seen.add(r.id)
    if problems:
        raise InstrumentError(problems)
    return tuple(parsed.region)


@lru_cache(maxsize=1)
def regions() -> tuple[Region, ...]:
    """Georgia's regions, as shipped (loaded once)."""
    return load_regions()


@lru_cache(maxsize=1)
def occupations() -> tuple[Occupation, ...]:
    """The shipped catalogue, loaded once (it is immutable)."""
    return load_occupations()


@lru_cache(maxsize=1)
def activities() -> tuple[Activity, ...]:
    return load_activities()


def find_occupation(text: str, catalogue: tuple[Occupation, ...] | None = None) -> Occupation | None:
    """An occupation by its Georgian or English name (any case), by ISCO code (first match), or by
    another name it is known by (``aliases``: e.g. a former catalogue name, so stored answers resolve)."""
    cat = catalogue if catalogue is not None else occupations()
    key = text.strip().casefold()
    for o in cat:
        if key in (o.name.get("ka").casefold(), o.name.get("en").casefold()):
            return o
    for o in cat:
        if key == o.isco:
            return o
    for o in cat:
        if any(key == a.casefold() for a in o.aliases):
            return o
    return None
