#!/usr/bin/env bash
# A throwaway registry on this machine for the quick start and for trying
# push/pull: Debian's docker-registry (CNCF distribution) on 127.0.0.1 only,
# storing into a directory of its own.
#   scripts/local-registry.sh start [PORT] [DIR]   (default 5000, /tmp/strata-registry)
#   scripts/local-registry.sh stop [DIR]
# 127.0.0.1 is an insecure registry by Docker's rules, so strata talks plain
# HTTP to it without any flag.
set -euo pipefail
cmd=${1:-start}
case $cmd in
  start)
    port=${2:-5000}; dir=${3:-/tmp/strata-registry}
    command -v docker-registry >/dev/null || { echo "docker-registry is missing: apt-get install docker-registry" >&2; exit 1; }
    mkdir -p "$dir/data"
    if [ -f "$dir/pid" ] && kill -0 "$(cat "$dir/pid")" 2>/dev/null; then
      echo "already running (pid $(cat "$dir/pid")) on $(cat "$dir/addr")"; exit 0
    fi
    cat >"$dir/config.yml" <<YML
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $dir/data
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$port
YML
    # Not a child of this shell's job control: it outlives the script.
    setsid docker-registry serve "$dir/config.yml" >"$dir/log" 2>&1 < /dev/null &
    echo $! >"$dir/pid"; echo "127.0.0.1:$port" >"$dir/addr"
    for _ in $(seq 100); do
      if curl -fsS "http://127.0.0.1:$port/v2/" >/dev/null 2>&1; then
        echo "registry on 127.0.0.1:$port (pid $(cat "$dir/pid"), data in $dir/data)"; exit 0
      fi
      kill -0 "$(cat "$dir/pid")" 2>/dev/null || break
      sleep 0.1
    done
    echo "the registry did not start; its log:" >&2; cat "$dir/log" >&2; exit 1 ;;
  stop)
    dir=${2:-/tmp/strata-registry}
    if [ -f "$dir/pid" ]; then kill "$(cat "$dir/pid")" 2>/dev/null || true; rm -f "$dir/pid"; fi ;;
  *) echo "usage: $0 start [PORT] [DIR] | stop [DIR]" >&2; exit 2 ;;
esac
