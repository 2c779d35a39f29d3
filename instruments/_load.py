"""Read a definition folder, validate every file, and collect *all* problems.

Problems are gathered first and raised together in one ``InstrumentError`` so
that an author fixes a file in one pass, not one error at a time.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import tomllib
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from scoring import MISSING, InstrumentSpec, answer_lookup

from ._errors import ErrorCode, InstrumentError, Problem, UnknownInstrument
from ._model import FormField, Instrument, Item, Option, Params
from ._schema import (
    INTAKE_ROLES,
    INTAKE_VALUE_SETS,
    LANGUAGE_NAMES,
    LANGUAGES,
    MODEL_PARAMS,
    RIASEC,
    Band,
    FieldRow,
    Header,
    IntakeRules,
    IscedRow,
    ItemRow,
    OptionRow,
    Scale,
    Text,
)

DEFINITIONS = Path(__file__).parent / "definitions"
META_NAMES = ("instrument.toml", "instrument.yaml", "instrument.yml")


def _loc(loc: Iterable[Any]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _pydantic_problems(
    err: ValidationError, file: str, where_prefix: str = "", row: int | None = None
) -> list[Problem]:
    out = []
    for e in err.errors():
        loc = _loc(e["loc"])
        where = f"{where_prefix}.{loc}" if where_prefix and loc else (where_prefix or loc)
        msg = e["msg"]
        if e["type"] == "extra_forbidden":
            msg = "unknown key (misspelled? see instruments/FORMAT.md)"
        elif e["type"] == "missing":
            msg = "required key is missing"
        value = e.get("input")
        if e["type"] not in ("missing",) and not isinstance(value, dict | list):
            msg += f" (got {value!r})"
        out.append(Problem("E001", file, row, where, msg))
    return out


def _read_meta(folder: Path) -> tuple[str, dict[str, Any], bytes]:
    for name in META_NAMES:
        path = folder / name
        if path.is_file():
            raw = path.read_bytes()
            try:
                if name.endswith(".toml"):
                    data = tomllib.loads(raw.decode("utf-8"))
                else:
                    data = yaml.safe_load(raw.decode("utf-8")) or {}
            except (tomllib.TOMLDecodeError, yaml.YAMLError, UnicodeDecodeError) as exc:
                raise InstrumentError([Problem("E000", name, None, "", f"cannot be parsed: {exc}")]) from exc
            if not isinstance(data, dict):
                raise InstrumentError([Problem("E000", name, None, "", "must hold a table")])
            return name, data, raw
    raise InstrumentError([Problem("E000", str(folder), None, "", "no instrument.toml or instrument.yaml here")])


PERSONAL_BY_DEFAULT = frozenset({"text", "occupations"})
"""Intake field types that hold free text about the person unless fields.csv says otherwise."""


def _without_personal(raw: bytes) -> bytes:
    """fields.csv as hashed: without a last ``personal`` column. Like isced.csv, that column says how
    stored data is treated (retention, research exports), not how answers are scored, so marking the
    fields of a version already in use does not invalidate the results stored with it."""
    lines = raw.split(b"\n")
    header = lines[0].rstrip(b"\r").lstrip(b"\xef\xbb\xbf")
    if not header.endswith(b",personal"):
        return raw
    out = []
    for line in lines:
        cr = b"\r" if line.endswith(b"\r") else b""
        body = line[:-1] if cr else line
        cut = body.rfind(b",")
        out.append((body[:cut] if cut >= 0 else body) + cr)
    return b"\n".join(out)


def _read_csv(path: Path) -> tuple[list[tuple[int, dict[str, str]]], bytes, list[Problem]]:
    """The rows of a definition table as (spreadsheet row number, cells), the raw bytes, and problems.

    A row with more cells than the header (an unquoted comma) is reported (E002)
    and left out, and reading goes on, so every other problem is still listed.
    Row numbers count the header as row 1, as a spreadsheet shows them.
    """
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InstrumentError([Problem("E000", path.name, None, "", f"is not UTF-8 text: {exc}")]) from exc
    reader = csv.DictReader(io.StringIO(text))
    rows: list[tuple[int, dict[str, str]]] = []
    problems: list[Problem] = []
    for n, r in enumerate(reader, start=2):
        if None in r:
            extra = ", ".join(repr(c) for c in r[None] if c.strip()) or "(empty)"
            problems.append(
                Problem(
                    "E002",
                    path.name,
                    n,
                    "",
                    f"has more cells than the header (an unquoted comma?); extra: {extra}",
                )
            )
            continue
        rows.append((n, {k.strip(): (v if v is not None else "") for k, v in r.items()}))
    return rows, raw, problems


def _row_text(ka: str | None, en: str | None, prefix: str, languages: Sequence[str]) -> tuple[Text | None, list[str]]:
    """The text of a table row in the definition's languages, or what is missing (never a fallback)."""
    given = {"ka": (ka or "").strip() or None, "en": (en or "").strip() or None}
    missing = [f"{LANGUAGE_NAMES[lang]} text ({prefix}_{lang})" for lang in languages if given[lang] is None]
    if missing or (given["ka"] is None and given["en"] is None):
        return None, missing
    return Text(ka=given["ka"], en=given["en"]), []


def _text(row: ItemRow, prefix: str, languages: Sequence[str]) -> tuple[Text | None, list[str]]:
    return _row_text(getattr(row, f"{prefix}_ka"), getattr(row, f"{prefix}_en"), prefix, languages)


def _header_texts(h: Header) -> list[tuple[str, object]]:
    """Every user-visible text of instrument.toml, with its place (objects with ``ka``/``en``)."""
    out: list[tuple[str, object]] = [("title", h.title), ("description", h.description)]
    for k, sec in enumerate(h.sections):
        out += [(f"sections[{k}].title", sec.title), (f"sections[{k}].instructions", sec.instructions)]
    for k, sc in enumerate(h.scales):
        out += [(f"scales[{k}].name", sc.name), (f"scales[{k}].description", sc.description)]
        out += [(f"scales[{k}].bands[{j}].label", b.label) for j, b in enumerate(sc.bands)]
        out += [(f"scales[{k}].negative_pole", sc.negative_pole), (f"scales[{k}].positive_pole", sc.positive_pole)]
    if h.response is not None:
        out += [(f"response.labels[{j}]", lab) for j, lab in enumerate(h.response.labels)]
        out += [(f"response.labels[{j}].short", lab.short) for j, lab in enumerate(h.response.labels)]
    for k, sec in enumerate(h.sections):
        for j, lab in enumerate(sec.labels or []):
            out += [(f"sections[{k}].labels[{j}]", lab), (f"sections[{k}].labels[{j}].short", lab.short)]
    bands = h.scoring.get("clarity_bands")
    if isinstance(bands, list):
        for j, b in enumerate(bands):
            if isinstance(b, dict) and isinstance(b.get("label"), dict):
                out.append((f"scoring.clarity_bands[{j}].label", _LangPair(b["label"])))
    return [(w, t) for w, t in out if t is not None]


class _LangPair:
    """A raw ``{ka = …, en = …}`` table read before its model (for the language check only)."""

    def __init__(self, d: dict[str, object]) -> None:
        self.ka = d.get("ka") or None
        self.en = d.get("en") or None


def _check_bands(bands: list[Band], where: str, file: str) -> list[Problem]:
    out: list[Problem] = []
    if not bands:
        return out
    ids = Counter(b.id for b in bands)
    for bid, n in ids.items():
        if n > 1:
            out.append(Problem("E020", file, None, where, f"band id {bid!r} is used {n} times"))
    if bands[-1].below is not None:
        out.append(Problem("E021", file, None, where, "the last band must have no 'below' (it is open)"))
    prev = None
    for k, b in enumerate(bands[:-1]):
        if b.below is None:
            out.append(Problem("E021", file, None, f"{where}[{k}]", "only the last band may omit 'below'"))
        elif prev is not None and b.below <= prev:
            out.append(Problem("E021", file, None, f"{where}[{k}]", "bands must be in increasing order of 'below'"))
        prev = b.below if b.below is not None else prev
    return out


_AUDIENCE_LINES = re.compile(rb"(?m)^[ \t]*clinical[ \t]*=[^\n]*\n")
"""``clinical = …`` lines say who may read a scale, not how it is scored or worded: they are left out
of the content hash, so marking a scale of a version whose results are stored keeps those results valid."""


class _Builder:
    """Accumulates problems while turning raw rows into an ``Instrument``."""

    def __init__(self, folder: Path, activity_ids: set[str] | None) -> None:
        self.folder = folder
        self.activity_ids = activity_ids
        self.problems: list[Problem] = []
        self.hash = hashlib.sha256()

    def add(self, code: str, file: str, row: int | None, where: str, msg: str) -> None:
        self.problems.append(Problem(code, file, row, where, msg))

    def build(self) -> Instrument:
        meta_name, data, raw = _read_meta(self.folder)
        self.hash.update(_AUDIENCE_LINES.sub(b"", raw))
        try:
            header = Header.model_validate(data)
        except ValidationError as err:
            raise InstrumentError(_pydantic_problems(err, meta_name)) from err
        self.meta = meta_name
        self.languages: tuple[str, ...] = tuple(lang for lang in LANGUAGES if lang in header.languages)
        params = self._params(header)
        self._check_purpose(header)
        self._check_header(header)
        items: tuple[Item, ...] = ()
        fields: tuple[FormField, ...] = ()
        rules = None
        if header.model == "intake":
            fields = self._fields(header)
            rules = self._rules(fields)
        else:
            items = self._items(header)
            self._check_scales(header, items)
        if self.problems:
            raise InstrumentError(self.problems)
        return Instrument(
            id=header.id,
            version=header.version,
            model=header.model,
            title=header.title,
            description=header.description,
            response=header.response,
            sections=tuple(header.sections),
            scales=tuple(header.scales),
            items=items,
            params=params,
            validity=header.validity,
            fields=fields,
            rules=rules,
            content_hash=self.hash.hexdigest(),
            path=self.folder,
            purpose=header.purpose,
            languages=self.languages,
            missing_codes=tuple(missing_key(c) for c in header.missing_codes),
        )

    # -- instrument.toml ---------------------------------------------------
    def _check_purpose(self, h: Header) -> None:
        """Languages, texts, bands and missing-value codes against the definition's purpose."""
        m = self.meta
        dup = [lang for lang, n in Counter(h.languages).items() if n > 1]
        if dup:
            self.add("E051", m, None, "languages", f"language {dup[0]!r} is listed twice")
        if h.purpose == "service" and set(h.languages) != set(LANGUAGES):
            self.add(
                "E051",
                m,
                None,
                "languages",
                'a service instrument is given in Georgian and English (languages = ["ka", "en"]); '
                'only a research definition (purpose = "research") may declare fewer languages',
            )
        for where, text in _header_texts(h):
            for lang in self.languages:
                if getattr(text, lang, None) is None:
                    self.add("E013", m, None, where, f"has no {LANGUAGE_NAMES[lang]} text ({lang})")
        if h.purpose == "service":
            for k, sc in enumerate(h.scales):
                if not sc.bands:
                    self.add(
                        "E021",
                        m,
                        None,
                        f"scales[{k}].bands",
                        f"scale {sc.id!r} has no interpretation bands; only a research definition "
                        '(purpose = "research") may leave them out',
                    )
        if h.missing_codes and h.model == "intake":
            self.add("E052", m, None, "missing_codes", "an intake form takes no missing_codes (a blank is missing)")
        elif h.missing_codes and h.response is not None:
            valid = valid_answers(h.response.kind, h.response.min, h.response.max)
            for j, code in enumerate(h.missing_codes):
                key = missing_key(code)
                if key == "":
                    self.add("E052", m, None, f"missing_codes[{j}]", "is empty; a blank cell is always missing")
                elif key in valid:
                    self.add(
                        "E052",
                        m,
                        None,
                        f"missing_codes[{j}]",
                        f"{code!r} is a valid answer ({valid[key]}) of this response format; "
                        "it cannot also mean 'not answered'",
                    )

    def _params(self, header: Header) -> Params | None:
        if header.model == "intake":
            if header.scoring:
                self.add("E030", self.meta, None, "scoring", "an intake form takes no [scoring] table")
            return None
        cls = MODEL_PARAMS[header.model]
        try:
            params: BaseModel = cls.model_validate(header.scoring)
        except ValidationError as err:
            self.problems.extend(_pydantic_problems(err, self.meta, "scoring"))
            return None
        return params  # type: ignore[return-value]

    def _check_header(self, h: Header) -> None:
        m = self.meta
        for kind, ids in (("section", [s.id for s in h.sections]), ("scale", [s.id for s in h.scales])):
            for dup, n in Counter(ids).items():
                if n > 1:
                    self.add("E010", m, None, f"{kind}s", f"{kind} id {dup!r} is used {n} times")
        for k, s in enumerate(h.scales):
            self.problems.extend(_check_bands(s.bands, f"scales[{k}].bands", m))
            if self.activity_ids is not None:
                for a in s.interventions:
                    if a not in self.activity_ids:
                        self.add(
                            "E023",
                            m,
                            None,
                            f"scales[{k}].interventions",
                            f"activity {a!r} is not in instruments/data/activities.toml",
                        )
        if h.model == "intake":
            if h.response is not None:
                self.add("E030", m, None, "response", "an intake form has no [response] table")
            for k, sec in enumerate(h.sections):
                if sec.labels is not None:
                    self.add("E030", m, None, f"sections[{k}].labels", "an intake form has no answer labels")
            return
        r = h.response
        if r is None:
            self.add("E030", m, None, "response", "a [response] table is required")
            return
        if r.kind == "binary" and (r.min, r.max) != (0, 1):
            self.add("E031", m, None, "response", "binary answers are min = 0, max = 1")
        if r.kind == "paired" and r.min != 1:
            self.add("E031", m, None, "response.min", "paired ratings start at min = 1")
        if r.min >= r.max:
            self.add("E031", m, None, "response", f"min ({r.min}) must be below max ({r.max})")
        expected = list(range(r.min, r.max + 1))
        label_sets = [("response.labels", r.labels)]
        label_sets += [
            (f"sections[{k}].labels", sec.labels) for k, sec in enumerate(h.sections) if sec.labels is not None
        ]
        for where, labels in label_sets:
            values = [lab.value for lab in labels]
            if sorted(values) != expected:
                self.add(
                    "E032",
                    m,
                    None,
                    where,
                    f"need exactly one label for each value {expected}, got {sorted(values)}",
                )
        self._check_model(h)

    def _check_model(self, h: Header) -> None:
        m = self.meta
        roles = Counter(s.role for s in h.scales)
        if h.model == "decision":
            if roles["certainty"] != 1:
                self.add("E040", m, None, "scales", "a decision instrument needs exactly one 'certainty' scale")
            if roles["barrier"] < 1:
                self.add("E040", m, None, "scales", "a decision instrument needs 'barrier' scales")
            for k, s in enumerate(h.scales):
                if s.role == "barrier" and [b.id for b in s.bands] != ["none", "moderate", "salient"]:
                    self.add(
                        "E041",
                        m,
                        None,
                        f"scales[{k}].bands",
                        "barrier bands must be none, moderate, salient (in that order)",
                    )
                if s.role not in ("certainty", "barrier"):
                    self.add("E040", m, None, f"scales[{k}].role", f"role {s.role!r} is not used by model 'decision'")
        elif h.model == "holland":
            letters = sorted(s.letter or "?" for s in h.scales if s.role == "type")
            if letters != sorted(RIASEC) or len(h.scales) != 6:
                self.add(
                    "E042",
                    m,
                    None,
                    "scales",
                    f"a holland instrument needs six 'type' scales lettered R I A S E C, got {letters}",
                )
            if h.response is not None and h.response.kind == "paired":
                self.add(
                    "E042",
                    m,
                    None,
                    "response.kind",
                    "a holland instrument takes like/dislike (binary) or rating (ordinal) answers",
                )
        elif h.model == "bipolar":
            if h.response is not None and h.response.kind != "paired":
                self.add("E043", m, None, "response.kind", "a bipolar instrument takes paired answers")
            for k, s in enumerate(h.scales):
                if s.role != "dimension" or s.negative_pole is None or s.positive_pole is None:
                    self.add(
                        "E043",
                        m,
                        None,
                        f"scales[{k}]",
                        "a bipolar scale needs role = 'dimension' and both negative_pole and positive_pole",
                    )
                if s.score != "sum":
                    self.add("E043", m, None, f"scales[{k}].score", "bipolar dimensions are scored as 'sum'")
            params = h.scoring.get("clarity_bands")
            if isinstance(params, list):
                ids = [b.get("id") for b in params if isinstance(b, dict)]
                if ids != ["slight", "moderate", "clear", "very_clear"]:
                    self.add(
                        "E044",
                        m,
                        None,
                        "scoring.clarity_bands",
                        "clarity bands must be slight, moderate, clear, very_clear",
                    )
                else:
                    self.problems.extend(
                        _check_bands([Band.model_validate(b) for b in params], "scoring.clarity_bands", m)
                    )

    # -- items.csv -----------------------------------------------------------
    def _raw_references(
        self, raw_row: dict[str, str], n: int, err: ValidationError, sections: set[str], scales: set[str]
    ) -> None:
        """Unknown sections and scales of a row that failed validation for another cell, so one bad
        cell does not hide the row's other problems."""
        failed = {str(e["loc"][0]) for e in err.errors() if e.get("loc")}
        tag = f"item {(raw_row.get('id') or '').strip()!r}"
        section = (raw_row.get("section") or "").strip()
        if "section" not in failed and section and section not in sections:
            self.add("E011", "items.csv", n, "section", f"{tag} names unknown section {section!r}")
        for col in ("scale", "left_scale", "right_scale"):
            ref = (raw_row.get(col) or "").strip()
            if col not in failed and ref and ref not in scales:
                self.add("E012", "items.csv", n, col, f"{tag} is keyed to unknown scale {ref!r}")

    def _items(self, h: Header) -> tuple[Item, ...]:
        path = self.folder / "items.csv"
        if not path.is_file():
            self.add("E000", "items.csv", None, "", "is missing")
            return ()
        rows, raw, problems = _read_csv(path)
        self.problems.extend(problems)
        self.hash.update(raw)
        if h.response is None:  # already reported by _check_header
            return ()
        kind = h.response.kind
        sections = {s.id for s in h.sections}
        scales = {s.id for s in h.scales}
        items: list[Item] = []
        seen: dict[str, Item] = {}
        for n, raw_row in rows:
            try:
                row = ItemRow.model_validate(raw_row)
            except ValidationError as err:
                self.problems.extend(_pydantic_problems(err, "items.csv", row=n))
                self._raw_references(raw_row, n, err, sections, scales)
                continue
            tag = f"item {row.id!r}"
            if row.id in seen:
                self.add("E010", "items.csv", n, "id", f"{tag} is defined twice")
            if row.section not in sections:
                self.add("E011", "items.csv", n, "section", f"{tag} names unknown section {row.section!r}")
            for col in ("scale", "left_scale", "right_scale"):
                ref = getattr(row, col)
                if ref is not None and ref not in scales:
                    self.add("E012", "items.csv", n, col, f"{tag} is keyed to unknown scale {ref!r}")
            text = left = right = None
            if kind == "paired":
                for col in ("text_ka", "text_en"):
                    if getattr(row, col):
                        self.add("E014", "items.csv", n, col, f"{tag}: paired items use left_/right_ texts, not {col}")
                left, miss_l = _text(row, "left", self.languages)
                right, miss_r = _text(row, "right", self.languages)
                for what in miss_l + miss_r:
                    self.add("E013", "items.csv", n, "", f"{tag} has no {what}")
                self._check_pair(row, n, seen)
            else:
                text, miss = _text(row, "text", self.languages)
                for what in miss:
                    self.add("E013", "items.csv", n, "", f"{tag} has no {what}")
                for col in ("left_ka", "left_en", "right_ka", "right_en", "repeat_of", "left_scale", "right_scale"):
                    if getattr(row, col) is not None:
                        self.add("E014", "items.csv", n, col, f"{tag}: {col} is only for paired items")
                if row.scale is None:
                    self.add("E012", "items.csv", n, "scale", f"{tag} has no scale")
                if row.keyed is None:
                    self.add("E015", "items.csv", n, "keyed", f"{tag} needs keyed = 1 or -1")
            item = Item(
                id=row.id,
                section=row.section,
                scale=row.scale,
                keyed=row.keyed or 1,
                text=text,
                left=left,
                right=right,
                repeat_of=row.repeat_of,
                left_scale=row.left_scale,
                right_scale=row.right_scale,
            )
            seen.setdefault(row.id, item)
            items.append(item)
        if not items and not any(p.file == "items.csv" for p in self.problems):
            self.add("E000", "items.csv", None, "", "holds no items")
        return tuple(items)

    def _check_pair(self, row: ItemRow, n: int, seen: dict[str, Item]) -> None:
        tag = f"item {row.id!r}"
        forced = (row.left_scale, row.right_scale)
        if row.repeat_of is not None:
            orig = seen.get(row.repeat_of)
            if orig is None:
                self.add(
                    "E016",
                    "items.csv",
                    n,
                    "repeat_of",
                    f"{tag} repeats {row.repeat_of!r}, which is not an earlier item",
                )
            elif orig.repeat_of is not None:
                self.add("E016", "items.csv", n, "repeat_of", f"{tag} repeats a repeat; point it at the original")
            elif (row.left_ka, row.right_ka, row.left_en, row.right_en) != (
                orig.right.ka if orig.right else None,
                orig.left.ka if orig.left else None,
                orig.right.en if orig.right else None,
                orig.left.en if orig.left else None,
            ):
                self.add(
                    "E016",
                    "items.csv",
                    n,
                    "repeat_of",
                    f"{tag} must show the poles of {row.repeat_of!r} swapped (its left = their right)",
                )
            if row.scale is not None or any(forced):
                self.add("E016", "items.csv", n, "scale", f"{tag} is a repeated pair and must not be keyed to a scale")
            return
        if any(forced):
            if None in forced:
                self.add("E017", "items.csv", n, "left_scale", f"{tag}: give both left_scale and right_scale")
            elif row.scale is not None:
                self.add("E017", "items.csv", n, "scale", f"{tag}: a forced choice between scales has no 'scale'")
            return
        if row.scale is None:
            self.add("E012", "items.csv", n, "scale", f"{tag} has no scale")
        if row.keyed is None:
            self.add("E015", "items.csv", n, "keyed", f"{tag} needs keyed = 1 or -1")

    def _check_scales(self, h: Header, items: tuple[Item, ...]) -> None:
        for k, s in enumerate(h.scales):
            n = sum(1 for i in items if i.scale == s.id or s.id in (i.left_scale, i.right_scale))
            if n < 2:
                self.add(
                    "E022", self.meta, None, f"scales[{k}]", f"scale {s.id!r} has {n} item(s); it needs at least two"
                )
            if s.min_answered is not None and s.min_answered > n:
                self.add(
                    "E022",
                    self.meta,
                    None,
                    f"scales[{k}].min_answered",
                    f"scale {s.id!r} asks for {s.min_answered} answered items but has only {n}",
                )
        used = {i.section for i in items}
        for k, sec in enumerate(h.sections):
            if sec.id not in used:
                self.add("E011", self.meta, None, f"sections[{k}]", f"section {sec.id!r} has no items")

    # -- intake fields ----------------------------------------------------------
    def _fields(self, h: Header) -> tuple[FormField, ...]:
        sections = {s.id for s in h.sections}
        out: list[FormField] = []
        fpath, opath = self.folder / "fields.csv", self.folder / "options.csv"
        if not fpath.is_file():
            self.add("E000", "fields.csv", None, "", "is missing")
            return ()
        frows, raw, problems = _read_csv(fpath)
        self.problems.extend(problems)
        self.hash.update(_without_personal(raw))
        orows: list[tuple[int, dict[str, str]]] = []
        if opath.is_file():
            orows, oraw, oproblems = _read_csv(opath)
            self.problems.extend(oproblems)
            self.hash.update(oraw)
        options: dict[str, list[Option]] = {}
        for n, raw_row in orows:
            try:
                o = OptionRow.model_validate(raw_row)
            except ValidationError as err:
                self.problems.extend(_pydantic_problems(err, "options.csv", row=n))
                continue
            opts = options.setdefault(o.field, [])
            if any(x.value == o.value for x in opts):
                self.add("E010", "options.csv", n, "value", f"option {o.value!r} of {o.field!r} is listed twice")
            label, missing = _row_text(o.label_ka, o.label_en, "label", self.languages)
            for what in missing:
                self.add("E013", "options.csv", n, "", f"option {o.value!r} of {o.field!r} has no {what}")
            if label is not None:
                opts.append(Option(o.value, label))
        types = {r.get("id", "").strip(): r.get("type", "").strip() for _, r in frows}
        options = self._isced(options, types)
        ids: set[str] = set()
        for n, raw_row in frows:
            try:
                f = FieldRow.model_validate(raw_row)
            except ValidationError as err:
                self.problems.extend(_pydantic_problems(err, "fields.csv", row=n))
                continue
            if f.id in ids:
                self.add("E010", "fields.csv", n, "id", f"field {f.id!r} is defined twice")
            ids.add(f.id)
            if f.section not in sections:
                self.add("E011", "fields.csv", n, "section", f"field {f.id!r} names unknown section {f.section!r}")
            choices = tuple(options.get(f.id, ()))
            if f.type in ("choice", "multi") and len(choices) < 2:
                self.add(
                    "E018", "fields.csv", n, "type", f"field {f.id!r} is a {f.type} but has fewer than two options"
                )
            if f.type not in ("choice", "multi") and choices:
                self.add("E018", "options.csv", None, "field", f"field {f.id!r} is a {f.type} and takes no options")
            label, missing = _row_text(f.label_ka, f.label_en, "label", self.languages)
            for what in missing:
                self.add("E013", "fields.csv", n, "", f"field {f.id!r} has no {what}")
            personal = f.personal if f.personal is not None else f.type in PERSONAL_BY_DEFAULT
            if label is not None:
                out.append(FormField(f.id, f.section, f.type, f.required, label, choices, personal))
        for fid in options:
            if fid not in ids:
                self.add("E018", "options.csv", None, "field", f"options name unknown field {fid!r}")
        return tuple(out)

    def _isced(self, options: dict[str, list[Option]], types: dict[str, str]) -> dict[str, list[Option]]:
        """Attach isced.csv's levels to the options. Not part of the content hash: like the catalogues
        in data/, it classifies answers on an outside standard, so classifying an old version's options
        does not invalidate the results stored with it."""
        path = self.folder / "isced.csv"
        levels: dict[str, dict[str, int]] = {}
        if path.is_file():
            rows, _, problems = _read_csv(path)
            self.problems.extend(problems)
            for n, raw_row in rows:
                try:
                    r = IscedRow.model_validate(raw_row)
                except ValidationError as err:
                    self.problems.extend(_pydantic_problems(err, "isced.csv", row=n))
                    continue
                if r.field not in options:
                    self.add("E019", "isced.csv", n, "field", f"{r.field!r} is not a field with options in options.csv")
                    continue
                if types.get(r.field) != "choice":
                    self.add(
                        "E019",
                        "isced.csv",
                        n,
                        "field",
                        f"{r.field!r} is a {types.get(r.field)}; only a choice "
                        "field (one answer) can be classified by ISCED level",
                    )
                    continue
                if all(o.value != r.value for o in options[r.field]):
                    self.add("E019", "isced.csv", n, "value", f"{r.value!r} is not an option of {r.field!r}")
                    continue
                seen = levels.setdefault(r.field, {})
                if r.value in seen:
                    self.add("E019", "isced.csv", n, "value", f"option {r.value!r} of {r.field!r} is classified twice")
                seen[r.value] = r.isced
        for fid, seen in levels.items():
            missing = [o.value for o in options[fid] if o.value not in seen]
            if missing:
                self.add(
                    "E019",
                    "isced.csv",
                    None,
                    "value",
                    f"every option of {fid!r} needs an ISCED level; missing: {', '.join(missing)}",
                )
        return {
            fid: [Option(o.value, o.label, levels.get(fid, {}).get(o.value)) for o in opts]
            for fid, opts in options.items()
        }

    def _rules(self, fields: tuple[FormField, ...]) -> IntakeRules | None:
        """rules.toml: which fields and answers the intake rules read (by role), and the packet's fields.
        Not part of the content hash: it maps the form onto the rules, it is not the form."""
        path = self.folder / "rules.toml"
        if not path.is_file():
            return None
        try:
            rules = IntakeRules.model_validate(tomllib.loads(path.read_text(encoding="utf-8")))
        except tomllib.TOMLDecodeError as err:
            self.add("E070", "rules.toml", None, "", f"is not valid TOML: {err}")
            return None
        except ValidationError as err:
            self.problems.extend(_pydantic_problems(err, "rules.toml"))
            return None
        by_id = {f.id: f for f in fields}
        for role, fid in rules.roles.items():
            if role not in INTAKE_ROLES:
                self.add(
                    "E071", "rules.toml", None, f"roles.{role}", f"unknown role (known: {', '.join(INTAKE_ROLES)})"
                )
            elif fid not in by_id:
                self.add("E072", "rules.toml", None, f"roles.{role}", f"field {fid!r} is not in fields.csv")
            elif by_id[fid].type not in INTAKE_ROLES[role]:
                self.add(
                    "E072",
                    "rules.toml",
                    None,
                    f"roles.{role}",
                    f"field {fid!r} is a {by_id[fid].type}; the role takes {' or '.join(INTAKE_ROLES[role])}",
                )
        for name, values in rules.values.items():
            set_role = INTAKE_VALUE_SETS.get(name)
            if set_role is None:
                self.add(
                    "E073",
                    "rules.toml",
                    None,
                    f"values.{name}",
                    f"unknown value set (known: {', '.join(INTAKE_VALUE_SETS)})",
                )
                continue
            set_field = rules.roles.get(set_role)
            if set_field is None or set_field not in by_id:
                self.add("E073", "rules.toml", None, f"values.{name}", f"needs the role {set_role!r} in [roles]")
                continue
            known = {o.value for o in by_id[set_field].options}
            for v in values:
                if v not in known:
                    self.add("E073", "rules.toml", None, f"values.{name}", f"{v!r} is not an option of {set_field!r}")
        for k, fid in enumerate(rules.packet.fields):
            if fid not in by_id:
                self.add("E074", "rules.toml", None, f"packet.fields[{k}]", f"field {fid!r} is not in fields.csv")
        edu = by_id.get(rules.roles.get("education", ""))
        if edu is not None and any(o.isced is None for o in edu.options):
            self.add(
                "E019",
                "isced.csv",
                None,
                "",
                f"field {edu.id!r} plays the education role (rules.toml), so it is scored by ISCED level: give "
                "each of its options a level (0–8) in isced.csv (columns field, value, isced)",
            )
        return rules


def load_path(folder: str | Path, activity_ids: set[str] | None = None) -> Instrument:
    """Load and validate the definition in ``folder``; raise ``InstrumentError`` listing every problem."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InstrumentError([Problem("E000", str(folder), None, "", "is not a folder")])
    return _Builder(folder, activity_ids).build()


def _version_key(v: str) -> tuple[int, ...]:
    return tuple(int(p) for p in v.split("."))


def available(root: Path = DEFINITIONS) -> list[tuple[str, str]]:
    """Every shipped ``(id, version)``, sorted."""
    out = []
    for d in sorted(root.iterdir()) if root.is_dir() else []:
        if d.is_dir():
            for v in d.iterdir():
                if v.is_dir() and any((v / n).is_file() for n in META_NAMES):
                    out.append((d.name, v.name))
    return sorted(out, key=lambda t: (t[0], _version_key(t[1])))


def load(
    instrument_id: str,
    version: str | None = None,
    root: Path = DEFINITIONS,
    activity_ids: set[str] | None = None,
) -> Instrument:
    """Load a shipped instrument; the newest version when ``version`` is None."""
    versions = [v for i, v in available(root) if i == instrument_id]
    if not versions:
        known = ", ".join(sorted({i for i, _ in available(root)})) or "none"
        raise UnknownInstrument(
            [Problem(ErrorCode.UNKNOWN, instrument_id, None, "", f"no such instrument (known: {known})")]
        )
    if version is None:
        version = versions[-1]
    elif version not in versions:
        have = ", ".join(versions)
        raise UnknownInstrument(
            [Problem(ErrorCode.UNKNOWN, instrument_id, None, "", f"no version {version!r} (have {have})")]
        )
    return load_path(root / instrument_id / version, activity_ids)


def missing_key(code: object) -> str:
    """A missing-value code as the engine looks it up: stripped, lower-case text (9 → "9", 9.0 → "9")."""
    if isinstance(code, float) and code.is_integer():
        code = int(code)
    return str(code).strip().lower()


def valid_answers(kind: str, low: int, high: int) -> dict[str, int]:
    """Every spelling that is a valid answer of a response format (skip words excluded)."""
    spec = InstrumentSpec("_", "_", "", "generic", kind, low, high, (), (), ())  # type: ignore[arg-type]
    return {k: v for k, v in answer_lookup(spec).items() if v != int(MISSING)}


__all__ = ["available", "load", "load_path", "missing_key", "valid_answers", "Scale"]
