#!/usr/bin/env bash
# Prints the path of a Chromium for headless rendering (the readout browser test uses it), installing Debian's
# `chromium` package with apt-get when /usr/bin/chromium is missing. Idempotent; prints nothing else on success, and
# the installer's output only when it fails.
set -euo pipefail
bin=/usr/bin/chromium

if [ ! -x "$bin" ]; then
  sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || { echo "chromium.sh: $bin is missing and installing it needs root (or sudo)" >&2; exit 1; }
    sudo=(sudo -n)
  fi
  log="$(mktemp)"
  trap 'rm -f "$log"' EXIT
  if ! { "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq \
         && "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; } >"$log" 2>&1; then
    echo "chromium.sh: installing Debian's chromium package failed:" >&2
    cat "$log" >&2
    exit 1
  fi
  [ -x "$bin" ] || { echo "chromium.sh: installed the chromium package but $bin is still missing" >&2; exit 1; }
fi

echo "$bin"
