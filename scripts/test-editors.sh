#!/usr/bin/env bash
# Runs the editor tests that are not Go tests: the VS Code extension's type
# check (strict tsc) and eslint, its unit tests (node --test), packaging with
# @vscode/vsce into a temporary .vsix that is checked and removed, and the
# end-to-end test in a real VS Code (code-server driven by headless Chromium,
# editors/vscode/e2e/e2e.mjs; screenshots in editors/vscode/e2e/out or
# $FLASH_E2E_OUT). The Neovim and Emacs tests are Go tests (editors/nvim,
# editors/emacs) and run with `go test ./...`.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -f editors/vscode/package.json ]; then
	if [ ! -d editors/vscode/node_modules ]; then
		echo "test-editors: editors/vscode/node_modules is missing; run 'make deps-editors' (npm ci) first" >&2
		exit 1
	fi
	(cd editors/vscode && npm test)
	start=$(date +%s)
	node editors/vscode/e2e/e2e.mjs
	echo "test-editors: VS Code end to end: $(($(date +%s) - start)) s"
fi
