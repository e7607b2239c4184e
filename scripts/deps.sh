#!/usr/bin/env bash
# Installs what the build and the tests need when it is missing.
#   deps.sh go       Go modules
#   deps.sh editors  headless Neovim (apt) and the VS Code extension's npm packages
set -euo pipefail
cd "$(dirname "$0")/.."

case "${1:-go}" in
go)
	go mod download
	;;
editors)
	if ! command -v nvim >/dev/null 2>&1; then
		echo "installing neovim (apt-get)" >&2
		if [ "$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi
		$SUDO apt-get update -qq >/dev/null
		DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq neovim >/dev/null
	fi
	# npm ci when node_modules is missing or older than the lockfile.
	lock=editors/vscode/package-lock.json
	if [ -f "$lock" ] && { [ ! -f editors/vscode/node_modules/.package-lock.json ] ||
		[ "$lock" -nt editors/vscode/node_modules/.package-lock.json ]; }; then
		echo "installing the VS Code extension's npm packages" >&2
		(cd editors/vscode && npm ci --no-audit --no-fund >/dev/null)
	fi
	;;
*)
	echo "usage: deps.sh go|editors" >&2
	exit 2
	;;
esac
