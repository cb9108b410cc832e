#!/bin/sh
# Built-in typescript layer. Runs as root while mino builds the composed image.
set -eu

# Installs distribution packages with whichever package manager the image has.
install_packages() {
    if command -v apt-get >/dev/null 2>&1; then
        export DEBIAN_FRONTEND=noninteractive
        apt-get update
        apt-get install -y --no-install-recommends "$@"
        rm -rf /var/lib/apt/lists/*
    elif command -v dnf >/dev/null 2>&1; then
        dnf install -y --setopt=install_weak_deps=False "$@"
        dnf clean all
    elif command -v apk >/dev/null 2>&1; then
        apk add --no-cache "$@"
    else
        echo "no apt-get, dnf or apk in this image to install: $*" >&2
        exit 1
    fi
}

# Which family of package names applies: apt, dnf or apk.
package_family() {
    if command -v apt-get >/dev/null 2>&1; then echo apt
    elif command -v dnf >/dev/null 2>&1; then echo dnf
    elif command -v apk >/dev/null 2>&1; then echo apk
    else echo none
    fi
}

if ! command -v npm >/dev/null 2>&1; then
    install_packages nodejs npm
fi

# A throw-away npm cache: the image keeps no download cache (at run time it is /cache/npm).
cache=$(mktemp -d)
npm install --global --no-fund --no-audit --cache "$cache" typescript@5 tsx@4 pnpm@10
rm -rf "$cache"

node --version
tsc --version
