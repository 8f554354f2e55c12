#!/usr/bin/env bash
# Build the virtual environments of the external evaluation engines driven by the `opencompass` and
# `vlmeval` backends (docs/backends/opencompass.md, docs/backends/vlmeval.md), and the `bfcl` one where
# BFCL v3's multi-turn subsets run their executable environments (docs/benchmarks/function-calling.md).
#
# Why separate environments: OpenCompass pins numpy<2, httpx==0.27.2, scikit-learn==1.5.0, datasets<4, ...
# and VLMEvalKit (PyPI `ms-vlmeval`) pulls its own stack; both clash with the workspace's .venv. Each engine
# lives in <engines dir>/<engine>/ and the plugin runs its interpreter as a subprocess.
#
#   scripts/install_engines.sh                 # every engine
#   scripts/install_engines.sh opencompass     # one of them (opencompass | vlmeval | bfcl)
#
# Settings (environment):
#   EVALSCOPE_ENGINES_DIR   where the environments go            (default: <repo>/.engines)
#   EVALSCOPE_TORCH_WHEELS  folder holding the CPU torch wheel   (default: /opt/wheels)
#
# Every version is pinned in packages/evalscope-<engine>/engine-requirements.txt (compiled from the
# engine-requirements.in next to it), installed with `uv pip sync`: re-running is a fast no-op, and an
# environment that drifted is put back to exactly the pinned set. torch comes only from the local CPU
# wheel (the pin `torch==2.13.0+cpu` exists nowhere else), so no CUDA stack is ever downloaded.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)

engines_dir=${EVALSCOPE_ENGINES_DIR:-$repo/.engines}
wheels=${EVALSCOPE_TORCH_WHEELS:-/opt/wheels}

if ! command -v uv >/dev/null 2>&1; then
    python3 -m pip install --quiet --disable-pip-version-check "uv==0.13.9"
fi
need_wheels() {
    if [ ! -d "$wheels" ]; then
        echo "install_engines: the torch wheel folder $wheels does not exist;" >&2
        echo "install_engines: set EVALSCOPE_TORCH_WHEELS to a folder holding torch-2.13.0+cpu (see docs/backends/opencompass.md)" >&2
        exit 2
    fi
}

install_one() {
    local engine=$1 package=$2 probe=$3 req=${4:-"$repo/packages/$2/engine-requirements.txt"}
    local venv="$engines_dir/$engine"
    local start=$SECONDS
    if [ ! -x "$venv/bin/python" ]; then
        uv venv --quiet --python 3.11 "$venv"
    fi
    uv pip sync --quiet --python "$venv/bin/python" --find-links "$wheels" "$req"
    # Import check in the engine's own interpreter: a broken environment fails here, not in a test.
    "$venv/bin/python" -c "$probe"
    echo "install_engines: $engine ok in $((SECONDS - start)) s ($venv)"
}

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    targets=(opencompass vlmeval bfcl)
fi
for target in "${targets[@]}"; do
    case "$target" in
        opencompass)
            need_wheels
            install_one opencompass evalscope-opencompass \
                "import importlib.metadata as m; import opencompass, mmengine; print('opencompass', m.version('opencompass'))"
            ;;
        vlmeval)
            need_wheels
            install_one vlmeval evalscope-vlmeval \
                "import importlib.metadata as m; import importlib.util as u; assert u.find_spec('vlmeval'); print('ms-vlmeval', m.version('ms-vlmeval'))"
            ;;
        bfcl)
            # bfcl-eval without its dependencies (its list pins numpy, faiss, vllm extras, ...): the multi-turn
            # environments and checker need only mpmath. ~1 s with a warm uv cache.
            install_one bfcl evalscope-native \
                "import importlib.metadata as m; import bfcl_eval.eval_checker.multi_turn_eval.multi_turn_checker, bfcl_eval.eval_checker.multi_turn_eval.func_source_code.math_api; print('bfcl-eval', m.version('bfcl-eval'))" \
                "$repo/packages/evalscope-native/bfcl-engine-requirements.txt"
            ;;
        *)
            echo "install_engines: unknown engine '$target'; choose opencompass, vlmeval or bfcl" >&2
            exit 2
            ;;
    esac
done
