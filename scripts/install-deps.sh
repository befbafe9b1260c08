#!/usr/bin/env bash
# Installs what the demo and the end-to-end tests need on a fresh Debian 12
# machine, as root:
#   - Debian packages: mmdebstrap and binutils (the image test lays out the
#     runtime stage's root file system and strips the binary), glewlwyd (the second real IdP), lemonldap-ng (the
#     third, with the Perl modules its portal needs that Debian only
#     recommends: GD::SecurityImage with ImageMagick's binding, String::Random,
#     and plackup to run it), chromium and
#     chromium-driver (the consent-page tests), postgresql (the replica
#     tests), sqlite3, curl, and python3 with venv support;
#   - a Python virtualenv at <repo>/.venv with e2e/requirements.txt
#     (django-oauth-toolkit, the mcp SDK, selenium, ...).
# Idempotent and fast on re-runs: apt runs only when a package is missing, pip
# only when e2e/requirements.txt or the interpreter changed (a stamp file in
# .venv holds their hash).
set -euo pipefail
cd "$(dirname "$0")/.."

say() { echo "[install-deps] $*"; }

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }

# --- Debian packages --------------------------------------------------------
apt_packages=(mmdebstrap binutils glewlwyd lemonldap-ng libgd-securityimage-perl libimage-magick-perl libstring-random-perl libplack-perl
              chromium chromium-driver sqlite3 postgresql curl ca-certificates python3)
# Debian's python3 has no ensurepip without python3-venv; another python3
# (pyenv, a container's own build) may have it already.
if ! command -v python3 >/dev/null 2>&1 || ! python3 -c "import ensurepip, venv" >/dev/null 2>&1; then
  apt_packages+=(python3-venv)
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
say "done"
