#!/usr/bin/env bash
# Conversation tests: a real action server (on a free port, with its own seeded store) and
# `rasa test --fail-on-prediction-errors` on bot/tests/.
set -euo pipefail
cd "$(dirname "$0")/.."
export PYTHONPATH=$PWD
tmp=$(mktemp -d)
export DATA_DIR=$tmp DATABASE_URL="sqlite:///$tmp/bot-test.db" AGENT_HOURS="00:00-24:00"
port=$(.venv/bin/python -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
.venv/bin/python -m knowledge seed >/dev/null
SANIC_HOST=127.0.0.1 BANSHI_WARM=1 .venv/bin/python -m rasa_sdk --actions actions --port "$port" >"$tmp/actions.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$tmp"' EXIT
for _ in $(seq 120); do
  curl -sf "http://127.0.0.1:$port/health" >/dev/null && break
  kill -0 $pid 2>/dev/null || { cat "$tmp/actions.log"; exit 1; }
  sleep 0.5
done
mkdir -p reports
cd bot
# Rasa as the supervisor runs it (ops/rasa_server.py)
ACTION_SERVER_URL="http://127.0.0.1:$port/webhook" ../.venv-rasa/bin/python -m ops.rasa_server test core \
  --stories tests/ --model "${MODEL:-../var/models/banshi.tar.gz}" --endpoints endpoints.yml \
  --e2e --fail-on-prediction-errors --out ../reports/rasa-test
