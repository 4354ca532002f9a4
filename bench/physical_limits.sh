#!/usr/bin/env bash
# The physical floor of each compare.sh workload on this machine
# (docs/performance.md): what no builder can avoid for that build.
#   read   — reading the context's files (tar of the context to /dev/null,
#            page cache warm, as after the first build)
#   hash   — sha256sum of the layer tar the build makes (the diffID)
#   write  — writing that tar to a file on the store's filesystem
#   fsync  — one fsync of a small new file
#   exec   — starting a process (/bin/true), which every CLI build pays once
#   runs   — RUN steps × (fork + exec of busybox sh -c in a new mount namespace)
# Prints median milliseconds of N runs per item and the sum per workload.
# Usage: bench/physical_limits.sh [N]   (workloads from ../shared/bench)
set -euo pipefail
N=${1:-5}
HERE=$(cd "$(dirname "$0")" && pwd)
SHARED=${SHARED:-$HERE/../../shared}
B=${BENCH_DIR:-/tmp/strata-limits}; mkdir -p "$B"
"$SHARED/bench/workloads/make-contexts.sh" "$B/ctx" >/dev/null
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
us() { local t0 t1; t0=$(date +%s%N); "$@" >/dev/null 2>&1; t1=$(date +%s%N); echo $(((t1 - t0) / 1000)); }
med_us() { local v=(); for _ in $(seq "$N"); do v+=("$(us "$@")"); done; printf '%s\n' "${v[@]}" | median; }
ms() { awk -v u="$1" 'BEGIN { printf "%.1f", u / 1000 }'; }

fsync_one() { python3 -c 'import os,sys; fd=os.open(sys.argv[1], os.O_WRONLY|os.O_CREAT|os.O_TRUNC, 0o600); os.write(fd, b"x"); os.fsync(fd); os.close(fd)' "$B/fsync.probe"; }
FSYNC=$(med_us fsync_one)
# python's own start is not the fsync: subtract an empty python run.
PYSTART=$(med_us python3 -c '')
FSYNC=$((FSYNC > PYSTART ? FSYNC - PYSTART : 0))
EXEC=$(med_us /bin/true)
RUN1=$(med_us unshare -m /bin/busybox sh -c 'echo 1 > /dev/null')

printf '| workload | context read ms | layer MB | sha256 ms | write ms | RUN steps | floor ms |\n|---|---|---|---|---|---|---|\n'
for w in w1-small w2-10k w3-multistage w4-50run w5-300mb; do
  ctx=$B/ctx/$w
  tar -C "$ctx" -cf "$B/layer.tar" .   # stands in for the COPY layer
  READ=$(med_us sh -c "tar -C '$ctx' -cf - . > /dev/null")
  HASH=$(med_us sha256sum "$B/layer.tar")
  WRITE=$(med_us sh -c "cat '$B/layer.tar' > '$B/layer.copy' && rm -f '$B/layer.copy'")
  MB=$(stat -c %s "$B/layer.tar" | awk '{printf "%.1f", $1 / 1e6}')
  RUNS=$(grep -c '^RUN' "$ctx/Dockerfile" || true)
  FLOOR=$((EXEC + READ + HASH + WRITE + RUNS * RUN1))
  printf '| %s | %s | %s | %s | %s | %s | %s |\n' "$w" "$(ms "$READ")" "$MB" "$(ms "$HASH")" "$(ms "$WRITE")" "$RUNS" "$(ms "$FLOOR")"
done
echo
echo "one fsync: $(ms "$FSYNC") ms; process start (/bin/true): $(ms "$EXEC") ms; busybox sh in a new mount namespace: $(ms "$RUN1") ms"
echo "($N runs each, medians; $(nproc) cores; $(date -u +%F))"
