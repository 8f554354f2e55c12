"""Local checkpoints in-process: a tiny random Llama saved with save_pretrained, run by transformers.

Batched greedy answers must equal unbatched ones (left padding, attention mask, position ids), stop
strings and EOS must end each row on its own, and a whole run on real benchmark data must give
reports and a cache that a second run reuses without generating again.
"""

from __future__ import annotations

import asyncio
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")

from evalscope import run_task  # noqa: E402
from evalscope.checkpoints import ModelNotFoundError, resolve_checkpoint  # noqa: E402
from evalscope.config import TaskConfig  # noqa: E402
from evalscope.contracts import ChatMessage, GenerateRequest, ModelOutput  # noqa: E402
from evalscope.errors import ConfigError, MissingDependencyError, UsageError  # noqa: E402
from evalscope_native.engine.backend import NativeBackend  # noqa: E402
from evalscope_native.engine.plan import resolve_model_spec  # noqa: E402
from evalscope_native.models.local_hf import TransformersModel  # noqa: E402
from evalscope_native.models.local_prompt import render_prompt, truncate_at_stop  # noqa: E402
from local_model_helpers import build_tiny_model, training_lines  # noqa: E402

MAX_TOKENS = 16


@pytest.fixture(scope="session")
def chat_model(tmp_path_factory: pytest.TempPathFactory, data_dir: Path) -> Path:
    return build_tiny_model(tmp_path_factory.mktemp("ckpt") / "tiny-chat", data_dir, chat_template=True)


@pytest.fixture(scope="session")
def plain_model(tmp_path_factory: pytest.TempPathFactory, data_dir: Path) -> Path:
    return build_tiny_model(tmp_path_factory.mktemp("ckpt") / "tiny-plain", data_dir, chat_template=False)


@pytest.fixture(scope="session")
def questions(data_dir: Path) -> list[str]:
    """24 real questions of very different lengths (GSM8K and ARC), so batches need padding."""
    lines = training_lines(data_dir, 12)
    return [q if i % 3 else q[: 20 + i] for i, q in enumerate(lines)]


def _generate_all(
    model: TransformersModel, prompts: list[str], gen: dict[str, Any], concurrency: int
) -> list[ModelOutput]:
    """Drive the model as the engine does: `concurrency` callers, one request each at a time."""
    config = TaskConfig(generation_config=gen).generation_config
    requests = [
        GenerateRequest(messages=[ChatMessage(role="user", content=p)], config=config) for p in prompts
    ]

    async def main() -> list[ModelOutput]:
        gate = asyncio.Semaphore(concurrency)

        async def one(request: GenerateRequest) -> ModelOutput:
            async with gate:
                return await model.generate(request)

        try:
            return list(await asyncio.gather(*(one(r) for r in requests)))
        finally:
            await model.aclose()

    return asyncio.run(main())


def _model(path: Path, batch_size: int, **gen: Any) -> TransformersModel:
    return TransformersModel(TaskConfig(model=str(path), eval_batch_size=batch_size, generation_config=gen))


@pytest.fixture(scope="session")
def unbatched(chat_model: Path, questions: list[str]) -> list[ModelOutput]:
    model = _model(chat_model, 1)
    outputs = _generate_all(model, questions, {"max_tokens": MAX_TOKENS}, concurrency=1)
    assert model.batcher.batches_run == len(questions)
    return outputs


def test_batched_greedy_equals_unbatched(
    chat_model: Path, questions: list[str], unbatched: list[ModelOutput]
) -> None:
    model = _model(chat_model, 8)
    batched = _generate_all(model, questions, {"max_tokens": MAX_TOKENS}, concurrency=8)
    assert model.batcher.batches_run == len(questions) // 8  # really batched: 3 batches of 8
    lengths = {o.usage.prompt_tokens for o in unbatched if o.usage}
    assert len(lengths) > 15, "the prompts must differ in length, or padding is never exercised"
    for one, many in zip(unbatched, batched, strict=True):
        assert many.completions == one.completions
        assert many.usage == one.usage
        assert one.usage is not None
        assert one.finish_reasons == ["length" if one.usage.completion_tokens == MAX_TOKENS else "stop"]


def test_stop_strings_end_each_row_on_its_own(
    chat_model: Path, questions: list[str], unbatched: list[ModelOutput]
) -> None:
    full = [o.completions[0] for o in unbatched]
    # Stop strings taken from the middle of three answers; each row must stop at the first one it meets.
    stops = sorted({text[6:9] for text in full[:3] if len(text) >= 9})
    model = _model(chat_model, 8)
    outputs = _generate_all(model, questions, {"max_tokens": MAX_TOKENS, "stop": stops}, concurrency=8)
    hits = 0
    for text, out in zip(full, outputs, strict=True):
        expected, hit = truncate_at_stop(text, stops)
        assert out.completions == [expected]
        assert out.finish_reasons == ["stop" if hit else "length"]
        assert out.usage is not None
        if hit:
            hits += 1
            assert out.usage.completion_tokens < MAX_TOKENS  # the row stopped generating early
    assert hits >= 3


def test_eos_from_generation_config_ends_a_row(
    chat_model: Path, tmp_path: Path, questions: list[str], unbatched: list[ModelOutput]
) -> None:
    """A checkpoint's generation_config.json may list several EOS ids (Qwen does): each one ends a row."""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(chat_model)
    first = tokenizer(unbatched[0].completions[0], add_special_tokens=False)["input_ids"]
    eos = first[5]  # a token the model emits at step 6 of the first answer
    copy = tmp_path / "eos-model"
    shutil.copytree(chat_model, copy)
    gen_path = copy / "generation_config.json"
    gen_cfg = json.loads(gen_path.read_text())
    gen_cfg["eos_token_id"] = [tokenizer.eos_token_id, eos]
    gen_path.write_text(json.dumps(gen_cfg))

    outputs = _generate_all(_model(copy, 8), questions[:8], {"max_tokens": MAX_TOKENS}, concurrency=8)
    assert outputs[0].completions == [tokenizer.decode(first[:5])]
    assert outputs[0].finish_reasons == ["stop"]
    for out, ref in zip(outputs, unbatched[:8], strict=True):  # other rows: cut at their first `eos`, if any
        ids = tokenizer(ref.completions[0], add_special_tokens=False)["input_ids"]
        cut = ids.index(eos) if eos in ids else len(ids)
        assert out.completions == [tokenizer.decode(ids[:cut])]


def test_sampling_n_answers_per_sample_reproducibly(chat_model: Path, questions: list[str]) -> None:
    gen = {"max_tokens": 8, "do_sample": True, "n": 3, "seed": 7}
    first = _generate_all(_model(chat_model, 4), questions[:4], gen, concurrency=4)
    again = _generate_all(_model(chat_model, 4), questions[:4], gen, concurrency=4)
    for out, rerun in zip(first, again, strict=True):
        assert len(out.completions) == 3 and len(out.finish_reasons) == 3
        assert out.usage is not None and out.usage.completion_tokens <= 3 * 8
        assert rerun.completions == out.completions  # same seed, same batches: the same samples
    assert any(len(set(o.completions)) > 1 for o in first), "n sampled answers, not one answer repeated"


def test_prompts_use_the_chat_template_when_there_is_one(chat_model: Path, plain_model: Path) -> None:
    from transformers import AutoTokenizer

    messages = [ChatMessage(role="system", content="Be brief."), ChatMessage(role="user", content="2+2?")]
    text, special = render_prompt(AutoTokenizer.from_pretrained(chat_model), messages, None)
    assert (
        text
        == "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\n2+2?<|im_end|>\n<|im_start|>assistant\n"
    )
    assert special is False
    text, special = render_prompt(AutoTokenizer.from_pretrained(plain_model), messages, None)
    assert (text, special) == ("system: Be brief.\nuser: 2+2?\n", True)  # EvalScope 1.x's plain prompt


def test_run_task_gsm8k_and_arc_then_resume_from_cache(
    plain_model: Path, tmp_path: Path, data_dir: Path
) -> None:
    task: dict[str, Any] = {
        "model": str(plain_model),
        "datasets": ["gsm8k", "arc"],
        "dataset_args": {"gsm8k": {"few_shot_num": 0}},
        "data_dir": str(data_dir),
        "limit": 4,
        "eval_batch_size": 4,
        "generation_config": {"max_tokens": 12},
        "work_dir": str(tmp_path / "out"),
    }
    reports = run_task(task)
    assert reports["gsm8k"].num_samples == 4 and reports["arc"].num_samples == 8
    assert reports["gsm8k"].num_errors == 0 and reports["arc"].num_errors == 0
    run_dir = next((tmp_path / "out").iterdir())
    assert (run_dir / "reports" / "tiny-plain" / "arc.json").is_file()
    log = (run_dir / "logs" / "eval_log.log").read_text()
    assert "no precision in --model-args: using float32" in log and "plain prompt" in log

    predictions = run_dir / "predictions" / "tiny-plain" / "arc.jsonl"
    lines = [json.loads(x) for x in predictions.read_text().splitlines()]
    assert len(lines) == 8
    # The engine queued the longest prompts first: the first batch of 4 holds the 4 longest.
    reviews = [
        json.loads(x) for x in (run_dir / "reviews" / "tiny-plain" / "arc.jsonl").read_text().splitlines()
    ]
    prompt_len = {r["id"]: r["usage"]["prompt_tokens"] for r in reviews}
    first, rest = [prompt_len[x["sample"]] for x in lines[:4]], [prompt_len[x["sample"]] for x in lines[4:]]
    assert min(first) >= max(rest)
    assert all(r["prediction"] is not None and r["usage"]["completion_tokens"] <= 12 for r in reviews)

    again = run_task({**task, "use_cache": str(run_dir)})
    assert predictions.read_text().count("\n") == 8, "every answer came from the cache"
    assert again["arc"].model_dump(exclude={"created_at", "config"}) == reports["arc"].model_dump(
        exclude={"created_at", "config"}
    )


def test_bad_model_args_fail_before_loading(chat_model: Path) -> None:
    with pytest.raises(ConfigError, match="Did you mean 'precision'"):
        _model_args(chat_model, {"precison": "torch.float16"})
    with pytest.raises(ConfigError, match="not a dtype"):
        _model_args(chat_model, {"precision": "torch.float13"})
    with pytest.raises(ConfigError, match="vLLM engine only"):
        _model_args(chat_model, {"tensor_parallel_size": 2})
    with pytest.raises(ConfigError, match="identical answers"):
        TransformersModel(TaskConfig(model=str(chat_model), generation_config={"n": 2}))
    with pytest.raises(ConfigError, match="presence_penalty"):
        TransformersModel(TaskConfig(model=str(chat_model), generation_config={"presence_penalty": 0.5}))
    with pytest.raises(ModelNotFoundError, match="no such folder"):
        TransformersModel(TaskConfig(model="./no/such/checkpoint"))
    with pytest.raises(ModelNotFoundError, match="no config.json"):
        TransformersModel(TaskConfig(model=str(chat_model.parent)))


def _model_args(path: Path, args: dict[str, Any]) -> TransformersModel:
    return TransformersModel(TaskConfig(model=str(path), model_args=args))


def test_model_args_reach_the_model(chat_model: Path) -> None:
    model = _model_args(chat_model, {"precision": "torch.bfloat16", "device_map": "cpu", "revision": "v1"})
    assert str(model.model.dtype) == "torch.bfloat16"
    ident = model.identity()
    assert ident["dtype"] == "bfloat16" and ident["checkpoint"]["path"] == str(chat_model)
    assert ident != _model_args(chat_model, {}).identity()  # dtype is part of the cache key


def test_engine_choice_and_missing_vllm(chat_model: Path) -> None:
    config = TaskConfig(model=str(chat_model), datasets=["arc"])
    assert resolve_model_spec(config).canonical_name == "native/transformers"
    vllm_config = TaskConfig(model=str(chat_model), datasets=["arc"], model_args={"engine": "vllm"})
    assert resolve_model_spec(vllm_config).canonical_name == "native/vllm"
    try:
        import vllm  # noqa: F401
    except ImportError:
        with pytest.raises(MissingDependencyError, match="pip install vllm"):
            NativeBackend().prepare(vllm_config.model_copy(update={"limit": 1}))
    with pytest.raises(ConfigError, match="engine"):
        _model_args(chat_model, {"engine": "tgi"})


def test_hub_ids_from_the_modelscope_cache_and_offline_misses(
    chat_model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MODELSCOPE_CACHE", str(tmp_path / "ms"))
    shutil.copytree(chat_model, tmp_path / "ms" / "models" / "tiny-org" / "tiny-ms")
    found = resolve_checkpoint("tiny-org/tiny-ms", None, offline=True, hub="huggingface")
    assert (
        found.source == "modelscope"
        and Path(found.location) == tmp_path / "ms" / "models" / "tiny-org" / "tiny-ms"
    )
    with pytest.raises(ModelNotFoundError) as err:
        resolve_checkpoint("tiny-org/absent", None, offline=True, hub="huggingface")
    text = str(err.value)
    assert "'tiny-org/absent'" in text and "models--tiny-org--absent" in text
    assert str(tmp_path / "ms" / "models" / "tiny-org" / "absent") in text
    assert "--model /path/to/absent" in text and isinstance(err.value, UsageError)
