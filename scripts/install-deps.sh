#!/usr/bin/env bash
# Installs the Debian packages the build needs (docs/decisions.md D24), when any is missing.
# Says nothing and changes nothing when they are all there, so every set-up path may call it:
# the README's broker command (scripts/broker.sh), scripts/test-all.sh and scripts/install.sh.
#
#   pkg-config    how SwiftPM finds the libraries below
#   zlib1g-dev    gzip record batches (Sources/CZlib)
#   libsnappy-dev snappy record batches, raw and xerial-framed (Sources/CSnappy)
#   liblz4-dev    lz4 record batches, LZ4 frame format (Sources/CLZ4)
#   libzstd-dev   zstd record batches (Sources/CZstd)
#   libre2-dev    KIP-848 subscription regexes, matched in linear time (Sources/CRE2)
#
# Package names given as arguments are installed the same way, in the same apt-get run:
# scripts/test-all.sh adds kcat and openssl, test tools, so that a fresh machine updates its package lists
# once; scripts/fault-suite.sh adds python3-fusepy (lossyfs, its power-cut file system). The
# Swift toolchain itself (with its clang, which compiles the C and C++ shims) is not installed
# here. Off Debian (no dpkg), the script only checks that pkg-config finds re2, zlib, snappy, lz4
# and zstd, and says what to install when it does not.
set -euo pipefail

packages=(pkg-config zlib1g-dev libsnappy-dev liblz4-dev libzstd-dev libre2-dev "$@")

as_root() {
    if [[ "$(id -u)" -eq 0 ]]; then "$@"; else sudo "$@"; fi
}

if ! command -v dpkg-query >/dev/null 2>&1; then
    if ! pkg-config --exists re2 zlib snappy liblz4 libzstd 2>/dev/null; then
        echo "install-deps.sh: not a Debian system; install pkg-config, zlib, snappy, lz4, zstd and re2 (e.g. brew install pkg-config snappy lz4 zstd re2)" >&2
        exit 1
    fi
    exit 0
fi

missing=()
for package in "${packages[@]}"; do
    if [[ "$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null)" != "install ok installed" ]]; then
        missing+=("$package")
    fi
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

echo "installing from Debian: ${missing[*]}"
# A fresh machine has no package lists, and `apt-get install` fails without them.
apt_log="$(mktemp)"
trap 'rm -f "$apt_log"' EXIT
if ! { as_root apt-get update -qq && as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"; } \
        >"$apt_log" 2>&1; then
    cat "$apt_log" >&2
    echo "install-deps.sh: could not install ${missing[*]}" >&2
    exit 1
fi
