"""Profile → what one audience reads, in one language (the dict HTML and JSON are made from).

Audience rules live here and only here, so the HTML, the PDF and the JSON of
one audience can never disagree about what is shown:

- ``psychologist``: everything, with numbers, indices, validity flags
  explained and SEM bands where a reliability is known;
- ``employment``: plain language, no indices; clinical detail (scales and
  catalogue activities marked ``clinical = true`` in the data: the
  emotional-strain barrier, psychological help) only when the consent covers
  it (``consent_includes_clinical``); a hidden clinical barrier never turns
  into "no barrier" (the sentence says "among those shown");
- a packet (``packet_audience``): the employment view of the chosen
  ``PACKET_PARTS`` only; validity (even the plain caution) belongs to the
  ``clinical`` part;
- ``beneficiary``: supportive, addressed as "თქვენ"/"you", nothing clinical,
  no flags, no job-seeker group.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

import scoring
from instruments import Occupation, Text

from . import _format
from ._errors import ReportError
from ._matching import MAX_ORDERINGS, Match, max_training_level
from ._model import (
    BipolarSection,
    DecisionSection,
    HollandSection,
    IntakeSection,
    NormScore,
    Profile,
    Provenance,
    Recommendation,
    Wish,
)
from ._strings import Strings, strings

AUDIENCES = ("psychologist", "employment", "beneficiary")


@dataclass(frozen=True)
class Audience:
    """What one audience may see."""

    name: str
    clinical: bool
    technical: bool
    register: str
    """'pro' (third person, for staff) or 'you' (addressed to the beneficiary)."""
    group: bool
    flags: str
    """'full' (each flag explained), 'caution' (one plain sentence) or 'none'."""
    change: bool
    intake: bool
    max_matches: int | None = None
    max_retraining: int | None = None
    max_activities: int | None = None
    """Shorter lists for the beneficiary: a few concrete options, not a catalogue."""
    parts: frozenset[str] | None = None
    """A packet's parts (``PACKET_PARTS``): only these sections are shown; None: not a packet."""

    def shows(self, part: str) -> bool:
        return self.parts is None or part in self.parts


PACKET_PARTS = ("intake_summary", "profile", "activities", "clinical")
"""What a packet may carry: the intake summary (the form's packet fields and the suggested group),
the career-orientation profile (instruments, matched occupations), the activities, and clinical detail
(emotional strain, psychological help, validity flags)."""


def packet_audience(parts: Sequence[str]) -> Audience:
    """The one audience rule for a packet: the employment department's view, only the parts the
    consent covers; clinical detail only with the ``clinical`` part."""
    chosen = frozenset(parts)
    unknown = chosen - set(PACKET_PARTS)
    if unknown or not chosen:
        raise ReportError(f"packet parts must be chosen from {', '.join(PACKET_PARTS)} (got {sorted(parts)})")
    clinical = "clinical" in chosen
    base = audience_rules("employment", clinical)
    # validity flags are clinical detail in a packet (PACKET_PARTS): without that part, not even the
    # one plain sentence that some answers need careful reading
    return replace(base, parts=chosen, flags=base.flags if clinical else "none")


def audience_rules(audience: str, consent_includes_clinical: bool = False) -> Audience:
    """The visibility rules for ``audience``; clinical consent only means something for employment."""
    if audience == "psychologist":
        return Audience(audience, True, True, "pro", True, "full", True, True)
    if audience == "employment":
        return Audience(audience, consent_includes_clinical, False, "pro", True, "caution", True, True)
    if audience == "beneficiary":
        if consent_includes_clinical:
            raise ReportError(
                "beneficiary reports never carry clinical detail; "
                "consent_includes_clinical applies to the employment audience"
            )
        return Audience(
            audience,
            False,
            False,
            "you",
            False,
            "none",
            False,
            False,
            max_matches=6,
            max_retraining=3,
            max_activities=5,
        )
    raise ReportError(f"unknown audience {audience!r}; use one of {', '.join(AUDIENCES)}")


def number(value: object, digits: int, lang: str) -> str:
    """A number for people (``_format.number``: '—' when missing, the language's decimal sign)."""
    return _format.number(value, digits, lang)


def day(d: date | None, lang: str) -> str | None:
    """A date as the language writes it (``_format.day``)."""
    return _format.day(d, lang)


def _clean(v: float) -> float | None:
    return None if v is None or (isinstance(v, float) and math.isnan(v)) else v


def _band(b: tuple[float, float] | None) -> list[float] | None:
    return None if b is None else [b[0], b[1]]


def _half_up(v: float) -> int:
    """Round half away from zero's usual reading (12.5 → 13), not Python's half-to-even."""
    return int(math.floor(v + 0.5))


def percentile_text(pr: float) -> str:
    """A percentile rank for reading: a whole number, '<1' and '>99' at the ends."""
    if pr < 1:
        return "<1"
    if pr > 99:
        return ">99"
    return str(min(99, max(1, _half_up(pr))))


def about_of_100(pr: float) -> int:
    """'About k of 100 people score lower': PR to the nearest 5, kept within 5…95 (no false precision)."""
    return min(95, max(5, 5 * _half_up(pr / 5)))


class _Builder:
    def __init__(self, profile: Profile, lang: str, aud: Audience) -> None:
        self.p = profile
        self.lang = lang
        self.aud = aud
        self.s: Strings = strings(lang)
        self.t: Callable[..., str] = self.s.get
        self.reg = aud.register

    def tx(self, text: Text | None) -> str | None:
        return None if text is None else text.get(self.lang)

    def t_or(self, key: str, fallback: Text | str | None, **values: object) -> str | None:
        """The curated narrative ``key`` when the texts have one; else the definition's own text
        (a new instrument or scale is reported with its definition's words, no code needed)."""
        if key in self.s:
            return self.t(key, **values)
        return self.tx(fallback) if isinstance(fallback, Text) else fallback

    @property
    def you(self) -> bool:
        """Addressed to the beneficiary: second person, everyday words, no letter codes."""
        return self.reg == "you"

    def cap(self, text: str) -> str:
        """A sentence's first letter upper-cased in English; Georgian has no capitals (never Mtavruli)."""
        return text[:1].upper() + text[1:] if self.lang == "en" and text else text

    def type_name(self, letter: str, name: Text | None = None) -> str:
        """An interest type by name: the beneficiary reads it in everyday words, staff by its Holland name."""
        if self.you:
            return self.t(f"riasec_you.{letter}")
        return self.tx(name) or self.t(f"riasec.{letter}")

    def pole_label(self, letter: str, name: Text | None) -> str:
        """A personality preference: in everyday words for the beneficiary (no MBTI pole names)."""
        if self.you:
            return self.t_or(f"bipolar.pole.{letter}.label_you", name) or letter
        return self.tx(name) or letter

    def source(self, source: str | Text) -> str:
        """Where a reliability comes from, in the report's language."""
        return source if isinstance(source, str) else source.get(self.lang)

    def sem(self, band: tuple[float, float] | None) -> list[float] | None:
        """A 90 % band, for the psychologist only (the other audiences never read SEM)."""
        return _band(band) if self.aud.technical else None

    def sem_sources(self) -> list[str]:
        """One sentence per instrument naming where its r and SD come from (psychologist only)."""
        if not self.aud.technical:
            return []
        return [
            self.t("ui.sem.source", instrument=self.tx(pv.title) or pv.instrument, source=self.source(src))
            for pv in self.p.provenance
            if not pv.ipsative
            for src in pv.reliability
        ]

    # -- meta -------------------------------------------------------------------------------
    def meta(self) -> dict[str, Any]:
        m = self.p.meta
        fund = self.tx(m.config.fund_name) if m.config.fund_name else self.t("ui.fund_generic")
        if self.you:  # the beneficiary's own document: the fund's short name (its full name says "victims")
            fund = self.tx(m.config.fund_short_name) if m.config.fund_short_name else self.t("ui.fund_generic")
        return {
            "person_id": m.person_id,
            "name": m.name,
            "administered": day(m.administered, self.lang),
            "report_date": day(m.report_date, self.lang),
            "administrator": m.administrator or None,
            "history": self.history() if self.aud.technical else [],
            "fund": fund,
            "software_version": m.software_version,
        }

    def history(self) -> list[str]:
        """The result's line in sentences: each correction (who, when, why, which answers) and
        each rescoring (the psychologist's version only: a reason is free text)."""
        out = []
        for n in self.p.meta.history:
            by = n.by or self.t("ui.meta.not_given")
            if n.kind == "corrected":
                shown = self.s.join(
                    self.t(
                        "ui.history.change",
                        item=item,
                        old=old if old is not None else self.t("ui.history.skipped"),
                        new=new if new is not None else self.t("ui.history.skipped"),
                    )
                    for item, old, new in n.changes
                )
                out.append(
                    self.t(
                        "ui.history.corrected", date=day(n.on, self.lang), by=by, reason=n.reason or "—", changes=shown
                    )
                )
            else:
                out.append(self.t("ui.history.rescored", date=day(n.on, self.lang), by=by))
        return out

    def provenance(self) -> list[dict[str, Any]]:
        out = []
        models = {
            id(s.provenance): k
            for k, s in (
                ("intake", self.p.intake),
                ("decision", self.p.decision),
                ("holland", self.p.holland),
                ("bipolar", self.p.bipolar),
            )
            if s is not None
        }
        for pv in self.p.provenance:
            info = pv.norms if self.normed(pv) else None
            table = None
            if info is None:
                norms = self.t("ui.prov.no_norms")
            else:
                norms = self.t(
                    "ui.norms.prov.pro" if self.aud.technical else "ui.norms.prov.plain",
                    ref=info.ref,
                    population=info.population,
                    n=info.n,
                    group=self.group_name(info.group),
                    start=day(info.collected_from, self.lang),
                    end=day(info.collected_to, self.lang),
                )
                if info.synthetic:
                    norms = f"{norms} ({self.t('ui.norms.synthetic')})"
                if self.aud.technical:
                    table = {
                        "id": info.norm_id,
                        "version": info.version,
                        "population": info.population,
                        "n": info.n,
                        "group": info.group,
                        "collected_from": info.collected_from.isoformat(),
                        "collected_to": info.collected_to.isoformat(),
                        "synthetic": info.synthetic,
                    }
            model = models.get(id(pv), "")
            out.append(
                {
                    "instrument": pv.instrument,
                    "model": model,
                    "version": pv.version,
                    "title": self.instrument_title(model, pv),
                    "checksum": pv.content_hash,
                    "engine_version": pv.engine_version or None,
                    "norms": norms,
                    "norm_table": table,
                }
            )
        return out

    def instrument_title(self, model: str, pv: Provenance) -> str | None:
        """An instrument's title; the beneficiary's own document names the intake form without the
        users' official "victim/affected person" (review #86): ``ui.instrument_you.<model>``."""
        if self.you:
            return self.t_or(f"ui.instrument_you.{model}", pv.title)
        return self.tx(pv.title)

    # -- norms ------------------------------------------------------------------------------
    @staticmethod
    def normed(pv: Provenance) -> bool:
        """A norm table applies: never to ipsative scores, whatever the profile holds."""
        return pv.norms is not None and not pv.ipsative

    def group_name(self, group: str) -> str:
        return self.t("ui.norms.group_all") if group == "all" else group

    def norm(self, pv: Provenance, ns: NormScore | None) -> dict[str, Any] | None:
        """PR / T / stanine for the psychologist only."""
        if ns is None or not self.aud.technical or not self.normed(pv):
            return None
        return {
            "pr": round(ns.pr, 2),
            "t": round(ns.t, 2),
            "stanine": ns.stanine,
            "pr_text": percentile_text(ns.pr),
            "t_text": str(_half_up(ns.t)),
        }

    def compared(self, pv: Provenance, ns: NormScore | None) -> str | None:
        """One plain phrase for the employment department ('about k of 100 score lower'); none elsewhere."""
        if ns is None or self.aud.technical or self.reg != "pro" or not self.normed(pv):
            return None
        return self.t("ui.norms.compared", k=about_of_100(ns.pr))

    def norms_note(self) -> str | None:
        """What the report's comparisons rest on: criterion bands, norm tables, or both."""
        scored = [x.provenance for x in (self.p.decision, self.p.holland, self.p.bipolar) if x is not None]
        normed = [pv for pv in scored if self.normed(pv)]
        if self.reg != "pro":
            return None
        if not normed:
            return self.t("ui.prov.norms_note")
        parts = []
        if self.aud.technical:
            parts.append(self.t("ui.norms.method"))
        else:
            seen = []
            for pv in normed:
                key = (pv.norms.population, pv.norms.n)  # type: ignore[union-attr]
                if key not in seen:
                    seen.append(key)
                    parts.append(self.t("ui.norms.plain", population=key[0], n=key[1]))
        rest = [self.tx(pv.title) or pv.instrument for pv in scored if not self.normed(pv)]
        if rest:
            parts.append(self.t("ui.norms.partial", instruments=self.s.join(rest)))
        return " ".join(parts)

    # -- VDQ --------------------------------------------------------------------------------
    def decision(self, d: DecisionSection) -> dict[str, Any]:
        iid = "decision"
        status = d.status or "unknown"
        visible = [b for b in d.barriers if self.aud.clinical or not b.clinical]
        c = d.certainty
        ordered = sorted(visible, key=lambda b: (b.rank == 0, b.rank, b.id))
        barriers = []
        for b in ordered:
            barriers.append(
                {
                    "id": b.id,
                    "name": self.tx(b.name),
                    "score": _clean(b.score),
                    "level": b.band,
                    "level_label": self.tx(b.band_label),
                    "level_text": self.t_or(f"{iid}.level.{b.band}.{self.reg}", b.band_label) if b.band else None,
                    "meaning": self.t_or(f"{iid}.barrier.{b.id}.{self.reg}", b.description or b.name),
                    "rank": b.rank if self.aud.technical else None,
                    "notable": b.band == "salient" if self.reg == "you" else b.band in ("moderate", "salient"),
                    "missing": b.n_missing,
                    "prorated": self.prorated(b.prorated, b.n_missing),
                    "sem": self.sem(b.sem_band),
                    "norm": self.norm(d.provenance, b.norm),
                    "compared": self.compared(d.provenance, b.norm),
                }
            )
        return {
            "title": self.tx(d.provenance.title),
            "status": status,
            "status_name": self.t(f"{iid}.status_name.{status}"),
            "status_text": self._status_text(iid, status, visible),
            "certainty": {
                "name": self.tx(c.name),
                "score": _clean(c.score),
                "band_label": self.tx(c.band_label),
                # the status crosses certainty with indecision and already says "you know what work you
                # want" / "you have not chosen yet": the beneficiary does not read it twice in a row
                "text": self.t_or(f"{iid}.certainty.{c.band}.{self.reg}", c.band_label)
                if c.band and (self.reg == "pro" or status == "unknown")
                else None,
                "missing": c.n_missing,
                "prorated": self.prorated(c.prorated, c.n_missing),
                "sem": self.sem(c.sem_band),
                "norm": self.norm(d.provenance, c.norm),
            },
            "normed": self.aud.technical and self.normed(d.provenance),
            "total_indecision": _clean(d.total_indecision) if self.aud.technical else None,
            "barriers": barriers,
            "any_missing": any(b.n_missing for b in visible) or c.n_missing > 0,
            "zones": [{"lo": z.lo, "hi": z.hi, "label": self.tx(z.label)} for z in d.zones],
            "lo": d.lo,
            "hi": d.hi,
            "salient": [self.tx(b.name) for b in d.salient if self.aud.clinical or not b.clinical],
            "no_notable_text": self._no_notable(d),
        }

    def _status_text(self, iid: str, status: str, visible: list[Any]) -> str:
        """The status in words; "little stands in the way" is not said above a list of salient barriers
        (the status weighs all barriers together, so a few salient ones can sit under "decided")."""
        text = self.t(f"{iid}.status.{status}.{self.reg}")
        if status in ("decided", "exploring") and any(b.band == "salient" for b in visible):
            return self.t_or(f"{iid}.status.{status}_with_barriers.{self.reg}", text) or text
        return text

    def _no_notable(self, d: DecisionSection) -> str:
        """What to say when no barrier shown is notable; never "nothing" when clinical ones are left out.

        Staff without clinical consent always read "among the barriers shown" (whatever the hidden
        barriers' levels, so the sentence itself reveals nothing); the beneficiary, whose own
        emotional strain is not listed, is not told that nothing holds them back when it does."""
        if self.reg == "pro":
            key = "pro" if self.aud.clinical else "pro_shown"
        else:
            hidden = any(b.clinical and b.band == "salient" for b in d.barriers)
            key = "you_talk" if hidden and not self.aud.clinical else "you"
        return self.t(f"ui.label.no_notable_barriers.{key}")

    # -- SDS --------------------------------------------------------------------------------
    def holland(self, h: HollandSection) -> dict[str, Any]:
        iid = "holland"
        by = {t.letter: t for t in h.types}
        first = h.codes[0] if h.codes else ""
        if self.you:  # everyday words, no letters (review #75)
            names = self.s.join(self.type_name(ch) for ch in first)
        else:
            names = self.s.join(f"{self.tx(by[ch].name)} ({ch})" for ch in first)
        readable = 0 < len(h.codes) <= MAX_ORDERINGS
        code = h.code if readable else ""
        types = [
            {
                "letter": t.letter,
                "name": self.cap(self.type_name(t.letter, t.name)) if self.you else self.tx(t.name),
                "description": self.tx(t.description),
                "total": _clean(t.total),
                "band": t.band,
                "band_label": self.tx(t.band_label),
                "band_text": self.t_or(f"{iid}.band.{t.band}", t.band_label) if t.band else None,
                "work": self.t_or(f"{iid}.type.{t.letter}.work", t.description),
                "in_code": t.letter in h.letters,
                "missing": t.n_missing,
                "prorated": self.prorated(t.prorated, t.n_missing),
                "sem": self.sem(t.sem_band),
                "norm": self.norm(h.provenance, t.norm),
                "compared": self.compared(h.provenance, t.norm),
            }
            for t in h.types
        ]
        view: dict[str, Any] = {
            "title": self.tx(h.provenance.title),
            "code": (code or None) if not self.you else None,
            "codes": list(h.codes) if not self.you else [],
            "charted": bool(h.codes),
            "tied": len(h.codes) > 1,
            "code_text": self._code_text(iid, h, code, names),
            "tied_text": self.t(f"{iid}.tied.{self.reg}", codes=", ".join(h.codes))
            if readable and len(h.codes) > 1
            else None,
            "types": types,
            "normed": self.aud.technical and self.normed(h.provenance),
            "top": [t for L in first for t in types if t["letter"] == L] if readable else [],
            "max_score": h.max_score,
            "any_missing": any(t.n_missing for t in h.types),
            "zones": [{"lo": z.lo, "hi": z.hi, "label": self.tx(z.label)} for z in h.zones],
        }
        if self.aud.technical:
            view.update(
                {
                    "sections": [
                        {"title": self.tx(s.title), "counts": {L: _clean(s.counts[L]) for L in "RIASEC"}}
                        for s in h.sections
                    ],
                    "consistency": self._consistency(iid, h),
                    "differentiation": {
                        "iachan": _clean(h.differentiation_iachan),
                        "range": _clean(h.differentiation_range),
                        "level": h.differentiation_level,
                        "text": self.t(
                            f"{iid}.differentiation.{h.differentiation_level}",
                            margin=number(h.code_margin, 0, self.lang),
                        )
                        if h.differentiation_level
                        else None,
                    },
                    "elevation": _clean(h.elevation),
                    "congruence": {k: list(v) for k, v in h.congruence.items()} or None,
                    "congruence_with": self._congruence_with() if h.congruence else None,
                    "aspirations_given": bool(self.p.aspirations),
                    "coherence": {"level": h.coherence, "text": self.t(f"{iid}.coherence.{h.coherence}")}
                    if h.coherence
                    else None,
                }
            )
        return view

    def _consistency(self, iid: str, h: HollandSection) -> list[dict[str, Any]]:
        """Each consistency level the code has; when the tied orderings differ, each level names the
        orderings that have it (otherwise three contradictory sentences would stand side by side)."""
        readable = 0 < len(h.codes) <= MAX_ORDERINGS
        out = []
        for c in h.consistency:
            text = self.t(f"{iid}.consistency.{c}")
            if len(h.consistency) > 1 and readable:
                which = [code for code in h.codes if scoring.consistency(code) == c]
                text = f"{', '.join(which)} — {text}"
            out.append({"level": c, "text": text})
        return out

    def _code_text(self, iid: str, h: HollandSection, code: str, names: str) -> str | None:
        """What the code says; the beneficiary with a flat or depressed profile is not told of "the three
        kinds of work you like most" as if they stood out (review: a flat profile says little)."""
        if not h.codes:
            return None
        if not code:
            return self.t(f"{iid}.undetermined.{self.reg}", count=len(h.codes))
        if self.you:
            for flag in ("depressed_profile", "flat_profile"):
                if flag in h.flags:
                    return self.t(f"{iid}.{flag}.you", names=names)
        return self.t(f"{iid}.code.{self.reg}", code=code, names=names)

    # -- PPI --------------------------------------------------------------------------------
    def bipolar(self, b: BipolarSection) -> dict[str, Any]:
        iid = "bipolar"
        dims = []
        for d in b.dimensions:
            pole = d.preferred
            if self.you:  # everyday words, no MBTI pole names or letters (review #75)
                left, right = self.pole_label(d.negative.letter, None), self.pole_label(d.positive.letter, None)
            else:
                left = f"{self.tx(d.negative.name)} ({d.negative.letter})"
                right = f"{self.tx(d.positive.name)} ({d.positive.letter})"
            dims.append(
                {
                    "id": d.id,
                    "name": self.tx(d.name) if not self.you else None,
                    "left": left,
                    "right": right,
                    "score": _clean(d.score),
                    "max": d.max_score,
                    "pole": (pole.letter if pole else None) if not self.you else None,
                    "pole_name": self.cap(self.pole_label(pole.letter, pole.name)) if pole else None,
                    "clarity": _clean(d.clarity),
                    "clarity_band": d.clarity_band,
                    "clarity_label": self.tx(d.clarity_label),
                    "clarity_text": self.t_or(f"{iid}.clarity.{d.clarity_band}", d.clarity_label)
                    if d.clarity_band
                    else None,
                    "work": self._pole_work(iid, d),
                    "sem": self.sem(d.sem_band),
                    "norm": self.norm(b.provenance, d.norm),
                    "missing": d.n_missing,
                    "prorated": self.prorated(d.prorated, d.n_missing),
                }
            )
        env = b.environments
        if self.you:
            env_text = self.t("ui.environments_you", kinds=self.s.join(self.type_name(L) for L in env)) if env else None
        else:
            env_text = (
                self.t("ui.environments", letters=self.s.join(f"{self._type_names().get(L, L)} ({L})" for L in env))
                if env
                else None
            )
        return {
            "title": self.tx(b.provenance.title),
            "type": (b.type_code or None) if not self.you else None,
            "type_text": self.t(f"{iid}.type_intro.{self.reg}", type=b.type_code),
            "dimensions": dims,
            "normed": self.aud.technical and self.normed(b.provenance),
            "zones": [{"lo": z.lo, "hi": z.hi, "label": self.tx(z.label)} for z in b.clarity_zones],
            "environments": (env or None) if not self.you else None,
            "environments_text": env_text,
            "reversals": b.reversals if self.aud.technical else None,
            "inconsistency": _clean(b.inconsistency) if self.aud.technical else None,
        }

    def _pole_work(self, iid: str, d: Any) -> str | None:
        """What a preference means for work; the beneficiary's version in the second person, with a
        word that a slight preference leaves both ways open."""
        pole = d.preferred
        if pole is None:
            if d.band != "balanced":
                return None
            return self.t_or(f"{iid}.balanced_you", None) if self.you else self.t_or(f"{iid}.band.balanced", None)
        if not self.you:
            return self.t_or(f"{iid}.pole.{pole.letter}.work", None)
        text = self.t_or(f"{iid}.pole.{pole.letter}.you", None)
        if d.clarity_band == "slight":
            text = " ".join(x for x in (text, self.t(f"{iid}.slight.you")) if x)
        return text

    def _congruence_with(self) -> dict[str, str | None]:
        """The aspiration the congruence indices were computed against: the first one with a code."""
        a = next((a for a in self.p.aspirations if a.code), None)
        if a is None:
            return {"name": None, "code": None}
        return {"name": self._aspiration_name(a.given, a.occupation), "code": a.code}

    def _type_names(self) -> dict[str, str]:
        """RIASEC type names from the SDS result, or the texts' own names."""
        if self.p.holland is not None:
            return {t.letter: self.tx(t.name) or t.letter for t in self.p.holland.types}
        return {L: self.t(f"riasec.{L}") for L in "RIASEC"}

    def prorated(self, prorated: bool, missing: int) -> str | None:
        """'prorated: n missing', wherever a score stands for items that were not answered."""
        return self.t("ui.prorated", n=missing) if prorated and missing else None

    # -- intake -----------------------------------------------------------------------------
    def intake(self, i: IntakeSection) -> dict[str, Any]:
        fields = []
        shown_fields = i.instrument.fields if self.aud.technical else i.instrument.packet_fields
        aspirations_field = i.instrument.role("aspirations")
        for f in shown_fields:
            v = i.values.get(f.id)
            options = {o.value: self.tx(o.label) for o in f.options}
            if aspirations_field is not None and f.id == aspirations_field.id:
                shown = self.s.join(self._aspiration_name(a.given, a.occupation) for a in i.aspirations)
            elif v is None or v == ():
                shown = None
            elif f.type == "choice":
                shown = options.get(str(v), str(v))
            elif f.type == "multi" and isinstance(v, tuple):
                shown = self.s.join(options.get(x) or x for x in v)
            elif f.type == "bool":
                shown = self.t("ui.yes") if v else self.t("ui.no")
            elif f.type == "number":
                shown = number(v, 1, self.lang)
            else:
                shown = str(v)
            fields.append({"id": f.id, "label": self.tx(f.label), "value": shown or None})
        aspirations = []
        for a in self.p.aspirations:
            occ = a.occupation
            note = None
            if occ is None and a.code is not None and a.given.strip().upper() == a.code:
                note = self.t("ui.aspiration.code_only")
            elif occ is None:
                note = self.t("ui.aspiration.unknown")
            elif occ.excluded or "night" in occ.tags:
                note = self.t("ui.aspiration.excluded")
            elif a.within_reach is False:
                note = self.t("ui.aspiration.beyond_reach", level=self.t(f"training.{occ.training_level}"))
            aspirations.append(
                {
                    "name": self._aspiration_name(a.given, occ),
                    "code": a.code if self.aud.technical else None,
                    "m": a.m if self.aud.technical else None,
                    "note": note,
                }
            )
        return {
            "title": self.tx(i.instrument.title),
            "fields": fields,
            "aspirations": aspirations,
            "aspirations_source": self.p.aspirations_source,
            "aspirations_note": self.aspirations_note(),
        }

    def aspirations_note(self) -> str | None:
        """Which aspirations the report works with, when the SDS and the intake both name some."""
        if self.p.aspirations_source == "holland" and self.p.intake is not None and self.p.intake.aspirations:
            return self.t("ui.aspiration.from_sds")
        return None

    def _aspiration_name(self, given: str, occ: Occupation | None) -> str:
        return (self.tx(occ.name) if occ is not None else None) or given

    def group(self, i: IntakeSection) -> dict[str, Any]:
        g = i.group or "none"
        return {
            "group": i.group,
            "text": self.t(f"intake.group.{g}"),
            "reasons": [self.t(f"intake.group_reason.{r}") for r in i.group_reasons],
            "retraining": self.s.join(self.t(f"intake.retraining_reason.{r}") for r in i.retraining_reasons)
            if i.retraining_need
            else None,
        }

    # -- matching ---------------------------------------------------------------------------
    def sentence(self, mt: Match) -> str:
        occ = mt.occupation
        out = []
        if mt.person_code and not (self.you and self._flat()):  # agreement with the code (none without one;
            # the beneficiary with a flat profile is not told a job "matches exactly")
            out.append(
                self.t(
                    f"match.{mt.agreement}.{self.reg}",
                    occ_code=occ.riasec,
                    code=mt.person_code,
                    letters=self.s.join(mt.shared),
                    first=mt.person_code[0],
                )
            )
        out.append(self.t("match.training", level=self.t(f"training.{occ.training_level}")))
        if occ.self_employment:
            out.append(self.t("match.self_employment"))
        return " ".join(out)

    def _flat(self) -> bool:
        h = self.p.holland
        return h is not None and any(f in h.flags for f in ("flat_profile", "depressed_profile"))

    def row(self, mt: Match) -> dict[str, Any]:
        """One suggested occupation (the beneficiary's without codes)."""
        o = mt.occupation
        return {
            "name": self.tx(o.name),
            "isco": o.isco if self.aud.technical else None,
            "code": o.riasec if not self.you else None,
            "training_level": o.training_level,
            "training": self.t(f"training.{o.training_level}"),
            "self_employment": o.self_employment,
            "sentence": self.sentence(mt),
            "m": mt.m if self.aud.technical else None,
            "c": mt.c if self.aud.technical else None,
        }

    def _education_note(self, max_level: int | None) -> str:
        """Which training levels the lists keep to, and why (the beneficiary's without levels, review #74)."""
        if self.you:
            return self.t("ui.match.you.education_unknown" if max_level is None else "ui.match.you.education_filter")
        if max_level is None:
            return self.t("ui.match.education_unknown")
        edu = ""
        i = self.p.intake
        f = i.instrument.role("education") if i is not None else None
        if i is not None and f is not None:
            answer = i.value("education")
            edu = next((self.tx(o.label) or "" for o in f.options if o.value == answer), str(answer or ""))
        return self.t("ui.match.education_filter", education=edu, max=max_level)

    def _constraints(self, limits: Sequence[str]) -> str:
        return self.s.join(self.t(f"ui.limit.{x}.{self.reg}") for x in limits)

    def matches(self) -> dict[str, Any] | None:
        r = self.p.matches
        if r is None:
            return None
        constraints = self._constraints(r.limits)
        h = self.p.holland
        flat = h is not None and any(f in h.flags for f in ("flat_profile", "depressed_profile"))
        return {
            "codes": list(r.codes) if not self.you else [],
            "suggested": [self.row(m) for m in r.suggested[: self.aud.max_matches]],
            "retraining": [self.row(m) for m in r.retraining[: self.aud.max_retraining]],
            "after_start": self.p.start is not None,
            "filter_note": self._education_note(r.max_level),
            "constraints_note": self.t(
                "ui.match.you.constraints" if self.you else "ui.match.constraints", constraints=constraints
            )
            if constraints
            else None,
            "excluded_note": self.t("ui.match.excluded") if self.reg == "pro" else None,
            "caution": self.t(f"ui.match.caution_flat.{self.reg}") if flat else None,
            "none_note": self.t("ui.match.none_you" if self.you else "ui.match.none") if not r.suggested else None,
            "method_note": self.t("ui.match.method") if self.aud.technical else None,
        }

    # -- the person's own trade and wishes -------------------------------------------------
    def _weighed(self, w: Wish) -> dict[str, Any]:
        """One wish (or the trade) against the person: the fit in words, reach, what rules it out."""
        reg = self.reg
        occ = w.occupation
        lines = []
        fit = w.fit
        lines.append(self.t(f"start.fit.{fit or 'unknown'}.{reg}"))
        if w.fit_depends_on_order:
            lines.append(self.t(f"start.fit.order.{reg}"))
        if w.excluded:
            lines.append(self.t(f"start.excluded.{reg}"))
        elif w.blocked:
            lines.append(self.t(f"start.blocked.{reg}", constraints=self._constraints(w.blocked)))
        if occ is not None and w.within_reach is True and not w.excluded:
            lines.append(self.t(f"start.reach.yes.{reg}"))
        elif occ is not None and w.within_reach is False and not w.excluded:
            lines.append(self.t(f"start.reach.no.{reg}", level=self.t(f"training.{occ.training_level}")))
        elif (
            occ is not None
            and w.within_reach is None
            and not w.excluded
            and self.p.start is not None
            # the education is not known, and the occupation needs more than any schooling reaches (level > 2)
            and (self.p.intake is None or self.p.intake.isced is None)
            and occ.training_level > (max_training_level(0) or 0)
        ):
            lines.append(self.t(f"start.reach.unknown.{reg}", level=self.t(f"training.{occ.training_level}")))
        m = None
        if self.aud.technical and w.m_range is not None:
            lo, hi = w.m_range
            m = str(hi) if lo == hi else f"{lo}–{hi}"
        return {
            "name": self.tx(occ.name) if occ is not None else w.given,
            "code": w.code if not self.you else None,
            "m": m,
            "fit": fit,
            "fit_short": self.t(f"start.fit_short.{fit}") if fit else None,
            "lines": lines,
            "text": " ".join(lines),
        }

    def start(self) -> dict[str, Any] | None:
        """The person's own trade and wishes, first (the employment version says so plainly)."""
        st = self.p.start
        if st is None:
            return None
        reg = self.reg
        trade = None
        if st.trade is not None:
            tr = st.trade
            # the trade the person has: how it fits the interests (unless it is also a wish, where that
            # is said once), never whether the education reaches it
            weighed = self._weighed(replace(tr, within_reach=None))
            facts = [self.t(f"start.trade.{reg}", trade=weighed["name"])]
            if tr.years:
                facts.append(self.s.plural(f"start.years.{reg}", tr.years, n=number(tr.years, 1, self.lang)))
            if tr.in_demand is not None:
                facts.append(self.t(f"start.demand.{'yes' if tr.in_demand else 'no'}.{reg}"))
            elif not self.you:
                facts.append(self.t("start.demand.unknown.pro"))
            if tr.wished:
                facts.append(self.t(f"start.wished.{reg}"))
            if tr.occupation is None:
                weighed["lines"] = [self.t(f"start.trade_unknown.{reg}")]
            elif tr.wished:
                weighed["lines"] = []
            weighed["text"] = " ".join(weighed["lines"])
            trade = {**weighed, "facts": facts, "in_demand": tr.in_demand, "years": tr.years}
        wishes = [self._weighed(w) for w in st.wishes]
        H = f"ui.heading.{reg}."
        return {
            "heading": self.t(H + ("start" if trade else "start_wishes")),
            "related_heading": self.t(H + ("related" if trade else "related_wishes")),
            "intro": self.t(f"start.intro.{reg}"),
            "trade": trade,
            "wishes": wishes,
            "wishes_text": self.t(f"start.wishes.{reg}", names=self.s.join(w["name"] for w in wishes))
            if wishes
            else None,
            "related": [self.row(m) for m in st.related],
        }

    def first_occupations(self, view: dict[str, Any]) -> list[str]:
        """The occupations to explore first, in order: the wishes that are open to the person, the own
        trade, those close to both, then those the interests suggest (no name twice)."""
        out: list[str] = []
        st = self.p.start
        if st is not None:
            for w in (*st.wishes, *((st.trade,) if st.trade else ())):
                if w.occupation is not None and not w.excluded and not w.blocked and w.within_reach is not False:
                    out.append(self.tx(w.occupation.name) or w.given)
        if view.get("start"):
            out += [x["name"] for x in view["start"]["related"]]
        if view.get("matches"):
            out += [x["name"] for x in view["matches"]["suggested"]]
        return list(dict.fromkeys(x for x in out if x))

    # -- activities -------------------------------------------------------------------------
    def activities(self) -> list[dict[str, Any]]:
        out = []
        names = {}
        if self.p.decision is not None:
            names = {b.id: self.tx(b.name) for b in self.p.decision.barriers}
        for rec in self._visible_activities()[: self.aud.max_activities]:
            reasons = []
            if self.reg == "pro":
                for r in rec.reasons:
                    if r.clinical and not self.aud.clinical:
                        continue
                    kw: dict[str, object] = {}
                    if r.barrier:
                        kw["barrier"] = names.get(r.barrier, r.barrier)
                    if r.key == "activity_reason.retraining" and self.p.intake is not None:
                        kw["reasons"] = self.s.join(
                            self.t(f"intake.retraining_reason.{x}") for x in self.p.intake.retraining_reasons
                        )
                    reasons.append(self.t(r.key, **kw))
            out.append(
                {
                    "id": rec.activity.id,
                    "name": self.tx(rec.activity.name),
                    "description": self.t_or(f"activity.{rec.activity.id}.you", rec.activity.description)
                    if self.you
                    else self.tx(rec.activity.description),
                    "reasons": reasons,
                }
            )
        return out

    def _visible_activities(self) -> list[Recommendation]:
        out = []
        for rec in self.p.activities:
            if rec.clinical and not self.aud.clinical:
                continue
            if not self.aud.clinical and all(r.clinical for r in rec.reasons):
                continue  # recommended only because of a clinical barrier: the reason itself is clinical
            out.append(rec)
        return out

    # -- validity, change, summary ----------------------------------------------------------
    def validity(self) -> dict[str, Any] | None:
        sections = [s for s in (self.p.decision, self.p.holland, self.p.bipolar) if s is not None]
        found = [(s, f) for s in sections for f in s.flags]
        if self.aud.flags == "none" or (self.aud.parts is not None and not self.aud.clinical):
            return None  # in a packet, validity is clinical detail
        if self.aud.flags == "caution":
            return {"items": [], "text": self.t("ui.validity.caution") if found else None}
        items = []
        for s, f in found:
            margin = getattr(s, "code_margin", 0.0)
            items.append(
                {
                    "instrument": self.tx(s.provenance.title),
                    "flag": f,
                    "text": self.t(f"flag.{f}", margin=number(margin, 0, self.lang)),
                }
            )
        return {"items": items, "text": None if found else self.t("ui.validity.none")}

    def changes(self) -> list[dict[str, Any]]:
        if not self.aud.change:
            return []
        out = []
        for c in self.p.changes:
            rows = []
            for r in c.rows:
                if r.clinical and not self.aud.clinical:
                    continue
                diff = r.after - r.before
                changed = None
                if r.changed:
                    changed = self.s.plural("ui.change.changed", len(r.changed), n=len(r.changed))
                    if r.not_comparable:
                        k = len(r.not_comparable)
                        changed += " " + self.s.plural("ui.change.not_comparable_count", k, k=k)
                rows.append(
                    {
                        "id": r.id,
                        "label": self.tx(r.label),
                        "before": _clean(r.before),
                        "after": _clean(r.after),
                        "change": _clean(diff),
                        "rci": _clean(r.rci) if (r.rci is not None and self.aud.technical) else None,
                        "reliable": (abs(r.rci) > 1.96) if (r.rci is not None and self.aud.technical) else None,
                        "changed_items": list(r.changed),
                        "not_comparable": list(r.not_comparable),
                        "changed_text": changed,
                    }
                )
            has_rci = any(r.rci is not None for r in c.rows)
            shown = {r["id"] for r in rows}
            notes = []
            if c.versions_differ:
                notes.append(self.t("ui.change.versions", before=c.before_version, after=c.after_version))
                notes.append(self.t("ui.change.version_note" if c.documented else "ui.change.undocumented"))
                if c.scales_left_out:
                    notes.append(self.t("ui.change.left_out", scales=", ".join(c.scales_left_out)))
            out.append(
                {
                    "instrument": c.instrument,
                    "title": self.tx(c.title),
                    "before": day(c.before_date, self.lang) or self.t("ui.change.earlier"),
                    "after": day(c.after_date, self.lang) or self.t("ui.change.latest"),
                    "before_version": c.before_version,
                    "after_version": c.after_version,
                    "versions_differ": c.versions_differ,
                    "version_notes": notes,
                    "rows": rows,
                    "lo": c.lo,
                    "hi": c.hi,
                    "item_changes": [
                        {
                            "item": x.item,
                            "scale": x.scale,
                            "old": x.old,
                            "new": x.new,
                            "comparable": x.comparable,
                            "why": x.why,
                        }
                        for x in c.item_changes
                        if x.scale in shown
                    ]
                    if self.aud.technical
                    else [],
                    "item_changes_title": self.t("ui.change.item_list", before=c.before_version, after=c.after_version)
                    if c.item_changes and self.aud.technical
                    else None,
                    "rci_note": None
                    if not self.aud.technical
                    else " ".join(
                        x
                        for x in (
                            self.t("ui.change.rci") if has_rci else self.t("ui.change.no_rci"),
                            self.t("ui.change.no_rci_changed") if any(r.changed for r in c.rows) else None,
                        )
                        if x
                    ),
                }
            )
        return out

    def summary(self, view: dict[str, Any]) -> list[str]:
        out: list[str] = []
        you = self.you
        d, h, b = view["decision"], view["holland"], view["bipolar"]
        if h and h["top"] and (h["code"] or you):
            if you:
                names = self.s.join(self.type_name(t["letter"]) for t in h["top"])
            else:
                names = self.s.join(f"{t['name']} ({t['letter']})" for t in h["top"])
            if you and self._flat():
                out.append(h["code_text"])
            else:
                out.append(
                    self.t("ui.summary.code_you" if you else "ui.summary.code", code=h["code"] or "", names=names)
                )
        if b and self.p.bipolar is not None:
            shown = [
                x
                for x in self.p.bipolar.dimensions
                if x.preferred is not None and x.clarity_band not in (None, "slight")
            ]
            if you:  # the labels have "and" in them: listed with semicolons
                poles = [self.pole_label(x.preferred.letter, None) for x in shown]  # type: ignore[union-attr]
                poles = ["; ".join(poles)]
            else:
                poles = [f"{self.tx(x.preferred.name)} ({x.preferred.letter})" for x in shown]  # type: ignore[union-attr]
            if poles:
                out.append(
                    self.t(
                        "ui.summary.type_you" if you else "ui.summary.type",
                        type=b["type"] or "",
                        poles=self.s.join(poles),
                    )
                )
        if d:
            if you:
                out.append(d["status_text"])
            else:
                out.append(self.t("ui.summary.decision", status=d["status_name"]))
                out.append(
                    self.t("ui.summary.barriers", barriers=self.s.join(d["salient"], mid_sentence=True))
                    if d["salient"]
                    else self.t("ui.summary.no_barriers" if self.aud.clinical else "ui.summary.no_barriers_shown")
                )
        st = view.get("start")
        if st:
            tr = st["trade"]
            if tr:
                if tr["in_demand"] and not you:
                    out.append(self.t("ui.summary.trade_in_demand.pro", trade=tr["name"]))
                else:
                    out.append(self.t(f"ui.summary.trade.{self.reg}", trade=tr["name"]))
            if st["wishes"]:
                items = [
                    w["name"] if you or not w["fit_short"] else f"{w['name']} ({w['fit_short']})" for w in st["wishes"]
                ]
                out.append(self.t(f"ui.summary.wishes.{self.reg}", wishes=self.s.join(items)))
        first = self.first_occupations(view)
        if first:
            out.append(
                self.t(
                    "ui.summary.matches_you" if you else "ui.summary.matches",
                    occupations=self.s.join(first[:5]),
                )
            )
        g = view["group"]
        if g and g["group"]:
            out.append(self.t("ui.summary.group", group=g["group"]))
        acts = view["activities"]
        if acts:
            out.append(
                self.t(
                    "ui.summary.activities_you" if you else "ui.summary.activities",
                    activities=self.s.join((a["name"] for a in acts[:4]), mid_sentence=True),
                )
            )
        v = view["validity"]
        if v and v["items"]:
            out.append(self.s.plural("ui.summary.flags", len(v["items"]), count=len(v["items"])))
        elif v and v["text"] and self.aud.flags == "caution":
            out.append(v["text"])
        return out

    # -- the whole view ---------------------------------------------------------------------
    def build(self) -> dict[str, Any]:
        p = self.p
        sources = [
            k
            for k, s in (("intake", p.intake), ("decision", p.decision), ("holland", p.holland), ("bipolar", p.bipolar))
            if s is not None
        ]
        single = len(sources) == 1 and sources[0] != "intake"
        if self.you:
            title = self.t("ui.title.you")
        elif single:
            title = self.t("ui.title.single", instrument=self.tx(p.provenance[0].title))
        else:
            title = self.t("ui.title.profile")
        ipsative = any(pv.ipsative for pv in p.provenance)
        sem_shown = any(
            x.sem_band is not None
            for s in (p.decision, p.holland, p.bipolar)
            if s is not None
            for x in (
                [s.certainty, *s.barriers]
                if isinstance(s, DecisionSection)
                else s.types
                if isinstance(s, HollandSection)
                else s.dimensions
            )
        )
        intake, profile = self.aud.shows("intake_summary"), self.aud.shows("profile")
        view: dict[str, Any] = {
            "schema": "proforient.report/1",
            "lang": self.lang,
            "audience": self.aud.name,
            "register": self.reg,
            "technical": self.aud.technical,
            "clinical_included": self.aud.clinical,
            "title": title,
            "subtitle": self.t(f"ui.audience.{self.aud.name}"),
            "meta": self.meta(),
            "provenance": self.provenance(),
            "confidentiality": self.t(f"ui.confidential.{self.aud.name}"),
            "intro": self.t(f"ui.intro.{self.aud.name}"),
            "closing": self.t("ui.closing.you") if self.reg == "you" else None,
            "clinical_note": (self.t("ui.clinical.included") if self.aud.clinical else self.t("ui.clinical.excluded"))
            if self.aud.name == "employment"
            else None,
            "norms_note": self.norms_note(),
            "sem_shown": sem_shown and self.aud.technical,
            "sem_note": None
            if not self.aud.technical
            else self.t("ui.sem.shown")
            if sem_shown
            else self.t("ui.sem.none"),
            "sem_sources": self.sem_sources(),
            "ipsative_note": self.t("ui.sem.ipsative") if ipsative and self.aud.technical else None,
            "intake": self.intake(p.intake) if p.intake is not None and self.aud.intake and intake else None,
            "decision": self.decision(p.decision) if p.decision is not None and profile else None,
            "holland": self.holland(p.holland) if p.holland is not None and profile else None,
            "bipolar": self.bipolar(p.bipolar) if p.bipolar is not None and profile else None,
            "start": self.start() if profile else None,
            "matches": self.matches() if profile else None,
            "group": self.group(p.intake) if p.intake is not None and self.aud.group and intake else None,
            "activities": self.activities() if self.aud.shows("activities") else [],
            "validity": self.validity() if profile else None,
            "changes": self.changes() if profile else [],
            "packet_parts": sorted(self.aud.parts) if self.aud.parts is not None else None,
            "notes": [self.t(f"{n}.{self.reg}") for n in p.notes] if profile else [],  # all about matching
        }
        view["summary"] = self.summary(view)
        return view


def build_view(profile: Profile, lang: str, audience: str, consent_includes_clinical: bool = False) -> dict[str, Any]:
    """The content one audience reads, in ``lang``; the same dict feeds HTML, PDF and JSON."""
    aud = audience_rules(audience, consent_includes_clinical)
    return _Builder(profile, lang, aud).build()


def packet_view(profile: Profile, lang: str, parts: Sequence[str]) -> dict[str, Any]:
    """What a packet carries, in ``lang``: the employment department's view of the parts the consent
    covers (``packet_audience``). A packet stores this view; its addressee's HTML and PDF are rendered
    from it, and its registry entry hashes it."""
    return _Builder(profile, lang, packet_audience(parts)).build()
