#!/usr/bin/env bash
# Set up (if needed) and start proforient on its embedded default (SQLite).
# Until the web service lands this scores the bundled example data.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/proforient demo "$@"
