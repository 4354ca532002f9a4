#!/usr/bin/env bash
# Builds the libFuzzer target with clang (ASan + UBSan) and fuzzes the
# Dockerfile parser for SECONDS (default 60), seeded with every Dockerfile in
# testdata/ and the conformance corpus. Crashes are written to fuzz-corpus/.
# Usage: scripts/fuzz.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-60}
cmake -S . -B build-fuzz -G Ninja -DSTRATA_FUZZ=ON -DBUILD_TESTING=OFF -DSTRATA_BENCH=OFF \
  -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build-fuzz --target parse_fuzzer
mkdir -p fuzz-corpus/parse
seed=$(mktemp -d); trap 'rm -rf "$seed"' EXIT
i=0
for f in fuzz-corpus/crash-* testdata/parse/*.Dockerfile testdata/errors/*.Dockerfile ../shared/conformance/buildkit-parser/*/*/Dockerfile examples/*/Dockerfile; do
  [ -f "$f" ] && cp "$f" "$seed/$((i++))"
done
build-fuzz/tests/fuzz/parse_fuzzer -max_total_time="$secs" -max_len=4096 -timeout=10 \
  -artifact_prefix=fuzz-corpus/ fuzz-corpus/parse "$seed"
