#!/usr/bin/env bash
# Installs what tests/test_web_browser.py needs, idempotently and quietly: Debian's chromium, CJK
# fonts (Chinese pages and screenshots), and the playwright Python package (it drives the system
# chromium through executable_path; Playwright's own browser download is never used).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN="${VENV:-.venv}/bin"
SUDO=""
if [ "$(id -u)" != "0" ] && command -v sudo >/dev/null 2>&1; then SUDO="sudo"; fi

missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
dpkg -s fonts-noto-cjk >/dev/null 2>&1 || missing+=(fonts-noto-cjk)
if [ "${#missing[@]}" -gt 0 ]; then
  echo "browser.sh: installing ${missing[*]}"
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
if [ -x "$BIN/python" ] && ! "$BIN/python" -c "import playwright.sync_api" 2>/dev/null; then
  echo "browser.sh: installing playwright (Python package only)"
  "$BIN/python" -m pip install -q "playwright>=1.40"
fi
echo "browser.sh: $(chromium --version 2>/dev/null | head -1)"
