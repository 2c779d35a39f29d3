#!/usr/bin/env bash
# Set up a fresh machine for proforient: system packages, a virtualenv, the
# package itself. Safe to run again: it only does what is missing.
#   bash scripts/setup.sh        # to run the service
#   bash scripts/setup.sh dev    # also test tools and test-only system packages
set -euo pipefail
cd "$(dirname "$0")/.."
mode="${1:-run}"

# Debian packages: Georgian fonts for charts/PDF (Noto Sans Georgian has the
# capitals that DejaVu lacks), Pango and HarfBuzz's subsetter for WeasyPrint; for the tests
# also poppler-utils (PDF → PNG/text) and Chromium (browser tests, driven by
# Playwright with executable_path=/usr/bin/chromium; no browser download).
apt_packages=(fonts-noto-core libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0)
if [ "$mode" = "dev" ]; then
  apt_packages+=(poppler-utils chromium)
fi
missing=()
for p in "${apt_packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  if command -v apt-get >/dev/null 2>&1; then
    echo "setup: installing ${missing[*]}" >&2
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    $SUDO apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "setup: please install ${missing[*]} (Debian package names)" >&2
  fi
fi

# Python environment; reinstall only when pyproject.toml changed.
PY="${PYTHON:-python3}"
[ -x .venv/bin/python ] || "$PY" -m venv .venv
extra="[postgres]"; [ "$mode" = "dev" ] && extra="[dev,research,postgres]"
stamp=".venv/.proforient-$mode-$(sha256sum pyproject.toml | cut -c1-16)"
if [ ! -f "$stamp" ]; then
  echo "setup: installing proforient$extra into .venv" >&2
  .venv/bin/python -m pip install -q --upgrade pip >/dev/null 2>&1 || true
  .venv/bin/python -m pip install -q -e ".$extra"
  .venv/bin/python -c "import instruments, scoring, api"
  touch "$stamp"
fi
