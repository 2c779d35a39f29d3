import sys, numpy as np, pandas as pd
import reports
from scoring import research
rng = np.random.default_rng(16)
sim = research.simulate_placements(300, log_hr=-0.5, rng=rng)
df = pd.DataFrame({"months": sim["months"], "lost": sim["lost"],
    "congruence": np.clip(np.round(14 + 6 * sim["x"]), 0, 28),
    "decided": rng.integers(0, 2, len(sim)).astype(float),
    "indecision": rng.normal(2.2, 0.5, len(sim))})
res = research.predictive_validity(df)
curves = {}
for b, lo, hi in research.CONGRUENCE_BANDS:
    part = df[df["congruence"].map(research.congruence_band) == b]
    if len(part) >= 5:
        curves[b] = research.km_curve(part["months"], part["lost"])
for lang in ("ka", "en"):
    open(f"{sys.argv[1]}/predictive-validity-{lang}.pdf", "wb").write(reports.render_study(res, curves, lang, "pdf", simulated=True))
print(res["n"], res["events"], [ (m["covariate"], round(m.get("hr", 0), 3)) for m in res["cox"]])
