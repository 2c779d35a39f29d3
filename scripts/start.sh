#!/usr/bin/env bash
# Set up (if needed) and start the proforient service on its embedded default
# (SQLite in ./instance/, created with fresh secrets on the first start) at
# http://127.0.0.1:8000. The first start prints the first admin's password.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/proforient serve "$@"
