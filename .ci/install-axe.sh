#!/usr/bin/env bash
# Installs axe-core (npm) for the portal's accessibility tests only: the tests inject axe.min.js into each page through
# Playwright (never served by the SPE). Default directory /usr/local/share/openspe-test/axe-core (SPE_TEST_AXE overrides it
# in the tests).
set -euo pipefail
version="${AXE_VERSION:-4.14.1}"
target="${1:-/usr/local/share/openspe-test/axe-core}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

(cd "$work" && npm pack --silent "axe-core@$version" >/dev/null && tar -xzf ./*.tgz)
install -d -m 0755 "$target"
install -m 0644 "$work/package/axe.min.js" "$work/package/LICENSE" "$work/package/package.json" "$target/"
echo "axe-core $version installed in $target"
