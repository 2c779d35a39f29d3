"""Any instrument as an XLSForm, for field collection with ODK Collect or KoboToolbox.

``xlsform_sheets(inst, langs)`` lays the definition out as the three XLSForm
sheets (survey, choices, settings); ``write_xlsform`` writes them as .xlsx and
``validate_xlsform`` converts the file with ``pyxform`` (the reference XLSForm
converter; the optional extra ``proforient[research]``), which refuses any
malformed form. Layout:

- ``start``/``end`` metadata and two ``calculate`` fields that name the
  instrument (``proforient_instrument`` = ``id@version``,
  ``proforient_hash`` = the definition's content hash), so an import can check
  that the submissions come from this very form;
- ``id``: an optional respondent code (a text question);
- one group per section (name = section id) with its instructions as a note,
  then its items in file order, each a ``select_one`` named by the item id and
  never required (a skipped item is missing, never a default answer). Choice
  names are the answers the engine reads: ``1``…``max`` (ordinal), ``1``/``0``
  (like/dislike), ``L3``…``L1``/``R1``…``R3`` (paired; one list per pair,
  labelled with the pole and the rating), intake options by their ids;
- intake fields as ``select_one``/``select_multiple``/``decimal``/``text``
  questions, ``required`` as the form says.

Labels come from the definition in the chosen languages (``ka``, ``en`` or
both, Georgian first; by default every language the definition declares, so an
English-only research definition gives an English form); asking for a language the definition does not have is
an error, never a fallback. Submissions exported from ODK Central or
KoboToolbox are read back by ``scoring.research.read_submissions``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from ._errors import InstrumentError, Problem
from ._model import Instrument, Item
from ._schema import LANGUAGE_NAMES, LANGUAGES, Text

INSTRUMENT_FIELD = "proforient_instrument"
HASH_FIELD = "proforient_hash"
ID_FIELD = "id"
_UI: dict[str, Text] = {
    "id": Text(ka="რესპონდენტის კოდი", en="Respondent code"),
    "id_hint": Text(ka="კოდი, რომელიც კვლევამ მოგცათ (სახელი არ ჩაწეროთ)", en="The code the study gave (never a name)"),
    "occupations_hint": Text(
        ka="სამამდე პროფესია, გამოყოფილი წერტილმძიმით (;)", en="Up to three occupations, separated by ;"
    ),
    "yes": Text(ka="კი", en="Yes"),
    "no": Text(ka="არა", en="No"),
}
LANG_OPTIONS = {"ka": ("ka",), "en": ("en",), "both": ("ka", "en")}


def _column(kind: str, lang: str) -> str:
    return f"{kind}::{LANGUAGE_NAMES[lang]} ({lang})"


def _languages(inst: Instrument, lang: str | None) -> tuple[str, ...]:
    """The form's languages: those asked for, or (``None``) every language the definition declares,
    Georgian first."""
    if lang is None:
        return tuple(x for x in LANG_OPTIONS["both"] if x in inst.languages)
    if lang not in LANG_OPTIONS:
        raise ValueError(f"--lang must be ka, en or both (got {lang!r})")
    langs = LANG_OPTIONS[lang]
    missing = [x for x in langs if x not in inst.languages]
    if missing:
        raise InstrumentError(
            [
                Problem(
                    "E013",
                    inst.ref,
                    None,
                    "languages",
                    f"has no {LANGUAGE_NAMES[missing[0]]} texts (its languages: {', '.join(inst.languages)})",
                )
            ]
        )
    return langs


def _labels(text: Text | None, langs: Sequence[str], kind: str = "label") -> dict[str, str]:
    if text is None:
        return {}
    return {_column(kind, lang): text.get(lang) for lang in langs}


def _pair_choices(inst: Instrument, it: Item, langs: Sequence[str]) -> list[dict[str, str]]:
    """L{max}…L1, R1…R{max} for one pair: each labelled with its pole and the rating's label."""
    if inst.response is None or it.left is None or it.right is None:
        raise ValueError(f"{inst.ref}: item {it.id} is not a pair of poles")
    rating = {lab.value: lab for lab in inst.response.labels}
    top = inst.response.max
    out = []
    for side, names in (
        (it.left, [(f"L{r}", r) for r in range(top, 0, -1)]),
        (it.right, [(f"R{r}", r) for r in range(1, top + 1)]),
    ):
        for name, r in names:
            row = {"list_name": f"pair_{it.id}", "name": name}
            row.update({_column("label", x): f"{side.get(x)} — {getattr(rating[r], x)}" for x in langs})
            out.append(row)
    return out


def _side(text: Text | None, lang: str) -> str:
    return "" if text is None else text.get(lang)


def xlsform_sheets(inst: Instrument, lang: str | None = None) -> dict[str, list[dict[str, str]]]:
    """The survey, choices and settings sheets of ``inst``'s XLSForm, as rows of cells."""
    langs = _languages(inst, lang)
    survey: list[dict[str, str]] = [
        {"type": "start", "name": "start"},
        {"type": "end", "name": "end"},
        {"type": "calculate", "name": INSTRUMENT_FIELD, "calculation": f"'{inst.ref}'"},
        {"type": "calculate", "name": HASH_FIELD, "calculation": f"'{inst.content_hash[:12]}'"},
        {"type": "text", "name": ID_FIELD, "required": "false", **_labels(_UI["id"], langs)}
        | _labels(_UI["id_hint"], langs, "hint"),
    ]
    choices: list[dict[str, str]] = []
    response_list = "response"
    if inst.response is not None and inst.response.kind != "paired":
        order = sorted(inst.response.labels, key=lambda lab: -lab.value)  # highest first, as printed
        for lab in order:
            row = {"list_name": response_list, "name": str(lab.value)}
            row.update({_column("label", x): getattr(lab, x) for x in langs})
            choices.append(row)
    if inst.fields:
        choices += [
            {"list_name": "yes_no", "name": "yes", **_labels(_UI["yes"], langs)},
            {"list_name": "yes_no", "name": "no", **_labels(_UI["no"], langs)},
        ]
    for sec in inst.sections:
        survey.append({"type": "begin_group", "name": sec.id, **_labels(sec.title, langs)})
        survey.append({"type": "note", "name": f"{sec.id}_instructions", **_labels(sec.instructions, langs)})
        for it in inst.section_items(sec.id):
            if inst.response is not None and inst.response.kind == "paired":
                choices += _pair_choices(inst, it, langs)
                label = {_column("label", x): f"{_side(it.left, x)} ⟷ {_side(it.right, x)}" for x in langs}
                survey.append({"type": f"select_one pair_{it.id}", "name": it.id, "required": "false", **label})
            else:
                survey.append(
                    {"type": f"select_one {response_list}", "name": it.id, "required": "false", "appearance": "likert"}
                    | _labels(it.text, langs)
                )
        for f in inst.fields:
            if f.section != sec.id:
                continue
            row = {"name": f.id, "required": "true" if f.required else "false", **_labels(f.label, langs)}
            if f.type in ("choice", "multi"):
                list_name = f"{f.id}_options"
                row["type"] = f"{'select_one' if f.type == 'choice' else 'select_multiple'} {list_name}"
                for o in f.options:
                    choices.append({"list_name": list_name, "name": o.value, **_labels(o.label, langs)})
            elif f.type == "bool":
                row["type"] = "select_one yes_no"
            elif f.type == "number":
                row["type"] = "decimal"
            else:
                row["type"] = "text"
                if f.type == "occupations":
                    row.update(_labels(_UI["occupations_hint"], langs, "hint"))
            survey.append(row)
        survey.append({"type": "end_group", "name": sec.id})
    settings = [
        {
            "form_title": " / ".join(inst.title.get(x) for x in langs),
            "form_id": f"proforient_{inst.id}_{inst.version.replace('.', '_')}",
            "version": f"{inst.version}-{inst.content_hash[:12]}",
            "default_language": f"{LANGUAGE_NAMES[langs[0]]} ({langs[0]})",
        }
    ]
    return {"survey": survey, "choices": choices, "settings": settings}


def write_xlsform(inst: Instrument, path: str | Path, lang: str | None = None) -> Path:
    """Write ``inst``'s XLSForm to ``path`` (.xlsx), atomically; returns the path."""
    import os
    import tempfile

    from openpyxl import Workbook

    target = Path(path)
    if target.suffix.lower() != ".xlsx":
        raise ValueError(f"{target}: an XLSForm is an .xlsx file")
    sheets = xlsform_sheets(inst, lang)
    book = Workbook()
    for sheet in list(book.worksheets):  # the default empty sheet
        book.remove(sheet)
    for name, rows in sheets.items():
        ws = book.create_sheet(name)
        columns = list(dict.fromkeys(k for row in rows for k in row))
        ws.append(columns)
        for row in rows:
            ws.append([row.get(c, "") for c in columns])
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.stem}.", suffix=".xlsx", dir=target.parent)
    os.close(fd)
    try:
        book.save(tmp)
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return target


def validate_xlsform(path: str | Path) -> tuple[str, list[str]]:
    """Convert an XLSForm with ``pyxform`` (the XForm and pyxform's warnings); raises ``ValueError``
    when pyxform refuses the form. Needs the ``research`` extra (``pip install 'proforient[research]'``)."""
    try:
        from pyxform.errors import PyXFormError
        from pyxform.xls2xform import convert
    except ImportError as exc:  # pragma: no cover - the extra is installed in development
        raise ValueError("validating an XLSForm needs pyxform: pip install 'proforient[research]'") from exc
    warnings: list[str] = []
    try:
        result = convert(xlsform=str(path), warnings=warnings)
    except PyXFormError as exc:
        raise ValueError(f"{path}: pyxform refuses the form: {exc}") from exc
    return result.xform, list(warnings)


__all__ = [
    "HASH_FIELD",
    "ID_FIELD",
    "INSTRUMENT_FIELD",
    "LANGUAGES",
    "validate_xlsform",
    "write_xlsform",
    "xlsform_sheets",
]
