"""A slow, obviously-correct scorer: one respondent at a time, straight from the definition.

It reads the ``Instrument`` (not the compiled spec), uses plain Python
numbers and loops, and follows the written rules literally (e.g. the Holland
code is found by listing every full ordering of the six types). The
vectorized engine must give exactly the same output, column for column.
"""

from __future__ import annotations

import math
from itertools import permutations

from instruments import Instrument, default_min_answered
from scoring import LETTERS, brown_gore_c, hexagon_distance, iachan_m, zener_schnuelle

NAN = float("nan")


def _band(bands: list, value: float) -> str:
    if math.isnan(value):
        return ""
    for b in bands:
        if b.below is None or value < b.below:
            return b.id
    raise AssertionError("unreachable: the last band is open")


def _item_value(inst: Instrument, item, answer: int, scale_id: str) -> int:
    r = inst.response
    if item.left_scale is not None:  # forced choice between scales
        if scale_id == item.left_scale and answer < 0:
            return -answer
        if scale_id == item.right_scale and answer > 0:
            return answer
        return 0
    if r.kind == "paired":
        return item.keyed * answer
    return answer if item.keyed == 1 else r.min + r.max - answer


def score_row(
    inst: Instrument,
    answers: list[int | None],
    aspirations: list[str | None] | None = None,
    seconds: float | None = None,
) -> dict[str, object]:
    """Score one administration. ``answers`` are in item order; None = skipped."""
    by_id = dict(zip(inst.item_ids, answers, strict=True))
    out: dict[str, object] = {}
    scores: dict[str, float] = {}
    n_missing_any = False
    all_scored = True
    for s in inst.scales:
        items = [i for i in inst.items if s.id in (i.scale, i.left_scale, i.right_scale)]
        answered = [i for i in items if by_id[i.id] is not None]
        raw = 0
        for i in answered:
            raw += _item_value(inst, i, by_id[i.id], s.id)
        need = s.min_answered or default_min_answered(len(items))
        if len(answered) >= need:
            value = raw / len(answered) if s.score == "mean" else raw * len(items) / len(answered)
            if len(answered) < len(items):
                n_missing_any = True
        else:
            value = NAN
            all_scored = False
        scores[s.id] = value
        out[s.id] = value
        out[f"{s.id}_band"] = _band(s.bands, value)
        out[f"{s.id}_missing"] = len(items) - len(answered)

    flags: dict[str, bool] = {}
    flags["scale_not_scored"] = not all_scored
    flags["prorated"] = n_missing_any
    run = best = 0
    prev = None
    for a in answers:
        if a is None:
            run = 0
        elif a == prev and run > 0:
            run += 1
        else:
            run = 1
        prev = a
        best = max(best, run)
    flags["long_string"] = best >= inst.validity.max_run
    answered_all = [a for a in answers if a is not None]
    flags["nothing_answered"] = not answered_all
    if inst.response.kind == "binary":
        flags["all_like"] = len(answered_all) >= 2 and all(a == 1 for a in answered_all)
        flags["all_dislike"] = len(answered_all) >= 2 and all(a == 0 for a in answered_all)
    if seconds is not None and inst.validity.min_seconds_per_item > 0:
        flags["too_fast"] = bool(answered_all) and seconds / len(answered_all) < inst.validity.min_seconds_per_item

    p = inst.params
    if inst.model == "decision":
        barriers = [s for s in inst.scales if s.role == "barrier"]
        scored = [s for s in barriers if not math.isnan(scores[s.id])]
        for s in barriers:
            v = scores[s.id]
            out[f"{s.id}_rank"] = 0 if math.isnan(v) else 1 + sum(1 for o in scored if scores[o.id] > v)
        total = 0.0
        for s in scored:
            total += scores[s.id]
        indecision = total / len(scored) if len(scored) >= p.min_barriers_scored else NAN
        out["total_indecision"] = indecision
        cert = scores[next(s.id for s in inst.scales if s.role == "certainty")]
        if math.isnan(cert) or math.isnan(indecision):
            out["decision_status"] = ""
        else:
            out["decision_status"] = {
                (True, False): "decided",
                (True, True): "decided_but_blocked",
                (False, False): "exploring",
                (False, True): "undecided",
            }[(cert >= p.certainty_cut, indecision >= p.indecision_cut)]
        salient = sorted((s for s in barriers if out[f"{s.id}_band"] == "salient"), key=lambda s: out[f"{s.id}_rank"])
        out["salient_barriers"] = ";".join(s.id for s in salient)
        acts: list[str] = []
        for s in salient:
            acts += [a for a in s.interventions if a not in acts]
        out["interventions"] = ";".join(acts)

    if inst.model == "holland":
        letter_scale = {s.letter: s.id for s in inst.scales}
        t = {L: scores[letter_scale[L]] for L in LETTERS}
        for sec in inst.sections:
            for L in LETTERS:
                items = [i for i in inst.items if i.section == sec.id and i.scale == letter_scale[L]]
                out[f"{sec.id}_{L}"] = sum(
                    _item_value(inst, i, by_id[i.id], letter_scale[L]) for i in items if by_id[i.id] is not None
                )
        complete = not any(math.isnan(v) for v in t.values())
        codes: set[str] = set()
        if complete:
            for order in permutations(LETTERS):
                if all(t[order[k]] >= t[order[k + 1]] for k in range(5)):
                    codes.add("".join(order[:3]))
        ordered = sorted(codes, key=lambda c: [LETTERS.index(ch) for ch in c])
        out["code"] = "/".join(ordered)
        out["code_orderings"] = len(ordered)
        names = {1: "high", 2: "medium", 3: "low"}
        levels = sorted({hexagon_distance(c[0], c[1]) for c in ordered})
        out["consistency"] = (
            "/".join(names[d] for d in (levels[0], levels[-1]))
            if len(levels) > 1
            else (names[levels[0]] if levels else "")
        )
        vals = sorted(t.values(), reverse=True)
        out["differentiation_iachan"] = vals[0] - (vals[1] + vals[3]) / 2 if complete else NAN
        out["differentiation_range"] = vals[0] - vals[5] if complete else NAN
        # Bergmann's (1993) table, written out: DI1 … DI7 on the sorted scores
        if complete:
            total = sum(vals)
            mean = total / 6
            di = [
                vals[0] - vals[1],
                vals[0] - vals[2],
                vals[0] - (vals[1] + vals[3]) / 2,
                vals[0] - (vals[2] + vals[4]) / 2,
                vals[0] - vals[5],
                (vals[0] - vals[5]) / total if total != 0 else NAN,
                # (v − mean)·(v − mean): Python's ** is libm's pow(), which can round a square 1 ulp off
                math.sqrt(sum((v - mean) * (v - mean) for v in vals) / 6),
            ]
        else:
            di = [NAN] * 7
        for k, v in enumerate(di, start=1):
            out[f"differentiation_di{k}"] = v
        elevation = 0.0
        for L in LETTERS:
            elevation += t[L]
        out["elevation"] = elevation
        asp = list(aspirations or [])
        first = asp[0] if asp else None

        def two_letter(person: str, other: str) -> int:  # Healy & Mourton (1983), as written
            p2, q2 = person[:2], other[:2]
            if sorted(p2) == sorted(q2):
                return 3
            if p2[0] in q2 or p2[1] in q2:
                return 2
            return 1

        for name, fn in (("m", iachan_m), ("c", brown_gore_c), ("zs", zener_schnuelle), ("hm", two_letter)):
            if first and complete:
                values = [fn(c, first) for c in ordered]
                out[f"congruence_{name}_min"] = float(min(values))
                out[f"congruence_{name}_max"] = float(max(values))
            else:
                out[f"congruence_{name}_min"] = out[f"congruence_{name}_max"] = NAN
        if len(asp) >= 3 and all(asp[:3]):
            same = sum(1 for a in asp[1:3] if a[0] == asp[0][0])
            out["coherence"] = ("low", "average", "high")[same]
        else:
            out["coherence"] = ""
        margin = p.code_margin
        flags["code_not_computed"] = not ordered
        flags["code_tied"] = len(ordered) > 1
        flags["code_unstable"] = complete and any(vals[k] - vals[k + 1] < margin for k in range(3))
        flags["flat_profile"] = complete and vals[0] - vals[5] <= p.flat_max_range
        flags["depressed_profile"] = complete and elevation <= p.depressed_max_total

    if inst.model == "bipolar":
        letters = []
        for s in inst.scales:
            v = scores[s.id]
            n_items = len([i for i in inst.items if i.scale == s.id])
            if math.isnan(v):
                clarity, band, pole = NAN, "", ""
                letter = "?"
            else:
                clarity = abs(v) / (inst.response.max * n_items)
                band = _band(p.clarity_bands, clarity)
                pole = s.negative_pole.letter if v < 0 else (s.positive_pole.letter if v > 0 else "")
                letter = pole or "x"
                if band == "slight" and pole:
                    letter = letter.lower()
            letters.append(letter)
            out[f"{s.id}_pole"] = pole
            out[f"{s.id}_clarity"] = clarity
            out[f"{s.id}_clarity_band"] = band
        out["type"] = "".join(letters)
        fits = set()
        for s in inst.scales:
            pole = out[f"{s.id}_pole"]
            env = (
                "".join(s.negative_pole.riasec)
                if pole == s.negative_pole.letter
                else ("".join(s.positive_pole.riasec) if pole == s.positive_pole.letter else "")
            )
            out[f"{s.id}_environments"] = env
            fits |= set(env)
        out["environments"] = "".join(L for L in LETTERS if L in fits)
        reversals = distance = 0
        for i in inst.items:
            if i.repeat_of is None:
                continue
            a, b = by_id[i.repeat_of], by_id[i.id]
            if a is None or b is None:
                continue
            if (a > 0) == (b > 0):
                reversals += 1
            distance += abs(a + b)
        out["inconsistency_reversals"] = reversals
        out["inconsistency"] = distance
        flags["inconsistent"] = reversals > p.inconsistency_max

    out["n_missing"] = len(answers) - len(answered_all)
    out["longest_run"] = best
    out["flags"] = ";".join(k for k, v in flags.items() if v)
    return out
