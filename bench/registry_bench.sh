#!/usr/bin/env bash
# Pull and push of a ~300 MB, 5-layer image through a loopback registry
# (scripts/local-registry.sh), side by side with skopeo (to an OCI layout)
# and, when the peers' daemon from ../shared/bench/setup-peers.sh runs,
# Docker 20.10 (`docker pull` / `docker push`), interleaved run by run
# (docs/performance.md). Every pull starts from an empty destination; every
# push goes to a fresh repository (so every blob is uploaded).
# Prints median wall milliseconds and MB/s over the compressed bytes moved.
# Usage: bench/registry_bench.sh [path/to/strata] [N]
# STRATA_OLD=path/to/another/strata adds its pull, interleaved (a before/after).
set -euo pipefail
STRATA=$(readlink -f "${1:-build/strata}"); N=${2:-3}
HERE=$(cd "$(dirname "$0")" && pwd)
B=${BENCH_DIR:-/tmp/strata-registry-bench}; R=$B/root
P=${PEERS_DIR:-/tmp/strata-peers}; PORT=${PORT:-5077}; REG=127.0.0.1:$PORT
PORT2=$((PORT + 1)); REG2=127.0.0.1:$PORT2
SHARED=${SHARED:-$HERE/../../shared}
mkdir -p "$B"
"$SHARED/bench/workloads/make-contexts.sh" "$B/ctx" >/dev/null
CTX=$B/ctx/w5-300mb
# Five layers of about 60 MB each: eight of the context's forty directories each.
{ echo 'FROM busybox:latest'
  for i in 0 1 2 3 4; do
    dirs=""; for j in $(seq $((i * 8)) $((i * 8 + 7))); do dirs="$dirs d$j"; done
    echo "COPY$dirs /l$i/"
  done; } >"$CTX/Dockerfile.registry-bench"
if ! "$STRATA" --root "$R" inspect busybox:latest >/dev/null 2>&1; then
  "$HERE/../scripts/busybox-rootfs.sh" "$B/busybox.tar" >/dev/null
  "$STRATA" --root "$R" import "$B/busybox.tar" busybox:latest >/dev/null
fi
"$STRATA" --root "$R" build --network host -q -f "$CTX/Dockerfile.registry-bench" -t big "$CTX" >/dev/null
"$HERE/../scripts/local-registry.sh" stop "$B/registry" >/dev/null
rm -rf "$B/registry"
"$HERE/../scripts/local-registry.sh" start "$PORT" "$B/registry" >/dev/null
trap '"$HERE/../scripts/local-registry.sh" stop "$B/registry"; "$HERE/../scripts/local-registry.sh" stop "$B/registry2"' EXIT
"$STRATA" --root "$R" push -q big "$REG/bench/big:1" >/dev/null
MB=$(skopeo inspect --raw --tls-verify=false "docker://$REG/bench/big:1" |
  python3 -c 'import json,sys; m=json.load(sys.stdin); print("%.1f" % (sum(l["size"] for l in m["layers"]) / 1e6))')
DOCKER=""
if [ -S "$P/docker.sock" ] && /usr/bin/docker -H "unix://$P/docker.sock" info >/dev/null 2>&1; then
  DOCKER="/usr/bin/docker -H unix://$P/docker.sock"
fi
ms() { local t0 t1; t0=$(date +%s%N); "$@" >/dev/null 2>&1 || { echo "FAILED: $*" >&2; return 1; }; t1=$(date +%s%N); echo $(((t1 - t0) / 1000000)); }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR + 1) / 2)]}'; }
declare -A T
for i in $(seq "$N"); do
  rm -rf "$B/pulled" "$B/oci"
  T[strata-pull]+="$(ms "$STRATA" --root "$B/pulled" pull -q "$REG/bench/big:1") "
  if [ -n "${STRATA_OLD:-}" ]; then
    rm -rf "$B/pulled-old"
    T[strata-old-pull]+="$(ms "$STRATA_OLD" --root "$B/pulled-old" pull -q "$REG/bench/big:1") "
  fi
  T[skopeo-pull]+="$(ms skopeo copy -q --src-tls-verify=false "docker://$REG/bench/big:1" "oci:$B/oci:big") "
  if [ -n "$DOCKER" ]; then
    # Every tag of the image (the pushes below add some), so nothing is left.
    id=$($DOCKER images -q --no-trunc "$REG/bench/big:1")
    [ -z "$id" ] || $DOCKER rmi -f "$id" >/dev/null
    T[docker-pull]+="$(ms $DOCKER pull -q "$REG/bench/big:1") "
  fi
  # Pushes go to a second registry, emptied before each one: every blob is
  # uploaded (no "already exists", no cross-repository mount).
  push_to() { # name command...
    "$HERE/../scripts/local-registry.sh" stop "$B/registry2" >/dev/null; rm -rf "$B/registry2"
    "$HERE/../scripts/local-registry.sh" start "$PORT2" "$B/registry2" >/dev/null
    local name=$1; shift; T[$name]+="$(ms "$@") "
  }
  push_to strata-push "$STRATA" --root "$B/pulled" push -q "$REG/bench/big:1" "$REG2/s$i/big:1"
  push_to skopeo-push skopeo copy -q --dest-tls-verify=false "oci:$B/oci:big" "docker://$REG2/k$i/big:1"
  if [ -n "$DOCKER" ]; then
    $DOCKER tag "$REG/bench/big:1" "$REG2/d$i/big:1"
    push_to docker-push $DOCKER push -q "$REG2/d$i/big:1"
  fi
done
echo "| what | median ms | MB/s ($MB MB compressed) |"
echo "|---|---:|---:|"
for k in strata-pull strata-old-pull skopeo-pull docker-pull strata-push skopeo-push docker-push; do
  [ -n "${T[$k]:-}" ] || continue
  m=$(echo "${T[$k]}" | tr ' ' '\n' | grep . | median)
  echo "| $k | $m | $(awk -v mb="$MB" -v ms="$m" 'BEGIN {printf "%.0f", mb / (ms / 1000)}') |"
done
