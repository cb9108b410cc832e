#!/bin/sh
# Built-in rust layer. Runs as root while mino builds the composed image.
set -eu

case "$(mino-install-packages --family)" in
    apt) mino-install-packages rustc cargo gcc libc6-dev sccache ;;
    dnf) mino-install-packages rust cargo gcc sccache ;;
    apk) mino-install-packages rust cargo gcc musl-dev sccache ;;
    *) mino-install-packages rustc cargo ;;
esac

rustc --version
cargo --version
sccache --version
