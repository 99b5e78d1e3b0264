#!/usr/bin/env bash
# Create or update both environments from their lock files. Idempotent and fast when up to date:
# each venv remembers the hash of the lock it was installed from.
set -euo pipefail
cd "$(dirname "$0")/.."

lock_hash() { sha256sum "$1" | cut -c1-16; }

ensure_venv() {  # name python lockfile [pre-install args...]
  local venv=$1 python=$2 lock=$3; shift 3
  local stamp="$venv/.lock-hash" want
  want=$(lock_hash "$lock")
  if [ -x "$venv/bin/python" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
    return 0
  fi
  echo "==> setting up $venv from $lock"
  [ -x "$venv/bin/python" ] || "$python" -m venv "$venv"
  "$venv/bin/python" -m pip install -q --upgrade pip
  if [ $# -gt 0 ]; then "$venv/bin/python" -m pip install -q "$@"; fi
  "$venv/bin/python" -m pip install -q -r "$lock"
  echo "$want" > "$stamp"
}

PY310=$(scripts/find-python310.sh)
# torch first and pinned: the CPU wheel; letting pip choose pulls a multi-GB CUDA build.
ensure_venv .venv python3 requirements/app.lock torch==2.13.0
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
