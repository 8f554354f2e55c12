#!/usr/bin/env bash
# Build the whole development environment from nothing: uv, the locked workspace (every package
# editable) and the tools the tests need. Safe to re-run; downloads are cached by uv.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v uv >/dev/null 2>&1; then
    python3 -m pip install --quiet --disable-pip-version-check "uv==0.13.9"
fi
# --frozen: install exactly what uv.lock says (CI must not re-resolve).
uv sync --frozen --all-packages
echo "install: ok ($(.venv/bin/python --version), $(.venv/bin/evalscope --version))"
