#!/usr/bin/env bash
# Installs the browser libraries of the upload page (/upload/{project}), where the SPE serves them from
# (UploadPage:LibraryDirectory, default /usr/local/share/openspe/upload-js): the audited pure-JavaScript primitives
# @noble/curves (X25519), @noble/ciphers (ChaCha20-Poly1305) and @noble/hashes (BLAKE2b, SHA-256), and tus-js-client
# (resumable upload). The SPE serves these files itself: the page never loads code from a CDN. Like xterm.js they are not
# vendored in the repository (third-party code is not ours to commit); npm fetches the exact versions below.
#
# The noble packages are ES modules that import each other by package name ('@noble/hashes/sha2.js'); a browser resolves
# such a bare name only through an import map, which is an inline script that the page's policy (script-src 'self')
# refuses. So each installed file's imports of '@noble/<name>/' are rewritten to the relative path of the sibling folder
# ('../noble-<name>/'): a path change only, no code change. tus-js-client is installed as its UMD bundle (dist/tus.min.js),
# which the page loads as a classic script before its modules.
#
#   deploy/install-upload-js.sh                 # versions below, default directory
#   deploy/install-upload-js.sh /some/dir       # another directory (then set UploadPage:LibraryDirectory)
#
# Needs npm (Debian package npm). Run as root for the default directory.
set -euo pipefail
noble="${NOBLE_VERSION:-2.4.0}"
tus="${TUS_JS_CLIENT_VERSION:-4.3.1}"
target="${1:-/usr/local/share/openspe/upload-js}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

for name in curves ciphers hashes; do
  mkdir -p "$work/$name"
  (cd "$work/$name" && npm pack --silent "@noble/$name@$noble" >/dev/null && tar -xzf ./*.tgz)
  dest="$target/noble-$name"
  rm -rf "$dest"
  install -d -m 0755 "$dest"
  install -m 0644 "$work/$name/package/"*.js "$work/$name/package/LICENSE" "$work/$name/package/package.json" "$dest/"
  if [ -d "$work/$name/package/abstract" ]; then
    install -d -m 0755 "$dest/abstract"
    install -m 0644 "$work/$name/package/abstract/"*.js "$dest/abstract/"
  fi
  # Bare package names to sibling folders: '../' from the package's top folder, '../../' from abstract/.
  find "$dest" -maxdepth 1 -name '*.js' -exec sed -i -E "s#(['\"])@noble/(curves|ciphers|hashes)/#\1../noble-\2/#g" {} +
  if [ -d "$dest/abstract" ]; then
    find "$dest/abstract" -name '*.js' -exec sed -i -E "s#(['\"])@noble/(curves|ciphers|hashes)/#\1../../noble-\2/#g" {} +
  fi
done

mkdir -p "$work/tus"
(cd "$work/tus" && npm pack --silent "tus-js-client@$tus" >/dev/null && tar -xzf ./*.tgz)
install -d -m 0755 "$target/tus"
install -m 0644 "$work/tus/package/dist/tus.min.js" "$work/tus/package/LICENSE" "$work/tus/package/package.json" "$target/tus/"
echo "noble $noble and tus-js-client $tus installed in $target"
