"""Render the researcher's predictive-validity report on simulated placements (to look at it).

    .venv/bin/python scripts/render_predictive_validity.py OUTPUT_FOLDER

Simulated data only (300 placements with a planted congruence effect, log HR -0.5); the report
says it is simulated. Writes predictive-validity-ka.pdf and predictive-validity-en.pdf.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

import reports
from scoring import research


def main(folder: Path) -> None:
    rng = np.random.default_rng(16)
    sim = research.simulate_placements(300, log_hr=-0.5, rng=rng)
    df = pd.DataFrame(
        {
            "months": sim["months"],
            "lost": sim["lost"],
            "congruence": np.clip(np.round(14 + 6 * sim["x"]), 0, 28),
            "decided": rng.integers(0, 2, len(sim)).astype(float),
            "indecision": rng.normal(2.2, 0.5, len(sim)),
        }
    )
    res = research.predictive_validity(df)
    curves = {}
    for band, _lo, _hi in research.CONGRUENCE_BANDS:
        part = df[df["congruence"].map(research.congruence_band) == band]
        if len(part) >= 5:
            curves[band] = research.km_curve(part["months"], part["lost"])
    folder.mkdir(parents=True, exist_ok=True)
    for lang in ("ka", "en"):
        (folder / f"predictive-validity-{lang}.pdf").write_bytes(
            reports.render_study(res, curves, lang, "pdf", simulated=True)
        )
    print(res["n"], res["events"], [(m["covariate"], round(m.get("hr", 0), 3)) for m in res["cox"]])


if __name__ == "__main__":
    main(Path(sys.argv[1]))
