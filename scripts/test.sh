#!/usr/bin/env bash
# Set up (if needed) and run the whole test suite. Arguments go to pytest.
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh dev || exit $?
# storage and API tests run on SQLite and on a real PostgreSQL
if [ -z "${PROFORIENT_TEST_DATABASE_URL:-}" ]; then
  pg_out=$(bash scripts/postgres-for-tests.sh) || exit $?
  # the URL is the last line, whatever a server tool may have printed before it
  PROFORIENT_TEST_DATABASE_URL=$(printf '%s\n' "$pg_out" | tail -n 1)
  export PROFORIENT_TEST_DATABASE_URL
fi
# the quality gates first (ruff, format, mypy, import contracts, doctests): a minute, and they name what broke
bash scripts/gates.sh || exit $?
# the whole suite, with the coverage floor of pyproject.toml (for a subset, run pytest directly: CONTRIBUTING.md)
.venv/bin/python -m pytest --cov --cov-report= "$@"
rc=$?
# pytest's 5 means "no tests collected" (e.g. a -k filter matching nothing)
if [ "$rc" -eq 5 ]; then echo "test.sh: no tests collected" >&2; rc=0; fi
exit "$rc"
