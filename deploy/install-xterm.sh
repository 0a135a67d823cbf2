#!/usr/bin/env bash
# Installs xterm.js, the browser terminal of the web terminal page (/terminal/{project}), where the SPE serves it from
# (Terminal:XtermDirectory, default /usr/local/share/openspe/xterm). The SPE serves these files itself: the page never loads
# code from a CDN. xterm.js is not vendored in the repository (third-party code is not ours to commit) and Debian's
# node-xterm 3.8.1 ships CommonJS modules only (no browser build), so the npm package @xterm/xterm is fetched here.
#
#   deploy/install-xterm.sh                 # version below, default directory
#   deploy/install-xterm.sh /some/dir       # another directory (then set Terminal:XtermDirectory)
#
# Needs npm (Debian package npm). Run as root for the default directory.
set -euo pipefail
version="${XTERM_VERSION:-6.0.0}"
target="${1:-/usr/local/share/openspe/xterm}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

(cd "$work" && npm pack --silent "@xterm/xterm@$version" >/dev/null && tar -xzf ./*.tgz)
install -d -m 0755 "$target/lib" "$target/css"
install -m 0644 "$work/package/lib/xterm.mjs" "$target/lib/xterm.mjs"
install -m 0644 "$work/package/css/xterm.css" "$target/css/xterm.css"
install -m 0644 "$work/package/LICENSE" "$work/package/package.json" "$target/"
echo "xterm.js $version installed in $target"
