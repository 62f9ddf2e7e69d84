#!/usr/bin/env bash
# Puts `runnel` on your PATH: builds the release binary and copies it to PREFIX/bin. Before
# building, installs the Debian packages the build needs when they are missing
# (scripts/install-deps.sh).
#
#   scripts/install.sh                      # → ~/.local/bin/runnel
#   scripts/install.sh --prefix /usr/local  # → /usr/local/bin/runnel (may need sudo)
#   scripts/install.sh --from PATH          # install an already built binary; no build
#
# PREFIX can also come from the environment (PREFIX=/opt/runnel scripts/install.sh). The script
# says so when PREFIX/bin is not on your PATH.
set -euo pipefail

usage() { sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; }

prefix="${PREFIX:-$HOME/.local}"
from=""
while [[ $# -gt 0 ]]; do
    case "$1" in
        --prefix) [[ $# -ge 2 ]] || { echo "install.sh: --prefix needs a directory" >&2; exit 2; }; prefix="$2"; shift 2 ;;
        --from) [[ $# -ge 2 ]] || { echo "install.sh: --from needs a path" >&2; exit 2; }; from="$2"; shift 2 ;;
        -h|--help) usage; exit 0 ;;
        *) echo "install.sh: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
    esac
done

if [[ -z "$from" ]]; then
    cd "$(dirname "${BASH_SOURCE[0]}")/.."
    bash scripts/install-deps.sh
    swift build -c release --product runnel
    from="$(swift build -c release --show-bin-path)/runnel"
fi
[[ -x "$from" ]] || { echo "install.sh: no executable runnel at $from" >&2; exit 1; }

target="$prefix/bin/runnel"
mkdir -p "$prefix/bin"
# Copy then rename, so that a runnel running from the target keeps its file.
cp "$from" "$target.tmp.$$"
chmod 0755 "$target.tmp.$$"
mv -f "$target.tmp.$$" "$target"
echo "installed $("$target" --version) at $target"

case ":$PATH:" in
    *":$prefix/bin:"*) ;;
    *) echo "note: $prefix/bin is not on your PATH; add it, e.g. export PATH=\"$prefix/bin:\$PATH\"" ;;
esac
