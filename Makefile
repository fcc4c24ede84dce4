# The interface everyone uses. `make run` and `make test` install missing Debian packages first.
JOBS ?= $(shell nproc)
CTEST_JOBS ?= 2

.PHONY: all deps build run test interop asan asan-test bench fuzz soak chaos fmt fmt-check clean

all: build

deps:
	@scripts/install-deps.sh

build:
	@cmake --preset dev >/dev/null
	@cmake --build --preset dev -j $(JOBS)

run: deps build
	./build/bin/kvsd --config config/kvsd.toml

test: deps build
	ctest --test-dir build --output-on-failure -j $(CTEST_JOBS)

# The stock KVS producer SDKs against kvsd (tests/interop, also part of `make test`). Needs the
# SDKs built: KVS_SDK_DIR=<dir> (see the README, "Interop with the stock producer SDKs").
interop: deps build
	ctest --test-dir build -L interop --output-on-failure -j $(CTEST_JOBS)

# The whole suite (unit + integration) built with AddressSanitizer and UBSan.
asan-test: deps
	@cmake --preset asan >/dev/null
	@cmake --build --preset asan -j $(JOBS)
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  ctest --test-dir build-asan --output-on-failure -j $(CTEST_JOBS)

bench: deps
	@cmake --preset release >/dev/null
	@cmake --build --preset release -j $(JOBS)
	bench/run.sh build-release

# Fuzz campaign (scripts/fuzz-campaign.sh): every libFuzzer target built with Clang in build-fuzz/,
# FUZZ_SECONDS of CPU each (default 1800) on FUZZ_JOBS jobs (default nproc); new inputs that add
# coverage are merged into tests/fuzz/corpus/, crashes copied to tests/fuzz/crashes/. Not part of
# `make test`, which replays the corpora.
fuzz: deps
	scripts/fuzz-campaign.sh

# The hardening campaign (campaign/README.md), not part of `make test`: against the release build,
# a real-time fleet for SOAK_SECONDS (3600) x SOAK_STREAMS (500), and random faults under stock SDK
# producers and kvs-put for CHAOS_SECONDS (1800). Reports in campaign/out/. Smoke runs:
# `SOAK_SECONDS=120 SOAK_STREAMS=50 make soak`, `CHAOS_SECONDS=180 make chaos`.
soak: deps
	@cmake --preset release >/dev/null
	@cmake --build --preset release -j $(JOBS)
	/usr/bin/python3 campaign/soak.py

# chaos needs the stock C SDK samples: built first from the offline bundles when they are there
# (as .ci/run does; a finished build is kept) into KVS_SDK_DIR.
KVS_SDK_DIR ?= /var/tmp/kvs-sdk
chaos: deps
	@cmake --preset release >/dev/null
	@cmake --build --preset release -j $(JOBS)
	@bundles="$${KVS_SDK_BUNDLES:-}"; \
	for d in ../shared/kvs-sdk /work/shared/kvs-sdk; do \
	  if [ -z "$$bundles" ] && [ -x "$$d/build.sh" ]; then bundles=$$d; fi; \
	done; \
	if [ -n "$$bundles" ]; then "$$bundles/build.sh" "$(KVS_SDK_DIR)"; fi
	KVS_SDK_DIR=$(KVS_SDK_DIR) /usr/bin/python3 campaign/chaos.py

fmt:
	git ls-files '*.cpp' '*.hpp' | xargs clang-format -i

fmt-check:
	git ls-files '*.cpp' '*.hpp' | xargs clang-format --dry-run --Werror

clean:
	rm -rf build build-asan build-release
