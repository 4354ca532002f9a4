#!/usr/bin/env python3
"""Writes the seed corpora of the libFuzzer targets into tests/fuzz/corpus/.

The seeds are checked in; run this again only to change them. Each is small
(a fuzzer mutates them, so a few well-formed examples of each shape are
enough) and deterministic (fixed mtimes, owners and names).
Usage: tests/fuzz/make_corpus.py
"""
import gzip
import hashlib
import io
import json
import os
import shutil
import tarfile

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "corpus")


def write(target, name, data):
    d = os.path.join(OUT, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


def tar_bytes(entries, fmt=tarfile.PAX_FORMAT):
    """entries: (name, kind, payload) with kind file/dir/symlink/hardlink."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=fmt) as t:
        for name, kind, payload in entries:
            info = tarfile.TarInfo(name)
            info.mtime = 0
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            if kind == "dir":
                info.type, info.mode = tarfile.DIRTYPE, 0o755
                t.addfile(info)
            elif kind == "symlink":
                info.type, info.linkname = tarfile.SYMTYPE, payload
                t.addfile(info)
            elif kind == "hardlink":
                info.type, info.linkname = tarfile.LNKTYPE, payload
                t.addfile(info)
            else:
                data = payload.encode() if isinstance(payload, str) else payload
                info.size, info.mode = len(data), 0o644
                t.addfile(info, io.BytesIO(data))
    raw = buf.getvalue()
    # Drop the zero padding after the end-of-archive marker (two zero blocks).
    end = len(raw.rstrip(b"\0"))
    end = (end + 511) // 512 * 512 + 1024
    return raw[:end]


def gz(data):
    return gzip.compress(data, mtime=0)


def sha(data):
    return hashlib.sha256(data).hexdigest()


def dockerignore():
    write("dockerignore", "basic", "# comment\n*.o\n!keep.o\nbuild/\n**/node_modules\n\0"
          "a.o\nkeep.o\nbuild/x\nsrc/node_modules/y\nsrc/main.c\n")
    write("dockerignore", "classes", "[a-c]?x\n[^0-9]*.log\nd\\*ir/**/f\n!d*ir/keep\n\0"
          "bzx\nerr.log\n1.log\nd*ir/a/b/f\nd*ir/keep\n")
    write("dockerignore", "anchors", "/abs/path\n./rel/../x\n**\n!src\nsrc/**/*.tmp\n\0"
          "abs/path\nx\nsrc/a.tmp\nsrc/deep/b.tmp\nother\n")
    write("dockerignore", "no_paths", "\ufeff  *\n!*.go\n**foo\nbar**\n")


def layer_tar():
    entries = [
        ("etc", "dir", None),
        ("etc/hosts", "file", "127.0.0.1 localhost\n"),
        ("etc/link", "symlink", "hosts"),
        ("etc/hard", "hardlink", "etc/hosts"),
        ("etc/abs", "symlink", "/etc/hosts"),
        ("usr/.wh..wh..opq", "file", ""),
        ("usr/.wh.old", "file", ""),
        ("usr/bin/tool", "file", "#!/bin/sh\n"),
    ]
    write("layer_tar", "plain.tar", tar_bytes(entries))
    write("layer_tar", "gnu.tar.gz", gz(tar_bytes(entries[:4], tarfile.GNU_FORMAT)))
    # Each refused at its first hostile entry, so one way out per seed.
    write("layer_tar", "through_symlink.tar", tar_bytes([
        ("a", "symlink", "../../outside"),
        ("a/x", "file", "through the link\n"),
    ]))
    write("layer_tar", "dotdot.tar", tar_bytes([("../escape", "file", "dot-dot\n")]))
    write("layer_tar", "hardlink_out.tar", tar_bytes([("b", "hardlink", "/etc/passwd")]))


def image_json_docs():
    layer = gz(tar_bytes([("hello", "file", "hi\n")]))
    diff = sha(gzip.decompress(layer))
    config = {
        "architecture": "amd64", "os": "linux", "created": "2024-05-01T12:00:00.5Z",
        "config": {"Env": ["PATH=/usr/bin"], "Cmd": ["/hello"], "WorkingDir": "/",
                   "ExposedPorts": {"80/tcp": {}}, "Labels": {"a": "b"},
                   "Healthcheck": {"Test": ["CMD", "true"], "Interval": 1000000000}},
        "rootfs": {"type": "layers", "diff_ids": ["sha256:" + diff]},
        "history": [{"created": "2024-05-01T12:00:00+02:00", "created_by": "COPY hello /"}],
    }
    config_bytes = json.dumps(config, separators=(",", ":")).encode()
    manifest = {
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                   "digest": "sha256:" + sha(config_bytes), "size": len(config_bytes)},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                    "digest": "sha256:" + sha(layer), "size": len(layer)}],
    }
    manifest_bytes = json.dumps(manifest, separators=(",", ":")).encode()
    index = {
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json",
                       "digest": "sha256:" + sha(manifest_bytes), "size": len(manifest_bytes),
                       "platform": {"architecture": "amd64", "os": "linux"},
                       "annotations": {"io.containerd.image.name": "docker.io/library/x:1",
                                       "org.opencontainers.image.ref.name": "1"}}],
    }
    index_bytes = json.dumps(index, separators=(",", ":")).encode()
    return layer, diff, config_bytes, manifest_bytes, index_bytes


def image_json():
    _, _, config, manifest, index = image_json_docs()
    write("image_json", "config.json", config)
    write("image_json", "manifest.json", manifest)
    write("image_json", "index.json", index)
    write("image_json", "oci-layout", '{"imageLayoutVersion":"1.0.0"}')
    write("image_json", "docker_list.json", json.dumps({
        "schemaVersion": 2,
        "mediaType": "application/vnd.docker.distribution.manifest.list.v2+json",
        "manifests": [{"mediaType": "application/vnd.docker.distribution.manifest.v2+json",
                       "digest": "sha256:" + "0" * 64, "size": 1,
                       "platform": {"architecture": "arm", "os": "linux", "variant": "v7"}}]}))
    write("image_json", "time", "2023-12-31T23:59:59.123456789-07:30")


def image_archive():
    layer, diff, config, manifest, index = image_json_docs()
    oci = [
        ("oci-layout", "file", '{"imageLayoutVersion":"1.0.0"}'),
        ("index.json", "file", index),
        ("blobs", "dir", None),
        ("blobs/sha256", "dir", None),
        ("blobs/sha256/" + sha(config), "file", config),
        ("blobs/sha256/" + sha(manifest), "file", manifest),
        ("blobs/sha256/" + sha(layer), "file", layer),
    ]
    write("image_archive", "oci.tar", tar_bytes(oci))
    # Docker 25+: manifest.json over the OCI layout.
    docker25 = oci + [("manifest.json", "file", json.dumps([{
        "Config": "blobs/sha256/" + sha(config), "RepoTags": ["x:1"],
        "Layers": ["blobs/sha256/" + sha(layer)]}]))]
    write("image_archive", "docker25.tar.gz", gz(tar_bytes(docker25)))
    # The old docker-save form: <id>.json, <layer>/layer.tar, plain layers.
    plain_layer = gzip.decompress(layer)
    old = [
        (sha(config) + ".json", "file", config),
        (diff + "/layer.tar", "file", plain_layer),
        ("manifest.json", "file", json.dumps([{
            "Config": sha(config) + ".json", "RepoTags": ["old:latest"],
            "Layers": [diff + "/layer.tar"]}])),
        ("repositories", "file", json.dumps({"old": {"latest": diff}})),
    ]
    write("image_archive", "docker-old.tar", tar_bytes(old))


def copy_match():
    # pattern NUL name
    seeds = {
        "star": b"*.txt\0notes.txt",
        "class": "[a-c]?[^0-9]\0b\u00e9x".encode(),
        "class_slash": b"*[/x]*b\0x/b",
        "escape": b"a\\*b\\\0a*b\\",
        "stars": b"*a*a*a*a*a*a*a*b\0" + b"a" * 40,
        "bad": b"a[\0b",
        "utf8": b"[\xe2\x82\xac-\xf0\x9f\x98\x80]?\0\xf0\x9f\x98\x80\xe2\x82",
    }
    for name, data in seeds.items():
        write("copy_match", name, data)


def main():
    shutil.rmtree(OUT, ignore_errors=True)
    dockerignore()
    layer_tar()
    image_json()
    image_archive()
    copy_match()


if __name__ == "__main__":
    main()
