"""BFCL's executable environments and multi-turn checker, driven over JSON lines (stdin → stdout).

Run by `bfcl_env.BFCLEnvironments` with the interpreter of the `bfcl` engine environment
(`scripts/install_engines.sh bfcl`: `bfcl-eval` without its dependencies, plus `mpmath`), never imported
by the plugin: it imports only the standard library and `bfcl_eval`, so the scores are BFCL's own code's.

One request a line, one answer a line (`{"ok": ...}` or `{"error": ...}`):

* `{"op": "execute", "session", "calls", "entry_id", "initial_config", "involved_classes", "long_context"}`:
  one step of a conversation: the call strings (`cd(folder='x')`, decoded by the plugin as BFCL
  decodes them) run by BFCL's `execute_multi_turn_func_call` on the session's instances (made from
  `initial_config` on first use). Answers `{"results": [...]}`, one string per call.
* `{"op": "close", "session"}`: forget the session's instances.
* `{"op": "check", "decoded", "ground_truth", "entry", "test_category", "model_name"}`: BFCL's
  `multi_turn_checker` on the decoded calls (turn → step → calls), on fresh instances. Answers its
  result (`valid`, `error_message`, `error_type`); a checker that raises is EvalScope's
  `multi_turn:checker_failed`.
"""

from __future__ import annotations

import json
import re
import sys
import traceback
from typing import Any


def _forget(prefix: str) -> None:
    """Drop the instances BFCL keeps in its module globals under names starting with `prefix`, so a
    session or a check never sees state left by an earlier one with the same id."""
    from bfcl_eval.eval_checker.multi_turn_eval import multi_turn_utils

    space = vars(multi_turn_utils)
    for name in [n for n in space if n.startswith(prefix) and n.endswith("_instance")]:
        del space[name]


def _model_prefix(model_name: str) -> str:
    return re.sub(r"[-./]", "_", model_name)


def execute(req: dict[str, Any]) -> dict[str, Any]:
    from bfcl_eval.eval_checker.multi_turn_eval.multi_turn_utils import execute_multi_turn_func_call

    results, _ = execute_multi_turn_func_call(
        req["calls"],
        initial_config=req["initial_config"],
        involved_classes=req["involved_classes"],
        model_name=f"session_{req['session']}",
        test_entry_id=req["entry_id"],
        long_context=bool(req["long_context"]),
        is_evaL_run=False,
    )
    return {"results": results}


def check(req: dict[str, Any]) -> dict[str, Any]:
    from bfcl_eval.eval_checker.multi_turn_eval.multi_turn_checker import multi_turn_checker

    decoded = req["decoded"]
    prefix = _model_prefix(req["model_name"])
    _forget(prefix)
    try:
        result = multi_turn_checker(
            decoded, req["ground_truth"], req["entry"], req["test_category"], req["model_name"]
        )
    except Exception:  # noqa: BLE001 - EvalScope: a checker that raises grades the sample invalid
        result = {
            "valid": False,
            "error_type": "multi_turn:checker_failed",
            "error_message": f"Failed to grade multi-turn. Traceback: {traceback.format_exc()}",
        }
    finally:
        _forget(prefix)
    # The checker's `details` hold whole instance states (the long-context ones are large): kept out.
    out = {k: result.get(k) for k in ("valid", "error_message", "error_type") if k in result}
    return json.loads(json.dumps(out, default=repr))


def main() -> None:
    # The answers own stdout: anything BFCL's code prints goes to stderr instead of into a reply line.
    replies, sys.stdout = sys.stdout, sys.stderr
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            req = json.loads(line)
            op = req["op"]
            if op == "execute":
                out: Any = execute(req)
            elif op == "close":
                _forget(_model_prefix(f"session_{req['session']}_"))
                out = {}
            elif op == "check":
                out = check(req)
            elif op == "ping":
                import importlib.metadata

                out = {"version": importlib.metadata.version("bfcl-eval")}
            else:
                raise ValueError(f"unknown op {op!r}")
            reply: dict[str, Any] = {"ok": out}
        except Exception:  # noqa: BLE001 - one bad request must not end the driver
            reply = {"error": traceback.format_exc()}
        replies.write(json.dumps(reply, default=repr) + "\n")
        replies.flush()


if __name__ == "__main__":
    main()
