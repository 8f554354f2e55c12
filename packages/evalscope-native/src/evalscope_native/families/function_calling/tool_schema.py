"""Tools in the OpenAI shape: checked before a request is sent, and calls checked against them.

`check_tools` refuses a sample whose tools cannot be sent (no function name, parameters that are
not a JSON Schema) with a message naming the tool and the fix; the engine then fails that one sample
and goes on. `validate_tool_calls` is EvalScope 1.14.1's `FunctionCallAdapter.validate_tool_call`:
every call must name a declared tool and its arguments (JSON) must validate against the tool's
`parameters`; the first failure is the reason.
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ["check_tools", "parse_arguments", "validate_tool_calls"]


def check_tools(tools: Any) -> list[dict[str, Any]]:
    """The tools as sent (`{"type": "function", "function": {...}}` each, parameters as EvalScope sends
    them: an object schema with `required` and `additionalProperties: false` by default); ValueError
    naming the fix."""
    from jsonschema import SchemaError
    from jsonschema.validators import validator_for

    if not isinstance(tools, list):
        raise ValueError(f"`tools` must be a list of OpenAI tool objects, not {type(tools).__name__}")
    out: list[dict[str, Any]] = []
    for i, tool in enumerate(tools):
        function = tool.get("function") if isinstance(tool, dict) else None
        if (
            not isinstance(function, dict)
            or not isinstance(function.get("name"), str)
            or not function["name"]
        ):
            raise ValueError(
                f"tools[{i}] has no function name: each tool must be "
                '{"type": "function", "function": {"name": ..., "parameters": {...}}}'
            )
        params = function.get("parameters", {"type": "object", "properties": {}})
        if not isinstance(params, dict):
            raise ValueError(f"tools[{i}] {function['name']!r}: `parameters` must be a JSON Schema object")
        try:
            validator_for(params).check_schema(params)
        except SchemaError as exc:
            where = "/".join(str(p) for p in exc.path) or "(root)"
            raise ValueError(
                f"tools[{i}] {function['name']!r}: `parameters` is not a valid JSON Schema at {where}: "
                f"{exc.message}; fix the tool's schema in the data file (e.g. a type must be one of "
                "object, array, string, number, integer, boolean, null)"
            ) from None
        # As EvalScope sends a tool (its ToolParams model): parameters always an object schema with
        # `required` and `additionalProperties` (false unless the data says otherwise).
        sent = {k: v for k, v in function.items() if k != "parameters"}
        sent["parameters"] = {
            **params,
            "type": "object",
            "properties": params.get("properties") or {},
            "required": params.get("required") or [],
            "additionalProperties": params.get("additionalProperties", False),
        }
        out.append({"type": "function", "function": sent})
    return out


def parse_arguments(arguments: Any, name: str, tools: list[dict[str, Any]]) -> Any:
    """A call's arguments as EvalScope 1.14.1 parses them (`evalscope.api.tool.utils.parse_tool_call`):
    text starting with `{` is JSON (`{}` when malformed); other text is YAML given to the tool's first
    parameter; anything else is `{}`."""
    if not isinstance(arguments, str):
        return arguments
    arguments = arguments.strip()
    if arguments.startswith("{"):
        try:
            return json.loads(arguments)
        except json.JSONDecodeError:
            return {}
    tool = next(
        (
            t["function"]
            for t in tools
            if t["function"].get("name") == name
            and ((t["function"].get("parameters") or {}).get("properties"))
        ),
        None,
    )
    if not name or tool is None:
        return {}
    import yaml

    first = next(iter(tool["parameters"]["properties"]))
    try:
        return {first: yaml.safe_load(arguments)}
    except yaml.YAMLError:
        return {first: arguments}


def validate_tool_calls(tool_calls: list[dict[str, Any]], tools: list[dict[str, Any]]) -> tuple[bool, str]:
    """(all calls valid, the first failure's reason) -- EvalScope 1.14.1's messages, word for word."""
    from jsonschema import ValidationError, validate

    tool_name = ""
    try:
        for call in tool_calls:
            tool_name = call["function"]["name"]
            schema = next(
                (t["function"]["parameters"] for t in tools if t["function"]["name"] == tool_name), None
            )
            if not schema:
                return False, f"No schema found for tool '{tool_name}'"
            args = parse_arguments(call["function"].get("arguments", ""), tool_name, tools)
            validate(instance=args, schema=schema)
    except ValidationError as e:
        return False, f"Schema validation failed for tool '{tool_name}': {e.message}"
    except KeyError as e:
        return False, f"Tool call format error, missing field: {e}"
    except Exception as e:  # noqa: BLE001 - EvalScope reports any other failure as the reason
        return False, f"Unexpected error during validation: {e}"
    return True, ""
