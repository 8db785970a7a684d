# TA-mobile-ingress: set-up, lint, build, package and release checks.
# `make test` runs everything CI runs; `make help` lists the targets.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-builtin-rules
# Prerequisites run left to right, once each per invocation: `test` relies on that order.
.NOTPARALLEL:

PYTHON ?= python3
APP := TA-mobile-ingress
# One version for everything: pyproject's [project] version (tests/package checks that app.manifest,
# app.conf and globalConfig.json agree with it).
VERSION := $(shell sed -n 's/^version *= *"\([^"]*\)".*/\1/p' pyproject.toml | head -n 1)

VENV := .venv
TOOLS_VENV := .venv-tools
# pytest-splunk-addon 6.4 pins old pytest: its own venv, read by tests/normalize (data models, test generation).
PSA_VENV := .venv-psa
OUT := output
APP_DIR := $(OUT)/$(APP)
DIST := dist
PKG := $(DIST)/$(APP)-$(VERSION).tar.gz
INSPECT_REPORT := $(DIST)/$(APP)-$(VERSION).appinspect.json
# pip 26 breaks `ucc-gen build` (see shared notes): ucc-gen installs package/lib with this pip.
UCC_PIP_VERSION := 25.3

# Re-runs are fast: each venv carries a stamp named after the hash of the files that define it, so
# `make setup` reinstalls only when one of them changed (or the venv is gone).
DEV_HASH := $(shell cat pyproject.toml tools/requirements-build.txt | sha256sum | cut -c1-16)
TOOLS_HASH := $(shell cat tools/requirements-tools.txt | sha256sum | cut -c1-16)
PSA_HASH := $(shell cat tools/requirements-psa.txt | sha256sum | cut -c1-16)
DEV_STAMP := $(VENV)/.setup-$(DEV_HASH)
TOOLS_STAMP := $(TOOLS_VENV)/.setup-$(TOOLS_HASH)
PSA_STAMP := $(PSA_VENV)/.setup-$(PSA_HASH)

# Downloads are cached in the repo's ignored .cache/ so a second cold set-up needs little network.
export PIP_CACHE_DIR := $(CURDIR)/.cache/pip
export PIP_DISABLE_PIP_VERSION_CHECK := 1
export PYTHONDONTWRITEBYTECODE := 1
# slim writes a cache under ~/.config/slim; keep it (and anything else) out of the real home.
SLIM_HOME := $(CURDIR)/.cache/slim-home

PY_SOURCES := src tests tools benchmarks additional_packaging.py package/bin

.PHONY: help setup libmagic test lint lint-src lint-app build package inspect slim-validate \
	pytest icons clean demo render chromium dashboards-toolchain dashboards-build dashboards \
	bench bench-quick test-quick

# The main job on a simulated fleet with a fixed seed: findings as a table, then precision and
# recall against the simulator's ground truth. DEMO_DEVICES/DEMO_HOURS/DEMO_SEED override it.
DEMO_OUT := demo-out
DEMO_DEVICES ?= 120
DEMO_HOURS ?= 6
DEMO_SEED ?= 7

help:
	@echo "make setup    create .venv (package editable + dev extra + ucc-gen) and .venv-tools (AppInspect, slim)"
	@echo "make demo     simulate a fleet (fixed seed), detect, print findings, precision and recall"
	@echo "make bench    benchmarks on 1M and 10M-event fleets (cached in .cache/bench/); docs/performance.md"
	@echo "make bench-quick  the same table on 100k events of each shape (a few minutes, fleets included)"
	@echo "make test     lint, build, package, AppInspect, slim validate, then the whole pytest tree"
	@echo "make lint     ruff (py39), mypy (engine), vermin 3.9+ over src and the app's bin/"
	@echo "make build    ucc-gen build into $(APP_DIR), engine copied into bin/mobile_ingress"
	@echo "make render   detections/*.yml and normalization mappings -> package/default/*.conf, docs/data.md (committed)"
	@echo "make package $(PKG)"
	@echo "make inspect  AppInspect precert, cloud tags; report in $(INSPECT_REPORT)"
	@echo "make slim-validate  slim validate on the package"
	@echo "make pytest   the whole tests/ tree (tests/package reads what package and inspect left)"
	@echo "make test-quick  pytest -m 'not slow' (tests/conftest.py): no build, npm or browser; about a minute"
	@echo "make icons    redraw package/static/*.png (needs network for Pillow once)"
	@echo "make dashboards  render every dashboard with recorded results in headless Chromium -> $(DASH_SHOTS)/*.png"
	@echo "make clean    remove output/, dist/ and tool caches (keeps the venvs and .cache/pip)"

# ---------------------------------------------------------------------------------------- set-up

setup: libmagic $(DEV_STAMP) $(TOOLS_STAMP) $(PSA_STAMP)

# AppInspect loads libmagic through python-magic. Install it only when it is missing, and refresh
# the package lists first only when apt knows no candidate for it (a fresh image has empty lists),
# or when an install from stale lists fails.
LIBMAGIC_SONAME ?= libmagic.so.1
LIBMAGIC_PKG ?= libmagic1
libmagic:
	@if ! ldconfig -p | grep -qF '$(LIBMAGIC_SONAME) '; then \
		if [ "$$(id -u)" != 0 ]; then \
			echo "$(LIBMAGIC_PKG) is missing: run 'apt-get install $(LIBMAGIC_PKG)' as root" >&2; exit 1; \
		fi; \
		export DEBIAN_FRONTEND=noninteractive; \
		if ! apt-cache policy $(LIBMAGIC_PKG) 2>/dev/null | grep -q 'Candidate: [0-9]'; then \
			apt-get update -qq; \
		fi; \
		apt-get install -y -qq $(LIBMAGIC_PKG) </dev/null \
			|| { apt-get update -qq && apt-get install -y -qq $(LIBMAGIC_PKG) </dev/null; }; \
	fi

$(DEV_STAMP):
	rm -f $(VENV)/.setup-*
	[ -x $(VENV)/bin/python ] || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install -q pip==$(UCC_PIP_VERSION)
	$(VENV)/bin/python -m pip install -q -e '.[dev]' -r tools/requirements-build.txt
	touch $@

$(TOOLS_STAMP):
	rm -f $(TOOLS_VENV)/.setup-*
	[ -x $(TOOLS_VENV)/bin/python ] || $(PYTHON) -m venv $(TOOLS_VENV)
	$(TOOLS_VENV)/bin/python -m pip install -q -r tools/requirements-tools.txt
	touch $@

$(PSA_STAMP):
	rm -f $(PSA_VENV)/.setup-*
	[ -x $(PSA_VENV)/bin/python ] || $(PYTHON) -m venv $(PSA_VENV)
	$(PSA_VENV)/bin/python -m pip install -q -r tools/requirements-psa.txt
	touch $@

# ------------------------------------------------------------------------------------------ test

# Order matters: the package tests in tests/package read the built app, the tarball and the
# AppInspect report, so the single pytest run over the whole tree comes last.
test: setup lint package inspect slim-validate pytest

# pytest exits 5 when it collects nothing; that must never pass as a green run. tests/dashboards
# needs the npm toolchain, the built preview page and chromium (installed here when missing).
pytest: setup chromium dashboards-build
	@rc=0; $(VENV)/bin/python -m pytest tests || rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "ERROR: pytest collected no tests (exit 5)" >&2; fi; \
	exit $$rc

# The tests marked slow (tests/conftest.py lists them and says why: the build output, the package,
# npm, the browser, the replay, property tests) are left out; what is left needs only the dev venv.
# A run that collects nothing exits 5, which fails here too. tests/normalize/test_cim reads the CIM
# data models from .venv-psa.
test-quick: $(DEV_STAMP) $(PSA_STAMP)
	$(VENV)/bin/python -m pytest -m "not slow" tests

lint: lint-src lint-app

lint-src: setup
	$(VENV)/bin/ruff check --target-version py39 $(PY_SOURCES)
	$(VENV)/bin/mypy
	MYPYPATH=package/bin $(VENV)/bin/mypy -p mobile_ingress_splunk -p mobile_ingress_inputs
	$(VENV)/bin/vermin -q --no-tips --violations -t=3.9- src additional_packaging.py tools

# What the app ships runs on Splunk's Python 3.9 and 3.13: check the built bin/ (the engine copy and
# UCC's generated handlers). The vendored lib/ is third-party code pinned in package/lib.
lint-app: build
	$(VENV)/bin/vermin -q --no-tips --violations -t=3.9- $(APP_DIR)/bin

# ----------------------------------------------------------------------------------------- build

build: setup
	$(VENV)/bin/python tools/ucc_build.py --app $(APP) --version $(VERSION) --output $(OUT) \
		--python $(CURDIR)/$(VENV)/bin/python --pip-version $(UCC_PIP_VERSION)

# The rendered confs are committed; tests/splunk/test_knowledge_objects.py fails when they are stale.
render: $(DEV_STAMP)
	$(VENV)/bin/python tools/render_normalization.py
	$(VENV)/bin/python tools/render_detections.py

package: build
	mkdir -p $(DIST)
	rm -f $(PKG)
	$(VENV)/bin/ucc-gen package --path $(APP_DIR) -o $(DIST)
	test -s $(PKG)
	@echo "package: $(PKG)"

# With --ci, AppInspect exits 101 (failures), 104 (future failures), 103 (warnings only), 1-3
# (errors, or it could not run) or 0; without --ci it exits 0 whatever it found. Only 0 and 103
# pass here, and the JSON report must also show no failure, future failure or error.
inspect: package
	rm -f $(INSPECT_REPORT)
	@rc=0; $(TOOLS_VENV)/bin/splunk-appinspect inspect $(PKG) --mode precert --included-tags cloud \
		--skip-trusted-libraries-update --data-format json --output-file $(INSPECT_REPORT) --ci \
		> $(DIST)/appinspect.log 2>&1 || rc=$$?; \
	echo "splunk-appinspect exit $$rc (log: $(DIST)/appinspect.log, report: $(INSPECT_REPORT))"; \
	if [ $$rc -ne 0 ] && [ $$rc -ne 103 ]; then tail -n 60 $(DIST)/appinspect.log >&2; fi; \
	$(VENV)/bin/python tools/appinspect_report.py $(INSPECT_REPORT); \
	[ $$rc -eq 0 ] || [ $$rc -eq 103 ]

# slim reads app.manifest; it checks the package as shipped. Its cache goes under .cache/slim-home.
slim-validate: package
	mkdir -p $(SLIM_HOME)
	HOME=$(SLIM_HOME) $(TOOLS_VENV)/bin/slim validate $(PKG)

# ----------------------------------------------------------------------------------------- demo

demo: $(DEV_STAMP)
	rm -rf $(DEMO_OUT)
	$(VENV)/bin/mobile-ingress simulate --devices $(DEMO_DEVICES) --hours $(DEMO_HOURS) \
		--seed $(DEMO_SEED) --out $(DEMO_OUT)
	$(VENV)/bin/mobile-ingress detect --lookups $(DEMO_OUT)/lookups --output $(DEMO_OUT)/findings.ndjson \
		$(DEMO_OUT)/events.ndjson
	$(VENV)/bin/mobile-ingress detect --lookups $(DEMO_OUT)/lookups --format table --quiet \
		$(DEMO_OUT)/events.ndjson
	$(VENV)/bin/mobile-ingress evaluate --require-exact --truth $(DEMO_OUT)/ground_truth.ndjson \
		$(DEMO_OUT)/findings.ndjson

# ------------------------------------------------------------------------------------ dashboards

# The dashboards ship as views in package/default/data/ui/views (rendered from dashboards/
# definitions by tools/render_dashboards.py). Offline, Splunk's own Dashboard Studio packages
# (npm, pinned in dashboards/package-lock.json) validate and draw them; the built page carries a
# proprietary banner, so dashboards/dist and node_modules stay out of git.
DASH := dashboards
DASH_LOCK_HASH := $(shell cat $(DASH)/package-lock.json | sha256sum | cut -c1-16)
DASH_NPM_STAMP := $(DASH)/node_modules/.installed-$(DASH_LOCK_HASH)
DASH_PAGE := $(DASH)/package-lock.json $(DASH)/vite.config.js $(DASH)/index.html $(wildcard $(DASH)/src/*)
DASH_BUILD_HASH := $(shell cat $(DASH_PAGE) | sha256sum | cut -c1-16)
DASH_BUILD_STAMP := $(DASH)/dist/.built-$(DASH_BUILD_HASH)
DASH_RECORDED := $(OUT)/dashboards/recorded
DASH_SHOTS := docs/img/dashboards
export npm_config_cache := $(CURDIR)/.cache/npm
CHROMIUM_PKG ?= chromium

# Debian's chromium drives the browser test and the screenshots (no browser download: playwright-
# core only talks to it). Installed when missing, like libmagic.
chromium:
	@if ! command -v chromium >/dev/null 2>&1; then \
		if [ "$$(id -u)" != 0 ]; then \
			echo "chromium is missing: run 'apt-get install $(CHROMIUM_PKG)' as root" >&2; exit 1; \
		fi; \
		export DEBIAN_FRONTEND=noninteractive; \
		if ! apt-cache policy $(CHROMIUM_PKG) 2>/dev/null | grep -q 'Candidate: [0-9]'; then \
			apt-get update -qq; \
		fi; \
		apt-get install -y -qq $(CHROMIUM_PKG) </dev/null \
			|| { apt-get update -qq && apt-get install -y -qq $(CHROMIUM_PKG) </dev/null; }; \
	fi

# npm ci from the lock file; skipped while node_modules carries the stamp of this lock's hash.
dashboards-toolchain: $(DASH_NPM_STAMP)
$(DASH_NPM_STAMP):
	@command -v npm >/dev/null || { echo "npm is missing: the dashboards toolchain needs Node.js 20 and npm" >&2; exit 1; }
	cd $(DASH) && npm ci --no-audit --no-fund --loglevel=error
	touch $@

# The preview page (Vite): rebuilt only when the lock, the config or the page's sources change.
dashboards-build: $(DASH_BUILD_STAMP)
$(DASH_BUILD_STAMP): $(DASH_NPM_STAMP)
	cd $(DASH) && ./node_modules/.bin/vite build
	touch $@

# Every dashboard search executed over the nine-day replay (tests/replay, about 2 minutes), then
# one PNG per dashboard for the README.
dashboards: setup chromium dashboards-build
	$(VENV)/bin/python tools/render_dashboards.py --check
	$(VENV)/bin/python tools/replay_dashboards.py --out $(DASH_RECORDED)
	mkdir -p $(DASH_SHOTS)
	cd $(DASH) && node scripts/render.mjs --views ../package/default/data/ui/views \
		--recorded ../$(DASH_RECORDED) --out ../$(DASH_SHOTS) --report ../$(OUT)/dashboards/render-report.json

# ------------------------------------------------------------------------------------ benchmarks

# Not part of `make test`: speed is measured and reported, never asserted. The dev venv has the
# `fast` extra's DuckDB (pyproject dev extra); fleets are simulated once into .cache/bench/.
# bench-quick is a smoke run of the same table (one run per figure on 100k events of each shape).
BENCH_RUNS ?= 3
BENCH_QUICK_RUNS ?= 1
bench: $(DEV_STAMP)
	$(VENV)/bin/python benchmarks/run.py --runs $(BENCH_RUNS)

bench-quick: $(DEV_STAMP)
	$(VENV)/bin/python benchmarks/run.py --quick --runs $(BENCH_QUICK_RUNS)

# ----------------------------------------------------------------------------------------- misc

# The icons are committed; this redraws them (Pillow in a throw-away venv under .cache/).
icons:
	[ -x .cache/icons-venv/bin/python ] || $(PYTHON) -m venv .cache/icons-venv
	.cache/icons-venv/bin/python -m pip install -q 'pillow>=10.1,<14'
	.cache/icons-venv/bin/python tools/make_icons.py package/static

clean:
	rm -rf $(OUT) $(DIST) .pytest_cache .mypy_cache .ruff_cache .hypothesis
	find src tests tools -name __pycache__ -type d -prune -exec rm -rf {} +
