#!/usr/bin/env bash
# Two (or more) strata binaries on the same build, interleaved run by run on
# one store, so that both see the same disk and page cache: the way to judge
# a change of a few percent here (compare.sh's rows move ±20 % between runs
# of the script). Prints the median, 25th and 75th percentile wall times.
#
# Usage: bench/ab.sh [-n RUNS] [-m cold|noop|edit] [-r STORE] CTX BIN...
#   bench/ab.sh -n 21 -m edit /tmp/strata-bench/w1-small /tmp/old/strata build/strata
# `edit` rewrites CTX/a.txt before each run (as compare.sh's workloads);
# `cold` builds with --no-cache. The store (default: compare.sh's,
# /tmp/strata-peers/strata-root) must hold the context's base image.
set -euo pipefail
N=15 MODE=cold STORE=${PEERS_DIR:-/tmp/strata-peers}/strata-root
while getopts n:m:r: o; do
  case $o in
    n) N=$OPTARG ;;
    m) MODE=$OPTARG ;;
    r) STORE=$OPTARG ;;
    *) exit 2 ;;
  esac
done
shift $((OPTIND - 1))
[ $# -ge 2 ] || { echo "usage: bench/ab.sh [-n N] [-m cold|noop|edit] [-r STORE] CTX BIN..." >&2; exit 2; }
CTX=$1; shift
args=(build --network host -q -t ab-bench)
[ "$MODE" = cold ] && args+=(--no-cache)
declare -A times
for ((i = 1; i <= N; i++)); do
  for b in "$@"; do
    [ "$MODE" = edit ] && echo "edit $i $RANDOM" >"$CTX/a.txt"
    s=$(date +%s%N)
    "$b" --root "$STORE" "${args[@]}" "$CTX" >/dev/null
    e=$(date +%s%N)
    times[$b]+=" $(((e - s) / 1000))"
  done
done
for b in "$@"; do
  tr ' ' '\n' <<<"${times[$b]}" | grep . | sort -n | awk -v b="$b" '
    { a[NR] = $1 }
    END { printf "%s: median %.2f ms, p25 %.2f, p75 %.2f (%d runs)\n", b,
          a[int((NR + 1) / 2)] / 1000, a[int((NR + 3) / 4)] / 1000, a[int((3 * NR + 1) / 4)] / 1000, NR }'
done
