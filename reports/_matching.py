"""Occupations for a Holland summary code, filtered by education and constraints.

Ranking (Holland's congruence, computed from the published indices):

1. Iachan's M between the occupation's code and the person's code, taking
   the best of every admissible ordering of a tied code (a tie means each
   ordering is as valid as the others, so none is preferred);
2. the Brown–Gore C index, again the best over the orderings, breaks ties;
3. then the mean M over the orderings (an occupation that fits more of the
   tied readings comes first);
4. then the training level closest to the highest one the person can reach
   (occupations that use the person's education come first); when the education is not
   known, the lower training level first (more people can start it);
5. then ISCO code and English name, so the order never depends on language.

Occupations marked ``excluded`` in the catalogue (bars, night clubs, casinos:
settings unsuitable for the fund's beneficiaries) and anything tagged
``night`` are never suggested, whatever the code.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import instruments
from instruments import Occupation
from scoring import CANDIDATES, brown_gore_c, iachan_m

from ._errors import ReportError

ISCED_MAX_LEVEL = {0: 2, 1: 2, 2: 2, 3: 3, 4: 4, 5: 4, 6: 5, 7: 5, 8: 5}
"""Highest occupation training level (1–5) reachable from a completed ISCED 2011 level: up to basic
education, short courses (2); general secondary, vocational education (3); post-secondary or
short-cycle tertiary (technikum, vocational college), higher vocational education (4); a degree, university (5).
Which ISCED level an intake answer means is the intake definition's data (its isced.csv)."""


def max_training_level(isced: int | None) -> int | None:
    """The highest reachable training level for a completed ISCED 2011 level (None: unknown)."""
    if isced is None:
        return None
    if isinstance(isced, bool) or not isinstance(isced, int) or isced not in ISCED_MAX_LEVEL:
        raise ReportError(f"{isced!r} is not an ISCED 2011 level (0–8)")
    return ISCED_MAX_LEVEL[isced]


RETRAINING_MAX_LEVEL = 4
"""Vocational retraining reaches at most level 4; a university degree is not retraining."""

MIN_AGREEMENT = 10
"""Smallest Iachan M suggested: e.g. the person's first letter among the occupation's first two."""

MAX_ORDERINGS = 6
"""More admissible orderings than a three-way tie (3! = 6) means the code cannot be read: no matching."""

NEVER_TAGS = frozenset({"night"})

LIMIT_RULES: dict[str, tuple[frozenset[str], tuple[str, ...]]] = {
    "night_work": (frozenset({"night", "security"}), ()),
    "driving": (frozenset(), ("832", "833")),
}
"""What a person cannot do (the intake section's ``limits``) → (catalogue tags left out, ISCO-08
prefixes left out). Driving jobs (8322 taxi, 8331 bus, 8332 truck …) need a licence; security
guards and night venues work nights."""


@dataclass(frozen=True)
class Match:
    """One suggested occupation and why."""

    occupation: Occupation
    m: int
    """Iachan M (0–28), the best over the admissible orderings of the person's code."""
    c: int
    """Brown–Gore C (0–18) for the same ordering."""
    m_mean: float
    person_code: str
    """The admissible ordering the agreement was measured against."""
    within_reach: bool
    """True when the training level is reachable with the person's education."""

    @property
    def shared(self) -> tuple[str, ...]:
        """Letters of the person's code that the occupation's code also has, in the person's order."""
        return tuple(ch for ch in self.person_code if ch in self.occupation.riasec)

    @property
    def agreement(self) -> str:
        """'same' | 'same_letters' | 'first' | 'shared': how the two codes agree, for the sentence."""
        occ, me = self.occupation.riasec, self.person_code
        if occ == me:
            return "same"
        if set(occ) == set(me):
            return "same_letters"
        if occ[0] == me[0]:
            return "first"
        return "shared"


@dataclass(frozen=True)
class MatchResult:
    """Suggested occupations, the retraining list, and which filters were applied."""

    codes: tuple[str, ...]
    suggested: tuple[Match, ...]
    retraining: tuple[Match, ...]
    max_level: int | None
    """Highest reachable training level; None when education is unknown (no filter)."""
    isced: int | None
    """The completed education's ISCED 2011 level the filter started from."""
    limits: tuple[str, ...]
    """Limits (``LIMIT_RULES``) that removed at least one otherwise suggested occupation."""


def split_code(code: str | Sequence[str]) -> tuple[str, ...]:
    """'SAE/ASE' or ['SAE', 'ASE'] → ('SAE', 'ASE'), each checked."""
    parts = code.split("/") if isinstance(code, str) else list(code)
    out = tuple(p.strip().upper() for p in parts if p and p.strip())
    bad = [p for p in out if p not in CANDIDATES]
    if bad:
        raise ReportError(f"{', '.join(bad)} is not a three-letter RIASEC code of distinct letters")
    return out


def blocked_by(occ: Occupation, limits: Iterable[str]) -> tuple[str, ...]:
    """The limits (``LIMIT_RULES``) that rule ``occ`` out for a person who has them."""
    out = []
    for name in limits:
        tags, prefixes = LIMIT_RULES[name]
        if occ.tags & tags or any(occ.isco.startswith(p) for p in prefixes):
            out.append(name)
    return tuple(out)


def suggestible(occ: Occupation) -> bool:
    """Never suggested, whatever the code: settings unsuitable for the fund's beneficiaries."""
    return not (occ.excluded or occ.tags & NEVER_TAGS)


def agreement(codes: tuple[str, ...], occ: Occupation) -> tuple[int, int, float, str]:
    """(best M, its C, mean M, the ordering it came from) over the admissible orderings."""
    scored = [(iachan_m(code, occ.riasec), brown_gore_c(code, occ.riasec), code) for code in codes]
    m, c, code = max(scored, key=lambda t: (t[0], t[1]))
    return m, c, sum(t[0] for t in scored) / len(scored), code


def match_occupations(
    code: str | Sequence[str],
    *,
    isced: int | None = None,
    limits: Iterable[str] = (),
    limit: int = 10,
    retraining_limit: int = 5,
    catalogue: Sequence[Occupation] | None = None,
    leave_out: Iterable[Occupation] = (),
) -> MatchResult:
    """Rank catalogue occupations by agreement with ``code`` (every tied ordering considered).

    ``isced``: the ISCED 2011 level of the person's completed education (what the intake form's
    data make of the answer); occupations above the reachable training level go to the separate
    retraining list (up to level 4). ``limits``: what the person cannot do (``night_work``,
    ``driving``; see ``LIMIT_RULES``). ``leave_out``: occupations named already (the person's own
    trade and wishes, and those close to them), so the list adds others. Gender plays no part: the
    catalogue has no such field.

    >>> r = match_occupations("SAE", isced=3, limit=3)
    >>> [(m.occupation.riasec, m.m) for m in r.suggested]
    [('SAE', 28), ('SAC', 27), ('SEA', 26)]
    """
    codes = split_code(code)
    if not codes:
        raise ReportError("no summary code: occupations are matched from the Holland code")
    if limit < 0 or retraining_limit < 0:
        raise ReportError("limits must be zero or more")
    unknown = [x for x in limits if x not in LIMIT_RULES]
    if unknown:
        raise ReportError(f"unknown limit(s) {', '.join(unknown)}; use {', '.join(LIMIT_RULES)}")
    max_level = max_training_level(isced)
    limit_set = tuple(dict.fromkeys(limits))
    leave_out = frozenset(leave_out)
    cat = catalogue if catalogue is not None else instruments.occupations()

    ranked: list[tuple[tuple[object, ...], Match]] = []
    used_constraints: set[str] = set()
    for occ in cat:
        if not suggestible(occ) or occ in leave_out:
            continue
        m, c, mean, best = agreement(codes, occ)
        if m < MIN_AGREEMENT:
            continue
        blocked = blocked_by(occ, limit_set)
        if blocked:
            used_constraints.update(blocked)
            continue
        reach = max_level is None or occ.training_level <= max_level
        if not reach and occ.training_level > RETRAINING_MAX_LEVEL:
            continue
        # with the education known, the training level closest to it; unknown, the lower level first
        # (more people can start it; the fund's beneficiaries often have little or outdated schooling)
        if max_level is None:
            closeness = occ.training_level
        else:
            closeness = abs(max_level - occ.training_level) if reach else occ.training_level
        key = (-m, -c, -mean, closeness, occ.isco, occ.name.en)
        ranked.append((key, Match(occ, m, c, mean, best, reach)))
    ranked.sort(key=lambda kv: kv[0])
    suggested = tuple(mt for _, mt in ranked if mt.within_reach)[:limit]
    retraining = tuple(mt for _, mt in ranked if not mt.within_reach)[:retraining_limit]
    return MatchResult(
        codes=codes,
        suggested=suggested,
        retraining=retraining,
        max_level=max_level,
        isced=isced,
        limits=tuple(c for c in limit_set if c in used_constraints),
    )
