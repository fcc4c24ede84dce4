# The interface everyone uses. `make run` and `make test` install missing Debian packages first.
JOBS ?= $(shell nproc)
CTEST_JOBS ?= 2

.PHONY: all deps build run test interop asan asan-test bench fmt fmt-check clean

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

fmt:
	git ls-files '*.cpp' '*.hpp' | xargs clang-format -i

fmt-check:
	git ls-files '*.cpp' '*.hpp' | xargs clang-format --dry-run --Werror

clean:
	rm -rf build build-asan build-release
