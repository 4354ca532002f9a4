#!/usr/bin/env bash
# Writes a minimal root filesystem tarball built from Debian's busybox-static
# (/bin/busybox plus its applet symlinks, /etc/passwd, /etc/group), the base
# image of strata's offline quick start and tests:
#   scripts/busybox-rootfs.sh busybox.tar && strata import busybox.tar busybox:latest
# The tarball is reproducible: sorted entries, numeric owners 0:0, fixed mtimes.
set -euo pipefail
out=${1:?usage: $0 OUTPUT.tar}
bb=$(command -v busybox || true)
[ -x /bin/busybox ] && bb=/bin/busybox
[ -n "$bb" ] || { echo "busybox not found: apt-get install busybox-static" >&2; exit 1; }
root=$(mktemp -d); trap 'rm -rf "$root"' EXIT; chmod 0755 "$root"
mkdir -p "$root"/{bin,etc,tmp,root,usr/bin,usr/sbin,sbin,var,home}
chmod 1777 "$root/tmp"; chmod 0700 "$root/root"
cp "$bb" "$root/bin/busybox"
for applet in $("$root/bin/busybox" --list); do
  [ -e "$root/bin/$applet" ] || ln -s busybox "$root/bin/$applet"
done
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$root/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$root/etc/group"
tar --sort=name --numeric-owner --owner=0 --group=0 --mtime='2024-01-01 00:00:00Z' \
    --format=pax --pax-option=delete=atime,delete=ctime -C "$root" -cf "$out" .
