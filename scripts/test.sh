#!/usr/bin/env bash
# Lint, type-check, then the whole pytest suite (slow tests included). Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
export EVALSCOPE_DATA_DIR="${EVALSCOPE_DATA_DIR:-$(cd .. && pwd)/shared/data}"

.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy
.venv/bin/pytest "$@"
