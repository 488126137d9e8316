#!/usr/bin/env bash
# Make sure a Chromium exists for the browser tests (tests/browser/).
# A no-op when one is installed. Otherwise installs Debian's `chromium` when this
# machine allows it (root and apt-get); when it cannot, says so once and exits 0:
# the browser tests then skip with that reason.
set -euo pipefail

browser=/usr/bin/chromium
if [ -x "$browser" ]; then
    exit 0
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
    echo "ensure_browser: no $browser and no root apt-get to install it; browser tests will skip"
    exit 0
fi
echo "ensure_browser: installing Debian's chromium for the browser tests (once)"
export DEBIAN_FRONTEND=noninteractive
log="$(mktemp)"
if ! { apt-get update -qq && apt-get install -y -qq --no-install-recommends chromium; } >"$log" 2>&1; then
    tail -n 20 "$log"
    echo "ensure_browser: installing chromium failed; browser tests will skip"
fi
rm -f "$log"
