#!/usr/bin/env bash
# Installs what the demo and the tests need on a fresh Debian 12 machine,
# as root: Debian packages (glewlwyd, Chromium and its driver) and a Python
# virtualenv at .venv with e2e/requirements.txt. Re-runs skip what is done.
set -euo pipefail
cd "$(dirname "$0")/.."

apt_packages=(glewlwyd chromium chromium-driver postgresql sqlite3 curl)
missing=()
for p in "${apt_packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "[install] apt: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # glewlwyd's own service cannot start in a container; the tests run a private instance.
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  service glewlwyd stop >/dev/null 2>&1 || true
else
  echo "[install] apt packages present"
fi

stamp=".venv/.requirements.sha256"
want=$(sha256sum e2e/requirements.txt | cut -d' ' -f1)
if [ ! -x .venv/bin/python ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "[install] python venv .venv with e2e/requirements.txt"
  python3 -m venv .venv
  .venv/bin/pip install -q --upgrade pip >/dev/null
  .venv/bin/pip install -q -r e2e/requirements.txt
  echo "$want" > "$stamp"
else
  echo "[install] python venv up to date"
fi
