"""DROP: discrete reasoning over paragraphs (EvalScope 1.14.1's prompt, the official EM/F1).

EvalScope 1.14.1 evaluates the `validation` split, 3-shot with three *fixed* worked examples (no
few-shot split is read; `few_shot_num` may be 0 or 3), asks for a final "Answer: ..." line and scores
the last such line with the DROP evaluator's exact match and F1 (`drop_metric.py`) against the
question's answer and its validated answers.
"""

from __future__ import annotations

import re
from typing import Any

from evalscope.benchmark import Benchmark
from evalscope.config import DatasetArgs
from evalscope.contracts import Sample
from evalscope.errors import ConfigError
from evalscope.specs import BenchmarkSpec

from evalscope_native.benchmarks.metric_selection import select_metrics

PROMPT = (
    "You will be asked to read a passage and answer a question. {drop_examples}\n# Your Task\n\n---\n{query}"
    '\n\nThink step by step, then write a line of the form "Answer: [ANSWER]" at the end of your response.'
)
ALLOWED_SHOTS = (0, 3)

# The three worked examples EvalScope 1.14.1 prepends (passages from DROP's train split), as
# (passage, question, answer); `fixed_examples()` lays them out exactly as EvalScope's prompt does.
_EXAMPLES: tuple[tuple[str, str, str], ...] = (
    (
        "Trunajaya rebellion  or Trunajaya War was the ultimately unsuccessful rebellion waged by the Madurese prince Trunajaya and fighters from Makassar against the Mataram Sultanate and its Dutch East India Company  supporters in Java  during the 1670s. The rebellion was initially successful: the rebels defeated the royal army at Gegodog , captured most of the Javanese north coast, and took the Mataram capital Plered . King Amangkurat I died during the retreat of the royal court. His son and successor, Amangkurat II, requested help from the VOC in exchange for financial remuneration and geopolitical concessions. The VOC's subsequent involvement turned the tide of the war. VOC and Mataram forces recovered lost territories and overran Trunajaya's new capital at Kediri . However, the rebellion continued until the capture of Trunajaya at the end of 1679, and the defeat, death, or surrender of the other rebel leaders . Trunajaya was killed by Amangkurat II personally in 1680 while a prisoner of the VOC. After his father's death in 1677, Amangkurat II also faced rival claims to the throne. The most serious rival was his brother Pangeran Puger, who took the capital Plered in 1677 and did not surrender until 1681.",
        "How many years was it between Trunajaya's capture and his death while prisoner of the VOC?",
        "1",
    ),
    (
        "Led by former Giant Kurt Warner, the defending NFC champions took the field at Giants Stadium against a Giants team still reeling from their bad loss in New Orleans. The Giants scored first, sending Jacobs in for a 4-yard touchdown run following a Terrell Thomas interception. Later, Arizona running back Beanie Wells scored his first career touchdown on a 13-yard rush. Manning responded by throwing a 62-yard touchdown to Nicks for his longest reception of the year. In the second half, the Cardinals' Tim Hightower and Jason Wright scored touchdowns. But it was turnovers that decided this game; Manning's 3 interceptions were as many as he had thrown all season. The Giants scored only 3 points in the second half, ending the game on an interception to Antrel Rolle. The Giants notable streak of 38 consecutive starts by the same offensive line unit was ended here, as offensive tackle Kareem McKenzie missed the game with a groin injury. McKenzie returned the following week.",
        "Which player made the first score of the game?",
        "Jacobs",
    ),
    (
        "Hoping to rebound from their road loss to the Bills, the Chargers flew to Wembley Stadium for the 2008 International Series game with the New Orleans Saints. In the first quarter, San Diego trailed early as kicker Taylor Mehlhaff got a 23-yard field goal.  The 'Bolts would respond with kicker Nate Kaeding getting a 33-yard field goal.  In the second quarter, New Orleans regained the lead as QB Drew Brees (a former Charger) completed a 12-yard TD pass to WR Devery Henderson (with a failed PAT) and RB Deuce McAllister getting a 1-yard TD run.  San Diego answered as QB Philip Rivers completed a 12-yard TD pass to RB LaDainian Tomlinson, but the Saints replied with Brees completing a 30-yard TD pass to WR Lance Moore.  The Chargers closed out the half with Rivers completing a 12-yard TD pass to TE Antonio Gates. In the third quarter, New Orleans increased its lead Brees completing a 1-yard TD pass to TE Mark Campbell, after a very controversial Pass interference call on cornerback Cletis Gordon put the Saints on the 1-yard line.  The 'Bolts would answer with Kaeding getting a 24-yard field goal.  In the fourth quarter, the Saints continued to build its lead as FB Mike Karney got a 1-yard TD run.  San Diego tried to rally as Kaeding nailed a 31-yard field goal, Rivers completed a 14-yard TD pass to WR Vincent Jackson, and Brees giving the 'Bolts a safety via an incomplete pass thrown into the back of his own endzone.  However, New Orleans' defense stiffened for the win. With the loss, the Chargers went into their bye week at 3-5.",
        "How many total yards of touchdown passes did Drew Brees make?",
        "43",
    ),
)

_ANSWER_LINE = re.compile(r"(?i)Answer\s*:\s*([^\n]+)")


def fixed_examples() -> str:
    """The few-shot block of EvalScope's 3-shot DROP prompt."""
    shots = "".join(f"---\nPassage: {p}\nQuestion: {q}\nAnswer:  {a}\n\n" for p, q, a in _EXAMPLES)
    return "Some examples of passages and Q&A are provided below.\n\n# Examples\n" + shots


def _parse_answer(answer: dict[str, Any]) -> tuple[str, ...]:
    """One gold answer as a tuple of spans: the number, else the spans, else the date "day month year"."""
    if answer["number"] != "":
        return (str(answer["number"]),)
    if answer["spans"]:
        return tuple(str(s) for s in answer["spans"])
    date = answer["date"]
    return (" ".join([str(date["day"]), str(date["month"]), str(date["year"])]).strip(),)


def _validated(validated: Any) -> list[dict[str, Any]]:
    """The hub stores validated answers column-wise ({"number": [...], "date": [...], "spans": [...]});
    the original DROP JSON row-wise (a list of answers). Both are accepted."""
    if isinstance(validated, list):
        return validated
    numbers, dates, spans = (validated.get(k, []) for k in ("number", "date", "spans"))
    return [{"number": n, "date": d, "spans": s} for n, d, s in zip(numbers, dates, spans, strict=False)]


def gold_answers(record: dict[str, Any]) -> list[tuple[str, ...]]:
    """The answer then the validated answers, duplicates dropped, in order."""
    golds: list[tuple[str, ...]] = []
    for candidate in [record["answer"], *_validated(record.get("validated_answers") or [])]:
        parsed = _parse_answer(candidate)
        if parsed not in golds:
            golds.append(parsed)
    return golds


class DROP(Benchmark):
    prompt_template = PROMPT

    def __init__(self, spec: BenchmarkSpec, args: DatasetArgs | None = None, seed: int | None = None) -> None:
        super().__init__(spec, args, seed)
        shots = self.args.few_shot_num if self.args.few_shot_num is not None else spec.few_shot_num
        if shots not in ALLOWED_SHOTS:
            raise ConfigError(
                f"drop takes few_shot_num 0 or 3 (its three examples are fixed), not {shots}.",
                hint='--dataset-args \'{"drop": {"few_shot_num": 0}}\' for zero-shot',
            )
        self.fixed_shots = shots
        self.check_prompt_template(
            "use {drop_examples} and {query} (the passage and the question)", drop_examples="", query=""
        )
        self._metrics = select_metrics(self.name, self.args.metric_list, spec.metrics)

    @property
    def few_shot_num(self) -> int:
        # The examples are part of the prompt, not rows of a split: the engine loads none.
        return 0

    @property
    def metrics(self) -> list[str]:
        return list(self._metrics)

    def record_to_sample(self, record: dict[str, Any], subset: str, index: int) -> Sample:
        golds = gold_answers(record)
        return Sample(
            id=str(record.get("query_id") or f"{subset}/{index}"),
            input=record["question"],
            target=[" | ".join(g) for g in golds],
            subset=subset,
            metadata={"passage": record["passage"], "golds": [list(g) for g in golds]},
        )

    def format_prompt(self, sample: Sample, fewshot: str | None) -> str:
        query = f"Passage: {sample.metadata['passage']}\nQuestion: {sample.input}"
        examples = fixed_examples() if self.fixed_shots else ""
        return self.prompt_template.format(drop_examples=examples, query=query)

    def extract_answer(self, prediction: str, sample: Sample) -> str:
        """The text after the last "Answer:" (any case) up to the end of its line, else the whole reply."""
        matches = _ANSWER_LINE.findall(prediction)
        return str(matches[-1]) if matches else prediction
