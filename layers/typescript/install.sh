#!/bin/sh
# Built-in typescript layer. Runs as root while mino builds the composed image.
set -eu

if ! command -v npm >/dev/null 2>&1; then
    mino-install-packages nodejs npm
fi

# A throw-away npm cache: the image keeps no download cache (at run time it is /cache/npm).
cache=$(mktemp -d)
npm install --global --no-fund --no-audit --cache "$cache" typescript@5 tsx@4 pnpm@10
rm -rf "$cache"

node --version
tsc --version
