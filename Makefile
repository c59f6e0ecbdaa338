# The two commands a newcomer needs: `make run` and `make test`. Everything else is installed on demand.
SHELL := /bin/bash
.DEFAULT_GOAL := help

TOOLS_DIR ?= $(HOME)/.cache/interviewer
LIVEKIT_VERSION := v1.13.5
LIVEKIT_SERVER_BIN ?= $(TOOLS_DIR)/livekit-$(LIVEKIT_VERSION)/server
UV_VERSION := 0.13.8
UV := $(shell command -v uv 2>/dev/null || echo $(TOOLS_DIR)/uv/bin/uv)
APT_PACKAGES := espeak-ng sox chromium postgresql redis-server
export LIVEKIT_SERVER_BIN
export UV_PYTHON := 3.11

.PHONY: help run test check deps system-deps livekit-server firebase-tools web lint unit bench clean

help:
	@echo "make run   - install what is missing, bring the whole stack up, print the URL"
	@echo "make test  - install what is missing and run every test (lint, types, unit, integration, e2e)"
	@echo "make check - the inner loop: lint, types and the fast in-process tests (seconds, no servers)"

$(UV):
	@echo ">> installing uv $(UV_VERSION) into $(TOOLS_DIR)/uv"
	python3 -m pip install --quiet --target $(TOOLS_DIR)/uv/lib uv==$(UV_VERSION)
	mkdir -p $(TOOLS_DIR)/uv/bin && ln -sf $(TOOLS_DIR)/uv/lib/bin/uv $(UV)

deps: $(UV)
	$(UV) sync --frozen

system-deps:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then echo ">> apt-get install$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	  else echo "!! missing system packages:$$missing (run as root or install them)"; exit 1; fi; \
	fi

livekit-server: $(LIVEKIT_SERVER_BIN)
$(LIVEKIT_SERVER_BIN):
	@echo ">> go install livekit-server $(LIVEKIT_VERSION) into $(dir $(LIVEKIT_SERVER_BIN)) (first time only, a few minutes)"
	mkdir -p $(dir $(LIVEKIT_SERVER_BIN))
	GOBIN=$(dir $(LIVEKIT_SERVER_BIN)) go install github.com/livekit/livekit-server/cmd/server@$(LIVEKIT_VERSION)
	$(LIVEKIT_SERVER_BIN) --version

# The pinned CLI is installed once per lockfile into the tools cache (like livekit-server), and the repo's
# tools/firebase/node_modules links to it: a fresh clone does not spend minutes on the same `npm ci`.
# The directory is named by the lockfile's hash, so its existence is the whole up-to-date check (npm dates
# the files it unpacks to 1985, which rules out comparing times).
FIREBASE_LOCK_ID := $(shell sha256sum tools/firebase/package-lock.json | cut -c1-16)
FIREBASE_DIR := $(TOOLS_DIR)/firebase-tools-$(FIREBASE_LOCK_ID)
firebase-tools: $(FIREBASE_DIR)/node_modules/.bin/firebase
	@if [ "$$(readlink tools/firebase/node_modules)" != "$(FIREBASE_DIR)/node_modules" ]; then \
	  rm -rf tools/firebase/node_modules && ln -s $(FIREBASE_DIR)/node_modules tools/firebase/node_modules; fi
$(FIREBASE_DIR)/node_modules/.bin/firebase:
	@echo ">> npm ci firebase-tools into $(FIREBASE_DIR) (first time for this lockfile only)"
	rm -rf $(FIREBASE_DIR).partial && mkdir -p $(FIREBASE_DIR).partial
	cp tools/firebase/package.json tools/firebase/package-lock.json $(FIREBASE_DIR).partial/
	cd $(FIREBASE_DIR).partial && npm ci --no-audit --no-fund --loglevel=error
	rm -rf $(FIREBASE_DIR) && mv $(FIREBASE_DIR).partial $(FIREBASE_DIR)

web: web/dist/index.html
web/dist/index.html: $(shell find web/src web/index.html web/package-lock.json -type f 2>/dev/null)
	cd web && npm ci --no-audit --no-fund --loglevel=error && npm run build

lint: deps
	$(UV) run ruff check src tests bench
	$(UV) run ruff format --check src tests bench
	$(UV) run mypy src

# The inner loop: no servers, no audio. The intent tests run a real AgentSession in process (text mode).
check: deps
	$(UV) run ruff check src tests bench
	$(UV) run ruff format --check src tests bench
	$(UV) run mypy src
	$(UV) run pytest tests/unit -q -p no:cacheprovider -x

unit: deps
	$(UV) run pytest tests/unit -q

# The installs and the lint are independent of one another: side by side, they leave more of CI's budget to
# the tests, which run one at a time after them.
test:
	$(MAKE) --no-print-directory -j4 system-deps livekit-server firebase-tools web lint
	$(UV) run pytest -q -p no:cacheprovider --durations=15
	cd web && npm test --silent

run: deps system-deps livekit-server firebase-tools web
	$(UV) run interviewer up

bench: deps system-deps livekit-server firebase-tools web
	$(UV) run python bench/speech.py
	$(UV) run python bench/token_api.py
	$(UV) run python bench/startup.py

clean:
	rm -rf var .pytest_cache .mypy_cache .ruff_cache web/dist
