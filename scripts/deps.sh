#!/usr/bin/env bash
# Installs what the build and the tests need when it is missing.
#   deps.sh go       Go modules
#   deps.sh editors  the editor tests' tools (scripts/deps.d/editors.sh)
#   deps.sh test     everything the tests need: every scripts/deps.d/*.sh
# Each file in scripts/deps.d installs what one part of the test suite needs
# and does nothing when it is already there; lib.sh holds their helpers.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/deps.d/lib.sh

case "${1:-go}" in
go)
	go mod download
	;;
editors)
	. scripts/deps.d/editors.sh
	;;
test)
	go mod download
	for f in scripts/deps.d/*.sh; do
		[ "$(basename "$f")" = lib.sh ] && continue
		. "$f"
	done
	;;
*)
	echo "usage: deps.sh go|editors|test" >&2
	exit 2
	;;
esac
