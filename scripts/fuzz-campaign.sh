#!/usr/bin/env bash
# Fuzz campaign: builds every libFuzzer target of tests/fuzz with Clang in build-fuzz/ and runs
# each for a CPU budget, then merges what it found into the kept corpora. `make fuzz` runs it;
# it is not part of `make test` (which only replays the corpora, fuzz.<target>_corpus).
#
#   scripts/fuzz-campaign.sh [target...]     (default: every tests/fuzz/<target>_fuzz.cpp)
#
# Environment:
#   FUZZ_SECONDS   CPU seconds per target (default 1800), shared by the jobs: each of the
#                  FUZZ_JOBS jobs runs FUZZ_SECONDS / FUZZ_JOBS seconds, all at once.
#   FUZZ_JOBS      parallel libFuzzer jobs per target, -jobs=N -workers=N (default nproc).
#   FUZZ_BUILD_JOBS  compile jobs (default FUZZ_JOBS).
#   FUZZ_BUILD_DIR   build directory (default build-fuzz; never build, build-asan or build-release).
#   FUZZ_REPORT    summary file (default build-fuzz/fuzz-reports/campaign-<UTC time>.md).
#   FUZZ_ARGS      extra libFuzzer flags for every run (e.g. "-max_len=16384").
#
# The build: clang/clang++, every library compiled with -fsanitize=fuzzer-no-link (so libFuzzer
# sees kvsd's coverage, not just the harness's), ASan + UBSan (aborting), libstdc++ assertions,
# -O1 -g. -fno-sanitize=function works around clang 14 failing on coroutines with coverage.
#
# Each target runs in build-fuzz/fuzz-work/<target>/: the jobs share corpus/ there (new inputs)
# and read tests/fuzz/corpus/<target>/ (the kept seeds); tests/fuzz/dict/<target>.dict is used
# when present. Afterwards the kept corpus is re-minimised with `-merge=1`: its named seeds (from
# the make_*_corpus.py generators) stay, and of the inputs libFuzzer found, earlier ones and new
# ones, only those that add coverage are kept (named by SHA-1), so it stays small; review and
# commit it. Crash, leak, timeout
# and OOM reproducers are copied to tests/fuzz/crashes/<target>/ (gitignored): reproduce one
# with build-fuzz/bin/kvsd_fuzz_<target> <file>; once fixed, move it into the target's corpus so
# `make test` replays it for good.
#
# The summary (one row per target: CPU seconds, wall seconds, executions, exec/s over all jobs,
# corpus files before and after the merge, crash files) is written to FUZZ_REPORT and printed. Exit status: 0 when no target
# crashed, 1 when some did, 2 on a build or usage error.

set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="${FUZZ_BUILD_DIR:-$ROOT/build-fuzz}"
case "$(basename "$BUILD")" in
  build | build-asan | build-release)
    echo "fuzz-campaign: refusing to use $BUILD (it belongs to another preset)" >&2
    exit 2
    ;;
esac
FUZZ_SECONDS="${FUZZ_SECONDS:-1800}"
FUZZ_JOBS="${FUZZ_JOBS:-$(nproc)}"
FUZZ_BUILD_JOBS="${FUZZ_BUILD_JOBS:-$FUZZ_JOBS}"
FUZZ_ARGS="${FUZZ_ARGS:-}"
STAMP="$(date -u +%Y%m%dT%H%M%SZ)"
REPORT="${FUZZ_REPORT:-$BUILD/fuzz-reports/campaign-$STAMP.md}"
CORPORA="$ROOT/tests/fuzz/corpus"
CRASHES="$ROOT/tests/fuzz/crashes"

if ! command -v clang++ >/dev/null; then
  echo "fuzz-campaign: clang++ not found (apt-get install clang; it brings the libFuzzer runtime)" >&2
  exit 2
fi
if ! [[ "$FUZZ_SECONDS" =~ ^[0-9]+$ && "$FUZZ_JOBS" =~ ^[1-9][0-9]*$ ]]; then
  echo "fuzz-campaign: FUZZ_SECONDS and FUZZ_JOBS must be whole numbers (FUZZ_JOBS >= 1)" >&2
  exit 2
fi

if [[ $# -gt 0 ]]; then
  TARGETS=("$@")
else
  TARGETS=()
  for f in "$ROOT"/tests/fuzz/*_fuzz.cpp; do
    name="$(basename "$f" _fuzz.cpp)"
    TARGETS+=("$name")
  done
fi
for t in "${TARGETS[@]}"; do
  if [[ ! -f "$ROOT/tests/fuzz/${t}_fuzz.cpp" ]]; then
    echo "fuzz-campaign: no target $t (tests/fuzz/${t}_fuzz.cpp)" >&2
    exit 2
  fi
done

# --- build -----------------------------------------------------------------------------------
echo "== configuring $BUILD (clang, libFuzzer coverage everywhere, ASan + UBSan)"
CC=clang CXX=clang++ cmake -S "$ROOT" -B "$BUILD" -G Ninja \
  -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
  -DCMAKE_BUILD_TYPE=Debug "-DCMAKE_CXX_FLAGS_DEBUG=-O1 -g" \
  "-DCMAKE_CXX_FLAGS=-fsanitize=address,undefined,fuzzer-no-link -fno-sanitize=function -fno-sanitize-recover=undefined -fno-omit-frame-pointer -D_GLIBCXX_ASSERTIONS" \
  "-DCMAKE_EXE_LINKER_FLAGS=-fsanitize=address,undefined" \
  -DKVSD_SANITIZE=OFF -DKVSD_WERROR=OFF -DKVSD_BUILD_TESTS=ON >/dev/null || exit 2
BINARIES=()
for t in "${TARGETS[@]}"; do BINARIES+=("kvsd_fuzz_$t"); done
echo "== building ${BINARIES[*]} (-j$FUZZ_BUILD_JOBS)"
cmake --build "$BUILD" --target "${BINARIES[@]}" -j "$FUZZ_BUILD_JOBS" || exit 2

# --- run -------------------------------------------------------------------------------------
per_job=$(((FUZZ_SECONDS + FUZZ_JOBS - 1) / FUZZ_JOBS))
mkdir -p "$(dirname "$REPORT")"
{
  echo "# Fuzz campaign $STAMP"
  echo
  echo "Commit $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)$(git -C "$ROOT" diff --quiet 2>/dev/null || echo ' (with local changes)'),"
  echo "FUZZ_SECONDS=$FUZZ_SECONDS CPU seconds per target on FUZZ_JOBS=$FUZZ_JOBS jobs ($per_job s each);"
  echo "the CPU column is measured (user + system of the target's processes), not planned."
  echo
  echo "| target | CPU s | wall s | execs | exec/s | corpus before | corpus after | crashes | slow units |"
  echo "|---|---|---|---|---|---|---|---|---|"
} >"$REPORT"

# cpu_seconds FILE: the children's user + system seconds from the output of bash's `times`
# (second line, "0m12.345s 0m1.234s"), rounded down.
cpu_seconds() {
  sed -n 2p "$1" | awk '{ t = 0; for (i = 1; i <= 2; i++) { split($i, p, /[ms]/); t += p[1] * 60 + p[2] } printf "%d\n", t }'
}
count_files() { find "$1" -maxdepth 1 -type f 2>/dev/null | wc -l; }
sha1='.*/[0-9a-f]{40}'  # the names libFuzzer gives the inputs it saves (find, POSIX ERE)


crashed=0
for t in "${TARGETS[@]}"; do
  bin="$BUILD/bin/kvsd_fuzz_$t"
  work="$BUILD/fuzz-work/$t"
  kept="$CORPORA/$t"
  rm -rf "$work"
  mkdir -p "$work/corpus" "$work/artifacts" "$kept"
  dict=()
  [[ -f "$ROOT/tests/fuzz/dict/$t.dict" ]] && dict=("-dict=$ROOT/tests/fuzz/dict/$t.dict")
  before=$(count_files "$kept")
  echo "== $t: $FUZZ_JOBS job(s) x ${per_job}s (corpus $before files)"
  started=$(date +%s)
  # -jobs runs each job as its own process with its own log (fuzz-<n>.log in the cwd); a job ends
  # at its time limit or its first crash.
  # shellcheck disable=SC2086  # FUZZ_ARGS is a list of flags
  # The subshell ends with `times`: its second line is the user and system CPU of every process
  # it waited for (libFuzzer waits for its jobs), which is the CPU the target really got.
  (cd "$work" && { "$bin" -jobs="$FUZZ_JOBS" -workers="$FUZZ_JOBS" -max_total_time="$per_job" -timeout=25 \
    -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$work/artifacts/" "${dict[@]}" $FUZZ_ARGS \
    "$work/corpus" "$kept" >"$work/jobs.log" 2>&1 || true; } && times >"$work/cpu.times")
  wall=$(($(date +%s) - started))
  execs=0
  rate=0
  for log in "$work"/fuzz-*.log; do
    [[ -f "$log" ]] || continue
    n=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    r=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
    execs=$((execs + ${n:-0}))
    rate=$((rate + ${r:-0}))
  done
  # Re-minimise the kept corpus: the named seeds (written by the make_*_corpus.py generators) all
  # stay; of the inputs libFuzzer found (named by their SHA-1), earlier and new, -merge=1 keeps
  # only those that add coverage to what is already chosen, smallest first. Coverage here means
  # edges (-use_counters=0): hit-count features would keep many times more files, which the
  # working corpus in build-fuzz has but the repository does not need.
  mkdir -p "$work/minimized" "$work/found"
  find "$kept" -maxdepth 1 -type f -regextype posix-extended ! -regex "$sha1" -exec cp {} "$work/minimized/" \;
  find "$kept" -maxdepth 1 -type f -regextype posix-extended -regex "$sha1" -exec cp {} "$work/found/" \;
  if "$bin" -merge=1 -use_counters=0 -timeout=25 -rss_limit_mb=2048 "$work/minimized" "$work/found" "$work/corpus" \
    >"$work/merge.log" 2>&1; then
    find "$kept" -maxdepth 1 -type f -regextype posix-extended -regex "$sha1" -delete
    find "$work/minimized" -maxdepth 1 -type f -regextype posix-extended -regex "$sha1" -exec cp {} "$kept/" \;
  else
    echo "   merge failed (kept corpus unchanged), see $work/merge.log" >&2
  fi
  after=$(count_files "$kept")
  # crash-, leak-, timeout- and oom- files are findings; slow-unit- files only say that one run
  # took over libFuzzer's -report_slow_units (10 s) of wall time, which a loaded machine causes
  # on its own (the campaign may run niced beside other work): they are counted, not kept.
  found=0
  slow=0
  for a in "$work"/artifacts/*; do
    [[ -f "$a" ]] || continue
    if [[ "$(basename "$a")" == slow-unit-* ]]; then
      slow=$((slow + 1))
      continue
    fi
    mkdir -p "$CRASHES/$t"
    cp "$a" "$CRASHES/$t/"
    found=$((found + 1))
  done
  ((found > 0)) && crashed=1
  cpu=$(cpu_seconds "$work/cpu.times")
  echo "| $t | $cpu | $wall | $execs | $rate | $before | $after | $found | $slow |" >>"$REPORT"
  echo "   $execs execs ($rate/s over all jobs), ${cpu} CPU s in ${wall}s, corpus $before -> $after, $found crash file(s), $slow slow unit(s)"
  if ((found > 0)); then
    echo "   reproducers in tests/fuzz/crashes/$t/; logs in $work/fuzz-*.log"
  fi
done

{
  echo
  if ((crashed)); then
    echo "Crash reproducers were copied to tests/fuzz/crashes/<target>/ (see each target's"
    echo "build-fuzz/fuzz-work/<target>/fuzz-*.log for the report)."
  else
    echo "No crashes."
  fi
} >>"$REPORT"
echo "== report: $REPORT"
cat "$REPORT"
exit "$crashed"
