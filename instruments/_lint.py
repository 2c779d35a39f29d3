"""The lint pass over a definition folder: ``changes.md`` checked against the version it names.

A new version of an instrument says, in ``changes.md``, what changed since the
version before it, so researchers know which items they may compare across
versions (format: instruments/FORMAT.md). The check compares the two loaded
definitions thing by thing and collects every problem, each with the line of
``changes.md`` it concerns:

- E060  the first line does not name this instrument, this version and an older, loadable version;
- E061  a reference names nothing (an unknown kind, or an id in neither version);
- E062  something differs between the versions but is not listed as changed;
- E063  something listed as unchanged differs, or is an item of a section whose answer format the
        change table marks as not comparable;
- E064  something is listed twice (or both as changed and as unchanged);
- E065  an item (intake: a field) is in neither list;
- E066  a quoted old or new text is not that version's Georgian text;
- E067  a malformed change table or row;
- E068  something listed as changed and comparable is the same in both versions (an unchanged item
        is listed as changed only to mark it not comparable, when its section's answer format changed).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ._errors import InstrumentError, Problem
from ._model import Instrument, Item

FILE = "changes.md"
HEADER = re.compile(
    r"^#\s+(?P<id>[a-z][a-z0-9_]*)\s+(?P<new>\d+(?:\.\d+)*)\s*:\s*changes from\s+(?P<old>\d+(?:\.\d+)*)\s*$"
)
REF = re.compile(r"`([^`]*)`")
UNCHANGED = re.compile(r"^##\s+unchanged\b", re.IGNORECASE)
KEYED_KINDS = ("item", "label", "section", "scale", "field", "option")
SINGLE_KINDS = ("title", "description", "response", "scoring", "validity")
ABSENT = "—"
"""What a table cell holds for a version that does not have the thing."""


def _version_key(v: str) -> tuple[int, ...]:
    return tuple(int(p) for p in v.split("."))


def _item_text(item: Item) -> str | None:
    if item.text is not None:
        return item.text.ka
    if item.left is not None and item.right is not None:
        return f"{item.left.ka} / {item.right.ka}"
    return None


def entities(inst: Instrument) -> dict[str, object]:
    """Everything changes.md can name, by reference (``item:VDQ01``, ``label:4``, ``title`` …)."""
    out: dict[str, object] = {"title": inst.title, "description": inst.description}
    if inst.response is not None:
        out["response"] = (inst.response.kind, inst.response.min, inst.response.max)
        out["scoring"] = inst.params
        out["validity"] = inst.validity
        for lab in inst.response.labels:
            out[f"label:{lab.value}"] = lab
        for s in inst.sections:  # the labels a section shows: its own, or else the instrument's
            for lab in inst.labels_for(s.id):
                out[f"label:{s.id}/{lab.value}"] = lab
    for s in inst.sections:
        out[f"section:{s.id}"] = (s.title, s.instructions)
    for sc in inst.scales:
        out[f"scale:{sc.id}"] = sc
    for it in inst.items:
        out[f"item:{it.id}"] = it
    for f in inst.fields:
        out[f"field:{f.id}"] = (f.section, f.type, f.required, f.label)
        for o in f.options:
            out[f"option:{f.id}/{o.value}"] = o
    return out


def georgian(ref: str, value: Any) -> str | None:
    """The Georgian text a change-table cell must quote for ``ref``; None where the cell is free text."""
    kind = ref.split(":", 1)[0]
    if value is None:
        return None
    if kind == "item":
        return _item_text(value)
    if kind in ("label", "title", "description"):
        return str(value.ka)
    if kind == "field":
        return str(value[3].ka)
    if kind == "option":
        return str(value.label.ka)
    return None


def _own_labels(inst: Instrument, section: str) -> bool:
    return any(s.id == section and s.labels is not None for s in inst.sections)


@dataclass
class _Row:
    line: int
    ref: str
    cells: list[str]


def _cells(line: str) -> list[str]:
    body = line.strip()
    if body.startswith("|"):
        body = body[1:]
    if body.endswith("|"):
        body = body[:-1]
    return [c.strip() for c in body.split("|")]


class _Checker:
    def __init__(self, old: Instrument, new: Instrument) -> None:
        self.old, self.new = old, new
        self.a, self.b = entities(old), entities(new)
        self.problems: list[Problem] = []

    def add(self, code: str, line: int | None, where: str, msg: str) -> None:
        self.problems.append(Problem(code, FILE, line, where, msg, unit="line"))

    def known(self, ref: str, line: int) -> bool:
        kind = ref.split(":", 1)[0]
        if kind not in KEYED_KINDS and kind not in SINGLE_KINDS:
            self.add("E061", line, ref, f"unknown kind {kind!r}; use one of {', '.join(KEYED_KINDS + SINGLE_KINDS)}")
            return False
        if kind in KEYED_KINDS and ":" not in ref:
            self.add("E061", line, ref, f"name the {kind}: `{kind}:<id>`")
            return False
        if ref not in self.a and ref not in self.b:
            self.add("E061", line, ref, f"{ref} is in neither {self.old.ref} nor {self.new.ref}")
            return False
        return True

    def same(self, ref: str) -> bool:
        return ref in self.a and ref in self.b and self.a[ref] == self.b[ref]

    def check_row(self, row: _Row) -> None:
        _what, old_cell, new_cell, comparable, why = row.cells
        if comparable.lower() not in ("yes", "no"):
            self.add("E067", row.line, row.ref, f"'comparable' must be yes or no (got {comparable!r})")
        if not why:
            self.add("E067", row.line, row.ref, "say why it changed (the 'why' cell is empty)")
        if not self.known(row.ref, row.line):
            return
        if self.same(row.ref) and comparable.lower() == "yes":
            self.add(
                "E068",
                row.line,
                row.ref,
                f"listed as changed, but {row.ref} is the same in both versions; "
                "move it to '## Unchanged' (or mark it comparable = no if its answer format changed)",
            )
        for version, table, cell in ((self.old, self.a, old_cell), (self.new, self.b, new_cell)):
            if row.ref not in table:
                if cell != ABSENT:
                    self.add("E066", row.line, row.ref, f"{row.ref} is not in {version.ref}: write {ABSENT!r}")
                continue
            want = georgian(row.ref, table[row.ref])
            if want is not None and cell != want:
                self.add(
                    "E066",
                    row.line,
                    row.ref,
                    f"the {version.version} text must be the Georgian text of {version.ref} exactly: {want!r}",
                )

    def check(self, text: str) -> None:
        lines = text.splitlines()
        changed: dict[str, int] = {}
        unchanged: dict[str, int] = {}
        rows: list[_Row] = []
        in_unchanged = False
        table: list[tuple[int, str]] = []

        def flush() -> None:
            if table:
                rows.extend(self._table(table))
                table.clear()

        for n, ln in enumerate(lines, start=1):
            stripped = ln.strip()
            if stripped.startswith("|"):
                table.append((n, stripped))
                continue
            flush()
            if stripped.startswith("#"):
                in_unchanged = bool(UNCHANGED.match(stripped))
                continue
            if in_unchanged:
                for ref in REF.findall(ln):
                    ref = ref.strip()
                    if ref in unchanged or ref in changed:
                        self.add("E064", n, ref, f"{ref} is listed more than once")
                        continue
                    unchanged[ref] = n
                    if self.known(ref, n) and not self.same(ref):
                        present = ref in self.a and ref in self.b
                        self.add(
                            "E063",
                            n,
                            ref,
                            f"listed as unchanged, but {ref} "
                            + ("differs between the versions" if present else "is not in both versions"),
                        )
        flush()
        for row in rows:
            if row.ref in changed or row.ref in unchanged:
                self.add("E064", row.line, row.ref, f"{row.ref} is listed more than once")
                continue
            changed[row.ref] = row.line
            self.check_row(row)
        self._format_changes(rows, unchanged)
        for ref in sorted(set(self.a) | set(self.b)):
            if self.same(ref) or ref in changed:
                continue
            if ref.startswith("label:") and "/" in ref:
                section = ref[len("label:") :].split("/", 1)[0]
                if not _own_labels(self.old, section) and not _own_labels(self.new, section):
                    continue  # the instrument's label, listed (or not) as `label:<value>`
            self.add(
                "E062",
                None,
                ref,
                f"{ref} differs between {self.old.ref} and {self.new.ref} but is not in a change table",
            )
        for ref in sorted(set(self.a) | set(self.b)):
            if ref.startswith(("item:", "field:")) and ref not in changed and ref not in unchanged:
                self.add("E065", None, ref, f"{ref} is neither in a change table nor under '## Unchanged'")

    def _format_changes(self, rows: list[_Row], unchanged: dict[str, int]) -> None:
        """Items listed as unchanged in a section whose answers are marked not comparable (E063)."""
        sections = {s.id for s in self.new.sections} | {s.id for s in self.old.sections}
        broken: dict[str, int] = {}
        for row in rows:
            if row.cells[3].lower() != "no":
                continue
            kind, _, rest = row.ref.partition(":")
            if kind == "response" or (kind == "label" and "/" not in rest):
                hit = sections
            elif kind == "label":
                hit = {rest.split("/", 1)[0]}
            elif kind == "section":
                hit = {rest}
            else:
                continue
            for sec in hit:
                broken.setdefault(sec, row.line)
        for ref, n in unchanged.items():
            item = self.b.get(ref) if ref.startswith("item:") else None
            if isinstance(item, Item) and item.section in broken:
                self.add(
                    "E063",
                    n,
                    ref,
                    f"listed as unchanged, but the answers in section {item.section!r} are "
                    f"marked not comparable (line {broken[item.section]}): list {ref} in a change table "
                    "with comparable = no",
                )

    def _table(self, table: list[tuple[int, str]]) -> list[_Row]:
        header = [c.lower() for c in _cells(table[0][1])]
        if not header or header[0] != "what":
            return []  # another table (prose): not a change table
        want = ["what", self.old.version, self.new.version, "comparable", "why"]
        if header != want:
            self.add("E067", table[0][0], "", f"a change table's header is | {' | '.join(want)} |")
            return []
        body = table[1:]
        if body and set(body[0][1]) <= set("|-: "):
            body = body[1:]
        out = []
        for n, ln in body:
            cells = _cells(ln)
            if len(cells) != len(want):
                self.add("E067", n, "", f"a change row has {len(want)} cells (got {len(cells)}; a '|' in a text?)")
                continue
            refs = [r.strip() for r in REF.findall(cells[0])]
            if len(refs) != 1:
                self.add("E067", n, "", "the 'what' cell names exactly one thing in backticks, e.g. `item:VDQ01`")
                continue
            out.append(_Row(n, refs[0], cells))
        return out


def check_changes(
    folder: Path, inst: Instrument, load_previous: Callable[[Path], Instrument], shipped: Path
) -> list[Problem]:
    """Problems with ``folder``/changes.md (none when there is no such file)."""
    path = folder / FILE
    if not path.is_file():
        return []
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        return [Problem("E000", FILE, None, "", f"is not UTF-8 text: {exc}")]
    lines = text.splitlines()
    n, first = next(((k, ln) for k, ln in enumerate(lines, start=1) if ln.strip()), (1, ""))
    m = HEADER.match(first.strip())
    if m is None:
        return [
            Problem(
                "E060",
                FILE,
                n,
                "",
                f"the first line must be '# {inst.id} {inst.version}: changes from <older version>'",
                unit="line",
            )
        ]
    problems = []
    if m["id"] != inst.id or m["new"] != inst.version:
        problems.append(
            Problem("E060", FILE, n, "", f"names {m['id']} {m['new']}, but this folder holds {inst.ref}", unit="line")
        )
    old_version = m["old"]
    if _version_key(old_version) >= _version_key(inst.version):
        problems.append(Problem("E060", FILE, n, "", f"{old_version} is not older than {inst.version}", unit="line"))
        return problems
    candidates = [folder.parent / old_version, shipped / inst.id / old_version]
    where = next((c for c in candidates if c.is_dir()), None)
    if where is None:
        problems.append(
            Problem(
                "E060",
                FILE,
                n,
                "",
                f"version {old_version} of {inst.id} is neither beside this folder nor shipped",
                unit="line",
            )
        )
        return problems
    try:
        old = load_previous(where)
    except InstrumentError as exc:
        problems.append(
            Problem(
                "E060",
                FILE,
                n,
                "",
                f"{inst.id} {old_version} ({where}) cannot be loaded: "
                f"{len(exc.problems)} problem(s), first: {exc.problems[0]}",
                unit="line",
            )
        )
        return problems
    if old.id != inst.id:
        problems.append(Problem("E060", FILE, n, "", f"{where} holds {old.ref}, not {inst.id}", unit="line"))
        return problems
    checker = _Checker(old, inst)
    checker.check(text)
    return problems + checker.problems


def draft_changes(old: Instrument, new: Instrument, why: dict[str, tuple[str, str]] | None = None) -> str:
    """A changes.md for ``new`` against ``old``: every difference in a change table, every other
    item under '## Unchanged'. ``why`` maps a reference to (comparable, reason); without one the
    row's 'comparable' and 'why' cells are empty, and the check asks for them."""
    why = why or {}
    a, b = entities(old), entities(new)
    rows = []
    for ref in sorted(set(a) | set(b), key=_ref_order(a, b)):
        if ref in a and ref in b and a[ref] == b[ref]:
            continue
        if ref.startswith("label:") and "/" in ref:
            section = ref[len("label:") :].split("/", 1)[0]
            if not _own_labels(old, section) and not _own_labels(new, section):
                continue
        cells = []
        for table in (a, b):
            if ref not in table:
                cells.append(ABSENT)
            else:
                cells.append(georgian(ref, table[ref]) or "see below")
        comparable, reason = why.get(ref, ("", ""))
        rows.append(f"| `{ref}` | {cells[0]} | {cells[1]} | {comparable} | {reason} |")
    same = [
        r for r in sorted(set(a) & set(b), key=_ref_order(a, b)) if r.startswith(("item:", "field:")) and a[r] == b[r]
    ]
    out = [
        f"# {new.id} {new.version}: changes from {old.version}",
        "",
        f"| what | {old.version} | {new.version} | comparable | why |",
        "|---|---|---|---|---|",
        *rows,
        "",
        "## Unchanged",
        "",
        ", ".join(f"`{r}`" for r in same),
        "",
    ]
    return "\n".join(out)


def _ref_order(a: dict[str, object], b: dict[str, object]) -> Callable[[str], tuple[int, int]]:
    order = {ref: k for k, ref in enumerate([*a, *(r for r in b if r not in a)])}
    kinds = (
        "title",
        "description",
        "response",
        "label",
        "section",
        "scale",
        "scoring",
        "validity",
        "field",
        "option",
        "item",
    )
    return lambda ref: (kinds.index(ref.split(":", 1)[0]), order[ref])


# -- reading changes.md as data (the check above says whether it is right) -------------------------


@dataclass(frozen=True)
class Change:
    """One row of a change table: what changed between two versions, and whether answers to it compare."""

    ref: str
    """``item:VDQ01``, ``label:4``, ``section:main``, ``scale:R``, ``title`` …"""
    old: str
    new: str
    comparable: bool
    why: str

    @property
    def kind(self) -> str:
        return self.ref.split(":", 1)[0]

    @property
    def key(self) -> str | None:
        return self.ref.split(":", 1)[1] if ":" in self.ref else None


@dataclass(frozen=True)
class ChangeLog:
    """A version's ``changes.md``: the version it starts from and every change listed."""

    instrument: str
    old_version: str
    new_version: str
    changes: tuple[Change, ...]
    unchanged: frozenset[str]


def read_changes(folder: Path) -> ChangeLog | None:
    """The change tables of ``folder``/changes.md as data (None when there is none or its first line
    names no older version). Nothing is checked here: ``proforient check`` and ``load_path`` do that."""
    path = folder / FILE
    if not path.is_file():
        return None
    lines = path.read_text(encoding="utf-8-sig").splitlines()
    first = next((ln.strip() for ln in lines if ln.strip()), "")
    m = HEADER.match(first)
    if m is None:
        return None
    changes: list[Change] = []
    unchanged: set[str] = set()
    in_unchanged = False
    header: list[str] | None = None
    for ln in lines:
        stripped = ln.strip()
        if stripped.startswith("#"):
            in_unchanged = bool(UNCHANGED.match(stripped))
            header = None
            continue
        if not stripped.startswith("|"):
            header = None
            if in_unchanged:
                unchanged.update(r.strip() for r in REF.findall(ln))
            continue
        cells = _cells(stripped)
        if header is None:
            header = [c.lower() for c in cells]
            continue
        if set(stripped) <= set("|-: ") or header[:1] != ["what"] or len(cells) != 5:
            continue
        refs = [r.strip() for r in REF.findall(cells[0])]
        if len(refs) == 1:
            changes.append(Change(refs[0], cells[1], cells[2], cells[3].lower() == "yes", cells[4]))
    return ChangeLog(m["id"], m["old"], m["new"], tuple(changes), frozenset(unchanged))


@dataclass(frozen=True)
class VersionChanges:
    """What changed between two versions of one instrument, read from the ``changes.md`` of every
    version from the older one to the newer (a change at any step counts; an item stays comparable
    only if every step says so)."""

    instrument: str
    older: str
    newer: str
    items: Mapping[str, Change]
    """Item id → its change (old text of the older version, new text of the newer one)."""
    other: tuple[Change, ...]
    """Everything else listed as changed: answer labels, sections, scales, titles …"""
    documented: bool = True
    """False when no chain of ``changes.md`` files leads from the newer version to the older one."""

    def items_of(self, item_ids: object) -> tuple[Change, ...]:
        """The changes of the given items (e.g. one scale's), in the order given."""
        return tuple(self.items[i] for i in item_ids if i in self.items)  # type: ignore[attr-defined]

    @property
    def answers_changed(self) -> tuple[Change, ...]:
        """Changes to the answer format or labels that make answers not comparable."""
        return tuple(c for c in self.other if c.kind in ("label", "response") and not c.comparable)


def version_changes(a: Instrument, b: Instrument) -> VersionChanges:
    """What changed between two versions ``a`` and ``b`` of one instrument (in either order), from
    the ``changes.md`` beside each newer version (instruments/FORMAT.md). Same version: nothing."""
    if a.id != b.id:
        raise InstrumentError(
            [Problem("E060", FILE, None, "", f"{a.ref} and {b.ref} are different instruments, not two versions")]
        )
    older, newer = sorted((a, b), key=lambda i: _version_key(i.version))
    if older.version == newer.version:
        return VersionChanges(a.id, older.version, newer.version, {}, ())
    items: dict[str, Change] = {}
    other: dict[str, Change] = {}
    version = newer.version
    folder = newer.path
    while folder is not None and _version_key(version) > _version_key(older.version):
        log = read_changes(folder)
        if log is None or log.instrument != newer.id or log.new_version != version:
            return VersionChanges(a.id, older.version, newer.version, {}, (), documented=False)
        for c in log.changes:
            into = items if c.kind == "item" else other
            later = into.get(c.ref)
            if later is None:
                into[c.ref] = c
            else:  # an earlier step: keep its old text, the later step's new text
                into[c.ref] = Change(c.ref, c.old, later.new, c.comparable and later.comparable, f"{c.why} {later.why}")
        version = log.old_version
        folder = folder.parent / version
    if version != older.version:
        return VersionChanges(a.id, older.version, newer.version, {}, (), documented=False)
    return VersionChanges(
        a.id,
        older.version,
        newer.version,
        {ref.split(":", 1)[1]: c for ref, c in items.items()},
        tuple(other.values()),
    )
