#!/usr/bin/env bash
# Regenerate the lock files from the top-level requirements, with the sha256 of every file pip may
# install (pip-compile --generate-hashes, pip-tools):
#   requirements/app.in  → requirements/app.lock   (Python 3.11, .venv)
#   requirements/rasa.in → requirements/rasa.lock  (Python 3.10, .venv-rasa)
# A version already in a lock is kept (pip-compile prefers it); UPGRADE=1 re-pins everything to the
# newest allowed, UPGRADE_PACKAGE=name upgrades one package. scripts/setup.sh installs the locks, and pip
# checks every hash (a lock with hashes puts pip in --require-hashes mode).
#
# pip-tools runs in its own venvs under var/lock-tools (never in .venv or .venv-rasa), each on the
# Python its lock is for: the resolution and the wheels chosen depend on the interpreter.
#
# torch: these machines keep the CPU wheel torch-2.13.0+cpu in the pip find-links directory
# (/opt/wheels, pip config); the index has only the multi-GB CUDA build of 2.13.0. The resolution
# picks the local CPU wheel (2.13.0+cpu sorts after 2.13.0), so the lock carries that file's hash
# only; the pin is written without the local label (torch==2.13.0, as requirements/app.in has it). An
# install that would fetch the CUDA build instead stops at the hash check: it never installs it.
set -euo pipefail
cd "$(dirname "$0")/.."

PIP_VERSION=26.3
PIP_TOOLS_VERSION=7.6.2
TOOLS=${LOCK_TOOLS_DIR:-var/lock-tools}

tool_venv() {  # dir python: a venv with pip-tools, created once
  local dir=$1 python=$2
  if [ ! -x "$dir/bin/pip-compile" ]; then
    echo "==> pip-tools $PIP_TOOLS_VERSION in $dir ($("$python" --version))"
    "$python" -m venv "$dir"
    "$dir/bin/python" -m pip install -q "pip==$PIP_VERSION"
    "$dir/bin/python" -m pip install -q "pip-tools==$PIP_TOOLS_VERSION"
  fi
}

compile() {  # venv in out
  local upgrade=()
  [ -n "${UPGRADE:-}" ] && upgrade+=(--upgrade)
  [ -n "${UPGRADE_PACKAGE:-}" ] && upgrade+=(--upgrade-package "$UPGRADE_PACKAGE")
  echo "==> $3 from $2"
  CUSTOM_COMPILE_COMMAND="make lock" "$1/bin/pip-compile" --quiet --generate-hashes --allow-unsafe \
    --strip-extras --no-emit-index-url --no-emit-find-links "${upgrade[@]}" --output-file "$3" "$2"
}

PY311=python3
"$PY311" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' ||
  { echo "requirements/app.lock is for Python 3.11; python3 is $("$PY311" --version)" >&2; exit 1; }
PY310=$(scripts/find-python310.sh)

tool_venv "$TOOLS/py311" "$PY311"
tool_venv "$TOOLS/py310" "$PY310"

compile "$TOOLS/py311" requirements/app.in requirements/app.lock
if ! grep -q '^torch==[0-9.]*+cpu ' requirements/app.lock || grep -q '^nvidia-' requirements/app.lock; then
  echo "requirements/app.lock: torch did not resolve to the CPU wheel of the pip find-links directory" \
    "(see the top of scripts/lock.sh); git checkout requirements/app.lock to undo" >&2
  exit 1
fi
sed -i -E 's/^torch==([0-9.]+)\+cpu /torch==\1 /' requirements/app.lock
compile "$TOOLS/py310" requirements/rasa.in requirements/rasa.lock
