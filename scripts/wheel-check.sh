#!/usr/bin/env bash
# Build the wheel, install it (not editable) in a fresh venv outside the source tree, and run
# `proforient demo` and one report from the installed package alone. Needs the package registry
# (the venv gets the dependencies from it, or from pip's cache).
#   bash scripts/wheel-check.sh            # keeps nothing; KEEP=1 keeps the temp folder
set -euo pipefail
cd "$(dirname "$0")/.."
src=$PWD
python=${PYTHON:-$src/.venv/bin/python}
[ -x "$python" ] || python=python3
tmp=$(mktemp -d)
[ "${KEEP:-0}" = 1 ] || trap 'rm -rf "$tmp"' EXIT
unset PYTHONPATH PROFORIENT_DATA_DIR

echo "== build the wheel"
"$python" -m pip wheel --quiet --no-deps --wheel-dir "$tmp/dist" "$src"
wheel=$(ls "$tmp"/dist/proforient-*.whl)
# what the package needs at run time is in the wheel, not only in the source tree
listing=$("$python" -m zipfile -l "$wheel")
for f in instruments/data/occupations.csv instruments/data/activities.toml instruments/data/examples/sds.csv \
  instruments/FORMAT.md reports/strings/ka.toml api/web/strings/ka.toml; do
  grep -q "^$f " <<<"$listing" || { echo "wheel-check: $f is not in $(basename "$wheel")" >&2; exit 1; }
done

echo "== install it in a fresh venv"
"$python" -m venv "$tmp/venv"
"$tmp/venv/bin/python" -m pip install --quiet --disable-pip-version-check "$wheel"

cd "$tmp"  # nowhere near the sources: only the installed package can answer
installed=$("$tmp/venv/bin/python" -c "import instruments; print(instruments.__file__)")
case "$installed" in
  "$tmp"/venv/*) ;;
  *) echo "wheel-check: instruments was imported from $installed, not the fresh venv" >&2; exit 1 ;;
esac
examples=$("$tmp/venv/bin/python" -c "import instruments; print(instruments.data_dir() / 'examples')")

echo "== proforient demo"
"$tmp/venv/bin/proforient" demo --output "$tmp/demo" >/dev/null
for iid in vdq sds ppi; do [ -s "$tmp/demo/$iid-scores.csv" ] || { echo "wheel-check: no $iid scores" >&2; exit 1; }; done

echo "== one report (employment, Georgian, HTML)"
person=$(sed -n '2p' "$examples/sds.csv" | cut -d, -f1)
"$tmp/venv/bin/proforient" report -o "$tmp/reports" --intake "$examples/intake.csv" --vdq "$examples/vdq.csv" \
  --sds "$examples/sds.csv" --ppi "$examples/ppi.csv" -a employment -l ka -f html -p "$person" -q
n=$(find "$tmp/reports" -name '*.html' | wc -l)
[ "$n" -eq 1 ] || { echo "wheel-check: expected one report, found $n" >&2; exit 1; }
grep -q 'lang="ka"' "$(find "$tmp/reports" -name '*.html')" || { echo "wheel-check: the report is not in Georgian" >&2; exit 1; }
echo "wheel-check: the wheel installs and runs on its own ($(basename "$wheel"))"
