#!/usr/bin/env bash
# Create or update both environments from their lock files. Idempotent and fast when up to date:
# each venv remembers the hash of the lock it was installed from. The locks pin every package with the
# sha256 of its files (make lock, scripts/lock.sh): pip installs nothing whose hash is not listed.
set -euo pipefail
cd "$(dirname "$0")/.."

lock_hash() { sha256sum "$1" | cut -c1-16; }

ensure_venv() {  # name python lockfile
  local venv=$1 python=$2 lock=$3
  local stamp="$venv/.lock-hash" want
  want=$(lock_hash "$lock")
  if [ -x "$venv/bin/python" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
    return 0
  fi
  echo "==> setting up $venv from $lock"
  [ -x "$venv/bin/python" ] || "$python" -m venv "$venv"
  "$venv/bin/python" -m pip install -q --upgrade pip
  "$venv/bin/python" -m pip install -q --require-hashes -r "$lock"
  echo "$want" > "$stamp"
}

PY310=$(scripts/find-python310.sh)
# torch is pinned to the CPU wheel by its hash in app.lock (pip finds that wheel in the find-links
# directory of the pip config, /opt/wheels); the multi-GB CUDA build of the index fails the hash check
# instead of being installed (scripts/lock.sh explains).
ensure_venv .venv python3 requirements/app.lock
ensure_venv .venv-rasa "$PY310" requirements/rasa.lock

# Front-end tool packages (Biome for make lint, esbuild for the widget bundle, axe-core for the
# accessibility check of the browser tests), from the npm registry, pinned by package-lock.json;
# skipped when up to date.
if [ -f package-lock.json ]; then
  want=$(lock_hash package-lock.json)
  if [ "$(cat node_modules/.lock-hash 2>/dev/null)" != "$want" ]; then
    command -v npm >/dev/null 2>&1 || { echo "npm is missing: install Node.js and npm (Debian: apt-get install npm)" >&2; exit 1; }
    echo "==> installing front-end tool packages (npm ci)"
    npm ci --no-audit --no-fund --silent
    echo "$want" > node_modules/.lock-hash
  fi
fi
