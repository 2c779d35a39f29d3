#!/usr/bin/env bash
# The quality gates, each in turn; exits non-zero if any fails (every gate runs, so one run shows all).
#   ruff check · ruff format --check · mypy · lint-imports · doctests
# Run from anywhere: bash scripts/gates.sh   (scripts/test.sh calls it before the tests)
set -uo pipefail
cd "$(dirname "$0")/.."
bin=.venv/bin
[ -x "$bin/python" ] || bin=$(dirname "$(command -v python3)")
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
failed=()
gate() {
  local name=$1
  shift
  echo "== $name: $*"
  if ! "$@"; then failed+=("$name"); fi
}
gate "ruff check" "$bin/ruff" check .
gate "ruff format" "$bin/ruff" format --check .
gate "mypy" "$bin/mypy"
gate "import contracts" "$bin/lint-imports"
gate "doctests" "$bin/python" -m pytest -q -p no:cacheprovider --doctest-modules \
  scoring instruments reports api --ignore=api/db/migrations
if [ "${#failed[@]}" -gt 0 ]; then
  echo "gates.sh: FAILED: ${failed[*]}" >&2
  exit 1
fi
echo "gates.sh: all gates passed"
