#!/usr/bin/env bash
# A short libFuzzer run of every fuzz target (docs/fuzzing.md), for CI.
#
# Configures build-fuzz with clang (-DSTRATA_FUZZ=ON: ASan + UBSan +
# libFuzzer), builds the targets, and runs each for SECONDS (default 20),
# one after the other, starting from its checked-in seeds
# (tests/fuzz/corpus/<target>/; the Dockerfile parser starts from testdata/).
# Nothing is written into the source tree: the growing corpus and scratch files
# live in a temp directory removed at exit; a reproducer of a finding is kept
# in $FUZZ_ARTIFACTS (default build-fuzz/fuzz-artifacts/) and printed in
# base64. Exits 1 when any target found something (crash, leak, timeout,
# out-of-memory, failed check), after running all of them.
#
# Usage: scripts/fuzz-smoke.sh [SECONDS]
# Environment: FUZZ_BUILD_DIR (default build-fuzz), FUZZ_ARTIFACTS,
#   FUZZ_TARGETS (space-separated subset), FUZZ_BUILD_JOBS (default 2).
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-20}
build=${FUZZ_BUILD_DIR:-build-fuzz}
artifacts=${FUZZ_ARTIFACTS:-$build/fuzz-artifacts}

# target:max_len (bytes). The wildcard matcher's reference backtracks, so its
# inputs stay short; archives need room for a few tar headers.
all_targets="parse_fuzzer:4096 dockerignore_fuzzer:4096 image_json_fuzzer:8192
layer_tar_fuzzer:16384 image_archive_fuzzer:16384 copy_match_fuzzer:128"
targets=${FUZZ_TARGETS:-$(for t in $all_targets; do echo "${t%%:*}"; done)}

if ! command -v clang++ >/dev/null; then
  echo "fuzz-smoke: clang++ not found (Debian: apt-get install clang libclang-rt-14-dev)" >&2
  exit 2
fi
launcher=()
if command -v ccache >/dev/null; then
  launcher=(-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
fi
cmake -S . -B "$build" -G Ninja -DSTRATA_FUZZ=ON -DSTRATA_WERROR=ON -DBUILD_TESTING=OFF \
  -DSTRATA_BENCH=OFF -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo "${launcher[@]}" >/dev/null
# shellcheck disable=SC2086  # word splitting of the target list is intended
cmake --build "$build" -j "${FUZZ_BUILD_JOBS:-2}" --target $targets

work=$(mktemp -d "${TMPDIR:-/tmp}/strata-fuzz-smoke.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$artifacts" "$work/scratch"
export FUZZ_SCRATCH=$work/scratch
# Leaks count as findings; a crash prints symbolized frames.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:symbolize=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

failed=()
for target in $targets; do
  max_len=4096
  for t in $all_targets; do [ "${t%%:*}" = "$target" ] && max_len=${t#*:}; done
  seeds=$work/$target.seeds
  mkdir -p "$seeds" "$work/$target.corpus"
  if [ "$target" = parse_fuzzer ]; then
    i=0
    for f in testdata/parse/*.Dockerfile testdata/errors/*.Dockerfile; do
      [ -f "$f" ] && cp "$f" "$seeds/$((i++))"
    done
  else
    cp tests/fuzz/corpus/"${target%_fuzzer}"/* "$seeds"/
  fi
  log=$work/$target.log
  touch "$work/$target.start"
  set +e
  nice "$build/tests/fuzz/$target" -max_total_time="$secs" -max_len="$max_len" -timeout=10 \
    -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$artifacts/$target-" \
    "$work/$target.corpus" "$seeds" >"$log" 2>&1
  rc=$?
  set -e
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
  if [ "$rc" -eq 0 ]; then
    echo "fuzz-smoke: $target: ${secs}s, ${execs:-?} inputs, no finding"
    continue
  fi
  failed+=("$target")
  echo "fuzz-smoke: $target: FINDING (exit $rc) after ${execs:-?} inputs; log:" >&2
  grep -v -E '^#[0-9]+\s+(NEW|REDUCE|pulse|INITED|RELOAD)|NEW_FUNC|# Uses:' "$log" | tail -n 80 >&2
  find "$artifacts" -name "$target-*" -newer "$work/$target.start" | while read -r f; do
    echo "fuzz-smoke: reproducer $f (reproduce: $build/tests/fuzz/$target $f); base64:" >&2
    head -c 4096 "$f" | base64 >&2
  done
done

if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz-smoke: findings in: ${failed[*]}" >&2
  exit 1
fi
