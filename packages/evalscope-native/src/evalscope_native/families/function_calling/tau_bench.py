"""τ-bench (retail, airline): an agent with tools, a simulated user, a policy; reward by database state.

As EvalScope 1.x runs it (τ-bench's `ToolCallingAgent.solve`, patched to the run's model):

* each task is one sample; its episode starts with τ-bench's simulated user (a second model, given by
  `extra_params`: `user_model`, `api_base`, `api_key`, `generation_config`) opening the conversation
  from the task's `instruction`; the model under test gets the domain's policy (`wiki.md`) as its
  system prompt and the domain's tools through the OpenAI `tools` API;
* a reply with tool calls runs the first call on the domain's database (in process: tau_retail.py,
  tau_airline.py) and sends the result back as a `tool` message; a reply without one goes to the
  simulated user, whose answer comes back as the next user message; the episode ends when the user
  says `###STOP###`, the agent calls `transfer_to_human_agents`, or after `max_steps` (30) steps;
* the reward (τ-bench's `calculate_reward`) is 1 when the database after the episode hashes equal to
  the database after replaying the task's ground-truth actions on a fresh copy, and every required
  `output` appears in one of the agent's replies (lower-case, commas removed); an episode that did not
  end scores 0. With `--generation-config n=k` (EvalScope's `repeats=k`) each task runs k independent
  trials, reported as mean reward, pass@k and pass^k (every one of k trials succeeds).

Where this differs from τ-bench, deliberately: a tool call whose arguments are not JSON ends that
trial with reward 0 and the reason (τ-bench's agent raises and the trial scores 0 with a traceback);
a simulated user that fails fails the sample (recorded and counted as an error, never scored 0 in
silence, where EvalScope's wrapper scores it 0).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from functools import cache
from importlib import resources
from typing import Any

from evalscope.benchmark import AgentSession, Benchmark, SampleInputError
from evalscope.config import DatasetArgs, GenerationConfig
from evalscope.contracts import ChatMessage, GenerateRequest, ModelError, ModelOutput, Sample
from evalscope.datasets import LoadedSplit
from evalscope.errors import ConfigError, EvalScopeError, closest
from evalscope.scoring import Score
from evalscope.specs import BenchmarkSpec

from evalscope_native.families.function_calling import tau_airline, tau_retail
from evalscope_native.families.function_calling.tau_data import Domain, find_root, load_domain, state_hash

__all__ = ["STOP", "TauBench", "TauBenchScorer", "replay", "reward", "tau_bench_scorer", "user_system_prompt"]

STOP = "###STOP###"
RESPOND = "respond"
TERMINATE = ("transfer_to_human_agents",)
TOOLS: dict[str, dict[str, Callable[..., str | None]]] = {
    "retail": tau_retail.TOOLS,
    "airline": tau_airline.TOOLS,
}
#: EvalScope 1.x's extra_params (user_model, api_key, api_base, generation_config) and ours (max_steps)
DEFAULTS: dict[str, Any] = {
    "user_model": "qwen-plus",
    "api_key": "EMPTY",
    "api_base": "https://dashscope.aliyuncs.com/compatible-mode/v1",
    "generation_config": {"temperature": 0.0},
    "max_steps": 30,
}


@cache
def tool_schemas() -> dict[str, list[dict[str, Any]]]:
    """τ-bench's own tool schemas (`Tool.get_info()` of each domain's ALL_TOOLS, in that order)."""
    text = resources.files(__package__).joinpath("tau_tools.json").read_text(encoding="utf-8")
    schemas: dict[str, list[dict[str, Any]]] = json.loads(text)
    return schemas


def user_system_prompt(instruction: str) -> str:
    """τ-bench's `LLMUserSimulationEnv.build_system_prompt`."""
    return f"""You are a user interacting with an agent.

Instruction: {instruction}
Rules:
- Just generate one line at a time to simulate the user's message.
- Do not give away all the instruction at once. Only provide the information that is necessary for the current step.
- Do not hallucinate information that is not provided in the instruction. For example, if the agent asks for the order id but it is not mentioned in the instruction, do not make up an order id, just say you do not remember or have it.
- If the instruction goal is satisified, generate '###STOP###' as a standalone message without anything else to end the conversation.
- Do not repeat the exact instruction in the conversation. Instead, use your own words to convey the same information.
- Try to make the conversation as natural as possible, and stick to the personalities in the instruction."""  # noqa: E501


def invoke(domain: str, data: dict[str, Any], name: str, arguments: dict[str, Any]) -> str:
    """One action on the database, as τ-bench's `Env.step` runs it (errors become the observation)."""
    tool = TOOLS[domain].get(name)
    if tool is None:
        return f"Unknown action {name}"
    try:
        result = tool(data, **arguments)
    except TypeError as exc:  # wrong arguments: word it as τ-bench's `<ToolClass>.invoke()` does
        owner = "".join(part.capitalize() for part in name.split("_")) + ".invoke()"
        return f"Error: {str(exc).replace(f'{tool.__name__}()', owner, 1)}"
    except Exception as exc:
        return f"Error: {exc}"
    return "" if result is None else result


def replay(domain: str, data: dict[str, Any], actions: list[dict[str, Any]]) -> dict[str, Any]:
    """Run actions (`{"name", "kwargs"}`) on `data`, skipping replies and the terminating tools, as
    τ-bench replays the ground truth; returns `data`."""
    for action in actions:
        if action["name"] != RESPOND and action["name"] not in TERMINATE:
            invoke(domain, data, action["name"], action.get("kwargs") or {})
    return data


def reward(domain: Domain, task: dict[str, Any], trajectory: dict[str, Any]) -> tuple[float, dict[str, Any]]:
    """τ-bench's `calculate_reward` for one trial: (reward, info)."""
    if not trajectory.get("done"):
        return 0.0, {"ended_by": trajectory.get("ended_by"), "why": "the episode did not end"}
    agent_actions = [a for a in trajectory.get("actions", []) if a["name"] != RESPOND]
    agent_hash = state_hash(replay(domain.name, domain.fresh_data(), agent_actions))
    gt_key = json.dumps(task.get("actions") or [], sort_keys=True)
    gt_hash = domain.truth_hashes.get(gt_key)
    if gt_hash is None:  # the same for every trial of the task: replayed once
        gt_hash = domain.truth_hashes[gt_key] = state_hash(
            replay(domain.name, domain.fresh_data(), task.get("actions") or [])
        )
    info: dict[str, Any] = {
        "r_actions": agent_hash == gt_hash,
        "gt_data_hash": gt_hash,
        "data_hash": agent_hash,
    }
    value = 1.0 if info["r_actions"] else 0.0
    outputs = [str(o) for o in task.get("outputs") or []]
    if outputs:
        replies = [str(a["kwargs"].get("content") or "").lower().replace(",", "")
                   for a in trajectory.get("actions", []) if a["name"] == RESPOND]  # fmt: skip
        found = {o: any(o.lower() in r for r in replies) for o in outputs}
        info["outputs"] = found
        if not all(found.values()):
            value = 0.0
    return value, info


class TauBench(Benchmark):
    agent = True
    pass_hat_k = True

    def __init__(self, spec: BenchmarkSpec, args: DatasetArgs | None = None, seed: int | None = None) -> None:
        super().__init__(spec, args, seed)
        extra = dict(self.args.extra_params)
        unknown = [k for k in extra if k not in DEFAULTS]
        if unknown:
            near = {k: closest(k, DEFAULTS) for k in unknown}
            raise ConfigError(
                "tau_bench extra_params has unknown key(s): "
                + ", ".join(
                    f"{k!r}" + (f" (did you mean {near[k][0]!r}?)" if near[k] else "") for k in unknown
                ),
                hint=f"valid keys: {', '.join(DEFAULTS)}",
            )
        self.settings = {**DEFAULTS, **extra}
        try:
            self.user_generation = GenerationConfig(**dict(self.settings["generation_config"]))
        except (TypeError, ValueError) as exc:
            raise ConfigError(
                f"tau_bench extra_params.generation_config is not a generation config: {exc}",
                hint='e.g. {"temperature": 0.0, "max_tokens": 4096}',
            ) from None
        if int(self.settings["max_steps"]) < 1:
            raise ConfigError("tau_bench extra_params.max_steps must be at least 1.")
        from evalscope.secrets import register_secrets

        register_secrets([str(self.settings["api_key"])])
        self._domains: dict[str, Domain] = {}

    # --- data -------------------------------------------------------------------------------------

    def domain(self, name: str) -> Domain:
        if name not in self._domains:
            root = find_root(self.args.local_path, self.data_dir, self.subsets(), offline=self.offline)
            self._domains[name] = load_domain(root, name, self.eval_split)
        return self._domains[name]

    def generated_split(self, subset: str) -> LoadedSplit:
        domain = self.domain(subset)
        return LoadedSplit(
            records=[dict(t, _index=i) for i, t in enumerate(domain.tasks)], origin=domain.tasks_origin
        )

    def record_to_sample(self, record: dict[str, Any], subset: str, index: int) -> Sample:
        actions = [{"name": str(a["name"]), "kwargs": dict(a.get("kwargs") or {})} for a in record["actions"]]
        task: dict[str, Any] = {
            "user_id": str(record["user_id"]),
            "instruction": str(record["instruction"]),
            "actions": actions,
            "outputs": [str(o) for o in record.get("outputs") or []],
        }
        known = TOOLS[subset]
        unknown = sorted({str(a["name"]) for a in actions if a["name"] not in known and a["name"] != RESPOND})
        problem = None
        if unknown:
            problem = (
                f"its ground-truth actions name tool(s) {', '.join(unknown)} that the {subset} domain does not "
                f"have ({', '.join(known)}); fix the task's actions in {self.domain(subset).tasks_origin}"
            )
        return Sample(
            id=f"{subset}/{record.get('_index', index)}",
            input=task["instruction"],
            target="",
            subset=subset,
            metadata={"domain": subset, "task_index": record.get("_index", index), "task": task,
                      "input_problem": problem},
        )  # fmt: skip

    # --- requests ---------------------------------------------------------------------------------

    def build_messages(self, sample: Sample, fewshot_samples: list[Sample]) -> list[ChatMessage]:
        # The agent's system prompt is the policy; the first user message comes from the simulated user.
        return [ChatMessage(role="system", content=self.domain(sample.subset).wiki)]

    def request_tools(
        self, sample: Sample
    ) -> tuple[list[dict[str, Any]] | None, str | dict[str, Any] | None]:
        problem = sample.metadata.get("input_problem")
        if problem:
            raise SampleInputError(f"tau_bench sample {sample.id}: {problem}")
        return tool_schemas()[sample.subset], None  # τ-bench sends the tools without a tool_choice

    def _user_model(self) -> Any:
        from evalscope.config import TaskConfig

        from evalscope_native.models.openai_api import OpenAIModel

        return OpenAIModel(
            TaskConfig(model=str(self.settings["user_model"]), api_url=str(self.settings["api_base"]),
                       api_key=str(self.settings["api_key"]))
        )  # fmt: skip

    async def check_services(self) -> None:
        """The simulated user's service, checked before the run like the model's: a dead or wrong
        endpoint stops the run in seconds instead of failing every task after its retries."""
        user = self._user_model()
        try:
            await user.check_connection()
        except EvalScopeError as exc:
            raise type(exc)(
                f"tau_bench simulated user ({self.settings['user_model']}): {exc.message}",
                exc.hint or "check dataset_args.tau_bench.extra_params user_model / api_base / api_key",
            ) from None
        finally:
            await user.aclose()

    async def run_agent(self, sample: Sample, request: GenerateRequest, session: AgentSession) -> ModelOutput:
        user = self._user_model()
        trials = []
        try:
            for trial in range(request.config.n or 1):  # one after the other: eval_batch_size bounds the load
                trials.append(await self._episode(sample, request, session, user, trial))
        finally:
            await user.aclose()
        return ModelOutput(
            # `<` escaped: the engine splits `<think>` blocks off a completion before scoring it
            completions=[json.dumps(t, ensure_ascii=False).replace("<", "\\u003c") for t in trials],
            finish_reasons=["stop"] * len(trials),
        )

    async def _episode(
        self, sample: Sample, request: GenerateRequest, session: AgentSession, user: Any, trial: int
    ) -> dict[str, Any]:
        """One trial: τ-bench's `ToolCallingAgent.solve` with the run's model. Returns the trajectory."""
        domain = sample.subset
        data = self.domain(domain).fresh_data()
        step_config = request.config.model_copy(update={"n": 1})
        user_messages = [
            ChatMessage(role="system", content=user_system_prompt(sample.metadata["task"]["instruction"])),
            ChatMessage(role="user", content="Hi! How can I help you today?"),
        ]

        async def user_says(text: str | None) -> str:
            if text is not None:
                user_messages.append(ChatMessage(role="user", content=text))
            ask = GenerateRequest(messages=list(user_messages), config=self.user_generation)
            key = hashlib.sha256(
                json.dumps(
                    [self.settings["user_model"], ask.model_dump(mode="json"), trial], sort_keys=True
                ).encode()
            ).hexdigest()
            try:
                out = await session.call(lambda: user.generate(ask), label="simulated user", key=key)
            except ModelError as exc:
                raise ModelError(
                    f"trial {trial + 1}: the simulated user ({self.settings['user_model']} at "
                    f"{self.settings['api_base']}) failed: {exc}. Check dataset_args.tau_bench.extra_params "
                    "user_model / api_base / api_key",
                    kind="user_simulator",
                ) from None
            reply = out.completions[0] if out.completions else ""
            user_messages.append(ChatMessage(role="assistant", content=reply))
            return reply

        messages = [*request.messages, ChatMessage(role="user", content=await user_says(None))]
        actions: list[dict[str, Any]] = []
        done, ended_by = False, "max_steps"
        for step_no in range(int(self.settings["max_steps"])):
            step = GenerateRequest(messages=list(messages), config=step_config, tools=request.tools,
                                   tool_choice=request.tool_choice)  # fmt: skip
            out = await session.generate(step, trial=trial)
            text = out.completions[0] if out.completions else ""
            calls = out.tool_calls[0] if out.tool_calls else []
            if calls:
                call = dict(calls[0])  # τ-bench's agent acts on the first call only
                function = call.get("function") or {}
                name = str(function.get("name"))
                try:
                    arguments = json.loads(function.get("arguments") or "{}")
                except json.JSONDecodeError as exc:
                    actions.append({"name": name, "kwargs": {}, "error": f"arguments are not JSON: {exc}"})
                    ended_by = "invalid_tool_arguments"
                    break
                call.setdefault("id", f"call_{trial}_{step_no}")
                call.setdefault("type", "function")
                observation = invoke(domain, data, name, arguments if isinstance(arguments, dict) else {})
                actions.append({"name": name, "kwargs": arguments, "observation": observation})
                messages += [
                    ChatMessage(role="assistant", content=text, tool_calls=(call,)),
                    ChatMessage(role="tool", content=observation, tool_call_id=str(call["id"])),
                ]
                if name in TERMINATE:
                    done, ended_by = True, name
                    break
            else:
                actions.append({"name": RESPOND, "kwargs": {"content": text}})
                reply = await user_says(text)
                messages += [
                    ChatMessage(role="assistant", content=text),
                    ChatMessage(role="user", content=reply),
                ]
                if STOP in reply:
                    done, ended_by = True, "user_stop"
                    break
        return {
            "trial": trial,
            "done": done,
            "ended_by": ended_by,
            "actions": actions,
            "messages": [
                m.model_dump(mode="json") for m in messages[1:]
            ],  # the policy is the same every time
        }


class TauBenchScorer:
    """τ-bench's reward for one trial's trajectory (the completion is its JSON)."""

    values = ("acc",)

    def __init__(self, benchmark: TauBench) -> None:
        self.benchmark = benchmark

    def __call__(self, sample: Sample, completion: str, extracted: str) -> Score:
        trajectory = json.loads(completion)
        value, info = reward(self.benchmark.domain(sample.subset), sample.metadata["task"], trajectory)
        why = f"reward {value:g}: ended by {trajectory.get('ended_by')}"
        if "r_actions" in info:
            why += f"; database {'matches' if info['r_actions'] else 'differs from'} the ground truth"
        if "outputs" in info:
            why += f"; outputs {info['outputs']}"
        return Score(
            values={"acc": value},
            answer=f"{len(trajectory.get('actions', []))} actions, ended by {trajectory.get('ended_by')}",
            explanation=why,
            metadata={"reward_info": info},
        )


def tau_bench_scorer(benchmark: Any) -> TauBenchScorer:
    """The `tau_bench` scorer's factory (`ScorerSpec.impl`)."""
    return TauBenchScorer(benchmark)
