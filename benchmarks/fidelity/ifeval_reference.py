"""IFEval fidelity: our checkers against EvalScope 1.14.1's own ifeval code, response by response.

    .venv/bin/python benchmarks/fidelity/ifeval_reference.py --nltk-data /path/to/nltk_data
    .venv/bin/python benchmarks/fidelity/ifeval_reference.py --nltk-data … --prompts 541 --variants 4

Synthetic responses are written for real IFEval prompts (`--prompts` of them, chosen so every
instruction type occurs 4+ times; `--variants` responses each): drafts that try to follow each
instruction type two times in three and break it the third, wrapped in the noise models add (a
"Sure, here it is:" line, a closing line, markdown bold), in 25 languages, with abbreviations,
initials, numbers and ellipses for the sentence counter. The baseline's Python (`--baseline`, default
/tmp/evalscope-baseline) runs `evalscope.benchmarks.ifeval.utils` on them in a subprocess and dumps
its per-instruction strict and loose results; we score the same responses twice, with our default
`builtin` sentence splitter and with `punkt` (NLTK's trained model, which the reference uses), and
count the responses whose results are equal in every instruction, strict and loose.

The reference needs NLTK's `punkt_tab` English model: `--nltk-data` is a folder holding
`tokenizers/punkt_tab/english/` (`python -m nltk.downloader -d DIR punkt_tab`, once, with network).
Its own download fallback is disabled, so nothing is fetched. It also needs `langdetect`, which the
baseline venv lacks: ours is put on its path. Differences are written to
`benchmarks/fidelity/results/ifeval_reference.json` (git-ignored).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
DATA = Path(os.environ.get("EVALSCOPE_DATA_DIR") or REPO.parent / "shared" / "data") / "ifeval"
RESULTS = REPO / "benchmarks" / "fidelity" / "results" / "ifeval_reference.json"

# Runs inside the baseline's interpreter: its ifeval code on our responses, one result per response.
REFERENCE_DRIVER = r"""
import json, random, sys
from evalscope.benchmarks.ifeval import instructions_util, utils
instructions_util.check_nltk_data = lambda name: None  # never download; a missing model must fail
random.seed(0)  # the reference draws random arguments for some instructions (see the docs)
items = json.load(open(sys.argv[1]))
out = []
for item in items:
    inp = utils.InputExample(key=item["key"], instruction_id_list=item["ids"], prompt=item["prompt"],
                             kwargs=item["kwargs"])
    strict = utils.test_instruction_following_strict(inp, item["response"])
    loose = utils.test_instruction_following_loose(inp, item["response"])
    out.append({"strict": strict.follow_instruction_list, "loose": loose.follow_instruction_list,
                "scores": utils.process_results({**item["record"]}, [item["response"]])})
json.dump(out, open(sys.argv[2], "w"))
"""

ENGLISH = [
    "The morning market opened early and the stalls filled with fresh bread.",
    "Dr. Lee met the visitors at 5 p.m. near the U.S. embassy.",
    "It cost $3.50, e.g. less than a coffee downtown.",
    "J.K. Rowling wrote seven books in that series.",
    "Wait... The story is not over yet.",
    "Prices rose 2.5 percent in Jan. and fell in Feb. after the report.",
    "Many people enjoy hiking, cycling, and swimming in the summer.",
    "Is this the right way to the station?",
    "We arrived late! Nobody was waiting for us.",
    "The plan has three steps: 1. gather data 2. clean it 3. report the results.",
    "Mr. Smith works for Acme Inc. in Washington, D.C. every weekday.",
    "Option B. The second choice is usually safer, i.e. less risky.",
    "Our team reviewed the code and found two small bugs.",
    'She said "It is done." Then she left the room.',
    "The new policy applies to all employees etc. Everyone must comply.",
    "In 1999. the company moved its office to a larger building.",
]
FOREIGN = {
    "fr": "Le marché ouvre tôt le matin et les gens achètent du pain frais. Nous aimons beaucoup cette ville.",
    "de": "Der Markt öffnet früh am Morgen und die Leute kaufen frisches Brot. Wir mögen diese Stadt sehr.",
    "es": "El mercado abre temprano por la mañana y la gente compra pan fresco. Nos gusta mucho esta ciudad.",
    "it": "Il mercato apre presto la mattina e la gente compra pane fresco. Ci piace molto questa città.",
    "pt": "O mercado abre cedo de manhã e as pessoas compram pão fresco. Gostamos muito desta cidade.",
    "ru": "Рынок открывается рано утром, и люди покупают свежий хлеб. Нам очень нравится этот город.",
    "bg": "Пазарът отваря рано сутрин и хората купуват пресен хляб. Много харесваме този град.",
    "hi": "बाज़ार सुबह जल्दी खुलता है और लोग ताज़ी रोटी खरीदते हैं। हमें यह शहर बहुत पसंद है।",
    "ar": "يفتح السوق في الصباح الباكر ويشتري الناس الخبز الطازج. نحن نحب هذه المدينة كثيرا.",
    "fa": "بازار صبح زود باز می شود و مردم نان تازه می خرند. ما این شهر را خیلی دوست داریم.",
    "ko": "시장은 아침 일찍 열리고 사람들은 신선한 빵을 삽니다. 우리는 이 도시를 정말 좋아합니다.",
    "vi": "Chợ mở cửa từ sáng sớm và mọi người mua bánh mì tươi. Chúng tôi rất thích thành phố này.",
    "th": "ตลาดเปิดแต่เช้าและผู้คนซื้อขนมปังสด พวกเราชอบเมืองนี้มาก",
    "fi": "Tori aukeaa aikaisin aamulla ja ihmiset ostavat tuoretta leipää. Pidämme tästä kaupungista kovasti.",
    "sw": "Soko hufunguliwa asubuhi na mapema na watu hununua mkate safi. Tunapenda mji huu sana.",
    "bn": "বাজার সকালে খোলে এবং মানুষ তাজা রুটি কেনে। আমরা এই শহরটি খুব পছন্দ করি।",
    "ta": "சந்தை அதிகாலையில் திறக்கிறது, மக்கள் புதிய ரொட்டி வாங்குகிறார்கள்.",
    "te": "మార్కెట్ ఉదయాన్నే తెరుచుకుంటుంది మరియు ప్రజలు తాజా రొట్టె కొంటారు.",
    "ur": "بازار صبح سویرے کھلتا ہے اور لوگ تازہ روٹی خریدتے ہیں۔ ہمیں یہ شہر بہت پسند ہے۔",
    "mr": "बाजार सकाळी लवकर उघडतो आणि लोक ताजी भाकरी विकत घेतात. आम्हाला हे शहर खूप आवडते.",
    "gu": "બજાર સવારે વહેલું ખુલે છે અને લોકો તાજી રોટલી ખરીદે છે.",
    "kn": "ಮಾರುಕಟ್ಟೆ ಬೆಳಿಗ್ಗೆ ಬೇಗನೆ ತೆರೆಯುತ್ತದೆ ಮತ್ತು ಜನರು ತಾಜಾ ಬ್ರೆಡ್ ಖರೀದಿಸುತ್ತಾರೆ.",
    "pa": "ਬਾਜ਼ਾਰ ਸਵੇਰੇ ਜਲਦੀ ਖੁੱਲ੍ਹਦਾ ਹੈ ਅਤੇ ਲੋਕ ਤਾਜ਼ੀ ਰੋਟੀ ਖਰੀਦਦੇ ਹਨ।",
    "ne": "बजार बिहान सबेरै खुल्छ र मानिसहरू ताजा रोटी किन्छन्। हामीलाई यो सहर धेरै मन पर्छ।",
}
NOISE_FIRST = ["Sure, here is my answer:", "**Answer**", "Of course! Below is the response."]
NOISE_LAST = ["Let me know if you need anything else.", "*Hope this helps!*", "---"]


def load_rows() -> list[dict[str, Any]]:
    with (DATA / "default" / "train.jsonl").open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def choose_prompts(
    rows: list[dict[str, Any]], n: int, rng: random.Random, per_type: int = 4
) -> list[dict[str, Any]]:
    """`n` prompts (at least enough for coverage): first until every instruction type occurs
    `per_type` times, then a random sample of the rest."""
    order = rows[:]
    rng.shuffle(order)
    seen: Counter[str] = Counter()
    chosen = []
    for row in order:
        if any(seen[i] < per_type for i in row["instruction_id_list"]):
            chosen.append(row)
            seen.update(row["instruction_id_list"])
    keys = {r["key"] for r in chosen}
    return chosen + [r for r in order if r["key"] not in keys][: max(0, n - len(chosen))]


def _target(threshold: int, relation: str, ok: bool) -> int:
    """A count that meets (`ok`) or just misses a 'less than' / 'at least' threshold."""
    meets = threshold - 1 if relation == "less than" else threshold
    return max(0, meets if ok else meets + (1 if relation == "less than" else -1))


class Composer:
    """Writes one response to a row, trying to follow the instructions `obey` names and no others.

    Trying is all: instructions interact (a postscript adds a paragraph, JSON hides a title), so
    the reference's verdict, not the plan, is what both implementations are compared on.
    """

    def __init__(self, row: dict[str, Any], rng: random.Random, obey: dict[str, bool]) -> None:
        self.rng = rng
        ids, kwargs = row["instruction_id_list"], row["kwargs"]
        self.args = {i: {k: v for k, v in (kw or {}).items() if v} for i, kw in zip(ids, kwargs, strict=True)}
        self.obey = obey

    def wants(self, iid: str) -> dict[str, Any] | None:
        """The instruction's kwargs when the response should follow it, else None."""
        return self.args[iid] if iid in self.args and self.obey[iid] else None

    def sentences(self) -> list[str]:
        rng, args = self.rng, self.args
        lang = (self.wants("language:response_language") or {}).get("language")
        out = FOREIGN[lang].split(". ") if lang in FOREIGN else rng.sample(ENGLISH, k=rng.randint(2, 8))
        if rng.random() < 0.15:
            out = [rng.choice(list(FOREIGN.values()))]
        if kw := args.get("length_constraints:number_sentences"):
            n = max(
                1,
                _target(
                    kw["num_sentences"], kw["relation"], self.obey["length_constraints:number_sentences"]
                ),
            )
            out = (out * (n // len(out) + 1))[:n]
        if (kw := self.wants("length_constraints:number_words")) and kw["relation"] == "at least":
            while len(" ".join(out).split()) < kw["num_words"]:
                out = out + out
        if kw := self.wants("keywords:existence"):
            out.insert(rng.randrange(len(out) + 1), "We talked about " + " and ".join(kw["keywords"]) + ".")
        if kw := args.get("keywords:frequency"):
            times = _target(kw["frequency"], kw["relation"], self.obey["keywords:frequency"])
            out.append(" ".join([kw["keyword"].capitalize()] * times) + ".")
        if (kw := args.get("keywords:forbidden_words")) and not self.obey["keywords:forbidden_words"]:
            out.append(f"The word {rng.choice(kw['forbidden_words'])} slipped in.")
        if (kw := self.wants("keywords:letter_frequency")) and kw["let_relation"] == "at least":
            out.append(" ".join([kw["letter"] * 2] * kw["let_frequency"]) + ".")
        if kw := args.get("change_case:capital_word_frequency"):
            ok = self.obey["change_case:capital_word_frequency"]
            n = _target(kw["capital_frequency"], kw["capital_relation"], ok)
            words = ["NOTE", "USA", "AI", "WOW"] + (["DON'T"] if ok else [])  # DON'T is two: DO, N'T
            out.append(" ".join(rng.choice(words) for _ in range(n)))
        return out

    def body(self, sentences: list[str]) -> str:
        rng, args = self.rng, self.args
        spec = args.get("length_constraints:number_paragraphs") or args.get(
            "length_constraints:nth_paragraph_first_word", {}
        )
        count = spec.get("num_paragraphs", rng.randint(1, 4))
        count = max(1, count + (0 if all(self.obey.values()) or rng.random() < 0.5 else rng.choice([-1, 1])))
        sentences = (sentences * count)[: max(count, len(sentences))]  # enough for every paragraph
        paras = [" ".join(sentences[i::count]) for i in range(count)]
        kw = self.wants("length_constraints:nth_paragraph_first_word")
        if kw and len(paras) >= kw["nth_paragraph"]:
            k = kw["nth_paragraph"] - 1
            opener = rng.choice(["", '"', "'"]) + kw["first_word"].capitalize() + rng.choice([",", "", "."])
            paras[k] = f"{opener} {paras[k]}"
        if kw := self.wants("detectable_format:multiple_sections"):
            splitter, n = kw["section_spliter"], kw["num_sections"]
            return "\n\n".join(f"{splitter} {i + 1}\n{paras[i % len(paras)]}" for i in range(n))
        stars = "length_constraints:number_paragraphs" in args and rng.random() < 0.8
        return ("\n\n***\n\n" if stars else "\n\n").join(paras)

    def formatted(self, body: str) -> str:
        rng, args = self.rng, self.args
        if kw := args.get("detectable_format:number_bullet_lists"):
            n = kw["num_bullets"] + (0 if self.obey["detectable_format:number_bullet_lists"] else 1)
            body += "\n" + "\n".join(f"{rng.choice(['*', '-', '  *'])} point {i + 1}" for i in range(n))
        if kw := self.wants("detectable_format:number_highlighted_sections"):
            marks = ["*part {}*"] * 3 + ["**part {}**", "* *"]  # "* *" is empty and upsets the pairing
            body += "\n" + " ".join(rng.choice(marks).format(i) for i in range(kw["num_highlights"] + 1))
        if kw := args.get("detectable_content:number_placeholders"):
            n = kw["num_placeholders"] - (0 if self.obey["detectable_content:number_placeholders"] else 1)
            body += " " + " ".join(f"[field {i}]" for i in range(n))
        if self.wants("detectable_format:title") is not None:
            body = rng.choice(["<<A Day at the Market>>", "<< >>", "Title: <<Plan>>"]) + "\n" + body
        if self.wants("detectable_format:constrained_response") is not None:
            body = rng.choice(["My answer is yes.", "My answer is maybe.", "My answer is no"]) + "\n" + body
        if kw := self.wants("detectable_content:postscript"):
            marker = kw["postscript_marker"]
            body += (
                rng.choice(["\n", "\n\n"])
                + rng.choice([marker, marker.lower(), marker.replace(".", ". ")])
                + " See you."
            )
        if "combination:two_responses" in args:
            second = body + " Another take." if self.obey["combination:two_responses"] else body
            body += rng.choice(["\n******\n", "\n\n******\n\n"]) + second
        if kw := self.wants("combination:repeat_prompt"):
            body = kw["prompt_to_repeat"] + "\n" + body
        if kw := self.wants("startend:end_checker"):
            body += " " + kw["end_phrase"]
        if self.wants("change_case:english_capital") is not None or rng.random() < 0.05:
            body = body.upper()
        if self.wants("change_case:english_lowercase") is not None or rng.random() < 0.05:
            body = body.lower()
        if self.wants("punctuation:no_comma") is not None:
            body = body.replace(",", "")
        if self.wants("startend:quotation") is not None:
            body = f'"{body}"'
        if self.wants("detectable_format:json_format") is not None:
            body = rng.choice(["```json\n{}\n```", "{}", "```\n{}\n```"]).format(json.dumps({"answer": body}))
        return body

    def noisy(self, body: str) -> str:
        """What models add around an answer: a first or last line, bold, blank lines; or nothing at all."""
        roll = self.rng.random()
        if roll < 0.2:
            return self.rng.choice(NOISE_FIRST) + "\n" + body
        if roll < 0.35:
            return body + "\n" + self.rng.choice(NOISE_LAST)
        if roll < 0.42:
            return self.rng.choice(["", "   ", "\n\n" + body, "**" + body + "**"])
        return body

    def compose(self) -> str:
        return self.noisy(self.formatted(self.body(self.sentences())))


def run_reference(
    items: list[dict[str, Any]], baseline: Path, nltk_data: Path, tmp: Path
) -> list[dict[str, Any]]:
    import langdetect

    shim = tmp / "shim"
    shim.mkdir()
    (shim / "langdetect").symlink_to(Path(langdetect.__file__).parent)
    src, dst = tmp / "items.json", tmp / "reference.json"
    src.write_text(json.dumps(items), encoding="utf-8")
    env = {**os.environ, "NLTK_DATA": str(nltk_data), "PYTHONPATH": str(shim), "HF_HUB_OFFLINE": "1"}
    subprocess.run(
        [str(baseline / "bin" / "python"), "-c", REFERENCE_DRIVER, str(src), str(dst)], env=env, check=True
    )
    return json.loads(dst.read_text(encoding="utf-8"))


def run_ours(items: list[dict[str, Any]], splitter: str) -> list[dict[str, Any]]:
    from evalscope_native.benchmarks.ifeval.evaluate import evaluate
    from evalscope_native.benchmarks.ifeval.registry import build_checkers
    from evalscope_native.benchmarks.ifeval.text import sentence_splitter

    split = sentence_splitter(splitter)
    out = []
    for item in items:
        verdict = evaluate(build_checkers(item["ids"], item["kwargs"], split), item["response"])
        out.append({"strict": list(verdict.strict), "loose": list(verdict.loose), "scores": verdict.scores()})
    return out


def same(a: dict[str, Any], b: dict[str, Any]) -> bool:
    scores_equal = all(abs(a["scores"][k] - b["scores"][k]) < 1e-9 for k in a["scores"])
    return a["strict"] == b["strict"] and a["loose"] == b["loose"] and scores_equal


def corpus_texts() -> dict[str, list[str]]:
    """English prose of many kinds from the shared data: rationales, answers, questions, instructions."""
    root = DATA.parent

    def read(rel: str) -> list[dict[str, Any]]:
        return [json.loads(x) for x in (root / rel).read_text(encoding="utf-8").split("\n") if x.strip()]

    return {
        "gsm8k answers": [r["answer"] for r in read("gsm8k/main/test.jsonl")],
        "mt_bench gpt-4 answers": [
            t for r in read("mt_bench/reference_answer/gpt-4.jsonl") for t in r["choices"][0]["turns"]
        ],
        "math500 solutions": [r["solution"] for r in read("math500/default/test.jsonl")],
        "truthfulqa answers": [
            " ".join(r["correct_answers"]) for r in read("truthfulqa/generation/validation.jsonl")
        ],
        "ifeval prompts": [r["prompt"] for r in load_rows()],
        "hellaswag": [
            r["ctx"] + " " + " ".join(r["endings"]) for r in read("hellaswag/default/validation.jsonl")
        ],
        "mmlu questions": [
            r["question"]
            for p in sorted(root.glob("mmlu/*/test.jsonl"))
            for r in read(str(p.relative_to(root)))
        ],
    }


def splitter_agreement() -> None:
    """How often our `builtin` splitter counts as many sentences as NLTK's trained model."""
    from evalscope_native.benchmarks.ifeval.text import sentence_splitter

    ours, model = sentence_splitter("builtin"), sentence_splitter("punkt")
    equal = total = 0
    for source, texts in corpus_texts().items():
        same_count = sum(len(ours(t)) == len(model(t)) for t in texts)
        equal, total = equal + same_count, total + len(texts)
        print(f"  {source:24s} {same_count:6d} / {len(texts):6d} texts with the same sentence count")
    print(f"  {'all':24s} {equal:6d} / {total:6d} ({equal / total:.2%})")


def build_items(prompts: int, variants: int, seed: int) -> list[dict[str, Any]]:
    """The replies to score: `variants` per chosen prompt, each instruction type followed 2 times in 3."""
    items = []
    turns: Counter[str] = Counter()
    for row in choose_prompts(load_rows(), prompts, random.Random(seed)):
        for v in range(variants):
            obey = {i: turns[i] % 3 != 1 for i in row["instruction_id_list"]}
            turns.update(row["instruction_id_list"])
            response = Composer(row, random.Random(f"{seed}/{row['key']}/{v}"), obey).compose()
            kwargs = [{k: val for k, val in (kw or {}).items() if val} for kw in row["kwargs"]]
            items.append(
                {
                    "key": row["key"],
                    "ids": row["instruction_id_list"],
                    "kwargs": kwargs,
                    "prompt": row["prompt"],
                    "record": row,
                    "response": response,
                }
            )
    return items


def print_coverage(items: list[dict[str, Any]], theirs: list[dict[str, Any]]) -> None:
    """Per instruction type, how many replies the reference finds following it (both outcomes should occur)."""
    total = Counter(iid for it in items for iid in it["ids"])
    followed = Counter(
        iid
        for it, r in zip(items, theirs, strict=True)
        for iid, ok in zip(it["ids"], r["strict"], strict=True)
        if ok
    )
    print("reference strict follow rate per instruction type:")
    for iid in sorted(total):
        print(f"  {iid:48s} {followed[iid]:4d} / {total[iid]:4d}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--baseline", type=Path, default=Path("/tmp/evalscope-baseline"))
    parser.add_argument(
        "--nltk-data",
        type=Path,
        default=Path(os.environ.get("NLTK_DATA", "")) if os.environ.get("NLTK_DATA") else None,
    )
    parser.add_argument("--prompts", type=int, default=100)
    parser.add_argument("--variants", type=int, default=1)
    parser.add_argument("--seed", type=int, default=1234)
    parser.add_argument(
        "--splitter-corpus",
        action="store_true",
        help="also compare sentence counts on the shared data's prose",
    )
    opts = parser.parse_args()
    if not opts.nltk_data or not (opts.nltk_data / "tokenizers" / "punkt_tab" / "english").is_dir():
        sys.exit(
            "--nltk-data must hold tokenizers/punkt_tab/english/ (python -m nltk.downloader -d DIR punkt_tab)"
        )
    os.environ["NLTK_DATA"] = str(opts.nltk_data)  # our `punkt` run reads the same model
    items = build_items(opts.prompts, opts.variants, opts.seed)
    with tempfile.TemporaryDirectory() as tmp:
        theirs = run_reference(items, opts.baseline, opts.nltk_data, Path(tmp))
    report: dict[str, Any] = {"responses": len(items), "instructions": sum(len(i["ids"]) for i in items)}
    print(
        f"{len(items)} responses to {len({i['key'] for i in items})} prompts, {report['instructions']} instructions"
    )
    print_coverage(items, theirs)
    for splitter in ("builtin", "punkt"):
        ours = run_ours(items, splitter)
        diffs = [
            {**{k: it[k] for k in ("key", "ids", "kwargs", "response")}, "ours": o, "theirs": t}
            for it, o, t in zip(items, ours, theirs, strict=True)
            if not same(o, t)
        ]
        report[splitter] = {"equal": len(items) - len(diffs), "of": len(items), "differences": diffs}
        keys = sorted({d["key"] for d in diffs})
        print(
            f"ours ({splitter} sentence splitter): {len(items) - len(diffs)} equal of {len(items)}; differing keys: {keys}"
        )
    if opts.splitter_corpus:
        print("sentence counts, builtin splitter vs NLTK's trained English model:")
        splitter_agreement()
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=1, ensure_ascii=False), encoding="utf-8")
    print(f"details: {RESULTS.relative_to(REPO)}")


if __name__ == "__main__":
    main()
