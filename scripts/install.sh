#!/usr/bin/env bash
# Build the whole development environment from nothing: uv, the locked workspace (every package
# editable) and the tools the tests need. Safe to re-run; downloads are cached by uv.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v uv >/dev/null 2>&1; then
    python3 -m pip install --quiet --disable-pip-version-check "uv==0.13.9"
fi
# The code sandbox (evalscope_native.sandbox, docs/sandbox.md) isolates model-written programs with
# bubblewrap. Install it when missing; without root we only say how, so the rest still installs.
if ! command -v bwrap >/dev/null 2>&1; then
    if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
        apt-get update && apt-get install -y bubblewrap
    else
        echo "install: note: 'bwrap' (bubblewrap) is missing; code benchmarks need it." >&2
        echo "install:       run: sudo apt-get install -y bubblewrap   (see docs/sandbox.md)" >&2
    fi
fi
# evalscope-app's tests drive a real browser (Playwright with the system chromium; Playwright's own
# browser download is never used). Install Debian's chromium when missing; without root, say how.
if ! command -v chromium >/dev/null 2>&1 && [ ! -x /usr/bin/chromium ]; then
    if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
        apt-get update && apt-get install -y chromium
    else
        echo "install: note: 'chromium' is missing; evalscope-app's browser tests need it." >&2
        echo "install:       run: sudo apt-get install -y chromium   (see docs/app.md)" >&2
    fi
fi
# --frozen: install exactly what uv.lock says (CI must not re-resolve); --all-extras: the tests cover
# every optional part (local checkpoints need evalscope-native[local]: torch, transformers).
# --compile-bytecode: uv installs without .pyc files, so every first `evalscope` (and every one where
# PYTHONDONTWRITEBYTECODE is set) would compile what it imports: ~1 s of a 1-sample run. The same for
# our own editable sources below.
uv sync --frozen --all-packages --all-extras --compile-bytecode
.venv/bin/python -m compileall -q -j 0 packages/*/src >/dev/null
# OpenCompass and VLMEvalKit pin versions that clash with ours: each gets its own environment under
# .engines/, driven as a subprocess by evalscope-opencompass / evalscope-vlmeval. So does bfcl-eval (BFCL
# v3's multi-turn environments and checker, driven by evalscope-native's bfcl_v3): ~1.5 s, 16 MB.
./scripts/install_engines.sh
echo "install: ok ($(.venv/bin/python --version), $(.venv/bin/evalscope --version))"
