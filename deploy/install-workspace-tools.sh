#!/usr/bin/env bash
# Installs the tools researchers get inside workspace sandboxes. The sandbox image is the host's read-only /usr, so a
# tool is a Debian package installed on the host; nothing else of the host (its /etc, /var, /home) is visible inside.
#
#   deploy/install-workspace-tools.sh                      # the default list below
#   deploy/install-workspace-tools.sh python3-sklearn ...  # exactly these packages
#
# Keep the list in step with Workspaces:Tools in the server's configuration: the server logs SPE16509 at start for a
# configured tool that is not installed. Run as root (apt-get); no service needs a restart, new sandboxes see the tool.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

default_tools=(
  bubblewrap                     # the sandbox itself
  python3 python3-numpy python3-pandas python3-scipy python3-statsmodels python3-matplotlib
  r-base-core
  jupyter-notebook
  xterm nano vim-tiny
)

if [ "$#" -gt 0 ]; then
  tools=("$@")
else
  tools=("${default_tools[@]}")
fi

for tool in "${tools[@]}"; do
  # Note: a package name only; anything else (a path, an option) could make apt-get do something else than install.
  if ! [[ "$tool" =~ ^[a-z0-9][a-z0-9+.-]+$ ]]; then
    echo "not a Debian package name: $tool" >&2
    exit 2
  fi
done

if [ "$(id -u)" -ne 0 ]; then
  echo "run as root (apt-get installs into the host's /usr, which the sandboxes see read-only)" >&2
  exit 1
fi

apt-get update -qq
# Note: --no-install-recommends keeps the image small; a recommended package that is needed is listed explicitly.
apt-get install -y -qq --no-install-recommends "${tools[@]}"
echo "installed: ${tools[*]}"
