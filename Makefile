# docexit: every set-up step a fresh machine needs lives here (CI runs `make test` in a new clone).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
WORKERS ?= 2
# Default corpus: 500 pages per class (8,000 pages; 400 train, 50 val, 50 test per class).
CORPUS ?= data/synth
CORPUS_PER_CLASS ?= 500
SEED ?= 0
# The shipped checkpoint's recipe: corpus v2 plus real pages (configs/corpus2.toml).
CONFIG ?= configs/corpus2.toml
RUN ?= runs/corpus2
CHECKPOINT ?= models/checkpoints/default
CORPUS2 ?= data/corpus2
CORPUS2_PER_CLASS ?= 150

# Debian packages: OCR, Redis (the service tests start their own), and the fonts the page
# generator draws with (hand-like ones included).
SYS_PKGS := tesseract-ocr tesseract-ocr-eng redis-server \
	fonts-dejavu-core fonts-dejavu-extra fonts-liberation fonts-freefont-ttf fonts-urw-base35 \
	fonts-crosextra-carlito fonts-crosextra-caladea fonts-linuxlibertine fonts-ebgaramond \
	fonts-cantarell fonts-roboto-unhinted fonts-open-sans fonts-lato fonts-noto-mono \
	fonts-breip fonts-dkg-handwriting fonts-femkeklaver fonts-rufscript fonts-sjfonts \
	fonts-humor-sans fonts-comic-neue
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: certify certify-data certify-splits
.PHONY: help sysdeps venv test test-paddle lint typecheck unit corpus corpus2 probe ocr-corpus contact-sheet realtrain realval prose bench-synth \
	bench loadtest soak \
	train checkpoint evaluate serve clean

help:
	@echo "make serve          run the service on $(HOST):$(PORT) with $(CHECKPOINT)"
	@echo "make test           lint, type-check and run the test suite (installs what it needs)"
	@echo "make test-paddle    install the paddle extra and run the OCR-engine tests through paddleocr"
	@echo "make corpus         generate the PIL generator's corpus into $(CORPUS)"
	@echo "make corpus2        generate corpus v2 (document engines) into $(CORPUS2)"
	@echo "make probe          text-only probe: corpus v2 words scored on data/realval"
	@echo "make ocr-corpus     run tesseract over the corpus splits (stored beside each page)"
	@echo "make contact-sheet  draw docs/contact_sheet.png"
	@echo "make realtrain      build the real training pages data/realtrain (+ held-out data/realcal)"
	@echo "make realval        rebuild the real-document validation folder data/realval"
	@echo "make outofscope     rebuild the out-of-scope pages data/outofscope (abstention is measured on them)"
	@echo "make ood-eval       measure abstention at the answering exit (reports/ood) and record it in the card"
	@echo "make bench-synth    measure generator pages/s with $(WORKERS) workers"
	@echo "make train          train the multi-exit model ($(CONFIG) -> $(RUN))"
	@echo "make checkpoint     calibrate and add operating points: $(RUN) -> $(CHECKPOINT)"
	@echo "make certify        certify operating points (ε=$(EPSILON), δ=$(DELTA)) on $(CERTIFY_DATA), into the card"
	@echo "make certify-splits the guarantee checked on 200 calibration/test splits: reports/certify"
	@echo "make evaluate       real early-exit evaluation on the synthetic test split and data/realval"
	@echo "make evaluate-documents  whole documents: fit the page pool on data/realval, read them live"
	@echo "make bench          adaptive exits vs full depth vs a plain pipeline: report + plots in $(BENCH_OUT) (~18 min)"
	@echo "make bench-gpu      the encoder on a GPU: throughput by batch size, arrival rates (reports/gpu)"
	@echo "make soak           20 min of steady load on one process: no errors, RSS growth <= 5% (report in $(SOAK_OUT))"
	@echo "make loadtest       headless locust ($(LOCUST_SCENARIO), $(LOCUST_DURATION) s) against the service on $(HOST):$(PORT)"

# Installs only what is missing, so it is cheap on a prepared machine.
sysdeps:
	@missing=$$(for p in $(SYS_PKGS); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "installing Debian packages:" $$missing; \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

# Tools only the tests use: prometheus and promtool (tests/deploy run the real ones) and
# docker-compose (parses docker-compose.yml where the docker client has no compose plugin).
# Not in SYS_PKGS, which the image installs too (Dockerfile: `make sysdeps`).
TEST_SYS_PKGS := prometheus docker-compose chromium curl
.PHONY: sysdeps-test sysdeps-corpus k8s-generate
sysdeps-test:
	@$(MAKE) --no-print-directory sysdeps SYS_PKGS="$(TEST_SYS_PKGS)"
unit: sysdeps-test

# The document engines of corpus v2 (models/data/engines) and what WeasyPrint loads; the tests
# render a page through each. Not in the image, which serves and never renders.
# libgl1: augraphy's OpenCV (opencv-python, not the headless build) links it.
CORPUS_SYS_PKGS := libreoffice-writer-nogui libreoffice-calc-nogui gnumeric \
	libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 libgl1 libglib2.0-0
sysdeps-corpus:
	@$(MAKE) --no-print-directory sysdeps SYS_PKGS="$(CORPUS_SYS_PKGS)"
unit: sysdeps-corpus

# deploy/k8s/base copies the Prometheus rules and the Grafana dashboards (kustomize reads no
# file outside its folder): regenerate after editing those; tests/deploy fail while stale.
k8s-generate: venv
	$(PY) deploy/k8s/generate.py

# Every venv installs a lock (requirements/*.txt: exact versions with hashes), then the project
# itself without dependencies. A venv is rebuilt from scratch when its lock changes, so nothing
# from an older lock lingers. `make lock` writes the locks (see below).
LOCK := requirements/dev.txt
venv: $(VENV)/.installed

$(VENV)/.installed: $(LOCK) pyproject.toml
	@$(MAKE) --no-print-directory locked-venv DIR=$(VENV) LOCKFILE=$(LOCK)

# DIR: the venv; LOCKFILE: what it installs.
.PHONY: locked-venv
locked-venv:
	rm -rf $(DIR) && $(PYTHON) -m venv $(DIR)
	$(DIR)/bin/python -m pip install -q --require-hashes -r $(LOCKFILE)
	$(DIR)/bin/python -m pip install -q --no-deps --no-build-isolation -e .
	$(DIR)/bin/python -m pip check
	touch $(DIR)/.installed

# The locks, one per install path, all for CPython 3.11 on x86-64 Linux:
#   dev.txt          make serve, make test, make bench, make corpus2, make train, CI (dev, bench,
#                    corpus, train extras)
#   runtime-cpu.txt  the CPU image; runtime-cuda.txt the CUDA image (PyPI's CUDA build of torch)
#   paddle.txt       make test-paddle (its own venv: paddlex pins versions the others don't use)
#   rapidocr.txt     the rapidocr OCR engine; uv.txt  the resolver `make lock` runs
# Run `make lock` after changing a dependency in pyproject.toml or requirements/*.in, or to take
# newer releases on purpose (LOCK_UPGRADE= keeps the current pins where they still fit); then
# `make test`, and re-check the shipped checkpoint (tests/models/test_library_versions.py says
# when the card's recorded library versions differ). The CPU build of torch is not on PyPI:
# TORCH_CPU_SOURCE points uv at it (elsewhere: --extra-index-url https://download.pytorch.org/whl/cpu).
TORCH_CPU_SOURCE ?= --find-links /opt/wheels
LOCK_UPGRADE ?= --upgrade
LOCK_TOOLS := build/lock
UV := $(LOCK_TOOLS)/venv/bin/uv
UV_COMPILE = $(UV) pip compile --quiet --generate-hashes $(LOCK_UPGRADE) \
	--python-version 3.11 --python-platform x86_64-manylinux_2_28 --custom-compile-command 'make lock'
.PHONY: lock
lock:
	test -x $(UV) || ($(PYTHON) -m venv $(LOCK_TOOLS)/venv \
		&& $(LOCK_TOOLS)/venv/bin/pip install -q --require-hashes -r requirements/uv.txt)
	$(UV_COMPILE) requirements/uv.in -o requirements/uv.txt
	$(UV_COMPILE) $(TORCH_CPU_SOURCE) pyproject.toml --extra dev --extra bench --extra corpus --extra train \
		requirements/build.in requirements/torch-cpu.in -o requirements/dev.txt
	$(UV_COMPILE) $(TORCH_CPU_SOURCE) pyproject.toml requirements/build.in requirements/torch-cpu.in \
		-c requirements/dev.txt -o requirements/runtime-cpu.txt
	$(UV_COMPILE) $(TORCH_CPU_SOURCE) pyproject.toml --extra rapidocr \
		requirements/build.in requirements/torch-cpu.in -c requirements/dev.txt -o requirements/rapidocr.txt
	$(UV_COMPILE) $(TORCH_CPU_SOURCE) pyproject.toml --extra dev --extra paddle \
		requirements/build.in requirements/torch-cpu.in -o requirements/paddle.txt
	@# The CUDA image: the CPU image's versions, except torch and what its CUDA build brings.
	grep -E '^[A-Za-z0-9._-]+==' requirements/runtime-cpu.txt | sed 's/ *\\$$//' \
		| grep -v '^torch==' > $(LOCK_TOOLS)/cuda-constraints.txt
	$(UV_COMPILE) pyproject.toml requirements/build.in requirements/torch-cuda.in \
		-c $(LOCK_TOOLS)/cuda-constraints.txt -o requirements/runtime-cuda.txt

lint: venv
	$(VENV)/bin/ruff check docexit models service tools loadtests tests
	$(VENV)/bin/ruff format --check docexit models service tools loadtests tests

typecheck: venv
	$(VENV)/bin/mypy docexit models service tools loadtests

unit: sysdeps venv
	$(VENV)/bin/pytest -q --durations=15 tests

test: lint typecheck unit

# paddleocr for real, offline: the `paddle` extra, PP-OCR model folders built from the ONNX models
# rapidocr ships, and the OCR-engine tests with paddleocr and rapidocr required (fail, not skip).
PADDLE_MODELS ?= build/paddle-models
PADDLE_VENV := .venv-paddle
$(PADDLE_VENV)/.installed: requirements/paddle.txt pyproject.toml
	@$(MAKE) --no-print-directory locked-venv DIR=$(PADDLE_VENV) LOCKFILE=requirements/paddle.txt
test-paddle: sysdeps $(PADDLE_VENV)/.installed
	$(PADDLE_VENV)/bin/python -m tools.paddle_models --out $(PADDLE_MODELS)
	DOCEXIT_PADDLE_DET_DIR=$(PADDLE_MODELS)/det DOCEXIT_PADDLE_REC_DIR=$(PADDLE_MODELS)/rec \
	PADDLE_PDX_DISABLE_MODEL_SOURCE_CHECK=True DOCEXIT_REQUIRE_OCR_ENGINES=paddleocr,rapidocr \
	$(PADDLE_VENV)/bin/pytest -q tests/service/test_ocr_engines.py

corpus: sysdeps venv
	$(PY) -m models.data.synth --out $(CORPUS) --per-class $(CORPUS_PER_CLASS) --seed $(SEED) --workers $(WORKERS)

# Corpus v2 (models.data.corpus): our templates laid out by WeasyPrint, LibreOffice and Calc or
# Gnumeric beside the PIL generator, half of the engine pages scanned through augraphy.
corpus2: sysdeps sysdeps-corpus venv
	$(PY) -m models.data.corpus --out $(CORPUS2) --per-class $(CORPUS2_PER_CLASS) --seed $(SEED) --workers $(WORKERS)

# Text-only probe (models.probe): how far a corpus' words carry to the real validation pages.
probe: venv
	$(PY) -m models.probe --train $(CORPUS2)/train --eval data/realval

ocr-corpus: sysdeps venv
	for split in train val test; do $(PY) -m models.data.ocr --data $(CORPUS)/$$split --workers $(WORKERS) || exit 1; done

contact-sheet: sysdeps venv
	$(PY) -m models.data.contact_sheet --out docs/contact_sheet.png

# Real training pages (models/data/realtrain_sources.json), OCR'd as the service reads pages.
# Every 4th document per class goes to data/realcal instead: real pages for calibration and
# operating points that training never sees.
realtrain: sysdeps venv
	@$(MAKE) --no-print-directory sysdeps SYS_PKGS="ghostscript npm"
	$(PY) -m models.data.realdocs --sources models/data/realtrain_sources.json \
		--out data/realtrain --hold-out data/realcal
	$(PY) -m models.data.ocr --data data/realtrain --workers $(WORKERS)
	$(PY) -m models.data.ocr --data data/realcal --workers $(WORKERS)

# PostScript papers go through ghostscript; npm fetches the pool's npm sources (--hash-only).
realval: sysdeps venv
	@$(MAKE) --no-print-directory sysdeps SYS_PKGS="ghostscript npm"
	$(PY) -m models.data.realdocs --out data/realval

# data/prose/passages.jsonl from installed Debian documentation (models/data/prose_build.py).
prose: venv
	$(PY) -m models.data.prose_build

bench-synth: sysdeps venv
	rm -rf /tmp/docexit-bench-synth
	$(PY) -m models.data.synth --out /tmp/docexit-bench-synth --per-class 40 --seed 1 --workers $(WORKERS)
	rm -rf /tmp/docexit-bench-synth

# The recipe's data is made first where it is missing: corpus v2 and the real pages.
train: sysdeps venv
	test -f $(CORPUS2)/corpus.json || $(MAKE) --no-print-directory corpus2
	test -f data/realtrain/manifest.json || $(MAKE) --no-print-directory realtrain
	$(PY) -m models.train --config $(CONFIG) --out $(RUN)

# Temperatures and operating points come from CALIBRATION: one or more folders of class folders
# (rendered pages and real ones training never saw).
CALIBRATION ?= $(CORPUS2)/val data/realcal
checkpoint: sysdeps venv
	for folder in $(CALIBRATION); do \
		$(PY) -m models.data.ocr --data $$folder --workers $(WORKERS) || exit 1; \
		$(PY) -m models.data.ocr --data $$folder --band 0.35 --workers $(WORKERS) || exit 1; \
	done
	$(PY) -m models.export --run $(RUN) --data $(CALIBRATION) --out $(CHECKPOINT)
	$(PY) -m models.operating_points --checkpoint $(CHECKPOINT) --data $(CALIBRATION)
	$(MAKE) --no-print-directory certify

# Certified operating points (models.certify) on pages the threshold search never saw: generator
# seed 31 (training used 0, the benchmark 20260), OCR'd whole and as the cascade reads them; the
# testing order comes from CALIBRATION. certify-splits checks the guarantee on 200 random splits.
CERTIFY_DATA ?= data/certify
CERTIFY_FOLDERS = $(CERTIFY_DATA)/train $(CERTIFY_DATA)/val $(CERTIFY_DATA)/test
EPSILON ?= 0.01
DELTA ?= 0.1
certify-data: sysdeps sysdeps-corpus venv
	test -f $(CERTIFY_DATA)/corpus.json || $(PY) -m models.data.corpus --out $(CERTIFY_DATA) \
		--per-class 64 --seed 31 --ratios 1 0 0 --workers $(WORKERS)
	for folder in $(CERTIFY_FOLDERS); do \
		$(PY) -m models.data.ocr --data $$folder --workers $(WORKERS) || exit 1; \
		$(PY) -m models.data.ocr --data $$folder --band 0.35 --workers $(WORKERS) || exit 1; \
	done

certify: certify-data
	$(PY) -m models.certify --checkpoint $(CHECKPOINT) --order-data $(CALIBRATION) \
		--data $(CERTIFY_FOLDERS) --epsilon $(EPSILON) --delta $(DELTA)

certify-splits: certify-data
	$(PY) -m models.certify_splits --checkpoint $(CHECKPOINT) --order-data $(CALIBRATION) \
		--data $(CERTIFY_FOLDERS) --epsilon $(EPSILON) --delta $(DELTA) --out reports/certify

evaluate: sysdeps venv
	$(PY) -m models.evaluate --checkpoint $(CHECKPOINT) --data $(CORPUS2)/test --json
	$(PY) -m models.evaluate --checkpoint $(CHECKPOINT) --data data/realval --json

# Field extraction (issue 19): the multi-exit decoder on the frozen classifier, trained on the PIL
# generator's pages (the only ones that record their fields), then measured at full depth, with
# step-confidence exits and with MuE's decaying threshold (reports/extract).
EXTRACT_CORPUS ?= data/synth
EXTRACT_PER_CLASS ?= 250
EXTRACT_RUN ?= build/extract
.PHONY: train-extract evaluate-extract ship-extract
train-extract: venv
	test -f $(EXTRACT_CORPUS)/corpus.json || $(PY) -m models.data.synth --out $(EXTRACT_CORPUS) \
		--per-class $(EXTRACT_PER_CLASS) --seed $(SEED) --workers $(WORKERS)
	$(PY) -m models.train_extract --corpus $(EXTRACT_CORPUS) --checkpoint $(CHECKPOINT) \
		--out $(EXTRACT_RUN)

# Whole documents: the multi-page documents of data/realval read live (every page, then the
# fitted pool); the pool goes into the card. Reuses reports/documents/pages.json when present.
.PHONY: evaluate-documents
evaluate-documents: venv sysdeps
	$(PY) -m tools.document_eval --write-card

evaluate-extract: venv
	$(PY) -m models.evaluate_extract --run $(EXTRACT_RUN) --corpus $(EXTRACT_CORPUS) \
		--checkpoint $(CHECKPOINT) --out reports/extract

# Puts the measured decoder into the checkpoint (its card gets the policy and the metrics).
ship-extract: venv
	$(PY) -m models.decoder_checkpoint --run $(EXTRACT_RUN) --results reports/extract/results.json \
		--checkpoint $(CHECKPOINT)

# Out-of-scope pages (models.data.outofscope): files of Debian packages and locked wheels,
# abcm2ps for the sheet music, ghostscript for its PostScript. ood-eval measures abstention
# (models.ood_eval: reports/ood) and records the chosen score and threshold in the card.
.PHONY: outofscope ood-eval ood-negatives
outofscope: sysdeps venv
	@$(MAKE) --no-print-directory sysdeps SYS_PKGS="ghostscript abcm2ps"
	$(PY) -m models.data.outofscope --out data/outofscope

ood-eval: sysdeps venv ood-negatives
	$(PY) -m models.ood_eval --checkpoint $(CHECKPOINT) --threshold-data $(CALIBRATION) \
		--workers $(WORKERS) --write-card

# Out-of-scope pages the abstention's statistics are fit on (the contrast score): code printouts
# from wheels of the lock, packages data/outofscope takes nothing from.
ood-negatives: sysdeps venv
	$(PY) -m models.data.outofscope --out data/ood_negatives \
		--sources models/data/ood_negatives_sources.json

# One process by default; SERVE_WORKERS=N runs N uvicorn workers sharing metrics through
# PROMETHEUS_MULTIPROC_DIR (emptied first: stale files would add old counts). The variable is
# set only then: prometheus-client switches to multiprocess mode when it exists, even empty.
SERVE_WORKERS ?= 1
serve: sysdeps venv
	rm -rf /tmp/docexit-metrics && mkdir -p /tmp/docexit-metrics
	env $$([ "$(SERVE_WORKERS)" -gt 1 ] && echo PROMETHEUS_MULTIPROC_DIR=/tmp/docexit-metrics) \
	DOCEXIT_CHECKPOINT=$${DOCEXIT_CHECKPOINT:-$(CHECKPOINT)} HOST=$(HOST) PORT=$(PORT) \
	UVICORN_WORKERS=$(SERVE_WORKERS) $(PY) -m service

# One side-by-side run (loadtests/bench.py): docexit's default policy (a), the same service at
# full depth (b) and a plain transformers pipeline (c, loadtests/baseline_app.py), on the same
# generated pages and the same Tesseract, interleaved; then a budget sweep, the card's policies
# live and overload at 2x and 3x saturation. BENCH_MINUTES is the measurement plan; page
# generation and server start-up come on top (about a minute on 2 cores).
BENCH_OUT ?= reports/bench
BENCH_MINUTES ?= 12
BENCH_PER_CLASS ?= 16
bench: sysdeps venv
	$(PY) -m loadtests.bench --out $(BENCH_OUT) --minutes $(BENCH_MINUTES) --per-class $(BENCH_PER_CLASS)

# The encoder on a GPU (loadtests.gpu_bench: reports/gpu), pages with their own words; without
# a GPU it says so and stops (status 2). Under 8 minutes on one GPU.
.PHONY: bench-gpu
bench-gpu: venv
	$(PY) -m loadtests.gpu_bench --out reports/gpu

# Locust scenarios (loadtests/locustfile.py) against a running service (`make serve`); set
# DOCEXIT_ADMIN_TOKEN to the service's for the operator changing the budget mid-run.
LOCUST_SCENARIO ?= steady
LOCUST_DURATION ?= 60
LOCUST_USERS ?= 4
# Soak (not part of `make test`): 20 minutes of steady load on one process; fails when any
# request fails or resident memory grows more than 5% after the warm-up.
SOAK_OUT ?= reports/soak
SOAK_MINUTES ?= 20
soak: sysdeps venv
	$(PY) -m loadtests.soak --out $(SOAK_OUT) --minutes $(SOAK_MINUTES)

loadtest: venv
	LOCUST_SCENARIO=$(LOCUST_SCENARIO) LOCUST_DURATION=$(LOCUST_DURATION) LOCUST_USERS=$(LOCUST_USERS) \
	$(VENV)/bin/locust -f loadtests/locustfile.py --headless --host http://$(HOST):$(PORT) --only-summary

clean:
	rm -rf $(VENV) $(PADDLE_VENV) .pytest_cache .mypy_cache .ruff_cache
