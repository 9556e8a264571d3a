#!/usr/bin/env bash
# Debian's Chromium and a font for it, for tests/report.rs, which renders `ablate report`'s
# HTML page headless to a screenshot and checks that it shows a page (CI sets
# ABLATE_REQUIRE_CHROMIUM=1 so that the test fails instead of skipping without Chromium).
# Run as root; idempotent: it installs only what is missing.
set -euo pipefail

if command -v chromium >/dev/null && fc-list 2>/dev/null | grep -i dejavu >/dev/null; then
    exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
    echo "scripts/ci/install-chromium.sh installs Debian packages: run it as root" >&2
    exit 1
fi
apt-get update -q
DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
    chromium fonts-dejavu-core fontconfig
