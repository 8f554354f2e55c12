"""The real OpenCompass on a local checkpoint: a tiny, randomly initialised Llama written into the test folder.

The checkpoint is built by the ENGINE's interpreter (transformers<5 there): a folder saved by our environment's
transformers 5 names `TokenizersBackend` as its tokenizer class, which transformers 4 cannot load, and the
point is a checkpoint the engine loads as any hub download. A random model answers GSM8K wrongly, so the
score is 0; what the test pins is that OpenCompass's Hugging Face model class really generated the text our
reviews carry, for every row, with no network.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from evalscope import run_task
from evalscope.report import Report, SampleRecord
from evalscope_opencompass.local_data import write_gsm8k

pytestmark = [pytest.mark.slow, pytest.mark.engine]

ROWS = 2
MAX_OUT_LEN = 8
HELPERS = Path(__file__).resolve().parents[2] / "evalscope-native" / "tests"

# A plain PreTrainedTokenizerFast also returns `token_type_ids`, which Llama's `generate` refuses; Llama's own
# tokenizer configs name the two inputs it takes, as this one then does.
_BUILD = """
import json, sys
from pathlib import Path
sys.path.insert(0, sys.argv[1])
from local_model_helpers import build_tiny_model
from transformers import AutoModelForCausalLM, AutoTokenizer
folder = build_tiny_model(Path(sys.argv[2]), Path(sys.argv[3]), chat_template=True)
tc = folder / "tokenizer_config.json"
tc.write_text(json.dumps({**json.loads(tc.read_text()), "model_input_names": ["input_ids", "attention_mask"]}))
tokenizer = AutoTokenizer.from_pretrained(folder)
AutoModelForCausalLM.from_pretrained(folder)
assert tokenizer.chat_template, "HuggingFacewithChatTemplate needs a chat template"
assert "token_type_ids" not in tokenizer("x")
print(type(tokenizer).__name__)
"""


def _checkpoint(tmp_path: Path, data_dir: Path, engine_python: Path) -> Path:
    """Build the checkpoint with the engine's transformers and load it back there, as OpenCompass will."""
    folder = tmp_path / "tiny-llama"
    proc = subprocess.run(
        [str(engine_python), "-c", _BUILD, str(HELPERS), str(folder), str(data_dir)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.split()[-1] == "PreTrainedTokenizerFast"
    return folder


def test_gsm8k_on_a_tiny_local_llama(
    tmp_path: Path, data_dir: Path, opencompass_python: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    checkpoint = _checkpoint(tmp_path, data_dir, opencompass_python)
    oc_data = tmp_path / "ocdata"
    write_gsm8k(data_dir, oc_data, limit=ROWS)
    # as in test_e2e.py: any download attempt fails at once through a dead proxy (the engine inherits it)
    for var in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY"):
        monkeypatch.setenv(var, "http://127.0.0.1:9")
    for var in ("no_proxy", "NO_PROXY"):
        monkeypatch.setenv(var, "127.0.0.1,localhost")
    for var in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"):
        monkeypatch.delenv(var, raising=False)  # an attempt must hit the dead proxy, not be skipped

    reports = run_task(
        {
            "eval_backend": "OpenCompass",
            "work_dir": str(tmp_path / "out"),
            "reporters": [],
            "eval_config": {
                "datasets": ["gsm8k"],
                "models": [
                    {"path": str(checkpoint), "is_chat": True, "batch_size": 2, "max_out_len": MAX_OUT_LEN}
                ],
                "limit": ROWS,
                "data_dir": str(oc_data),
                "timeout": 300,
            },
        }
    )

    (run_dir,) = (tmp_path / "out").iterdir()
    engine_dir = run_dir / "opencompass"
    config = (engine_dir / "config.py").read_text()
    assert "opencompass.models.HuggingFacewithChatTemplate" in config and str(checkpoint) in config
    assert "OpenAI" not in config

    report = reports["gsm8k"]
    assert (
        isinstance(report, Report) and report.backend == "opencompass" and report.name == "opencompass/gsm8k"
    )
    assert report.num_samples == ROWS
    assert 0.0 <= report.score() <= 1.0
    (model_dir,) = (run_dir / "reports").iterdir()
    assert Report.model_validate_json((model_dir / "gsm8k.json").read_text()).num_samples == ROWS

    records = [
        SampleRecord.model_validate_json(line)
        for line in (run_dir / "reviews" / model_dir.name / "gsm8k.jsonl").open()
    ]
    assert len(records) == ROWS
    questions = [json.loads(line)["question"] for line in (oc_data / "data" / "gsm8k" / "test.jsonl").open()]
    for record, question in zip(records, questions, strict=True):
        assert record.input[-1].role == "user" and question[:40] in record.input[-1].content
        assert record.scores["acc"] in (0.0, 1.0)
        assert isinstance(record.prediction, str) and record.prediction.strip(), "the model generated no text"
        assert question[:40] not in record.prediction, "the prediction must be the reply, not the prompt"

    # the replies are the engine's own: OpenCompass's prediction files hold the same text
    (pred_file,) = engine_dir.rglob("predictions/*/*.json")
    engine_preds = [row["prediction"] for row in json.loads(pred_file.read_text()).values()]
    assert [r.prediction for r in records] == engine_preds
    # the model's max_out_len bounds generation although GSM8K's own config says 512 (the driver's override)
    assert f"'max_new_tokens': {MAX_OUT_LEN}," in (engine_dir / "engine.log").read_text()
    assert "max_out_len=512" not in config and f"max_out_len={MAX_OUT_LEN}" in config
