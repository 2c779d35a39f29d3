"""Numbers, dates and times for people, in Georgian and English: the one place they are formatted.

Reports, packets and the web pages all call these functions (``api`` through the ``reports``
package: ``reports`` never imports ``api``), so a score, a date or a time reads the same on the
screen, in the PDF and in a spreadsheet. The locale data come from Babel (CLDR):

- numbers: ``format_decimal`` with a fixed number of digits, the language's decimal sign and
  grouping (ka ``1 234,5``, en ``1,234.5``); a missing value (None, NaN) is ``—``;
- dates: ka ``14.03.2025`` (the form Georgian documents use), en ``14 March 2025``;
- times: stored in UTC, shown in the configured zone (default ``Asia/Tbilisi``): ka
  ``14.03.2025 21:15``, en ``14 March 2025, 21:15``; for a spreadsheet ``2025-03-14 21:15``,
  which Excel and LibreOffice read as a date and time in every locale;
- plural categories (CLDR rules: ``one`` / ``other`` for both languages) for texts that agree
  with a count.

A naive ``datetime`` (SQLite returns them) is taken to be UTC, as the service stores it.

>>> number(1.645, 2, "ka"), number(12.0, 1, "en"), number(None, 1, "en")
('1,65', '12', '—')
>>> day(date(2025, 3, 14), "ka"), day(date(2025, 3, 14), "en")
('14.03.2025', '14 March 2025')
>>> when(datetime(2026, 12, 6, 17, 15, tzinfo=UTC), "ka", "Asia/Tbilisi")
'06.12.2026 21:15'
>>> spreadsheet_time(datetime(2026, 12, 6, 17, 15), "Asia/Tbilisi")
'2026-12-06 21:15'
"""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, tzinfo
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale
from babel.dates import format_date, format_datetime
from babel.numbers import format_decimal

from ._errors import ReportError

DEFAULT_ZONE = "Asia/Tbilisi"
LOCALES = {"ka": "ka_GE", "en": "en_GB"}
DATE_PATTERNS = {"ka": "dd.MM.yyyy", "en": "d MMMM yyyy"}
TIME_PATTERNS = {"ka": "dd.MM.yyyy HH:mm", "en": "d MMMM yyyy, HH:mm"}
SPREADSHEET_PATTERN = "%Y-%m-%d %H:%M"
MISSING = "—"


@lru_cache(maxsize=4)
def _locale(lang: str) -> Locale:
    if lang not in LOCALES:
        raise ReportError(f"unknown language {lang!r}; use 'ka' or 'en'")
    return Locale.parse(LOCALES[lang])


@lru_cache(maxsize=16)
def zone(name: str | None = None) -> tzinfo:
    """The time zone ``name`` (an IANA name such as ``Asia/Tbilisi``; None: the default)."""
    try:
        return ZoneInfo(name or DEFAULT_ZONE)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ReportError(f"{name!r} is not a time zone (use an IANA name such as {DEFAULT_ZONE})") from exc


def number(value: object, digits: int = 1, lang: str = "ka", *, trim: bool = True) -> str:
    """A number for people: ``digits`` decimals (half away from zero), the language's decimal sign.

    With ``trim`` (the default) a whole number asked for with at most one decimal is written without
    one (``12``, not ``12,0``): counts and totals read as counts. Missing (None, NaN) is ``—``."""
    if value is None or isinstance(value, bool):
        return MISSING if value is None else str(value)
    try:
        v = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return str(value)
    if math.isnan(v):
        return MISSING
    if math.isinf(v):
        return "∞" if v > 0 else "−∞"
    if trim and digits <= 1 and v.is_integer():
        digits = 0
    quantum = Decimal(1).scaleb(-digits)
    exact = Decimal(repr(v)).quantize(quantum, rounding=ROUND_HALF_UP)
    pattern = "#,##0" + ("." + "0" * digits if digits > 0 else "")
    return format_decimal(exact, format=pattern, locale=_locale(lang), decimal_quantization=True)


def local(value: datetime, zone_name: str | None = None) -> datetime:
    """``value`` (UTC when naive) in the zone ``zone_name``."""
    aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    return aware.astimezone(zone(zone_name))


def local_date(value: date | datetime, zone_name: str | None = None) -> date:
    """The calendar date of ``value`` in the zone (a ``date`` is already a calendar date)."""
    return local(value, zone_name).date() if isinstance(value, datetime) else value


def today(zone_name: str | None = None) -> date:
    """Today's date in the zone (not the server's own)."""
    return datetime.now(UTC).astimezone(zone(zone_name)).date()


def day(value: date | datetime | None, lang: str, zone_name: str | None = None) -> str | None:
    """A date as the language writes it; a ``datetime`` is first put in the zone. None stays None."""
    if value is None:
        return None
    return format_date(local_date(value, zone_name), DATE_PATTERNS[_lang(lang)], locale=_locale(lang))


def when(value: datetime | date | None, lang: str, zone_name: str | None = None) -> str | None:
    """A date and time in the zone, as the language writes it (a bare date: the date only)."""
    if value is None:
        return None
    if not isinstance(value, datetime):
        return day(value, lang)
    return format_datetime(local(value, zone_name), TIME_PATTERNS[_lang(lang)], locale=_locale(lang))


def spreadsheet_time(value: datetime | None, zone_name: str | None = None) -> str:
    """Local time for a CSV cell: ``2026-12-06 21:15`` (read as a date and time by spreadsheets)."""
    return "" if value is None else local(value, zone_name).strftime(SPREADSHEET_PATTERN)


def plural(n: float, lang: str) -> str:
    """The CLDR plural category of ``n`` in ``lang`` (``one`` or ``other`` for ka and en)."""
    return str(_locale(lang).plural_form(abs(n)))


def _lang(lang: str) -> str:
    _locale(lang)
    return lang
