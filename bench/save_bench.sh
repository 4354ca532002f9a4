#!/usr/bin/env bash
# `strata save` of the w5-300mb image (a 300 MB COPY), side by side with
# `docker save` of the same image (when the peers' daemon from
# ../shared/bench/setup-peers.sh runs) and with `tar | gzip -6` of the same
# tree, in one run (docs/performance.md). strata's first save compresses the
# layers (after `strata prune` dropped the compressed copies); the second
# finds them memoized and only copies blobs.
# Prints wall milliseconds and MB/s over the uncompressed layer bytes.
# Usage: bench/save_bench.sh [path/to/strata] [N]
set -euo pipefail
STRATA=$(readlink -f "${1:-build/strata}"); N=${2:-3}
HERE=$(cd "$(dirname "$0")" && pwd)
B=${BENCH_DIR:-/tmp/strata-save-bench}; R=$B/root; OUT=$B/out
P=${PEERS_DIR:-/tmp/strata-peers}
mkdir -p "$B" "$OUT"
SHARED=${SHARED:-$HERE/../../shared}
"$SHARED/bench/workloads/make-contexts.sh" "$B/ctx" >/dev/null
CTX=$B/ctx/w5-300mb
if ! "$STRATA" --root "$R" inspect busybox:latest >/dev/null 2>&1; then
  "$HERE/../scripts/busybox-rootfs.sh" "$B/busybox.tar" >/dev/null
  "$STRATA" --root "$R" import "$B/busybox.tar" busybox:latest >/dev/null
fi
"$STRATA" --root "$R" build --network host -q -t w5 "$CTX" >/dev/null
DOCKER=""
if [ -S "$P/docker.sock" ] && DOCKER_HOST=unix://$P/docker.sock /usr/bin/docker info >/dev/null 2>&1; then
  DOCKER="/usr/bin/docker -H unix://$P/docker.sock"  # the peers' Docker 20.10 client
  DOCKER_BUILDKIT=1 $DOCKER build --network host -q -t bench-w5-save "$CTX" >/dev/null
fi
# The uncompressed size of what is saved: the context's tar.
MB=$(tar -C "$CTX" -cf - . | wc -c | awk '{printf "%.1f", $1 / 1e6}')

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
ms() { local t0 t1; t0=$(date +%s%N); "$@"; t1=$(date +%s%N); echo $(((t1 - t0) / 1000000)); }
declare -A T
for _ in $(seq "$N"); do
  "$STRATA" --root "$R" prune >/dev/null
  sync
  T[first]+="$(ms "$STRATA" --root "$R" save -o "$OUT/strata.tar" w5) "
  T[second]+="$(ms "$STRATA" --root "$R" save -o "$OUT/strata2.tar" w5) "
  cmp -s "$OUT/strata.tar" "$OUT/strata2.tar" || { echo "second save differs" >&2; exit 1; }
  T[targz]+="$(ms sh -c "tar -C '$CTX' -cf - . | gzip -6 > '$OUT/ctx.tar.gz'") "
  [ -n "$DOCKER" ] && T[docker]+="$(ms $DOCKER save -o "$OUT/docker.tar" bench-w5-save) "
done
row() { # label key
  local m; m=$(printf '%s\n' ${T[$2]} | median)
  printf '| %s | %s | %s |\n' "$1" "$m" "$(awk -v mb="$MB" -v ms="$m" 'BEGIN { printf "%.0f", (ms > 0 ? mb / (ms / 1000) : 0) }')"
}
echo "layer: $MB MB uncompressed; $N runs, medians; $(nproc) cores; $(date -u +%F)"
printf '| what | wall ms | MB/s |\n|---|---|---|\n'
row "strata save (first: compresses)" first
row "strata save (second: memoized)" second
row "tar \\| gzip -6 of the same tree" targz
[ -n "$DOCKER" ] && row "docker save (Docker 20.10, uncompressed layers)" docker
ls -l "$OUT" | awk 'NR > 1 { printf "%s: %.1f MB\n", $9, $5 / 1e6 }'
