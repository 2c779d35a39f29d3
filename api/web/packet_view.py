"""A packet's content in words: the same display for the social worker's preview and for the
employment department's inbox, so the preview shows exactly what the addressee will read.

Codes in the packet (education level, barrier ids, activity ids …) are turned into the
labels of the instrument definitions, the activity catalogue and the reports' texts.
"""

from __future__ import annotations

from typing import Any

import instruments
import reports
from api import service
from api.domain.packets import INTAKE_SUMMARY_FIELDS

from .core import Translator


def _activity_names(lang: str) -> dict[str, tuple[str, str]]:
    return {a.id: (a.name.get(lang), a.description.get(lang)) for a in instruments.activities()}


def _field_value(field: Any, value: str | None, t: Translator, lang: str) -> str | None:
    if value is None or value == "":
        return None
    options = {o.value: o.label.get(lang) for o in field.options}
    if field.type == "choice":
        return options.get(value, value)
    if field.type == "multi":
        return ", ".join(options.get(v, v) for v in value.split(";") if v)
    if field.type == "occupations":
        out = []
        for v in value.split(";"):
            occ = instruments.find_occupation(v) if v.strip() else None
            out.append(occ.name.get(lang) if occ is not None else v.strip())
        return ", ".join(x for x in out if x)
    if field.type == "bool":
        return t("common.yes") if value.strip().lower() in ("yes", "true", "1", "კი", "დიახ") else t("common.no")
    return value


def _date(iso: str) -> str:
    """'2026-11-23T09:12:…' → '23.11.2026', as every other date in the UI."""
    y, m, d = iso[:10].split("-")
    return f"{d}.{m}.{y}"


def display(content: dict[str, Any], lang: str) -> dict[str, Any]:
    """The packet as headed lists of (label, value) in ``lang``."""
    t = Translator(lang)
    rs = reports.strings(lang).get
    out: dict[str, Any] = {
        "beneficiary": content["beneficiary"],
        "fund": content["fund"][lang],
        "addressee": content["addressee"][lang],
        "prepared_at": _date(content["prepared_at"]),
        "parts": content["parts"],
        "clinical": "clinical" in content["parts"],
        "sources": [],
        "intake": None,
        "profile": None,
        "activities": None,
    }
    for iid, src in content.get("sources", {}).items():
        inst = service.instrument(iid, src["instrument_version"])
        out["sources"].append(
            {
                "title": inst.title.get(lang),
                "version": src["instrument_version"],
                "engine": src["engine_version"],
                "norms": src["norm_table"] or t("packet.no_norms"),
                "scored": _date(src["scored_at"]),
            }
        )
    names = _activity_names(lang)
    if (s := content.get("intake_summary")) is not None:
        inst = service.instrument("intake")
        fields = {f.id: f for f in inst.fields}
        rows = []
        for key in INTAKE_SUMMARY_FIELDS:
            if key in fields and key in s["answers"]:
                rows.append((fields[key].label.get(lang), _field_value(fields[key], s["answers"][key], t, lang)))
        group = s.get("job_seeker_group") or "none"
        out["intake"] = {
            "rows": rows,
            "group": rs(f"intake.group.{group}"),
            "reasons": [rs(f"intake.group_reason.{r}") for r in (s.get("group_reasons") or "").split(";") if r],
            "retraining": t("common.yes") if s.get("retraining_need") else t("common.no"),
            "hard": [names.get(a, (a, ""))[0] for a in (s.get("hard_skills_needs") or "").split(";") if a],
            "soft": [names.get(a, (a, ""))[0] for a in (s.get("soft_skills_needs") or "").split(";") if a],
        }
    if (p := content.get("profile")) is not None:
        prof: dict[str, Any] = {}
        if (sds := p.get("sds")) is not None:
            inst = service.instrument("sds")
            letters = {sc.letter: sc.name.get(lang) for sc in inst.scales if sc.letter}
            code = str(sds.get("code") or "")
            first = code.split("/")[0]
            orderings = int(sds.get("code_orderings") or 1)
            prof["sds"] = {
                "code": code or "—",
                "tied": t("packet.orderings", n=orderings) if orderings > 1 else None,
                "names": ", ".join(f"{letters.get(ch, ch)} ({ch})" for ch in first),
            }
        if (vdq := p.get("vdq")) is not None:
            inst = service.instrument("vdq")
            scale_names = {sc.id: sc.name.get(lang) for sc in inst.scales}
            status = vdq.get("decision_status") or "unknown"
            certainty = vdq.get("certainty")
            prof["vdq"] = {
                "status": rs(f"vdq.status_name.{status}"),
                "certainty": "—"
                if certainty is None
                else f"{certainty:.1f}".replace(".", "," if lang == "ka" else "."),
                "barriers": [scale_names.get(b, b) for b in vdq.get("salient_barriers") or []],
                "emotional_strain": vdq.get("emotional_strain"),
            }
        if (ppi := p.get("ppi")) is not None:
            prof["ppi"] = {"type": ppi.get("type") or "—", "environments": ppi.get("environments") or "—"}
        if "validity_flags" in p:
            margin = f"{getattr(service.instrument('sds').params, 'code_margin', 0):g}"
            prof["flags"] = [
                (
                    service.instrument(i).title.get(lang),
                    [rs(f"flag.{f}", margin=margin) for f in (v or "").split(";") if f],
                )
                for i, v in p["validity_flags"].items()
            ]
        out["profile"] = prof
    if (acts := content.get("activities")) is not None:
        out["activities"] = [names.get(a, (a, "")) for a in acts]
    return out
