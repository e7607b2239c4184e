#!/usr/bin/env bash
# make demo: runs flash-lsp on the bundled example project.
set -euo pipefail
cd "$(dirname "$0")/.."
bin/flash-lsp version
