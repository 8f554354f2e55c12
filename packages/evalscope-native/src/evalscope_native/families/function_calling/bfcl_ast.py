"""BFCL's AST checker and prompt-mode decoder for Python functions, as `bfcl-eval==2025.10.27.1` has them.

EvalScope 1.14.1 scores bfcl_v3 by calling `bfcl_eval.eval_checker.ast_eval.ast_checker` (and, for a
model without the tools API, `bfcl_eval.model_handler.utils.default_decode_ast_prompting`). That
package pins numpy, sentence-transformers, tree-sitter and a dozen model SDKs, so the Python part of
the checker is ported here line for line (Apache-2.0, ShishirPatil/gorilla): the same checks, the same
error messages and types. What it decides, in short:

* the number of calls must equal the ground truth's; *parallel* categories match calls in any order,
  *multiple* ones compare the single call with the one expected;
* the function name must match (dots in expected names become `_`, as for OpenAI-style FC models:
  EvalScope's default `underscore_to_dot`);
* every required parameter present, no parameter outside the schema or the answer, every parameter
  of the answer given unless `""` (optional) is among its accepted values;
* types: the schema's type (`string` str, `integer` int, `float` float — an int is accepted —,
  `boolean`, `array`/`tuple` list with the item type checked one level deep, `dict`);
* values: strings compared after removing spaces and `,./-_*^` and lower-casing; lists element-wise the
  same way; dicts key by key; anything else must be one of the accepted values.

`language` java / javascript: each value must be a string in that syntax, converted by BFCL's converters
(bfcl_types.py) before the same checks. Prompt mode (decoding a reply) is Python only here; the multi-turn
checker (executable environments) is not ported.
"""

from __future__ import annotations

import ast
import operator
import re
from typing import Any

from evalscope_native.families.function_calling.bfcl_types import (
    JAVA_TYPE_CONVERSION,
    JS_TYPE_CONVERSION,
    java_type_converter,
    js_type_converter,
)

__all__ = ["ast_checker", "decode_ast_prompting", "is_empty_output"]

PYTHON_TYPE_MAPPING: dict[str, type] = {
    "string": str,
    "integer": int,
    "float": float,
    "boolean": bool,
    "array": list,
    "tuple": list,
    "dict": dict,
    "any": str,
}
PYTHON_NESTED_TYPE_CHECK_LIST = ["array", "tuple"]
NESTED_CONVERSION_TYPE_LIST = ["Array", "ArrayList", "array"]

Result = dict[str, Any]


def ast_checker(
    func_description: list[dict[str, Any]],
    model_output: list[dict[str, Any]],
    possible_answer: list[dict[str, Any]],
    test_category: str,
    underscore_to_dot: bool = True,
    language: str = "python",
) -> Result:
    if "parallel" in test_category:
        return parallel_function_checker_no_order(
            func_description, model_output, possible_answer, underscore_to_dot, language
        )
    if "multiple" in test_category:
        return multiple_function_checker(
            func_description, model_output, possible_answer, underscore_to_dot, language
        )
    if len(model_output) != 1:
        return {
            "valid": False,
            "error": ["Wrong number of functions."],
            "error_type": "simple_function_checker:wrong_count",
        }
    return simple_function_checker(
        func_description[0], model_output[0], possible_answer[0], underscore_to_dot, language
    )


def find_description(func_descriptions: Any, name: str) -> Any:
    if type(func_descriptions) is list:
        for func_description in func_descriptions:
            if func_description["name"] == name:
                return func_description
        return None
    return func_descriptions


def get_possible_answer_type(possible_answer: list[Any]) -> type | None:
    for answer in possible_answer:
        if answer != "":  # an optional parameter
            return type(answer)
    return None


def convert_func_name(function_name: str, underscore_to_dot: bool) -> str:
    if "." in function_name and underscore_to_dot:
        return re.sub(r"\.", "_", function_name)
    return function_name


def type_checker(
    param: str,
    value: Any,
    possible_answer: list[Any],
    expected_type_description: str,
    expected_type_converted: Any,
    nested_type_converted: Any,
) -> Result:
    result: Result = {"valid": True, "error": [], "is_variable": False, "error_type": "type_error:simple"}
    is_variable = False
    possible_answer_type = get_possible_answer_type(possible_answer)
    if possible_answer_type is not None and possible_answer_type is not expected_type_converted:
        is_variable = True
    if type(value) is expected_type_converted:
        if nested_type_converted is None:
            result["is_variable"] = is_variable
            return result
        for possible_answer_item in possible_answer:
            flag = True
            if type(possible_answer_item) is list:
                for value_item in value:
                    checker_result = type_checker(
                        param,
                        value_item,
                        possible_answer_item,
                        str(nested_type_converted),
                        nested_type_converted,
                        None,
                    )
                    if not checker_result["valid"]:
                        flag = False
                        break
            if flag:
                return {"valid": True, "error": [], "is_variable": is_variable}
        result["valid"] = False
        result["error"] = [
            f"Nested type checking failed for parameter {param!r}. Expected outer type "
            f"{expected_type_description} with inner type {nested_type_converted!s}. Parameter value: {value!r}."
        ]
        result["error_type"] = "type_error:nested"
    possible_answer_type = get_possible_answer_type(possible_answer)
    if possible_answer_type is not None and type(value) is possible_answer_type:
        result["is_variable"] = True
        return result
    result["valid"] = False
    result["error"].append(
        f"Incorrect type for parameter {param!r}. Expected type {expected_type_description}, got "
        f"{type(value).__name__}. Parameter value: {value!r}."
    )
    result["error_type"] = "type_error:simple"
    return result


def standardize_string(input_string: str) -> str:
    """Spaces and `,./-_*^` removed, lower case, single quotes as double (April 1, 2024 = April 1 2024)."""
    return re.sub(r"[ \,\.\/\-\_\*\^]", "", input_string).lower().replace("'", '"')


def string_checker(param: str, model_output: str, possible_answer: list[Any]) -> Result:
    standardized = [standardize_string(a) for a in possible_answer if type(a) is str]
    if standardize_string(model_output) not in standardized:
        return {
            "valid": False,
            "error": [
                f"Invalid value for parameter {param!r}: {model_output!r}. Expected one of {possible_answer}. "
                "Case insensitive."
            ],
            "error_type": "value_error:string",
        }
    return {"valid": True, "error": []}


def list_checker(param: str, model_output: list[Any], possible_answer: list[Any]) -> Result:
    output = [standardize_string(v) if type(v) is str else v for v in model_output]
    answers = [[standardize_string(v) if type(v) is str else v for v in answer] for answer in possible_answer]
    if output not in answers:
        return {
            "valid": False,
            "error": [
                f"Invalid value for parameter {param!r}: {model_output!r}. Expected one of {possible_answer}."
            ],
            "error_type": "value_error:list/tuple",
        }
    return {"valid": True, "error": []}


def dict_checker(param: str, model_output: dict[str, Any], possible_answers: list[Any]) -> Result:
    result: Result = {"valid": False, "error": [], "error_type": "dict_checker:unclear"}
    for i in range(len(possible_answers)):
        if possible_answers[i] == "":
            continue
        result = {"valid": False, "error": [], "error_type": "dict_checker:unclear"}
        flag = True
        possible_answer = possible_answers[i]
        for key, value in model_output.items():
            if key not in possible_answer:
                result["valid"] = False
                result["error"].append(f"Unexpected dict key parameter: '{key}'.")
                result["error_type"] = "value_error:dict_key"
                flag = False
                break
            standardize_value = standardize_string(value) if type(value) is str else value
            standardized = [standardize_string(v) if type(v) is str else v for v in possible_answer[key]]
            if standardize_value not in standardized:
                result["valid"] = False
                result["error"].append(
                    f"Invalid value for parameter {key!r}: {value!r}. Expected one of {standardized}."
                )
                result["error_type"] = "value_error:dict_value"
                flag = False
                break
        for key, value in possible_answer.items():
            if key not in model_output and "" not in value:
                result["valid"] = False
                result["error"].append(f"Missing dict key parameter: '{key}'.")
                result["error_type"] = "value_error:dict_key"
                flag = False
                break
        if flag:
            return {"valid": True, "error": []}
    return result


def list_dict_checker(param: str, model_output: list[Any], possible_answers: list[Any]) -> Result:
    result: Result = {"valid": False, "error": [], "error_type": "list_dict_checker:unclear"}
    for answer_index in range(len(possible_answers)):
        flag = True
        if len(model_output) != len(possible_answers[answer_index]):
            result["valid"] = False
            result["error"] = ["Wrong number of dictionaries in the list."]
            result["error_type"] = "value_error:list_dict_count"
            flag = False
            continue
        for dict_index in range(len(model_output)):
            result = dict_checker(
                param, model_output[dict_index], [possible_answers[answer_index][dict_index]]
            )
            if not result["valid"]:
                flag = False
                break
        if flag:
            return {"valid": True, "error": []}
    return result


def simple_function_checker(
    func_description: dict[str, Any],
    model_output: dict[str, Any],
    possible_answer: dict[str, Any],
    underscore_to_dot: bool,
    language: str = "python",
) -> Result:
    answer = list(possible_answer.values())[0]
    func_name = func_description["name"]
    param_details = func_description["parameters"]["properties"]
    required_params = func_description["parameters"]["required"]
    result: Result = {"valid": True, "error": [], "error_type": "simple_function_checker:unclear"}
    func_name = convert_func_name(func_name, underscore_to_dot)
    if func_name not in model_output:
        result["valid"] = False
        result["error"].append(f"Function name {func_name!r} not found in model output.")
        result["error_type"] = "simple_function_checker:wrong_func_name"
        return result
    model_params = model_output[func_name]
    for param in required_params:
        if param not in model_params:
            result["valid"] = False
            result["error"].append(f"Missing required parameter: {param!r}.")
            result["error_type"] = "simple_function_checker:missing_required"
            return result
    for param, value in model_params.items():
        if param not in param_details or param not in answer:
            result["valid"] = False
            result["error"].append(f"Unexpected parameter: {param!r}.")
            result["error_type"] = "simple_function_checker:unexpected_param"
            return result
        expected_type_description = param_details[param]["type"]
        nested_type_converted = None
        if language in ("java", "javascript"):
            # every value arrives as a string in the language's syntax and is converted first
            table, convert = (
                (JAVA_TYPE_CONVERSION, java_type_converter)
                if language == "java"
                else (JS_TYPE_CONVERSION, js_type_converter)
            )
            expected_type_converted = table[expected_type_description]
            if type(value) is not str:
                result["valid"] = False
                result["error"].append(
                    f"Incorrect type for parameter {param!r}. Expected type String, got {type(value).__name__}. "
                    f"Parameter value: {value!r}."
                )
                result["error_type"] = "type_error:java" if language == "java" else "type_error:js"
                return result
            if expected_type_description in NESTED_CONVERSION_TYPE_LIST:
                nested_type = param_details[param]["items"]["type"]
                nested_type_converted = table[nested_type]
                value = convert(value, expected_type_description, nested_type)
            else:
                value = convert(value, expected_type_description)
        elif language == "python":
            expected_type_converted = PYTHON_TYPE_MAPPING[expected_type_description]
            if expected_type_description in PYTHON_NESTED_TYPE_CHECK_LIST:
                nested_type_converted = PYTHON_TYPE_MAPPING[param_details[param]["items"]["type"]]
        else:
            raise ValueError(f"Unsupported language: {language}")
        if expected_type_description == "tuple" and type(value) is tuple:
            value = list(value)
        if (
            language == "python" and expected_type_description == "float" and type(value) is int
        ):  # int for float
            value = float(value)
        checked = type_checker(
            param,
            value,
            answer[param],
            expected_type_description,
            expected_type_converted,
            nested_type_converted,
        )
        if not checked["valid"]:
            return checked
        if not checked["is_variable"]:
            if expected_type_converted is dict:
                result = dict_checker(param, value, answer[param])
                if not result["valid"]:
                    return result
                continue
            if expected_type_converted is list and nested_type_converted is dict:
                result = list_dict_checker(param, value, answer[param])
                if not result["valid"]:
                    return result
                continue
            if expected_type_converted is str:
                result = string_checker(param, value, answer[param])
                if not result["valid"]:
                    return result
                continue
            if expected_type_converted is list:
                result = list_checker(param, value, answer[param])
                if not result["valid"]:
                    return result
                continue
        if value not in answer[param]:
            result["valid"] = False
            result["error"].append(
                f"Invalid value for parameter {param!r}: {value!r}. Expected one of {answer[param]}."
            )
            result["error_type"] = "value_error:others"
            return result
    for param in answer:
        if param not in model_params and "" not in answer[param]:
            result["valid"] = False
            result["error"].append(f"Optional parameter {param!r} not provided and not marked as optional.")
            result["error_type"] = "simple_function_checker:missing_optional"
            return result
    return result


def parallel_function_checker_no_order(
    func_descriptions: list[dict[str, Any]],
    model_output: list[dict[str, Any]],
    possible_answers: list[dict[str, Any]],
    underscore_to_dot: bool,
    language: str = "python",
) -> Result:
    if len(model_output) != len(possible_answers):
        return {
            "valid": False,
            "error": ["Wrong number of functions."],
            "error_type": "parallel_function_checker_no_order:wrong_count",
        }
    matched_indices: list[int] = []
    result: Result = {"valid": True, "error": []}
    for i in range(len(possible_answers)):
        func_name_expected = list(possible_answers[i].keys())[0]
        func_description = find_description(func_descriptions, func_name_expected)
        all_errors: list[Any] = []
        for index in range(len(model_output)):
            if index in matched_indices:
                continue
            result = simple_function_checker(
                func_description, model_output[index], possible_answers[i], underscore_to_dot, language
            )
            if result["valid"]:
                matched_indices.append(index)
                break
            all_errors.append(
                {
                    f"Model Result Index {index}": {
                        "sub_error": result["error"],
                        "sub_error_type": result["error_type"],
                        "model_output_item": model_output[index],
                        "possible_answer_item": possible_answers[i],
                    }
                }
            )
        if not result["valid"]:
            considered = [k for k in range(len(model_output)) if k not in matched_indices]
            all_errors.insert(
                0,
                f"Could not find a matching function among index {considered} of model output for index {i} of "
                "possible answers.",
            )
            return {
                "valid": False,
                "error": all_errors,
                "error_type": "parallel_function_checker_no_order:cannot_find_match",
            }
    return {"valid": True, "error": []}


def multiple_function_checker(
    func_descriptions: list[dict[str, Any]],
    model_output: list[dict[str, Any]],
    possible_answers: list[dict[str, Any]],
    underscore_to_dot: bool,
    language: str = "python",
) -> Result:
    if len(model_output) != len(possible_answers):
        return {
            "valid": False,
            "error": ["Wrong number of functions."],
            "error_type": "multiple_function_checker:wrong_count",
        }
    func_name_expected = list(possible_answers[0].keys())[0]
    func_description = find_description(func_descriptions, func_name_expected)
    return simple_function_checker(
        func_description, model_output[0], possible_answers[0], underscore_to_dot, language
    )


# --- prompt mode: the model writes `[func(a=1), ...]` ------------------------------------------


def decode_ast_prompting(result: str) -> list[dict[str, Any]]:
    """`default_decode_ast_prompting` for Python: the reply parsed as a list of calls (raises when it is not)."""
    result = result.strip("`\n ")
    if not result.startswith("["):
        result = "[" + result
    if not result.endswith("]"):
        result = result + "]"
    parsed = ast.parse(result.strip().strip("'"), mode="eval")
    if isinstance(parsed.body, ast.Call):
        return [_resolve_call(parsed.body)]
    extracted = []
    for elem in parsed.body.elts:  # type: ignore[attr-defined]
        if not isinstance(elem, ast.Call):
            raise AssertionError("not a call")
        extracted.append(_resolve_call(elem))
    return extracted


def _resolve_call(elem: ast.Call) -> dict[str, Any]:
    parts = []
    func: ast.expr = elem.func
    while isinstance(func, ast.Attribute):
        parts.append(func.attr)
        func = func.value
    if isinstance(func, ast.Name):
        parts.append(func.id)
    return {".".join(reversed(parts)): {kw.arg: _resolve_value(kw.value) for kw in elem.keywords}}


def _resolve_value(value: ast.expr) -> Any:
    """Literal values as they are; names as their text; calls without keywords as source. Upstream
    evaluates arithmetic with `eval`; here arithmetic on literals is folded by `_arithmetic`, so the
    values are the same and a model's reply is never executed."""
    if isinstance(value, ast.Constant):
        return "..." if value.value is Ellipsis else value.value
    if isinstance(value, ast.UnaryOp):
        return -value.operand.value  # type: ignore[attr-defined]
    if isinstance(value, ast.List):
        return [_resolve_value(v) for v in value.elts]
    if isinstance(value, ast.Dict):
        return {_resolve_value(k): _resolve_value(v) for k, v in zip(value.keys, value.values, strict=False)}  # type: ignore[arg-type]
    if isinstance(value, ast.BinOp):
        return _arithmetic(value)
    if isinstance(value, ast.Name):
        return value.id
    if isinstance(value, ast.Call):
        return ast.unparse(value) if not value.keywords else _resolve_call(value)
    if isinstance(value, ast.Tuple):
        return tuple(_resolve_value(v) for v in value.elts)
    if isinstance(value, ast.Subscript):
        return ast.unparse(value.value) + "[" + ast.unparse(value.slice) + "]"
    raise ValueError(f"Unsupported AST type: {type(value)}")


_OPERATORS: dict[type, Any] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}


def _arithmetic(node: ast.expr) -> Any:
    """`eval` of an expression of literals joined by + - * / // % ** (and unary minus); else ValueError."""
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        operand = _arithmetic(node.operand)
        return -operand if isinstance(node.op, ast.USub) else +operand
    if isinstance(node, ast.BinOp) and type(node.op) in _OPERATORS:
        left, right = _arithmetic(node.left), _arithmetic(node.right)
        if isinstance(node.op, ast.Pow) and isinstance(right, int | float) and abs(right) > 64:
            raise ValueError("exponent too large")  # a reply must not stall the scorer
        if isinstance(node.op, ast.Mult) and any(isinstance(v, int) and v > 10_000 for v in (left, right)):
            if any(isinstance(v, str | list | tuple) for v in (left, right)):
                raise ValueError("repetition too large")
        return _OPERATORS[type(node.op)](left, right)
    raise ValueError(f"Unsupported AST type: {type(node)}")


def is_function_calling_format_output(decoded_output: Any) -> bool:
    if type(decoded_output) is not list:
        return False
    for item in decoded_output:
        if type(item) is not dict or len(item) != 1:
            return False
        if type(list(item.values())[0]) is not dict:
            return False
    return True


def is_empty_output(decoded_output: Any) -> bool:
    """No call at all: not the call format, `[]`, or `[{}]` (relevance detection)."""
    if not is_function_calling_format_output(decoded_output):
        return True
    if len(decoded_output) == 0:
        return True
    return len(decoded_output) == 1 and len(decoded_output[0]) == 0
