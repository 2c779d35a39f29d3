"""The UI's texts and styles: both languages complete, every key a page asks for exists,
Georgian never in capitals, no font fetched from the internet."""

from __future__ import annotations

import re
import string
from pathlib import Path

from api.domain.packets import PARTS
from api.security import ROLES
from api.web import core, pages_administer, pages_beneficiaries

WEB = Path(core.__file__).parent
SOURCES = [*WEB.glob("*.py"), *(WEB / "templates").rglob("*.html")]
GEORGIAN = re.compile("[\u10a0-\u10ff\u1c90-\u1cbf\u2d00-\u2d2f]")


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_both_languages_have_the_same_keys_and_placeholders():
    ka, en = core.strings("ka"), core.strings("en")
    assert set(ka) == set(en), f"only in ka: {set(ka) - set(en)}; only in en: {set(en) - set(ka)}"
    for key in ka:
        assert ka[key].strip() and en[key].strip(), key
        assert _placeholders(ka[key]) == _placeholders(en[key]), key


def test_georgian_is_never_upper_cased_and_english_has_no_georgian():
    for key, text in core.strings("ka").items():
        assert not core._MTAVRULI.search(text), f"Mtavruli in ka.toml {key}"
    for key, text in core.strings("en").items():
        assert not GEORGIAN.search(text), f"Georgian letters in en.toml {key}"
    for path in [*SOURCES, *(WEB / "static").glob("*")]:
        body = path.read_text(encoding="utf-8")
        assert not re.search(r"text-transform\s*:", body), f"{path.name} transforms letter case"
        assert not core._MTAVRULI.search(body), f"Mtavruli in {path.name}"


def test_every_key_the_pages_use_exists():
    ka = core.strings("ka")
    literal = re.compile(r"""\bt\(\s*['"]([a-z_][a-z0-9_.]*)['"]\s*[,)]""")
    prefix = re.compile(r"""\bt\(\s*['"]([a-z_][a-z0-9_.]*)['"]\s*~""")
    used, prefixes = set(), set()
    for path in SOURCES:
        body = path.read_text(encoding="utf-8")
        used |= set(literal.findall(body))
        prefixes |= set(prefix.findall(body))
    assert used, "no t('…') calls found: the pattern is wrong"
    missing = sorted(k for k in used if k not in ka)
    assert not missing, f"keys used but not defined: {missing}"
    for p in prefixes:
        assert any(k.startswith(p) for k in ka), f"no key starts with {p!r}"
    # the families filled in at run time
    for role in ROLES:
        assert f"role.{role}" in ka
    for part in PARTS:
        assert f"part.{part}" in ka and f"part.{part}_help" in ka
    for mode in pages_administer.MODES:
        assert f"mode.{mode}" in ka and f"mode.{mode}_help" in ka
    for flash in pages_beneficiaries.FLASHES:
        assert f"flash.{flash}" in ka
    for kind in ("ordinal", "binary", "paired"):
        assert f"paper.keys_{kind}" in ka and f"readaloud.keys_{kind}" in ka
    kinds = {"signin", "forbidden", "not_found", "conflict", "invalid"}
    for path in WEB.glob("*.py"):
        kinds |= set(re.findall(r"""PageError\(\s*\d+,\s*"(\w+)\"""", path.read_text(encoding="utf-8")))
    for kind in kinds:
        assert f"error.{kind}.title" in ka and f"error.{kind}.text" in ka, kind


def test_styles_use_the_installed_georgian_font_and_fetch_nothing():
    css = (WEB / "static" / "app.css").read_text(encoding="utf-8")
    family = re.search(r"font-family:\s*([^;]+);", css)
    assert family and family.group(1).strip().startswith('"Noto Sans Georgian"')
    for path in [*SOURCES, *(WEB / "static").glob("*")]:
        body = path.read_text(encoding="utf-8")
        assert not re.search(r"https?://(?!127\.0\.0\.1)", body) or path.suffix == ".py", path.name
        assert "@import" not in body and "@font-face" not in body, path.name
