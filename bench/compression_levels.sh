#!/usr/bin/env bash
# Compression levels: MB/s and ratio of strata's gzip and zstd encoders at
# gzip -1/-6/-9 and zstd -1/-3/-9, on the layer tar of a realistic 300 MB tree
# (w5-300mb: half text, half random bytes, 1 KiB - 4 MiB files) and of a
# small 10,000-file tree (w2-10k: 1 KiB random files), the two rows of
# ../shared/bench that a layer's compression decides.
#
#   bench/compression_levels.sh [BUILD_DIR]     (default: build; needs -DSTRATA_BENCH=ON)
#
# Env: B (default /tmp/strata-bench: where make-contexts.sh puts the
#      contexts, made once), OUT (default /tmp/strata-levels-out), RUNS
#      (default 3: best of), GZIP_LEVELS (1,6,9), ZSTD_LEVELS (1,3,9),
#      STRATA_THREADS (the pool's threads; default one per core).
# The tar is written once by layer_export_bench (the same bytes as a layer)
# and read into memory, so the rows measure the encoders alone. MB/s =
# uncompressed bytes / best wall second (1 MB = 10^6 bytes); CPU s = user +
# sys of that run, all threads; ratio = compressed / uncompressed.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
EXPORT=$BUILD/bench/layer_export/layer_export_bench
LEVELS=$BUILD/bench/compression_levels/compression_levels_bench
B=${B:-/tmp/strata-bench}
OUT=${OUT:-/tmp/strata-levels-out}
RUNS=${RUNS:-3}
for b in "$EXPORT" "$LEVELS"; do
  [ -x "$b" ] || { echo "missing $b: cmake -DSTRATA_BENCH=ON and build $(basename "$b")" >&2; exit 1; }
done
MAKE=../shared/bench/workloads/make-contexts.sh
[ -f "$MAKE" ] || MAKE=/work/shared/bench/workloads/make-contexts.sh
[ -f "$B/w5-300mb/done" ] && [ -f "$B/w2-10k/d99/f99" ] || bash "$MAKE" "$B" >/dev/null

mkdir -p "$OUT"
echo "$(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
for w in w5-300mb w2-10k; do
  "$EXPORT" "$B/$w" --compression none --out "$OUT/$w.tar" >/dev/null
  echo
  echo "== $w ($(find "$B/$w" -type f | wc -l) files)"
  "$LEVELS" "$OUT/$w.tar" --runs "$RUNS" --gzip "${GZIP_LEVELS:-1,6,9}" --zstd "${ZSTD_LEVELS:-1,3,9}"
  rm -f "$OUT/$w.tar"
done
echo
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
