#!/usr/bin/env bash
# Parser benchmark: `strata parse` on generated Dockerfiles of 5,000 and
# 50,000 instructions (every instruction kind, continuations, heredocs) and on
# a 10 MB single line. Prints the median wall time of N runs for each.
# Usage: bench/parse.sh [path/to/strata] [N]
set -euo pipefail
STRATA=${1:-build/strata}; N=${2:-10}
dir=$(mktemp -d); trap 'rm -rf "$dir"' EXIT
python3 - "$dir" <<'PY'
import sys
d = sys.argv[1]
def gen(n):
    out = ['# syntax=docker/dockerfile:1', 'ARG BASE=busybox']
    kinds = [
        'FROM ${{BASE}} AS s{i}',
        'RUN --mount=type=cache,target=/c apt-get update && \\\n    apt-get install -y pkg{i} && \\\n    rm -rf /var/lib/apt/lists/*',
        'COPY --chown=1000:1000 --chmod=644 src/{i}.txt /dst/{i}/',
        'ENV K{i}=v{i} PATH=/opt/{i}/bin:$PATH',
        'LABEL org.example.n{i}="value {i}"',
        'RUN <<EOF\necho {i}\nEOF',
        'WORKDIR /w/{i}',
        'CMD ["sh", "-c", "echo {i}"]',
        'HEALTHCHECK --interval=30s CMD true',
        'EXPOSE {i}/tcp',
    ]
    for i in range(n):
        out.append(kinds[i % len(kinds)].format(i=i))
    return '\n'.join(out) + '\n'
open(f'{d}/5k.Dockerfile', 'w').write(gen(5000))
open(f'{d}/50k.Dockerfile', 'w').write(gen(50000))
open(f'{d}/10mb-line.Dockerfile', 'w').write('FROM busybox\nRUN ' + 'x' * (10 << 20) + '\n')
PY
printf '| input | size | median ms |\n|---|---|---|\n'
for f in 5k 50k 10mb-line; do
  times=()
  for _ in $(seq "$N"); do
    t0=$(date +%s%N); "$STRATA" parse -f "$dir/$f.Dockerfile" >/dev/null; t1=$(date +%s%N)
    times+=($(( (t1 - t0) / 1000000 )))
  done
  med=$(printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
  printf '| %s | %s | %s |\n' "$f" "$(du -h "$dir/$f.Dockerfile" | cut -f1)" "$med"
done
