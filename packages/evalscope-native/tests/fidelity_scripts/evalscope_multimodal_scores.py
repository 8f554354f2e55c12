"""Run inside EvalScope 1.14.1's venv: score cases with its own adapters, print JSON per case.

stdin: [{"benchmark", "record", "reply"}], where any {"__bytes__": base64} in a record is bytes.
stdout: [{"text": [...], "images": [...], "extracted", "values"}] in the same order.
"""

import base64
import json
import sys


def _decode(value):
    if isinstance(value, dict):
        if set(value) == {"__bytes__"}:
            return base64.b64decode(value["__bytes__"])
        return {k: _decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decode(v) for v in value]
    return value


def main() -> None:
    import evalscope.benchmarks  # noqa: F401  (registers the adapters)
    from evalscope.api.evaluator import TaskState
    from evalscope.api.model import ModelOutput
    from evalscope.api.registry import get_benchmark
    from evalscope.config import TaskConfig

    cases = json.load(sys.stdin)
    adapters = {}
    out = []
    for case in cases:
        name = case["benchmark"]
        if name not in adapters:
            adapters[name] = get_benchmark(name, TaskConfig(model="m", datasets=[name]))
        adapter = adapters[name]
        sample = adapter.record_to_sample(_decode(case["record"]))
        texts, images = [], []
        for message in sample.input:
            content = message.content
            for part in [content] if isinstance(content, str) else content:
                if isinstance(part, str):
                    texts.append(part)
                elif part.type == "text":
                    texts.append(part.text)
                elif part.type == "image":
                    images.append(part.image)
        state = TaskState(
            model="m",
            sample=sample,
            output=ModelOutput.from_content(model="m", content=case["reply"]),
            completed=True,
        )
        score = adapter.calculate_metrics(state).score
        out.append(
            {"text": texts, "images": images, "extracted": score.extracted_prediction, "values": score.value}
        )
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
