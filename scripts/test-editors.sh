#!/usr/bin/env bash
# Runs the editor tests that are not Go tests: the VS Code extension's build,
# unit tests and packaging.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -f editors/vscode/package.json ]; then
	(cd editors/vscode && npm run --silent compile && npm test)
fi
