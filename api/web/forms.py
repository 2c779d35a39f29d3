"""An instrument as the pages show it: sections, numbered items, and the answer controls that
suit its response format (like/dislike, a 1–4 scale, or two poles rated 3/2/1).

Control values are the stored answer codes ('1', '0', '4', '-3' … '3'), so a saved answer
selects its control again on any device; 'skip' records a missing answer, never a default.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import instruments
from api import scoring_facade as facade

SKIP = "skip"
PAGE_SIZE = 10
"""Items on one respondent page when the section's definition names no ``page_size``."""


@dataclass(frozen=True)
class Choice:
    value: str
    label: str
    key: str
    """What is typed for it in paper entry."""
    short: str = ""
    """What the button shows: the definition's short label, else the label up to its first ':' or ';'
    (the full label is then shown once, above the items)."""


def _short(label: str, short: str | None = None) -> str:
    if short:
        return short
    head = re.split(r"[:;]", label, maxsplit=1)[0].strip()
    return head or label


@dataclass(frozen=True)
class Item:
    id: str
    n: int
    section: int
    text: str | None
    left: str | None
    right: str | None


@dataclass
class Section:
    index: int
    id: str
    title: str | None
    instructions: str | None
    items: list[Item] = field(default_factory=list)
    choices: list[Choice] | None = None
    """This section's own answer labels (same values as the form's), or None."""
    page_size: int = PAGE_SIZE


@dataclass(frozen=True)
class Page:
    """One respondent page: a run of at most ``page_size`` items of one section."""

    index: int
    section: Section
    items: list[Item]
    part: int
    """This page's place within its section (1-based) …"""
    parts: int
    """… of this many pages of the section."""

    @property
    def first_of_section(self) -> bool:
        return self.part == 1


@dataclass
class Form:
    """An instrument in one language, ready for the respondent, read-aloud and paper pages."""

    id: str
    version: str
    title: str
    kind: str
    sections: list[Section]
    choices: list[Choice]
    """binary and ordinal: the options; paired: the ratings of the right pole."""
    left_choices: list[Choice]
    """paired only: the ratings of the left pole (values −3 … −1)."""

    @property
    def abbreviated(self) -> bool:
        """Whether the answer buttons show shortened labels (then a legend shows them in full)."""
        return any(c.short and c.short != c.label for c in self.choices)

    def abbreviated_in(self, section: Section | None) -> bool:
        """Whether a part's answer buttons show shortened labels (then its legend shows them in full)."""
        return any(c.short and c.short != c.label for c in self.choices_for(section))

    def choices_for(self, item: Item | Section | None) -> list[Choice]:
        """The answer controls of an item's (or a section's) part: its own labels, or the form's."""
        index = item.section if isinstance(item, Item) else item.index if item is not None else 0
        own = self.sections[index - 1].choices if 1 <= index <= len(self.sections) else None
        return own if own is not None else self.choices

    @property
    def items(self) -> list[Item]:
        return [i for s in self.sections for i in s.items]

    @property
    def pages(self) -> list[Page]:
        """The respondent pages: each section cut into runs of its page size, in order."""
        out: list[Page] = []
        for s in self.sections:
            runs = [s.items[k : k + s.page_size] for k in range(0, len(s.items), s.page_size)] or [[]]
            for part, run in enumerate(runs, start=1):
                out.append(Page(len(out) + 1, s, run, part, len(runs)))
        return out

    def page_of(self, item_id: str) -> int:
        """The respondent page an item is on."""
        for p in self.pages:
            if any(i.id == item_id for i in p.items):
                return p.index
        raise KeyError(item_id)

    def open_items(self, answers: dict[str, str | None]) -> list[Item]:
        """Items neither answered nor skipped, in order."""
        return [i for i in self.items if i.id not in answers]

    def resume_at(self, answers: dict[str, str | None]) -> tuple[int, Item | None]:
        """Where a person continues: the page of the first open item and that item
        (the last page and None when every item has an answer or a skip)."""
        first = next(iter(self.open_items(answers)), None)
        if first is None:
            return len(self.pages), None
        return self.page_of(first.id), first

    @property
    def keys(self) -> dict[str, str]:
        """Typed key → stored code, for paper entry."""
        return {c.key: c.value for c in [*self.choices, *self.left_choices]}

    def typed(self, stored: str | None, present: bool) -> str:
        """A stored answer as paper entry shows it ('L2', '1', '-' for skipped, '' for not entered)."""
        if not present:
            return ""
        if stored is None:
            return "-"
        for c in [*self.choices, *self.left_choices]:
            if c.value == stored:
                return c.key
        return stored

    def selected(self, answers: dict[str, str | None], item: str) -> str | None:
        """The control to show as chosen: a code, 'skip', or None (not answered yet)."""
        if item not in answers:
            return None
        return SKIP if answers[item] is None else answers[item]

    def progress(self, answers: dict[str, str | None]) -> dict[str, int]:
        ids = [i.id for i in self.items]
        answered = sum(1 for i in ids if answers.get(i) is not None)
        skipped = sum(1 for i in ids if i in answers and answers[i] is None)
        return {"answered": answered, "skipped": skipped, "done": answered + skipped, "total": len(ids)}

    def open_in(self, section: Section, answers: dict[str, str | None]) -> list[Item]:
        """Items of a section not answered and not skipped."""
        return [i for i in section.items if i.id not in answers]

    def first_open_section(self, answers: dict[str, str | None]) -> int:
        for s in self.sections:
            if self.open_in(s, answers):
                return s.index
        return len(self.sections)


def _choices(kind: str, labels: dict[int, str], short: dict[int, str]) -> list[Choice]:
    """binary and ordinal: the options; paired: the ratings of the right pole."""
    if kind == "binary":
        return [Choice(str(v), labels[v], str(v), _short(labels[v], short.get(v))) for v in (1, 0)]
    if kind == "paired":
        return [Choice(str(v), labels[v], f"R{v}") for v in sorted(labels, reverse=True)]
    return [Choice(str(v), labels[v], str(v), _short(labels[v], short.get(v))) for v in labels]


def build(inst: instruments.Instrument, lang: str) -> Form:
    d: dict[str, Any] = facade.definition(inst, lang)
    if inst.model == "intake" or "response" not in d:
        raise ValueError(f"{inst.ref} is a form, not a questionnaire")
    resp = d["response"]
    labels: dict[int, str] = resp["labels"]
    kind = resp["kind"]
    choices = _choices(kind, labels, resp.get("short", {}))
    left: list[Choice] = []
    if kind == "paired":
        left = [Choice(str(-v), labels[v], f"L{v}") for v in sorted(labels, reverse=True)]
    sections = [
        Section(
            k + 1,
            s["id"],
            s["title"],
            s["instructions"],
            choices=_choices(kind, s["labels"], s.get("short", {})) if "labels" in s else None,
            page_size=s.get("page_size") or PAGE_SIZE,
        )
        for k, s in enumerate(d["sections"])
    ]
    by_id = {s.id: s for s in sections}
    for n, it in enumerate(d["items"], start=1):
        sec = by_id[it["section"]]
        sec.items.append(Item(it["id"], n, sec.index, it["text"], it["left"], it["right"]))
    return Form(inst.id, inst.version, d["title"], kind, sections, choices, left)


def intake_sections(inst: instruments.Instrument, lang: str) -> list[dict[str, Any]]:
    """The intake form's fields grouped by section, in file order."""
    d: dict[str, Any] = facade.definition(inst, lang)
    out = [{**s, "fields": []} for s in d["sections"]]
    by_id = {s["id"]: s for s in out}
    for f in d["fields"]:
        by_id[f["section"]]["fields"].append(f)
    return out


def occupation_choices(lang: str) -> list[tuple[str, str]]:
    """The catalogue's occupations as (name in ``lang``, name in the other language), sorted: a
    suggestion list that finds an occupation by typing either name (a browser matches the typed
    text against both the value and the label of a datalist option), and saves the name in the
    page's language."""
    other = "en" if lang == "ka" else "ka"
    pairs = {getattr(o.name, lang): getattr(o.name, other) for o in instruments.occupations() if not o.excluded}
    return sorted(pairs.items())
