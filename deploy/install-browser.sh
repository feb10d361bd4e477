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
# With its recommended packages: they bring the fonts the page is drawn with.
"$(dirname "$0")/install-package.sh" --with-recommends "$CHROMIUM" chromium
echo "install-browser: $("$CHROMIUM" --version 2>/dev/null || echo chromium) installed"
