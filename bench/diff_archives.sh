#!/bin/sh
# `strata diff` of two ~300 MB docker-archives against `sha256sum` of both
# (issue 12: within 2x, memory flat). Usage: bench/diff_archives.sh BUILD_DIR [WORK_DIR]
#
# Makes (once) a deterministic tree under WORK_DIR/tree: ~300 MB in ~2,400
# files — half random (incompressible), half text — imports it twice as
# one-layer images (the second with one byte of one file changed) into a
# scratch store, saves both with `strata save` (gzip layers, as stored), and
# times: sha256sum of both archives; strata diff of the two archives (they
# differ: every layer is read); strata diff of an archive with itself.
# Peak RSS from /usr/bin/time -v.
set -eu
build=$(cd "$1" && pwd)
work=${2:-/tmp/strata-diff-bench}
strata="$build/strata"
mkdir -p "$work"
root="$work/store"
if [ ! -f "$work/a.tar" ] || [ ! -f "$work/b.tar" ]; then
    rm -rf "$work/tree" "$root"
    mkdir -p "$work/tree"
    python3 - "$work/tree" <<'PY'
import os, random, sys
root = sys.argv[1]
rng = random.Random(12)
words = [("w%05d" % i) for i in range(5000)]
total = 0
i = 0
while total < 300 * 1024 * 1024:
    d = os.path.join(root, "d%02d" % (i % 40))
    os.makedirs(d, exist_ok=True)
    size = rng.choice([4096, 16384, 65536, 262144, 1048576])
    p = os.path.join(d, "f%05d" % i)
    if i % 2:
        data = rng.randbytes(size)
    else:
        line = []
        n = 0
        while n < size:
            w = rng.choice(words)
            line.append(w)
            n += len(w) + 1
        data = (" ".join(line) + "\n").encode()[:size]
    with open(p, "wb") as f:
        f.write(data)
    os.utime(p, (1700000000, 1700000000))
    total += size
    i += 1
print("files:", i, "bytes:", total)
PY
    (cd "$work/tree" && tar --numeric-owner --sort=name -cf "$work/tree-a.tar" .)
    first=$(cd "$work/tree" && find . -type f -name 'f00000')
    printf 'X' | dd of="$work/tree/$first" bs=1 seek=10 conv=notrunc 2>/dev/null
    (cd "$work/tree" && tar --numeric-owner --sort=name -cf "$work/tree-b.tar" .)
    SOURCE_DATE_EPOCH=1700000000 "$strata" --root "$root" import "$work/tree-a.tar" bench:a >/dev/null
    SOURCE_DATE_EPOCH=1700000000 "$strata" --root "$root" import "$work/tree-b.tar" bench:b >/dev/null
    "$strata" --root "$root" save -o "$work/a.tar" bench:a
    "$strata" --root "$root" save -o "$work/b.tar" bench:b
    rm -f "$work/tree-a.tar" "$work/tree-b.tar"
fi
ls -l "$work/a.tar" "$work/b.tar"
cat "$work/a.tar" "$work/b.tar" >/dev/null  # warm the page cache
run() {
    label=$1
    shift
    /usr/bin/time -f "$label: %e s wall, %U s user, %S s sys, %M KiB max RSS" "$@" >/dev/null 2>"$work/time.txt" || true
    tail -1 "$work/time.txt"
}
for round in 1 2; do
    echo "round $round"
    run "sha256sum a.tar b.tar" sha256sum "$work/a.tar" "$work/b.tar"
    run "strata diff docker-archive:a docker-archive:b" "$strata" diff "docker-archive:$work/a.tar" "docker-archive:$work/b.tar"
    run "strata diff docker-archive:a docker-archive:a" "$strata" diff "docker-archive:$work/a.tar" "docker-archive:$work/a.tar"
done
"$strata" diff "docker-archive:$work/a.tar" "docker-archive:$work/b.tar" | tail -5 || true
