#!/usr/bin/env bash
# Runs every benchmark against the binaries of the given build dir (default build-release).
# Figures are medians of repeated runs; see each script for what it measures.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build-release}
export KVSD_BIN=$PWD/$build/bin/kvsd
export KVSD_TESTSERVER=$PWD/$build/bin/kvsd-testserver
/usr/bin/python3 bench/frontend_bench.py
/usr/bin/python3 bench/control_plane_bench.py
/usr/bin/python3 bench/ingest_bench.py
/usr/bin/python3 bench/read_bench.py
/usr/bin/python3 bench/playback_bench.py
/usr/bin/python3 bench/images_bench.py
/usr/bin/python3 bench/sdk_bench.py
