#!/usr/bin/env bash
# Installs everything strata needs to build and test, from Debian's packages.
# Safe to run again; only installs what is missing. Needs root.
set -euo pipefail
PKGS=(
  build-essential cmake ninja-build pkg-config git
  antlr4 libantlr4-runtime-dev default-jre-headless
  libarchive-dev libxxhash-dev libssl-dev libfmt-dev libcli11-dev nlohmann-json3-dev
  libcurl4-openssl-dev libseccomp-dev libzstd-dev zlib1g-dev
  # ISA-L's igzip: gzip layers inflated 2-3x faster than by zlib (src/store/gzip_decoder.hpp)
  libisal-dev
  # the static archives of libarchive's own dependencies (cmake/static_deps.cmake)
  nettle-dev libxml2-dev libicu-dev liblz4-dev liblzma-dev libbz2-dev
  libgtest-dev libgmock-dev
  clang libclang-rt-14-dev clang-format
  busybox-static skopeo umoci zstd tar gzip python3 curl
  # strace: the test that counts a build's fsyncs (tests/cli/fsync_budget_cli_test.cpp)
  strace
  # a Debian base for the test that runs apt-get in RUN (tests/build/network_mirror_test.cpp)
  mmdebstrap
  # ssh-agent/ssh-add: `strata build --ssh ID=KEYFILE` starts an agent for the build
  openssh-client
  # ps: `strata top` runs the host's ps, as Docker's daemon does
  procps
  # RUN steps' private network (pasta), and the fake host its tests build
  passt iproute2
  # the bridge network of `strata run` as root: netlink (libnl) and its NAT rules (nft)
  libnl-3-dev libnl-route-3-dev nftables
  # the real registry the registry tests start (tests/support/registry_fixture.hpp),
  # htpasswd for its basic auth, and the JWT modules of its test token server
  docker-registry apache2-utils python3-jwt python3-cryptography
)
missing=()
for p in "${PKGS[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q -o DPkg::Lock::Timeout=300 "${missing[@]}" >/dev/null
fi
# docker-registry's postinst starts the packaged registry (:5000 on every
# address) through invoke-rc.d or systemd where nothing forbids it; the tests
# start their own on 127.0.0.1, so when this run installed it, stop that one
# and keep it from coming back at boot.
if [[ " ${missing[*]} " == *" docker-registry "* ]]; then
  if [ -x /etc/init.d/docker-registry ]; then
    /etc/init.d/docker-registry stop >/dev/null 2>&1 || true
    update-rc.d docker-registry disable >/dev/null 2>&1 || true
  fi
  if [ -d /run/systemd/system ]; then
    systemctl disable --now docker-registry.service >/dev/null 2>&1 || true
  fi
fi
