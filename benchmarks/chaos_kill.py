"""kill -9 under write load: 24 writer threads create cases and submit questionnaires
through uvicorn (2 workers) while 12 workers are killed with SIGKILL, then every
acknowledged write is looked up in the database. Prints what was acknowledged, what was
cut off (never acknowledged) and what was lost after acknowledgement (goal: 0).

    python benchmarks/chaos_kill.py [--database-url postgresql+psycopg://…/db]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.bench_respondents import _fresh_pg  # noqa: E402
from tests.chaos import run  # noqa: E402
from tests.servers import prepare, servers  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--writers", type=int, default=24)
    ap.add_argument("--kills", type=int, default=12)
    ap.add_argument("--every", type=float, default=1.5, help="seconds between kills (on average)")
    ap.add_argument("--database-url", default="")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = _fresh_pg(args.database_url) if args.database_url else f"sqlite:///{tmp}/chaos.db"
        prepare(url)
        with servers(url, Path(tmp), n=1, workers=2) as group:
            out = run(group, url, args.writers, args.kills, args.every)
        backend = "PostgreSQL" if args.database_url else "SQLite"
        print(f"{backend}, {args.writers} writers: {out.line()}")
        print("goal: 0 creates and 0 submits lost after acknowledgement; audit chain intact")


if __name__ == "__main__":
    main()
