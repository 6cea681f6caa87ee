#!/usr/bin/env bash
# Installs the oracle's pinned npm packages (package-lock.json) into DEST
# with `npm ci`, unless DEST already holds exactly that lock file's install.
# Exit 77 (a skip for ctest) when npm is missing or the registry cannot be
# reached.
#   npm-setup.sh PACKAGE_DIR DEST
set -euo pipefail
pkg=$1
dest=$2
if ! command -v npm >/dev/null 2>&1; then
    echo "npm not found: skipping"
    exit 77
fi
mkdir -p "$dest"
if [ -d "$dest/node_modules/graphql" ] && cmp -s "$pkg/package-lock.json" "$dest/package-lock.json"; then
    echo "npm packages already installed in $dest"
    exit 0
fi
cp "$pkg/package.json" "$pkg/package-lock.json" "$dest/"
if ! (cd "$dest" && npm ci --no-audit --no-fund --loglevel=error); then
    rm -rf "$dest/node_modules"
    echo "npm ci failed (no registry access?): skipping"
    exit 77
fi
