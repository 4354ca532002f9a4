#!/usr/bin/env bash
# Layer export throughput: strata's layer writer (gzip, zstd, none) against
# `tar | gzip` and `tar | zstd` on the same 1 GiB tree, in the same run.
#
#   bench/layer_export.sh [BUILD_DIR]      (default: build; needs -DSTRATA_BENCH=ON)
#
# Env: TREE (default /tmp/strata-bench-tree, made once, deterministic),
#      OUT (default /tmp/strata-bench-out), SIZE_MB (default 1024).
# Prints a Markdown table; MB/s = uncompressed tar bytes / wall seconds
# (1 MB = 10^6 bytes); CPU s = user + sys of every process in the row, the
# steadier number on a shared machine. Outputs go to files on the same filesystem; the
# "(store)" row is the real write_layer() into a content store, with fsync.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
BENCH=$BUILD/bench/layer_export/layer_export_bench
TREE=${TREE:-/tmp/strata-bench-tree}
OUT=${OUT:-/tmp/strata-bench-out}
SIZE_MB=${SIZE_MB:-1024}
[ -x "$BENCH" ] || { echo "missing $BENCH: cmake -DSTRATA_BENCH=ON and build layer_export_bench" >&2; exit 1; }
for t in tar gzip zstd python3 awk; do command -v $t >/dev/null || { echo "needs $t" >&2; exit 1; }; done

if [ ! -f "$TREE/.complete-$SIZE_MB" ]; then
  echo "making a ${SIZE_MB} MiB tree in $TREE ..." >&2
  rm -rf "$TREE"
  python3 - "$TREE" "$SIZE_MB" <<'PY'
import os, random, sys
root, total = sys.argv[1], int(sys.argv[2]) << 20
rng = random.Random(20240601)
words = [w for w in open('/usr/share/dict/words').read().split()] if os.path.exists('/usr/share/dict/words') else \
    ["%s%d" % (p, i) for p in ("alpha", "beta", "gamma", "delta", "log", "value", "request", "user") for i in range(64)]
# ~4 MiB of text-like material (source code / logs: gzip shrinks it ~3-4x).
lines = []
size = 0
while size < 4 << 20:
    line = "%06d %s: %s\n" % (rng.randrange(10**6), rng.choice(("INFO", "WARN", "DEBUG")),
                               " ".join(rng.choice(words) for _ in range(rng.randrange(4, 14))))
    lines.append(line); size += len(line)
text = "".join(lines).encode()
def text_bytes(n):
    out = bytearray()
    while len(out) < n:
        off = rng.randrange(len(text) - 1)
        out += text[off:off + min(n - len(out), 65536)]
    return bytes(out[:n])
def write(path, data, mode=0o644):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f: f.write(data)
    os.chmod(path, mode)
used = 0
# 1. many small files (1-16 KiB), 3/4 text, 1/4 random, in a deep-ish tree: ~25%
i = 0
while used < total // 4:
    n = rng.randrange(1024, 16384)
    d = os.path.join(root, "small", "d%03d" % (i % 300), "s%02d" % (i % 7))
    data = text_bytes(n) if i % 4 else rng.randbytes(n)
    write(os.path.join(d, "f%06d.%s" % (i, "txt" if i % 4 else "bin")), data, 0o755 if i % 11 == 0 else 0o644)
    used += n; i += 1
# 2. medium files (256 KiB - 4 MiB), half text, half random: ~25%
j = 0
while used < total // 2:
    n = rng.randrange(256 << 10, 4 << 20)
    data = text_bytes(n) if j % 2 else rng.randbytes(n)
    write(os.path.join(root, "medium", "m%04d.%s" % (j, "log" if j % 2 else "dat")), data)
    used += n; j += 1
# 3. large files: half random (already compressed media), half text: the rest
rest = total - used
for k, (kind, n) in enumerate((("rand", rest // 4), ("rand", rest // 4), ("text", rest // 4), ("text", rest - 3 * (rest // 4)))):
    with open(os.path.join(root, "large-%d.%s" % (k, kind)), "wb") as f:
        left = n
        while left > 0:
            c = min(left, 8 << 20)
            f.write(rng.randbytes(c) if kind == "rand" else text_bytes(c))
            left -= c
# symlinks and hardlinks too
os.symlink("large-0.rand", os.path.join(root, "link-to-large"))
os.link(os.path.join(root, "medium", "m0000.dat"), os.path.join(root, "medium", "hardlink.dat"))
print("files:", i + j + 4, file=sys.stderr)
PY
  touch "$TREE/.complete-$SIZE_MB"
fi

rm -rf "$OUT"; mkdir -p "$OUT"
files=$(find "$TREE" -type f | wc -l)
du_mb=$(du -sm --apparent-size "$TREE" | cut -f1)
echo "tree: $TREE, $files files, $du_mb MiB; $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
tar -C "$TREE" -cf - . > /dev/null   # warm the page cache

# measure NAME COMPRESSION OUTPUT_FILE CMD...: wall and CPU (user+sys, all
# processes of the pipeline) seconds via bash's `time`; the output file's size.
TIMEFORMAT='%R %U %S'
rows=()
measure() {
  local name=$1 comp=$2 out=$3; shift 3
  local t
  t=$( { time "$@" > /dev/null 2>&1 ; } 2>&1 | tail -1 )
  local bytes; bytes=$(find "$out" -type f -printf '%s\n' | awk '{ s += $1 } END { print s + 0 }')
  rows+=("$(echo "$t" | awk -v n="$name" -v c="$comp" -v o="$bytes" -v tb="$tar_bytes" \
    '{ printf "| %s | %s | %.1f | %.1f | %.1f | %.0f |", n, c, o/1e6, $1, $2+$3, tb/1e6/$1 }')")
  rm -rf "$out"
}

tar -C "$TREE" -cf "$OUT/plain.tar" .
tar_bytes=$(stat -c %s "$OUT/plain.tar")   # what every row's MB/s is measured against
rm -f "$OUT/plain.tar"

measure "tar > file" none "$OUT/plain.tar" sh -c "tar -C '$TREE' -cf '$OUT/plain.tar' ."
measure "strata layer export > file" none "$OUT/s.tar" "$BENCH" "$TREE" --compression none --out "$OUT/s.tar"
measure "tar \\| gzip -6 > file" gzip "$OUT/t.gz" sh -c "tar -C '$TREE' -cf - . | gzip -6 > '$OUT/t.gz'"
measure "strata layer export > file" gzip "$OUT/s.gz" "$BENCH" "$TREE" --compression gzip --out "$OUT/s.gz"
measure "tar \\| zstd -3 > file" zstd "$OUT/t.zst" sh -c "tar -C '$TREE' -cf - . | zstd -3 -q > '$OUT/t.zst'"
measure "strata layer export > file" zstd "$OUT/s.zst" "$BENCH" "$TREE" --compression zstd --out "$OUT/s.zst"
measure "strata write_layer (content store, fsync)" gzip "$OUT/store" "$BENCH" "$TREE" --compression gzip --store "$OUT/store"
measure "strata write_layer (content store, fsync)" zstd "$OUT/store" "$BENCH" "$TREE" --compression zstd --store "$OUT/store"
rm -rf "$OUT"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)" >&2

echo "| what | compression | output MB | wall s | CPU s | MB/s (wall) |"
echo "|---|---|---:|---:|---:|---:|"
printf '%s\n' "${rows[@]}"
