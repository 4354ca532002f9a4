#!/usr/bin/env bash
# Container start-up cost: `run --rm busybox true`, strata side by side with
# Podman (Debian's podman: crun, conmon, netavark) and, when the peers'
# daemon from ../shared/bench/setup-peers.sh runs, Docker 20.10 — the same
# busybox-static root filesystem imported into each (docs/performance.md,
# "Containers"). hyperfine interleaves nothing, so each tool gets its own
# warm-up; the network modes are each tool's default (strata: a private
# namespace through pasta; podman as root: netavark's bridge; docker: its
# bridge), plus a --network none row for all of them.
# Usage: bench/run_bench.sh [path/to/strata] [runs]
set -euo pipefail
STRATA=$(readlink -f "${1:-build/strata}"); N=${2:-20}
HERE=$(cd "$(dirname "$0")" && pwd)
B=${BENCH_DIR:-/tmp/strata-run-bench}; R=$B/root
P=${PEERS_DIR:-/tmp/strata-peers}
mkdir -p "$B"
[ -f "$B/busybox.tar" ] || "$HERE/../scripts/busybox-rootfs.sh" "$B/busybox.tar" >/dev/null
"$STRATA" --root "$R" inspect busybox:latest >/dev/null 2>&1 ||
  "$STRATA" --root "$R" import "$B/busybox.tar" busybox:latest >/dev/null
cmds=(-n "strata run --rm" "$STRATA --root $R run --rm busybox:latest true"
      -n "strata run --rm --network none" "$STRATA --root $R run --rm --network none busybox:latest true")
if command -v podman >/dev/null; then
  podman image exists localhost/strata-bench-busybox:latest ||
    podman import "$B/busybox.tar" localhost/strata-bench-busybox:latest >/dev/null
  # Podman's default rlimits (nofile 1048576, nproc = the host's) are refused
  # by runc on this VM ("error setting rlimit type 6/7: operation not
  # permitted"), so it gets Docker's nofile and a fixed nproc.
  PU="--ulimit nofile=1024:$(ulimit -Hn) --ulimit nproc=4096:4096"
  cmds+=(-n "podman run --rm" "podman run --rm $PU localhost/strata-bench-busybox:latest true"
         -n "podman run --rm --network none" "podman run --rm $PU --network none localhost/strata-bench-busybox:latest true")
else
  echo "podman: not installed (apt-get install podman), row skipped" >&2
fi
if [ -S "$P/docker.sock" ] && /usr/bin/docker -H "unix://$P/docker.sock" info >/dev/null 2>&1; then
  D="/usr/bin/docker -H unix://$P/docker.sock"
  $D image inspect strata-bench-busybox:latest >/dev/null 2>&1 ||
    $D import "$B/busybox.tar" strata-bench-busybox:latest >/dev/null
  cmds+=(-n "docker run --rm" "$D run --rm strata-bench-busybox:latest true"
         -n "docker run --rm --network none" "$D run --rm --network none strata-bench-busybox:latest true")
else
  echo "docker: the peers' daemon is not running (../shared/bench/setup-peers.sh), row skipped" >&2
fi
hyperfine -N -w 3 -r "$N" --export-markdown "$B/run-bench.md" "${cmds[@]}"
cat "$B/run-bench.md"
