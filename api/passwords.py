"""The password policy: long enough, and not a password people commonly use. No composition
rules (NIST SP 800-63B §3.1.1.2): a long phrase is better than a short jumble.

The check is offline. Its list is the 30,000 most common passwords that ``zxcvbn`` ships
(from leaked password sets), plus a few local ones (Georgian words typed in Latin or Georgian
letters, the product's and the fund's names). A password is refused when it is on the list,
when it is such a word with digits or signs only added in front or behind (``password2024!``),
when it contains the person's user name or a part of their name, or when it is one character or
a short pattern repeated (``aaaaaaaaaaaa``, ``abcabcabcabc``).

``problem`` returns a reason code (``too_short``, ``too_long``, ``common``, ``personal``,
``repetitive``) the web pages translate, or None when the password is acceptable.
"""

from __future__ import annotations

import re
from functools import lru_cache

MAX_LENGTH = 200
LOCAL = (
    "proforient",
    "პროფორიენტაცია",
    "profesiuli",
    "orientacia",
    "saqartvelo",
    "sakartvelo",
    "საქართველო",
    "tbilisi",
    "თბილისი",
    "batumi",
    "kutaisi",
    "gamarjoba",
    "გამარჯობა",
    "paroli",
    "პაროლი",
    "parolis",
    "fondi",
    "ფონდი",
    "trafikingi",
    "trafficking",
    "administratori",
    "admin",
    "administrator",
    "psychologist",
    "psiqologi",
    "ფსიქოლოგი",
    "socialuri",
    "welcome",
    "changeme",
    "qwertyuiop",
    "asdfghjkl",
    "zxcvbnm",
    "ქწერტყ",
)
_AFFIXES = re.compile(r"^[\d\W_]*(.*?)[\d\W_]*$", re.UNICODE)


@lru_cache(maxsize=1)
def common() -> frozenset[str]:
    """The refused passwords, lower case."""
    from zxcvbn.frequency_lists import FREQUENCY_LISTS  # a data table of the zxcvbn package

    return frozenset(p.lower() for p in FREQUENCY_LISTS["passwords"]) | frozenset(LOCAL)


def _repetitive(pw: str) -> bool:
    if len(set(pw)) <= 2:
        return True
    return any(len(pw) % n == 0 and pw[:n] * (len(pw) // n) == pw for n in range(1, len(pw) // 3 + 1))


def problem(password: str, min_length: int = 12, username: str = "", full_name: str = "") -> str | None:
    """Why ``password`` is refused (a reason code), or None."""
    if len(password) < min_length:
        return "too_short"
    if len(password) > MAX_LENGTH:
        return "too_long"
    low = password.lower()
    core = _AFFIXES.match(low).group(1)  # type: ignore[union-attr]
    bad = common()
    if low in bad or (core and core in bad) or low.replace(" ", "") in bad:
        return "common"
    words = [username.lower()] + [w.lower() for w in re.split(r"[\s.\-_]+", full_name) if len(w) >= 3]
    if any(w and len(w) >= 3 and w in low for w in words):
        return "personal"
    if _repetitive(low):
        return "repetitive"
    return None


MESSAGES = {
    "too_short": "the password is too short: at least {n} characters (a phrase of a few words is easy to remember)",
    "too_long": f"the password is longer than {MAX_LENGTH} characters",
    "common": "this password is one of the most commonly used ones (or one with only digits or signs added); "
    "choose another",
    "personal": "the password contains the user name or a part of the person's name; choose another",
    "repetitive": "the password is one character or a short pattern repeated; choose another",
}


def message(code: str, min_length: int) -> str:
    """The English explanation of a reason code (the API's problem detail)."""
    return MESSAGES[code].format(n=min_length)
