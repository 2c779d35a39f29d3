"""Write the synthetic example files in instruments/data/examples/ (deterministic; no real person).

    .venv/bin/python scripts/make_examples.py

They show every accepted answer form: like/dislike in both languages and 1/0,
L3…R3 pairs, skipped (blank) items, aspirations as catalogue names or codes.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

import instruments

OUT = Path(__file__).resolve().parents[1] / "instruments" / "data" / "examples"
N = 12


def _write(name: str, header: list[str], rows: list[list[object]]) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with (OUT / name).open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)


def main() -> None:
    rng = np.random.default_rng(2026)
    ids = [f"B-{k:03d}" for k in range(1, N + 1)]

    vdq = instruments.load("vdq")
    rows = []
    for pid in ids:
        lean = rng.uniform(1.2, 3.8)  # each person has their own typical level
        vals = np.clip(np.rint(rng.normal(lean, 0.8, len(vdq.items))), 1, 4).astype(int)
        row: list[object] = [pid, int(rng.integers(600, 1800))]
        row += ["" if rng.random() < 0.04 else str(v) for v in vals]
        rows.append(row)
    _write("vdq.csv", ["id", "seconds", *vdq.item_ids], rows)

    sds = instruments.load("sds")
    letters = [sds.scale(i.scale).letter for i in sds.items]
    occupations = [o for o in instruments.occupations() if not o.excluded]
    words = [("მომწონს", "არ მომწონს"), ("like", "dislike"), ("1", "0")]
    rows = []
    for k, pid in enumerate(ids):
        favourite = rng.choice(list("RIASEC"), size=2, replace=False)
        p = np.array([0.75 if L in favourite else 0.3 for L in letters])
        liked = rng.random(len(p)) < p
        yes, no = words[k % 3]
        answers = ["" if rng.random() < 0.03 else (yes if v else no) for v in liked]
        asp = [occupations[int(j)] for j in rng.integers(0, len(occupations), 3)]
        names = [asp[0].name.ka, asp[1].name.en, asp[2].riasec]
        rows.append([pid, *names, *answers])
    _write("sds.csv", ["id", "aspiration_1", "aspiration_2", "aspiration_3", *sds.item_ids], rows)

    ppi = instruments.load("ppi")
    rows = []
    for pid in ids:
        answers = []
        for _ in ppi.items:
            side = "L" if rng.random() < 0.5 else "R"
            rating = int(rng.integers(1, 4))
            answers.append("" if rng.random() < 0.03 else f"{side}{rating}")
        rows.append([pid, *answers])
    _write("ppi.csv", ["id", *ppi.item_ids], rows)

    intake = instruments.load("intake")
    rows = []
    for pid in ids:
        rec: dict[str, object] = {}
        for f in intake.fields:
            opts = [o.value for o in f.options]
            if f.type == "choice":
                rec[f.id] = opts[int(rng.integers(0, len(opts)))]
            elif f.type == "multi":
                rec[f.id] = ";".join(o for o in opts if rng.random() < 0.25)
            elif f.type == "bool":
                rec[f.id] = "კი" if rng.random() < 0.5 else "არა"
            elif f.type == "number":
                rec[f.id] = {
                    "work_experience_years": int(rng.integers(0, 15)),
                    "months_since_last_job": int(rng.integers(0, 48)),
                    "expected_monthly_pay": int(rng.integers(6, 30)) * 100,
                }.get(f.id, 0)
            elif f.type == "occupations":
                rec[f.id] = ";".join(
                    o.name.ka for o in (occupations[int(j)] for j in rng.integers(0, len(occupations), 2))
                )
            else:
                rec[f.id] = ""
        if rec.get("never_worked") == "კი":
            rec["months_since_last_job"] = ""
            rec["currently_employed"] = "არა"
        rows.append([pid, *rec.values()])
    _write("intake.csv", ["id", *[f.id for f in intake.fields]], rows)


if __name__ == "__main__":
    main()
