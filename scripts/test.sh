#!/usr/bin/env bash
# Set up (if needed) and run the whole test suite. Arguments go to pytest.
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh dev || exit $?
.venv/bin/python -m pytest "$@"
rc=$?
# pytest's 5 means "no tests collected" (e.g. a -k filter matching nothing)
if [ "$rc" -eq 5 ]; then echo "test.sh: no tests collected" >&2; rc=0; fi
exit "$rc"
