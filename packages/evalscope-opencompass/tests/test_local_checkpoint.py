"""The real OpenCompass on local checkpoints: a tiny, randomly initialised Llama written into the test folder.

Two checkpoints with the same weights: a chat model (its tokenizer has a chat template; `is_chat: true` →
OpenCompass's `HuggingFacewithChatTemplate`) and a base model (no chat template; `is_chat: false` →
`HuggingFaceBaseModel`, which is given the prompt as plain text). Both go into ONE OpenCompass run, so the
test also covers two models per run on the local path, at the cost of a single engine start.

The checkpoints are built by the ENGINE's interpreter (transformers<5 there): a folder saved by our environment's
transformers 5 names `TokenizersBackend` as its tokenizer class, which transformers 4 cannot load, and the
point is a checkpoint the engine loads as any hub download. A random model answers GSM8K wrongly, so the
score is 0; what the test pins is that OpenCompass's Hugging Face model classes really generated the text our
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
# tokenizer configs name the two inputs it takes, as these then do.
_BUILD = """
import json, sys
from pathlib import Path
sys.path.insert(0, sys.argv[1])
from local_model_helpers import build_tiny_model
from transformers import AutoModelForCausalLM, AutoTokenizer
for target, chat in ((sys.argv[2], True), (sys.argv[3], False)):
    folder = build_tiny_model(Path(target), Path(sys.argv[4]), chat_template=chat)
    tc = folder / "tokenizer_config.json"
    tc.write_text(json.dumps({**json.loads(tc.read_text()), "model_input_names": ["input_ids", "attention_mask"]}))
    tokenizer = AutoTokenizer.from_pretrained(folder)
    AutoModelForCausalLM.from_pretrained(folder)
    assert bool(tokenizer.chat_template) == chat, "the chat model has a chat template, the base model none"
    assert "token_type_ids" not in tokenizer("x")
    print(type(tokenizer).__name__)
"""


def _checkpoints(tmp_path: Path, data_dir: Path, engine_python: Path) -> tuple[Path, Path]:
    """Build both checkpoints with the engine's transformers and load them back there, as OpenCompass will."""
    chat, base = tmp_path / "tiny-llama", tmp_path / "tiny-llama-base"
    proc = subprocess.run(
        [str(engine_python), "-c", _BUILD, str(HELPERS), str(chat), str(base), str(data_dir)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.split()[-2:] == ["PreTrainedTokenizerFast"] * 2
    return chat, base


def test_gsm8k_on_tiny_local_chat_and_base_models(
    tmp_path: Path, data_dir: Path, opencompass_python: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    chat, base = _checkpoints(tmp_path, data_dir, opencompass_python)
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
                    {"path": str(chat), "is_chat": True, "batch_size": 2, "max_out_len": MAX_OUT_LEN},
                    {"path": str(base), "is_chat": False, "batch_size": 2, "max_out_len": MAX_OUT_LEN},
                ],
                "limit": ROWS,
                "data_dir": str(oc_data),
                "timeout": 300,
            },
        }
    )

    (run_dir,) = (tmp_path / "out").iterdir()
    engine_dir = run_dir / "opencompass"
    # each entry became the OpenCompass class its is_chat asks for, on its own checkpoint
    job = json.loads((engine_dir / "job.json").read_text())
    assert [(m["abbr"], m["type"], m["path"]) for m in job["models"]] == [
        (chat.name, "opencompass.models.HuggingFacewithChatTemplate", str(chat)),
        (base.name, "opencompass.models.HuggingFaceBaseModel", str(base)),
    ]
    config = (engine_dir / "config.py").read_text()
    assert "opencompass.models.HuggingFaceBaseModel" in config and "OpenAI" not in config
    questions = [json.loads(line)["question"] for line in (oc_data / "data" / "gsm8k" / "test.jsonl").open()]

    assert sorted(reports) == [f"gsm8k@{chat.name}", f"gsm8k@{base.name}"]
    for folder in (chat, base):
        report = reports[f"gsm8k@{folder.name}"]
        assert (
            isinstance(report, Report)
            and report.backend == "opencompass"
            and report.name == "opencompass/gsm8k"
        )
        assert report.model_name == folder.name and report.num_samples == ROWS
        assert 0.0 <= report.score() <= 1.0
        on_disk = Report.model_validate_json((run_dir / "reports" / folder.name / "gsm8k.json").read_text())
        assert on_disk.model_name == folder.name and on_disk.num_samples == ROWS

        records = [
            SampleRecord.model_validate_json(line)
            for line in (run_dir / "reviews" / folder.name / "gsm8k.jsonl").open()
        ]
        assert len(records) == ROWS
        for record, question in zip(records, questions, strict=True):
            assert record.input[-1].role == "user" and question[:40] in record.input[-1].content
            assert record.scores["acc"] in (0.0, 1.0)
            assert isinstance(record.prediction, str) and record.prediction.strip(), (
                "the model generated no text"
            )
            assert question[:40] not in record.prediction, "the prediction must be the reply, not the prompt"

        # the replies are the engine's own: OpenCompass's prediction files hold the same text
        (pred_file,) = engine_dir.rglob(f"predictions/{folder.name}/gsm8k.json")
        engine_rows = list(json.loads(pred_file.read_text()).values())
        assert [r.prediction for r in records] == [row["prediction"] for row in engine_rows]
        prompts = [row["origin_prompt"] for row in engine_rows]
        if folder is chat:  # chat turns, which the model class renders with the checkpoint's chat template
            assert all(isinstance(p, list) and p[-1]["role"] == "HUMAN" for p in prompts)
        else:  # one plain text: the few-shot turns flattened by OpenCompass, no chat template anywhere
            assert all(isinstance(p, str) and p.rstrip().endswith("Answer:") for p in prompts)  # to continue
            assert all(
                question[:40] in p and "<|im_start|>" not in p
                for p, question in zip(prompts, questions, strict=True)
            )

    # the models' max_out_len bounds generation although GSM8K's own config says 512 (the driver's override)
    assert f"'max_new_tokens': {MAX_OUT_LEN}," in (engine_dir / "engine.log").read_text()
    assert "max_out_len=512" not in config and f"max_out_len={MAX_OUT_LEN}" in config
