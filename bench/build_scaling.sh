#!/usr/bin/env bash
# How strata's build time grows with the size of the context and with the
# number of RUN steps (docs/performance.md). strata only; the side-by-side
# comparison with BuildKit and Buildah is ../shared/bench/compare.sh.
#
#  1. files: contexts of 1,000 / 10,000 / 100,000 files of 1 KiB (dirs of 100,
#     shaped like compare.sh's w2-10k) under `FROM busybox` + `COPY . /ctx`;
#     cold (--no-cache), noop (nothing changed) and edit (one file changed).
#  2. RUN: Dockerfiles of 1 and 51 `RUN` steps, built --no-cache; the
#     difference / 50 is the cost of one RUN step (container, layer, cache).
#
# Prints median wall milliseconds of N runs. Needs root (RUN steps) and a
# busybox image, made here from Debian's busybox-static if missing.
# Usage: bench/build_scaling.sh [path/to/strata] [N]
set -euo pipefail
STRATA=$(readlink -f "${1:-build/strata}"); N=${2:-7}
B=${BENCH_DIR:-/tmp/strata-scaling}; R=$B/root
HERE=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$B"
if ! "$STRATA" --root "$R" inspect busybox:latest >/dev/null 2>&1; then
  "$HERE/../scripts/busybox-rootfs.sh" "$B/busybox.tar" >/dev/null
  "$STRATA" --root "$R" import "$B/busybox.tar" busybox:latest >/dev/null
fi

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
ms() { local t0 t1; t0=$(date +%s%N); "$@" >/dev/null; t1=$(date +%s%N); echo $(((t1 - t0) / 1000000)); }
build() { "$STRATA" --root "$R" build -q -t scaling "$@"; }

make_context() { # dir files
  local dir=$1 files=$2
  [ -f "$dir/.complete" ] && return
  rm -rf "$dir"; mkdir -p "$dir"
  python3 - "$dir" "$files" <<'PY'
import os, sys, random
root, files = sys.argv[1], int(sys.argv[2]); rnd = random.Random(42)
for i in range(files // 100):
    d = os.path.join(root, f"d{i}"); os.makedirs(d, exist_ok=True)
    for j in range(100):
        with open(os.path.join(d, f"f{j}"), "wb") as f: f.write(rnd.randbytes(1024))
PY
  printf 'FROM busybox:latest\nCOPY . /ctx\n' >"$dir/Dockerfile"
  printf '.complete\n' >"$dir/.dockerignore"
  echo edit0 >"$dir/a.txt"; touch "$dir/.complete"
}

printf '| context files | cold ms | noop ms | edit ms |\n|---|---|---|---|\n'
for files in 1000 10000 100000; do
  ctx=$B/ctx-$files; make_context "$ctx" "$files"
  build "$ctx" >/dev/null
  cold=() noop=() edit=()
  for i in $(seq "$N"); do
    cold+=("$(ms build --no-cache "$ctx")")
    noop+=("$(ms build "$ctx")")
    echo "edit$i-$RANDOM" >"$ctx/a.txt"
    edit+=("$(ms build "$ctx")")
  done
  printf '| %d | %s | %s | %s |\n' "$files" \
    "$(printf '%s\n' "${cold[@]}" | median)" "$(printf '%s\n' "${noop[@]}" | median)" \
    "$(printf '%s\n' "${edit[@]}" | median)"
done

echo
printf '| RUN steps | cold ms |\n|---|---|\n'
declare -A runs
for steps in 1 51; do
  ctx=$B/run-$steps; mkdir -p "$ctx"
  { echo 'FROM busybox:latest'; for i in $(seq "$steps"); do echo "RUN echo $i > /f$i"; done; } >"$ctx/Dockerfile"
  build "$ctx" >/dev/null
  t=()
  for _ in $(seq "$N"); do t+=("$(ms build --no-cache "$ctx")"); done
  runs[$steps]=$(printf '%s\n' "${t[@]}" | median)
  printf '| %d | %s |\n' "$steps" "${runs[$steps]}"
done
awk -v a="${runs[1]}" -v b="${runs[51]}" 'BEGIN { printf "\nper RUN step: %.1f ms\n", (b - a) / 50 }'
