#!/usr/bin/env bash
# Print the path of a working Python 3.10 for Rasa 3.6: $RASA_PYTHON, then python3.10 on PATH,
# then pyenv's versions. Exit 1 with instructions when there is none.
set -u
check() { "$1" -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 10) else 1)' >/dev/null 2>&1; }
if [ -n "${RASA_PYTHON:-}" ]; then
  if check "$RASA_PYTHON"; then echo "$RASA_PYTHON"; exit 0; fi
  echo "RASA_PYTHON=$RASA_PYTHON is not a working Python 3.10." >&2; exit 1
fi
if command -v python3.10 >/dev/null 2>&1 && check python3.10; then
  python3.10 -c 'import sys; print(sys.executable)'; exit 0
fi
root="${PYENV_ROOT:-$(pyenv root 2>/dev/null || echo "$HOME/.pyenv")}"
for py in "$root"/versions/3.10*/bin/python3.10 "$root"/versions/3.10*/bin/python; do
  if [ -x "$py" ] && check "$py"; then echo "$py"; exit 0; fi
done
cat >&2 <<'MSG'
No Python 3.10 found. Rasa 3.6 runs on Python 3.8-3.10 only, and this project pins 3.10.
Provide one of:
  - RASA_PYTHON=/path/to/python3.10 make run
  - a python3.10 on PATH        (Debian/Ubuntu: apt-get install python3.10 python3.10-venv)
  - pyenv install 3.10.13       (found automatically under $(pyenv root)/versions)
MSG
exit 1
