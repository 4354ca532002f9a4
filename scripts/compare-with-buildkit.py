#!/usr/bin/env python3
"""Builds a context with strata and with Docker's BuildKit, side by side, and
compares what each produced: every file of every layer (type, mode, owner,
link target, content) and of the final root filesystem, and the image config
(Env, Cmd, Entrypoint, WorkingDir, User, Labels, ExposedPorts, Volumes,
StopSignal, Healthcheck, Shell, OnBuild, history). Timestamps are not
compared (the two builds run at different times).

Needs the peers of ../shared/bench/setup-peers.sh (a Docker daemon on
/tmp/strata-peers/docker.sock with busybox:latest loaded). strata uses the
same busybox image, loaded from the peers' docker-archive.

  scripts/compare-with-buildkit.py [--strata build/strata] CONTEXT [-- BUILD ARGS...]
  scripts/compare-with-buildkit.py [--strata build/strata] --case NAME [--case NAME...]
  scripts/compare-with-buildkit.py [--strata build/strata] --all-cases
  scripts/compare-with-buildkit.py --list-cases

A case is a small context written out from CASES below (Dockerfile and
files), for behaviour that must stay covered: run them all after a change to
the executor or the store.

Exit status 0 when everything matches, 1 when something differs (each
difference is printed), 2 when a build fails.
"""
import argparse
import hashlib
import io
import json
import os
import subprocess
import sys
import tarfile
import tempfile

PEERS = os.environ.get("PEERS_DIR", "/tmp/strata-peers")
DOCKER = ["/usr/bin/docker"]


def run(cmd, **kw):
    return subprocess.run(cmd, check=True, **kw)


def load_archive(path):
    """docker-save archive → (config dict, [layer members as {path: record}])."""
    with tarfile.open(path) as t:
        manifest = json.load(t.extractfile("manifest.json"))[0]
        config = json.load(t.extractfile(manifest["Config"]))
        layers = []
        for name in manifest["Layers"]:
            data = t.extractfile(name).read()
            layers.append(layer_entries(data))
    return config, layers


def layer_entries(data):
    out = {}
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:*") as t:
        for m in t.getmembers():
            path = m.name.lstrip("./").rstrip("/") or "."
            if path == ".":
                continue
            rec = {"type": m.type.decode() if isinstance(m.type, bytes) else m.type,
                   "mode": oct(m.mode & 0o7777), "uid": m.uid, "gid": m.gid}
            if m.issym() or m.islnk():
                rec["link"] = m.linkname
            if m.isfile():
                rec["sha256"] = hashlib.sha256(t.extractfile(m).read()).hexdigest()
            if m.ischr() or m.isblk():
                rec["dev"] = (m.devmajor, m.devminor)
            xattrs = {k: v for k, v in m.pax_headers.items() if k.startswith("SCHILY.xattr.")}
            if xattrs:
                rec["xattrs"] = xattrs
            out[path] = rec
    return out


def merged(layers):
    fs = {}
    for layer in layers:
        for path in sorted(layer):
            base = os.path.basename(path)
            parent = os.path.dirname(path)
            if base == ".wh..wh..opq":
                for p in [p for p in fs if p.startswith(parent + "/")]:
                    del fs[p]
                continue
            if base.startswith(".wh."):
                gone = os.path.join(parent, base[4:])
                for p in [p for p in fs if p == gone or p.startswith(gone + "/")]:
                    del fs[p]
                continue
            fs[path] = layer[path]
    return fs


CONFIG_FIELDS = ["Env", "Cmd", "Entrypoint", "WorkingDir", "User", "Labels", "ExposedPorts",
                 "Volumes", "StopSignal", "Healthcheck", "Shell", "OnBuild"]


def compare(a_name, a, b_name, b):
    diffs = []
    (ca, la), (cb, lb) = a, b
    for f in CONFIG_FIELDS:
        va = ca.get("config", {}).get(f) or None
        vb = cb.get("config", {}).get(f) or None
        if va != vb:
            diffs.append(f"config.{f}: {a_name}={json.dumps(va)} {b_name}={json.dumps(vb)}")
    for f in ["architecture", "os", "variant"]:
        if ca.get(f) != cb.get(f):
            diffs.append(f"{f}: {a_name}={ca.get(f)} {b_name}={cb.get(f)}")
    # History: the instruction and empty_layer must match; the rest of the
    # created_by text changed between BuildKit versions (flags, formats), so
    # a difference there is only printed.
    ha = [(h.get("created_by", "").split(" ")[0], bool(h.get("empty_layer")))
          for h in ca.get("history", [])]
    hb = [(h.get("created_by", "").split(" ")[0], bool(h.get("empty_layer")))
          for h in cb.get("history", [])]
    if ha != hb:
        diffs.append(f"history differs:\n  {a_name}: {ha}\n  {b_name}: {hb}")
    for x, y in zip(ca.get("history", []), cb.get("history", [])):
        if x.get("created_by") != y.get("created_by"):
            print(f"note: history text: {a_name}={x.get('created_by')!r} "
                  f"{b_name}={y.get('created_by')!r}")
    if len(la) != len(lb):
        diffs.append(f"layer count: {a_name}={len(la)} {b_name}={len(lb)}")
    for i, (x, y) in enumerate(zip(la, lb)):
        diffs += tree_diffs(f"layer {i}", a_name, x, b_name, y)
    diffs += tree_diffs("rootfs", a_name, merged(la), b_name, merged(lb))
    return diffs


def tree_diffs(what, a_name, x, b_name, y):
    out = []
    for p in sorted(set(x) | set(y)):
        if x.get(p) != y.get(p):
            out.append(f"{what}: {p}: {a_name}={x.get(p)} {b_name}={y.get(p)}")
    return out


# Built-in cases: name → {file name: content}, written into a fresh context.
CASES = {
    # The same layer (diffID) at several positions of one chain: adjacent
    # (RUN true thrice), separated, three times, an empty diff repeated, and
    # RUN, COPY --from and RUN --mount=from over such chains. One overlay
    # cannot take one directory twice as a lower layer (docs/store-layers.md).
    "repeated-layers": {
        "a.txt": "alpha\n",
        "Dockerfile": """FROM busybox:latest AS rep
RUN true
RUN true
RUN true
COPY a.txt /a
RUN echo one > /one
COPY a.txt /a
COPY a.txt /a
RUN rm -f /nothing-here
RUN rm -f /nothing-here
RUN cat /a /one > /both

FROM busybox:latest
COPY --from=rep /both /both
RUN --mount=type=bind,from=rep,target=/m cat /m/both > /via-mount
COPY a.txt /a
COPY a.txt /a
RUN ls /a > /ls
""",
    },
}


def write_case(name, directory):
    for rel, content in CASES[name].items():
        path = os.path.join(directory, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(content)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--strata", default="build/strata")
    ap.add_argument("--root", default=os.path.join(PEERS, "strata-compare-root"))
    ap.add_argument("--case", action="append", default=[], choices=sorted(CASES),
                    help="a built-in case instead of CONTEXT (repeatable)")
    ap.add_argument("--all-cases", action="store_true", help="every built-in case")
    ap.add_argument("--list-cases", action="store_true")
    ap.add_argument("context", nargs="?")
    ap.add_argument("args", nargs="*", help="extra build flags for both builders")
    o = ap.parse_args()
    if o.list_cases:
        print("\n".join(sorted(CASES)))
        return 0
    cases = sorted(CASES) if o.all_cases else o.case
    if cases:
        if o.context:
            o.args.insert(0, o.context)  # no CONTEXT with cases: all are build flags
        worst = 0
        for name in cases:
            with tempfile.TemporaryDirectory() as ctx:
                write_case(name, ctx)
                print(f"case {name}:")
                worst = max(worst, compare_context(o, ctx, name))
        return worst
    if not o.context:
        ap.error("give a CONTEXT, --case NAME or --all-cases")
    return compare_context(o, o.context, o.context)


def compare_context(o, context, label):
    env = dict(os.environ, DOCKER_HOST=f"unix://{PEERS}/docker.sock", DOCKER_BUILDKIT="1")
    strata = os.path.abspath(o.strata)
    have = subprocess.run([strata, "--root", o.root, "inspect", "busybox:latest"],
                          capture_output=True)
    if have.returncode != 0:
        run([strata, "--root", o.root, "load", "-q", "-i",
             os.path.join(PEERS, "base/busybox-docker.tar")], stdout=subprocess.DEVNULL)
    with tempfile.TemporaryDirectory() as tmp:
        ours, theirs = os.path.join(tmp, "strata.tar"), os.path.join(tmp, "buildkit.tar")
        try:
            run([strata, "--root", o.root, "build", "-q", "-t", "compare:latest", *o.args,
                 context], stdout=subprocess.DEVNULL)
            run([strata, "--root", o.root, "save", "-o", ours, "compare:latest"])
        except subprocess.CalledProcessError:
            print("strata build failed", file=sys.stderr)
            return 2
        try:
            run(DOCKER + ["build", "--network", "host", "-q", "-t", "compare:latest", *o.args,
                          context], env=env, stdout=subprocess.DEVNULL)
            with open(theirs, "wb") as f:
                run(DOCKER + ["save", "compare:latest"], env=env, stdout=f)
        except subprocess.CalledProcessError:
            print("BuildKit build failed", file=sys.stderr)
            return 2
        diffs = compare("strata", load_archive(ours), "buildkit", load_archive(theirs))
    for d in diffs:
        print(d)
    print(f"{label}: {'MATCH' if not diffs else f'{len(diffs)} difference(s)'}")
    return 1 if diffs else 0


if __name__ == "__main__":
    sys.exit(main())
