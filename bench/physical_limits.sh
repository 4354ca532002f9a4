#!/usr/bin/env bash
# The physical floor of each compare.sh workload on this machine
# (docs/performance.md): what no builder can avoid for that build.
#   read   — reading the context's files (tar of the context through a pipe;
#            GNU tar skips reading data when it writes to /dev/null itself),
#            page cache warm, as after the first build
#   hash   — SHA-256 of the layer tar the build makes (the diffID), with
#            OpenSSL as strata does (SHA-NI where the CPU has it)
#   write  — writing that tar to a file on the store's filesystem
#   fsync  — the same write made durable (dd conv=fsync), minus the write
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

EXEC=$(med_us /bin/true)
RUN1=$(med_us unshare -m /bin/busybox sh -c 'echo 1 > /dev/null')

printf '| workload | context read ms | layer MB | sha256 ms | write ms | fsync ms | RUN steps | floor ms | floor + fsync ms |\n|---|---|---|---|---|---|---|---|---|\n'
for w in w1-small w2-10k w3-multistage w4-50run w5-300mb; do
  ctx=$B/ctx/$w
  tar -C "$ctx" -cf "$B/layer.tar" .   # stands in for the COPY layer
  READ=$(med_us sh -c "tar -C '$ctx' -cf - . | cat > /dev/null")
  HASH=$(med_us openssl dgst -sha256 "$B/layer.tar")
  WRITE=$(med_us sh -c "dd if='$B/layer.tar' of='$B/layer.copy' bs=1M status=none && rm -f '$B/layer.copy'")
  SYNCED=$(med_us sh -c "dd if='$B/layer.tar' of='$B/layer.copy' bs=1M conv=fsync status=none && rm -f '$B/layer.copy'")
  FSYNC=$((SYNCED > WRITE ? SYNCED - WRITE : 0))
  MB=$(stat -c %s "$B/layer.tar" | awk '{printf "%.1f", $1 / 1e6}')
  RUNS=$(grep -c '^RUN' "$ctx/Dockerfile" || true)
  FLOOR=$((EXEC + READ + HASH + WRITE + RUNS * RUN1))
  printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$w" "$(ms "$READ")" "$MB" "$(ms "$HASH")" "$(ms "$WRITE")" "$(ms "$FSYNC")" "$RUNS" "$(ms "$FLOOR")" "$(ms $((FLOOR + FSYNC)))"
done
echo
echo "process start (/bin/true): $(ms "$EXEC") ms; busybox sh in a new mount namespace: $(ms "$RUN1") ms"
echo "($N runs each, medians; $(nproc) cores; $(date -u +%F))"
