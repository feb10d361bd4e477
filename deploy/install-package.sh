#!/usr/bin/env bash
# A Debian package the tests need (openssl, nginx, chromium): installs PACKAGE when COMMAND
# is not on PATH (nor in /usr/sbin). Idempotent: does nothing when it is there.
#   deploy/install-package.sh [--with-recommends] COMMAND PACKAGE
set -euo pipefail

RECOMMENDS=(--no-install-recommends)
if [ "${1:-}" = "--with-recommends" ]; then
    RECOMMENDS=()
    shift
fi
COMMAND=${1:?usage: install-package.sh [--with-recommends] COMMAND PACKAGE}
PACKAGE=${2:?usage: install-package.sh [--with-recommends] COMMAND PACKAGE}

if PATH="$PATH:/usr/sbin:/sbin" command -v "$COMMAND" >/dev/null 2>&1; then
    exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "install-package: no apt-get on this machine; install $PACKAGE yourself" >&2
    exit 1
fi
SUDO=()
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        SUDO=(sudo -n)
    else
        echo "install-package: installing $PACKAGE needs root (apt-get install $PACKAGE)" >&2
        exit 1
    fi
fi
export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update -qq
"${SUDO[@]}" apt-get install -y -qq "${RECOMMENDS[@]}" "$PACKAGE"
echo "install-package: $PACKAGE installed"
