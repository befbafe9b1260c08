#!/usr/bin/env bash
# Installs what the demo and the end-to-end tests need on a fresh Debian 12
# machine, as root:
#   - the Debian packages in scripts/debian-packages.txt (each with the reason
#     it is there), with --no-install-recommends: the real IdPs (glewlwyd,
#     LemonLDAP::NG with the Perl modules its portal loads that Debian only
#     recommends), chromium and chromedriver, postgresql, mmdebstrap, python3,
#     promtool (prometheus) and systemd-analyze (systemd) for deploy/;
#   - a Python virtualenv at <repo>/.venv with e2e/requirements.txt
#     (django-oauth-toolkit, the mcp SDK, selenium, ...);
# then proves it with scripts/check-deps.sh, which loads what the tests load
# and stops with the name of the package that is missing.
# Idempotent and fast on re-runs: apt runs only when a package is missing, pip
# only when e2e/requirements.txt or the interpreter changed (a stamp file in
# .venv holds their hash).
set -euo pipefail
cd "$(dirname "$0")/.."

say() { echo "[install-deps] $*"; }

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }

# --- Debian packages --------------------------------------------------------
mapfile -t apt_packages < <(sed 's/#.*//' scripts/debian-packages.txt | tr -s ' \t' '\n' | grep .)
# Debian's python3 has no ensurepip without python3-venv; another python3
# (pyenv, a container's own build) may have both already.
if command -v python3 >/dev/null 2>&1 && python3 -c "import ensurepip, venv" >/dev/null 2>&1; then
  mapfile -t apt_packages < <(printf '%s\n' "${apt_packages[@]}" | grep -vx python3-venv)
fi
missing=()
for p in "${apt_packages[@]}"; do
  installed "$p" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    say "missing Debian packages (${missing[*]}) and not root: run this script as root"
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  say "apt-get update"
  apt-get update -qq
  say "apt-get install ${missing[*]}"
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # The packaged glewlwyd service cannot run in a container (and is not
  # wanted): the tests start private instances on 127.0.0.1.
  if command -v service >/dev/null 2>&1; then
    service glewlwyd stop >/dev/null 2>&1 || true
  fi
else
  say "Debian packages present (${apt_packages[*]})"
fi

# --- Python virtualenv ------------------------------------------------------
stamp=".venv/.requirements.sha256"
want=$( { cat e2e/requirements.txt; python3 --version; } | sha256sum | cut -d' ' -f1)
if [ -x .venv/bin/python ] && .venv/bin/python -c "" >/dev/null 2>&1 \
    && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
  say "python venv .venv up to date"
else
  if ! .venv/bin/python -c "" >/dev/null 2>&1; then
    say "python3 -m venv .venv ($(python3 --version))"
    rm -rf .venv
    python3 -m venv .venv
  fi
  say "pip install -r e2e/requirements.txt into .venv"
  .venv/bin/python -m pip install -q --disable-pip-version-check -r e2e/requirements.txt
  echo "$want" > "$stamp"
fi

# --- What the tests load ----------------------------------------------------
if ! bash scripts/check-deps.sh --venv .venv/bin/python; then
  say "FAILED: something the tests load is missing (above: what, and the package that provides it)"
  exit 1
fi
say "done"
