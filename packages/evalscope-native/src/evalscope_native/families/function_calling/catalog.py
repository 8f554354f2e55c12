"""The function-calling family's specs: benchmarks, scorers and metrics (cheap; listed by the native plugin)."""

from __future__ import annotations

from evalscope.specs import BenchmarkSpec, MetricSpec, ScorerSpec

_HERE = "evalscope_native.families.function_calling"
#: EvalScope's 17 subsets; the multi_turn_* ones run in BFCL's environments (the `bfcl` engine)
BFCL_SUBSETS = ("simple", "multiple", "parallel", "parallel_multiple", "java", "javascript", "live_simple",
                "live_multiple", "live_parallel", "live_parallel_multiple", "irrelevance", "live_irrelevance",
                "live_relevance", "multi_turn_base", "multi_turn_miss_func", "multi_turn_miss_param",
                "multi_turn_long_context")  # fmt: skip


def specs() -> list[BenchmarkSpec]:
    return [
        BenchmarkSpec(
            name="general_fc",
            pretty_name="General-FunctionCalling",
            impl=f"{_HERE}.general_fc:GeneralFC",
            scorer="general_fc",
            description="Your own function-calling data (messages, tools, should_call_tool): F1 of the "
            "call decision, schema accuracy of the calls (tools sent through the OpenAI tools API).",
            tags=("function_calling", "custom", "agent"),
            dataset_id="evalscope/GeneralFunctionCall-Test",
            subsets=("default",),
            eval_split="test",
            metrics=(
                "tool_call_f1",
                "schema_accuracy",
                "count_finish_reason_tool_call",
                "count_successful_tool_call",
            ),
            aggregations={
                "tool_call_f1": "fc_decision_f1",
                "schema_accuracy": "fc_schema_accuracy",
                "count_finish_reason_tool_call": "fc_count",
                "count_successful_tool_call": "fc_count",
            },
            version="1.0.0",
        ),
        BenchmarkSpec(
            name="bfcl_v3",
            pretty_name="BFCL-v3",
            impl=f"{_HERE}.bfcl_v3:BFCLv3",
            scorer="bfcl_v3",
            description="Berkeley Function Calling Leaderboard v3: BFCL's AST checker on the single-turn "
            "calls (tools API, or a prompt mode with extra_params.is_fc_model false); the multi-turn subsets "
            "converse with BFCL's executable environments and are graded by its multi-turn checker "
            "(scripts/install_engines.sh bfcl).",
            tags=("function_calling", "agent"),
            dataset_id="AI-ModelScope/bfcl_v3",
            subsets=BFCL_SUBSETS,
            eval_split="train",
            metrics=("acc",),
            version="1.1.0",
            paper_url="https://gorilla.cs.berkeley.edu/leaderboard.html",
        ),
        BenchmarkSpec(
            name="tool_bench",
            pretty_name="ToolBench-Static",
            impl=f"{_HERE}.tool_bench:ToolBench",
            scorer="tool_bench",
            description="ToolBench's next step (Action / Action Input, or Finish) against the recorded one: "
            "argument F1, tool name EM, plan EM, hallucinated tools, Rouge-L of final answers.",
            tags=("function_calling", "reasoning"),
            dataset_id="AI-ModelScope/ToolBench-Static",
            subsets=("in_domain", "out_of_domain"),
            eval_split="test",
            metrics=("F1", "Act.EM", "plan_em", "HalluRate", "Rouge-L", "Easy_F1", "Hard_F1"),
            aggregation="fc_applicable_mean",
            version="1.1.0",
            paper_url="https://arxiv.org/abs/2307.16789",
        ),
        BenchmarkSpec(
            name="tau_bench",
            pretty_name="τ-bench",
            impl=f"{_HERE}.tau_bench:TauBench",
            scorer="tau_bench",
            description="τ-bench (retail, airline): the model serves a user simulated by a second model "
            "(extra_params user_model / api_base / api_key / generation_config), calling the domain's tools "
            "in process under its policy; reward 1 when the final database equals the ground truth's and the "
            "required outputs were said. --generation-config n=k runs k trials: mean, pass@k and pass^k.",
            tags=("function_calling", "reasoning", "agent"),
            dataset_id="https://github.com/sierra-research/tau-bench",
            subsets=("airline", "retail"),
            eval_split="test",
            metrics=("acc",),
            version="1.0.0",
            paper_url="https://arxiv.org/abs/2406.12045",
        ),
    ]


def scorer_specs() -> list[ScorerSpec]:
    return [
        ScorerSpec(
            name="general_fc",
            impl=f"{_HERE}.general_fc:general_fc_scorer",
            values=(
                "tool_call_f1",
                "schema_accuracy",
                "count_finish_reason_tool_call",
                "count_successful_tool_call",
            ),
            description="general_fc: did the model call a tool (finish reason), do its calls validate "
            "against the tools' JSON Schemas (EvalScope 1.14.1's match_score).",
        ),
        ScorerSpec(
            name="bfcl_v3",
            impl=f"{_HERE}.bfcl_v3:bfcl_scorer",
            values=("acc",),
            description="BFCL v3: BFCL's AST checker on the decoded calls; relevance subsets by call / no call.",
        ),
        ScorerSpec(
            name="tool_bench",
            impl=f"{_HERE}.tool_bench:tool_bench_scorer",
            values=("F1", "Act.EM", "plan_em", "HalluRate", "Rouge-L", "Easy_F1", "Hard_F1"),
            description="ToolBench-Static's step scorer: argument F1, action EM, plan EM, hallucination, Rouge-L.",
        ),
        ScorerSpec(
            name="tau_bench",
            impl=f"{_HERE}.tau_bench:tau_bench_scorer",
            values=("acc",),
            description="τ-bench's reward of one trial: final database hash equals the ground truth's, "
            "required outputs present in the agent's replies.",
        ),
    ]


def metric_specs() -> list[MetricSpec]:
    return [
        MetricSpec(
            name="fc_decision_f1",
            impl=f"{_HERE}.metrics:decision_f1",
            description="F1 of calling a tool against the records' should_call_tool (pooled; general_fc).",
        ),
        MetricSpec(
            name="fc_schema_accuracy",
            impl=f"{_HERE}.metrics:schema_accuracy",
            description="Schema-valid tool calls over attempted calls (pooled; general_fc).",
        ),
        MetricSpec(
            name="fc_applicable_mean",
            impl=f"{_HERE}.metrics:applicable_mean",
            description="Mean over the samples a value applies to (pooled; tool_bench's per-step values).",
        ),
        MetricSpec(
            name="fc_count",
            impl=f"{_HERE}.metrics:count",
            description="How many samples have the value: a count, not a rate (pooled).",
        ),
    ]
