# The README's two set-up commands: `make serve` and `make test`. Both install what is missing
# first (`make setup`), so a fresh machine of this kind needs nothing else.

SHELL := /bin/bash
TOOLS ?= /opt/wasm-tools
export WASM_TOOLS_DIR := $(TOOLS)
WASM_RUN := $(TOOLS)/bin/wasm-run
PORT ?= 8080
# The conformance corpus: the shared copy beside the checkout when there is one (CI), else the
# copy kept in the repository.
CONFORMANCE ?= $(if $(wildcard ../shared/conformance/*.jsonl),../shared/conformance,tests/conformance)
# Where cargo puts release binaries (honours CARGO_TARGET_DIR, as cargo does).
RELEASE_DIR := $(or $(CARGO_TARGET_DIR),target)/release
# Corpus files the engine must pass in full; the others are run and reported.
CONFORMANCE_GATED ?= $(wildcard $(addprefix $(CONFORMANCE)/,$(shell cat tests/conformance-gated.txt 2>/dev/null)))

.PHONY: setup build dist serve test test-native test-conformance test-ci-examples test-wasm test-e2e bench fmt clean

setup:
	@bash scripts/setup.sh

build: setup
	cargo build --release --bins

# The release site: index.html, one .wasm, its JS glue and styles, sealed with a CSP. shrink.mjs
# shortens wasm-bindgen's hashed import names and minifies the JS (Trunk's minifier cannot).
dist: setup
	$(WASM_RUN) trunk build --release --offline
	node scripts/shrink.mjs dist
	node scripts/csp.mjs dist/index.html
	@gzip -9c dist/*.wasm | wc -c | awk '{printf "dist: wasm %.1f KB gzipped\n", $$1/1024}'

serve: dist
	node tests/e2e/serve.mjs dist $(PORT)

test: setup test-native test-conformance test-ci-examples test-wasm test-e2e
	@echo "make test: all passed"

test-native:
	cargo test --workspace --exclude ipam-web

test-conformance:
	cargo build --release --bins
	@echo "conformance corpus: $(CONFORMANCE)"
	@$(RELEASE_DIR)/ipam-planner conformance $(CONFORMANCE) | tail -n 1
	@for f in $(CONFORMANCE_GATED); do \
	  printf '%s: ' "$$(basename $$f)"; $(RELEASE_DIR)/ipam-planner conformance "$$f" | tail -n 40 || exit 1; \
	done

# The CI examples in docs/ci and .pre-commit-hooks.yaml, run exactly as written.
test-ci-examples:
	cargo build --release --bins
	bash tests/ci-examples.sh

# The web crate must build for wasm32 (and so must core: no I/O, no native-only dependency).
# Its pure modules (text edits, share links, block cells, the reducer) are unit-tested natively.
test-wasm: dist
	cargo test -p ipam-web --bin ipam-web

test-e2e: dist
	cd tests/e2e && node --test --test-concurrency=1

# BENCHMARKS.md: the page timings (headless Chromium, release site) and then the native runs
# beside the bitmap baseline, all in one go so the ratios come from one machine state.
BENCH_WASM := $(abspath $(or $(CARGO_TARGET_DIR),target))/bench-wasm.json
bench: dist
	cargo build --release --bins
	cd tests/e2e && (test -d node_modules || npm ci) && PERF_RESULTS=$(BENCH_WASM) node --test --test-concurrency=1 perf.test.mjs
	$(RELEASE_DIR)/ipam-bench --planner $(RELEASE_DIR)/ipam-planner --wasm-results $(BENCH_WASM) --write BENCHMARKS.md
	@for f in dist/*.wasm dist/*.js dist/*.css; do gzip -9c $$f | wc -c; done | awk '{s+=$$1} END {printf "\nRelease site (wasm + js + css): %.1f KB gzipped (gzip -9; target 300 KB).\n", s/1024}' | tee -a BENCHMARKS.md

fmt:
	cargo fmt --all

clean:
	rm -rf dist target
