#!/usr/bin/env bash
# Context hashing: a cold snapshot (no stat cache: every file read and
# hashed) and the re-check of an unchanged context (stat cache loaded, one
# stat per entry, no reads, no write), for 10,000 and 100,000 files of 1 KiB.
#
#   bench/context_hash.sh [BUILD_DIR]    (default: build; needs -DSTRATA_BENCH=ON
#                                         and bench/context_hash in bench/CMakeLists.txt)
#
# Env: B (default /tmp/strata-ctx-bench: where the contexts are made, once),
#      RUNS (default 40 warm runs; cold runs: min(RUNS, 5)), THREADS (default
#      "1 0": 0 = the hasher's default, min(cores, 4)).
# w2-10k is made by ../shared/bench/workloads/make-contexts.sh (100 dirs x 100
# files, as compare.sh uses it); w5-100k is 1000 dirs x 100 files, made here.
# Prints wall-clock medians/minimums and the median CPU time (user + sys, all
# threads) of hash_context(): CPU time is the steadier figure on a shared machine.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
BENCH=$BUILD/bench/context_hash/context_hash_bench
B=${B:-/tmp/strata-ctx-bench}
RUNS=${RUNS:-40}
THREADS=${THREADS:-1 0}
[ -x "$BENCH" ] || { echo "missing $BENCH: cmake -DSTRATA_BENCH=ON and build context_hash_bench" >&2; exit 1; }
MAKE=../shared/bench/workloads/make-contexts.sh
[ -f "$MAKE" ] || MAKE=/work/shared/bench/workloads/make-contexts.sh

made=0
if [ ! -f "$B/w2-10k/d99/f99" ]; then bash "$MAKE" "$B" >/dev/null; made=1; fi
if [ ! -f "$B/w5-100k/d999/f99" ]; then
  echo "making $B/w5-100k (100,000 files) ..." >&2
  python3 - "$B/w5-100k" <<'PY'
import os, sys, random
root = sys.argv[1]; rnd = random.Random(42)
for i in range(1000):
    d = os.path.join(root, f"d{i}"); os.makedirs(d, exist_ok=True)
    for j in range(100):
        with open(os.path.join(d, f"f{j}"), "wb") as f: f.write(rnd.randbytes(1024))
with open(os.path.join(root, "Dockerfile"), "w") as f: f.write("FROM busybox:latest\nCOPY . /ctx\n")
PY
  made=1
fi
# Files modified less than 2 s before a snapshot are "racy" and not trusted
# from the cache; let fresh contexts age past that.
[ $made = 1 ] && sleep 3

echo "load average: $(cut -d' ' -f1-3 /proc/loadavg), cores: $(nproc)"
for w in w2-10k w5-100k; do
  for t in $THREADS; do
    echo "== $w threads=$t"
    "$BENCH" "$B/$w" "$B/cache-$w" --runs "$RUNS" --threads "$t"
  done
done
