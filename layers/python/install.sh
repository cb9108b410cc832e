#!/bin/sh
# Built-in python layer. Runs as root while mino builds the composed image, after the
# root_install packages (python3) are in place.
set -eu

case "$(mino-install-packages --family)" in
    apt) mino-install-packages python3-pip python3-venv python3-dev ;;
    dnf) mino-install-packages python3-pip python3-devel ;;
    apk) mino-install-packages py3-pip python3-dev ;;
    *) mino-install-packages python3-pip ;;
esac

python3 --version
python3 -m pip --version
