"""Definition → the engine's numeric spec (the one bridge from texts to numbers)."""

from __future__ import annotations

from scoring import FieldSpec, InstrumentSpec, IntakeSpec, ItemKey, ScaleSpec

from ._model import Instrument


def default_min_answered(n_items: int) -> int:
    """At most 20 % of a scale's items may be missing (the scale is then prorated)."""
    return n_items - (n_items * 20) // 100


def scoring_spec(inst: Instrument) -> InstrumentSpec:
    """Compile a loaded instrument for ``scoring.score``."""
    if inst.model == "intake" or inst.response is None:
        raise TypeError(f"{inst.ref} is an intake form; use intake_spec")
    index = {s.id: k for k, s in enumerate(inst.scales)}
    positions = {it.id: j for j, it in enumerate(inst.items)}
    items = tuple(
        ItemKey(
            id=it.id,
            section=it.section,
            scale=index.get(it.scale) if it.scale else None,
            keyed=it.keyed,
            left_scale=index.get(it.left_scale) if it.left_scale else None,
            right_scale=index.get(it.right_scale) if it.right_scale else None,
            repeat_of=positions.get(it.repeat_of) if it.repeat_of else None,
        )
        for it in inst.items
    )
    scales = []
    for s in inst.scales:
        n = len(inst.items_of(s.id))
        poles = riasec = None
        if s.negative_pole is not None and s.positive_pole is not None:
            poles = (s.negative_pole.letter, s.positive_pole.letter)
            riasec = ("".join(s.negative_pole.riasec), "".join(s.positive_pole.riasec))
        scales.append(
            ScaleSpec(
                id=s.id,
                role=s.role,
                score=s.score,
                n_items=n,
                min_answered=s.min_answered or default_min_answered(n),
                band_ids=tuple(b.id for b in s.bands),
                band_below=tuple(float(b.below) for b in s.bands if b.below is not None),
                letter=s.letter,
                interventions=tuple(s.interventions),
                poles=poles,
                pole_riasec=riasec,
            )
        )
    params = inst.params.model_dump(mode="python") if inst.params is not None else {}
    return InstrumentSpec(
        id=inst.id,
        version=inst.version,
        content_hash=inst.content_hash,
        model=inst.model,
        kind=inst.response.kind,
        min=inst.response.min,
        max=inst.response.max,
        items=items,
        scales=tuple(scales),
        sections=tuple(s.id for s in inst.sections),
        params=params,
        max_run=inst.validity.max_run,
        min_seconds_per_item=inst.validity.min_seconds_per_item,
        missing_codes=inst.missing_codes,
    )


def intake_spec(inst: Instrument) -> IntakeSpec:
    """Compile an intake form for ``scoring.parse_intake``."""
    if inst.model != "intake":
        raise TypeError(f"{inst.ref} is not an intake form")
    return IntakeSpec(
        id=inst.id,
        version=inst.version,
        content_hash=inst.content_hash,
        fields=tuple(
            FieldSpec(
                f.id,
                f.type,
                f.required,
                tuple(o.value for o in f.options),
                tuple(o.isced for o in f.options if o.isced is not None)
                if all(o.isced is not None for o in f.options) and f.options
                else (),
            )
            for f in inst.fields
        ),
        roles=dict(inst.rules.roles) if inst.rules is not None else {},
        values={k: frozenset(v) for k, v in inst.rules.values.items()} if inst.rules is not None else {},
    )
