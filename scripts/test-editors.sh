#!/usr/bin/env bash
# Runs the editor tests that are not Go tests: the VS Code extension's type
# check (strict tsc) and eslint, its unit tests (node --test), and packaging
# with @vscode/vsce into a temporary .vsix that is checked and removed.
# The Neovim tests are Go tests (editors/nvim) and run with `go test ./...`.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -f editors/vscode/package.json ]; then
	if [ ! -d editors/vscode/node_modules ]; then
		echo "test-editors: editors/vscode/node_modules is missing; run 'make deps-editors' (npm ci) first" >&2
		exit 1
	fi
	(cd editors/vscode && npm test)
fi
