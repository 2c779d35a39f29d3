"""Narrative texts, one TOML file per language (``strings/ka.toml``, ``strings/en.toml``).

Texts are data so that a translator edits a file, not code. A missing text is
an error, never a fallback to the other language. ``check_strings`` lists
every problem at once: keys present in one language only, placeholders that
differ between languages, empty texts, Georgian capitals (Mtavruli, which we
never use), and every key the shipped instruments need but the files lack.
"""

from __future__ import annotations

import re
import string
import tomllib
from collections.abc import Iterable, Iterator
from functools import lru_cache
from pathlib import Path

from . import _format
from ._errors import ReportError

LANGS = ("ka", "en")
STRINGS_DIR = Path(__file__).parent / "strings"
_MTAVRULI = re.compile("[\u1c90-\u1cbf]")


def _flatten(prefix: str, node: object, out: dict[str, str], file: str) -> None:
    if isinstance(node, dict):
        for k, v in node.items():
            _flatten(f"{prefix}.{k}" if prefix else str(k), v, out, file)
    elif isinstance(node, str):
        out[prefix] = node
    else:
        raise ReportError(f"{file}: {prefix} must be text (got {type(node).__name__})")


def read_strings(path: Path) -> dict[str, str]:
    """One strings file as flat dotted keys → text."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ReportError(f"{path} is missing") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ReportError(f"{path.name} cannot be parsed: {exc}") from exc
    out: dict[str, str] = {}
    _flatten("", data, out, path.name)
    return out


def placeholders(text: str) -> frozenset[str]:
    """The ``{name}`` fields a text expects."""
    return frozenset(f for _, f, _, _ in string.Formatter().parse(text) if f)


class Strings:
    """The texts of one language; ``get`` raises on a missing key or placeholder."""

    def __init__(self, lang: str, table: dict[str, str]) -> None:
        self.lang = lang
        self._table = table

    def __contains__(self, key: str) -> bool:
        return key in self._table

    def __iter__(self) -> Iterator[str]:
        """The keys, as a mapping's are."""
        return iter(self.keys())

    def keys(self) -> Iterable[str]:
        return self._table.keys()

    def raw(self, key: str, /) -> str:
        """The text of ``key`` with its ``{placeholders}`` unfilled (for a caller that fills them
        itself, e.g. escaping for HTML with ``markupsafe.Markup.format``)."""
        try:
            return self._table[key]
        except KeyError:
            raise ReportError(f"no text for {key!r} in reports/strings/{self.lang}.toml") from None

    def get(self, key: str, /, **values: object) -> str:
        try:
            text = self._table[key]
        except KeyError:
            raise ReportError(f"no text for {key!r} in reports/strings/{self.lang}.toml") from None
        if not values and "{" not in text:
            return text
        try:
            return text.format(**values)
        except (KeyError, IndexError) as exc:
            raise ReportError(f"text {key!r} ({self.lang}) needs the value {exc}") from None

    def plural(self, key: str, count: float, /, **values: object) -> str:
        """The form of ``key`` that agrees with ``count``: ``key.one`` or ``key.other`` by the
        language's plural rules (CLDR, through ``_format.plural``); the count itself is given
        among ``values``, formatted as the text should show it."""
        form = f"{key}.{_format.plural(count, self.lang)}"
        return self.get(form if form in self._table else f"{key}.other", **values)

    def join(self, items: Iterable[str], *, mid_sentence: bool = False) -> str:
        """'a, b and c' in this language. ``mid_sentence``: the items are names written as titles
        ("Practical support") that the list puts inside a sentence; in English their capital is
        dropped ("practical support"), except for abbreviations ("CV writing" stays). Georgian has
        no capitals, and is left as it is."""
        parts = [p for p in items if p]
        if mid_sentence and self.lang == "en":
            parts = [p[0].lower() + p[1:] if len(p) > 1 and p[0].isupper() and p[1].islower() else p for p in parts]
        if len(parts) <= 1:
            return "".join(parts)
        return ", ".join(parts[:-1]) + self.get("ui.list_and") + parts[-1]


@lru_cache(maxsize=4)
def strings(lang: str) -> Strings:
    """The shipped texts of ``lang`` ('ka' or 'en'), loaded once."""
    if lang not in LANGS:
        raise ReportError(f"unknown language {lang!r}; use 'ka' or 'en'")
    return Strings(lang, read_strings(STRINGS_DIR / f"{lang}.toml"))


def required_keys() -> frozenset[str]:
    """Every key the shipped instruments and the report rules need, in each language."""
    from ._rules import required_rule_keys

    return frozenset(required_rule_keys())


def check_strings(tables: dict[str, dict[str, str]] | None = None) -> list[str]:
    """All problems with the strings files (empty list: complete and consistent)."""
    tables = tables or {lang: read_strings(STRINGS_DIR / f"{lang}.toml") for lang in LANGS}
    problems: list[str] = []
    ka, en = tables["ka"], tables["en"]
    for key in sorted(set(ka) - set(en)):
        problems.append(f"{key}: in ka.toml but not in en.toml")
    for key in sorted(set(en) - set(ka)):
        problems.append(f"{key}: in en.toml but not in ka.toml")
    for key in sorted(set(ka) & set(en)):
        if placeholders(ka[key]) != placeholders(en[key]):
            problems.append(
                f"{key}: placeholders differ (ka {sorted(placeholders(ka[key]))}, en {sorted(placeholders(en[key]))})"
            )
    for lang, table in tables.items():
        for key, text in table.items():
            if not text.strip():
                problems.append(f"{key}: empty text in {lang}.toml")
            if _MTAVRULI.search(text):
                problems.append(f"{key}: Georgian capital letters (Mtavruli) in {lang}.toml")
    for lang, table in tables.items():
        for key in sorted(k for k in table if k.endswith(".one")):
            if key[: -len("one")] + "other" not in table:
                problems.append(f"{key}: a plural text needs its '.other' form too in {lang}.toml")
    for key in sorted(required_keys()):
        for lang, table in tables.items():
            if key not in table:
                problems.append(f"{key}: required but missing from {lang}.toml")
    return problems
