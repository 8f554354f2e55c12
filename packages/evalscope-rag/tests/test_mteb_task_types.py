"""Task types beyond STS and retrieval: one mteb Classification and one Clustering task, from local folders.

Banking77Classification.v2 (hub `mteb/banking77`: `train`/`test` splits of `text`/`label` rows) and
TwentyNewsgroupsClustering (hub `mteb/twentynewsgroups-clustering`: a `test` split whose rows each
hold one clustering experiment as `sentences`/`labels` lists; its `.v2` embeds only 4% of the documents,
too few of a small fixture) are run through our backend from small
folders in the hub's layout written here, with sentences made up for the test (weather, sport, food).
`mteb` itself, given the same rows and the same MiniLM, gives the reference: our main score must equal
it to 1e-4 and land in the report, which proves the task's own loading and scoring ran unchanged.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from evalscope.run import run_task

pytestmark = pytest.mark.slow

WEATHER = [
    "It is raining heavily this afternoon.",
    "Tomorrow will be sunny and warm.",
    "A cold wind is blowing from the north.",
    "Snow is expected overnight in the hills.",
    "The forecast says thunderstorms by evening.",
    "Fog covered the valley this morning.",
    "Temperatures will drop below freezing tonight.",
    "The sky cleared after the storm passed.",
    "Humidity is high and the air feels sticky.",
    "Light drizzle will continue until noon.",
    "A heatwave is coming at the end of the week.",
    "Clouds are gathering over the coast.",
    "Hail damaged cars during the storm.",
    "The weekend looks dry with mild breezes.",
    "Heavy rain flooded the streets downtown.",
    "It will be chilly and overcast all day.",
]
SPORT = [
    "The striker scored twice in the second half.",
    "Our team won the basketball final last night.",
    "She ran the marathon in under three hours.",
    "The goalkeeper saved a penalty in extra time.",
    "The tennis match went to five sets.",
    "He broke the national record in the high jump.",
    "The coach was fired after ten straight losses.",
    "Fans cheered as the cyclist crossed the finish line.",
    "The boxer won by knockout in round three.",
    "The swimmer took gold in the relay.",
    "The referee showed a red card to the defender.",
    "The rookie pitcher threw a perfect game.",
    "The rugby side lost narrowly in the derby.",
    "She serves faster than anyone on the tour.",
    "The league title was decided on the last day.",
    "He scored a hat trick in the cup match.",
]
FOOD = [
    "Add two cups of flour and stir the batter.",
    "This pasta sauce needs more garlic.",
    "The bakery sells fresh bread every morning.",
    "Grill the salmon for six minutes on each side.",
    "She made a spicy curry with chickpeas.",
    "The soup tastes better with a pinch of salt.",
    "Chop the onions finely before frying them.",
    "We ordered pizza with mushrooms and olives.",
    "The chocolate cake was rich and moist.",
    "Roast the vegetables until they are golden.",
    "He likes his eggs scrambled with cheese.",
    "The salad had tomatoes, cucumber and feta.",
    "Simmer the rice until the water is absorbed.",
    "The restaurant serves excellent noodles.",
    "Whisk the cream until it forms soft peaks.",
    "Fresh strawberries make a lovely dessert.",
]
TOPICS = (WEATHER, SPORT, FOOD)
# test sentences that mention another topic too, so accuracy is not a trivial 1.0 on both sides
MIXED = [
    ("The picnic sandwiches got soaked in the rain.", 0),
    ("Ice cream sales soar when it is this hot.", 0),
    ("The final was postponed because of the snowstorm.", 1),
    ("The players ate pasta before the big game.", 1),
    ("The chef grilled burgers for the fans at the stadium.", 2),
    ("Hot soup is perfect on a freezing winter day.", 2),
]


def _write_jsonl(path: Path, rows: list[dict[str, Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")


def _classification_splits() -> dict[str, list[dict[str, Any]]]:
    """10 training and 8 test sentences per topic; `label` is an int, as on the hub."""
    train = [{"text": s, "label": i} for i, topic in enumerate(TOPICS) for s in topic[:10]]
    test = [{"text": s, "label": i} for i, topic in enumerate(TOPICS) for s in topic[10:]]
    test += [{"text": s, "label": i} for s, i in MIXED]
    return {"train": train, "test": test}


def _clustering_splits() -> dict[str, list[dict[str, Any]]]:
    """Two clustering experiments (rows), each mixing the three topics."""
    rows = []
    for half in (slice(0, 8), slice(8, 16)):
        sentences = [s for topic in TOPICS for s in topic[half]]
        labels = [
            name
            for name, topic in zip(("weather", "sport", "food"), TOPICS, strict=True)
            for _ in topic[half]
        ]
        rows.append({"sentences": sentences, "labels": labels})
    return {"test": rows}


# task → (mteb's main score, the rows, how many test items the report counts)
CASES = {
    "Banking77Classification.v2": ("accuracy", _classification_splits, 3 * 6 + len(MIXED)),
    "TwentyNewsgroupsClustering": ("v_measure", _clustering_splits, 2),  # two clustering experiments
}


def _mteb_direct(task_name: str, model: Any, splits: dict[str, list[dict[str, Any]]]) -> float:
    """The main score `mteb` reports with the rows injected into the task, as test_mteb_sts does."""
    import mteb
    from datasets import Dataset, DatasetDict

    task = mteb.get_task(task_name)
    task.dataset = DatasetDict({name: Dataset.from_list(rows) for name, rows in splits.items()})
    task.dataset_transform()
    task.data_loaded = True
    result = mteb.evaluate(model, task, cache=None, encode_kwargs={"batch_size": 64}, show_progress_bar=False)
    return float(result.task_results[0].get_score())


@pytest.mark.filterwarnings("ignore:The task .* is superseded")  # the legacy clustering task, on purpose
@pytest.mark.parametrize("task_name", sorted(CASES))
def test_task_type_from_a_local_hub_folder_equals_mteb(
    task_name: str, minilm: Any, minilm_path: Path, tmp_path: Path, offline_env: None
) -> None:
    import mteb

    main_score, make_splits, num = CASES[task_name]
    splits = make_splits()
    folder = tmp_path / "hub" / task_name
    for split, rows in splits.items():
        _write_jsonl(folder / "default" / f"{split}.jsonl", rows)
    assert mteb.get_task(task_name).metadata.main_score == main_score

    cfg = {
        "eval_backend": "RAGEval",
        "work_dir": str(tmp_path / "outputs"),
        "offline": True,
        "dataset_args": {task_name: {"local_path": str(folder)}},
        "eval_config": {
            "tool": "MTEB",
            "models": [{"model_name_or_path": str(minilm_path), "encode_kwargs": {"batch_size": 64}}],
            "eval": {"task_names": [task_name]},
        },
    }
    report = run_task(cfg)[task_name]
    reference = _mteb_direct(task_name, minilm, splits)
    assert abs(report.score() - reference) < 1e-4
    assert report.metrics[0].name == main_score
    assert report.extra["data_source"] == str(folder)
    assert report.metrics[0].num == num
    assert 0.6 < reference < 1.0  # MiniLM mostly separates the topics; a broken load would not
    run_dir = next((tmp_path / "outputs").iterdir())
    on_disk = json.loads(next((run_dir / "reports").rglob(f"{task_name}.json")).read_text())
    assert abs(on_disk["metrics"][0]["score"] - reference) < 1e-4
