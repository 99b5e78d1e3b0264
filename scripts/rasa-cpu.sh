#!/usr/bin/env bash
# Rasa CPU time per message for one or more models: scripts/rasa-cpu.sh var/models/banshi.tar.gz [other.tar.gz …]
# A real action server (free port, its own seeded store), as in scripts/bot-test.sh.
# RASA_CPU_N questions (100); RASA_CPU_STOCK=1: Rasa without ops/rasa_server.py's validator;
# RASA_CPU_SQL=1: Rasa's SQL tracker store on the seeded database (as the supervisor runs it).
set -euo pipefail
cd "$(dirname "$0")/.."
export PYTHONPATH=$PWD
tmp=$(mktemp -d)
export DATA_DIR=$tmp DATABASE_URL="sqlite:///$tmp/rasa-cpu.db" AGENT_HOURS="00:00-24:00"
[ -f var/embeddings.sqlite ] && cp var/embeddings.sqlite "$tmp/"
port=$(.venv/bin/python -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
.venv/bin/python -m knowledge seed >/dev/null
# the action server as the supervisor starts it (one OpenMP thread)
SANIC_HOST=127.0.0.1 BANSHI_WARM=1 OMP_NUM_THREADS=1 .venv/bin/python -m rasa_sdk --actions actions --port "$port" >"$tmp/actions.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$tmp"' EXIT
for _ in $(seq 1200); do
  curl -sf "http://127.0.0.1:$port/health" >/dev/null && break
  kill -0 $pid 2>/dev/null || { cat "$tmp/actions.log"; exit 1; }
  sleep 0.5
done
models=()
flags=()
[ "${RASA_CPU_STOCK:-}" = 1 ] && flags+=(--stock)
[ "${RASA_CPU_SQL:-}" = 1 ] && flags+=(--sql-tracker "$tmp/rasa-cpu.db")
for m in "$@"; do models+=("$(realpath "$m")"); done
cd bot && ../.venv-rasa/bin/python ../scripts/rasa_cpu.py "${models[@]}" --action-url "http://127.0.0.1:$port/webhook" \
  --questions ../knowledge/eval/dev.jsonl -n "${RASA_CPU_N:-100}" --action-pid "$pid" ${flags[@]+"${flags[@]}"}
