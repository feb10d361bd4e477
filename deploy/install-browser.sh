#!/usr/bin/env bash
# Debian's Chromium, for the browser tests of `newsflow ui` (Playwright drives it with
# executable_path=/usr/bin/chromium). Idempotent: does nothing when it is installed.
#
# `playwright install` is not used on purpose: it downloads a browser build from a CDN,
# while this uses the distribution's package manager only.
set -euo pipefail

CHROMIUM=/usr/bin/chromium

if [ -x "$CHROMIUM" ]; then
    echo "install-browser: $("$CHROMIUM" --version 2>/dev/null || echo chromium) is installed"
    exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
    echo "install-browser: no apt-get on this machine; install Chromium at $CHROMIUM yourself" >&2
    exit 1
fi

SUDO=()
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        SUDO=(sudo -n)
    else
        echo "install-browser: installing Chromium needs root (apt-get install chromium)" >&2
        exit 1
    fi
fi

export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update -qq
# With its recommended packages: they bring the fonts the page is drawn with.
"${SUDO[@]}" apt-get install -y -qq chromium
echo "install-browser: $("$CHROMIUM" --version 2>/dev/null || echo chromium) installed"
