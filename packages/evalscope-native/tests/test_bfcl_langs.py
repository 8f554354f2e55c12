"""BFCL prompt mode for java / javascript: replies read with tree-sitter as BFCL reads them.

The expected values are what `bfcl_eval`'s own `parse_java_function_call` /
`parse_javascript_function_call` return for the same replies (checked side by side with the
bfcl-eval wheel's parsers; `test_equal_to_bfcl_parsers` repeats it with the parser files of the
`bfcl` engine install): each argument is its source text, a reply that does not parse raises.
"""

from __future__ import annotations

import importlib.util
from typing import Any

import pytest
from evalscope_native.families.function_calling.bfcl_langs import decode_java_calls, decode_js_calls

JAVA: list[tuple[str, Any]] = [
    ("MathUtils.add(a=1, b=2)", [{"MathUtils.add": {"a": "1", "b": "2"}}]),
    (
        '[Foo.bar(x="hello", y=new ArrayList<>(Arrays.asList(1, 2, 3)))]',
        [{"Foo.bar": {"x": "hello", "y": "new ArrayList<>(Arrays.asList(1, 2, 3))"}}],
    ),
    # an array's text is rebuilt node by node (no blanks), a char literal loses its quotes
    (
        "calc(arr=new int[]{1, 2, 3}, flag=true, ch='c')",
        [{"calc": {"arr": "new int[]{1,2,3}", "flag": "true", "ch": "c"}}],
    ),
    ('f(a=new Foo(1, "x"), b=null)', [{"f": {"a": 'new Foo(1, "x")', "b": "null"}}]),
    ('f(x=10L, y=3.5f, s="a\\"b")', [{"f": {"x": "10L", "y": "3.5f", "s": 'a\\"b'}}]),
    ("f(a = List.of(1,2), b = x.y.z)", [{"f": {"a": "List.of(1,2)", "b": "x.y.z"}}]),
]
JS: list[tuple[str, Any]] = [
    ('getData(url="http://x", retries=3)', [{"getData": {"url": "http://x", "retries": "3"}}]),
    ('[f(a=[1,2,3], b={k: "v"})]', [{"f": {"a": "[1,2,3]", "b": '{k: "v"}'}}]),
    ("f(a='s')", [{"f": {"a": "s"}}]),
    ("x.y(a=1)", [{"x.y": {"a": "1"}}]),
    ("f()", [{"f": {}}]),
]
UNREADABLE = {
    "java": ["garbage ((", "f(a=1, a=2)", "f(a=1)\ng(b=2)", "```java\nf(a=Color.RED)\n```"],
    "javascript": ["bad((", "f(a=1, a=2)", "f(x, true)"],
}


@pytest.mark.parametrize(("reply", "calls"), JAVA)
def test_java_calls(reply: str, calls: Any) -> None:
    assert decode_java_calls(reply) == calls


@pytest.mark.parametrize(("reply", "calls"), JS)
def test_javascript_calls(reply: str, calls: Any) -> None:
    assert decode_js_calls(reply) == calls


@pytest.mark.parametrize("language", ["java", "javascript"])
def test_unreadable_replies_raise(language: str) -> None:
    decode = decode_java_calls if language == "java" else decode_js_calls
    for reply in UNREADABLE[language]:
        with pytest.raises(Exception):  # noqa: B017 - BFCL raises SyntaxError or a bare Exception
            decode(reply)


def _bfcl_parser(name: str) -> Any:
    """BFCL's own parser module, loaded from the `bfcl` engine's install (it imports only tree-sitter
    and a grammar, which this venv has at the versions BFCL pins)."""
    from evalscope_native.families.function_calling.bfcl_env import find_bfcl

    try:
        package = find_bfcl().package_dir
    except Exception as exc:  # noqa: BLE001 - an engine test fails, naming the fix, never skips
        pytest.fail(f"the bfcl engine environment is missing: run scripts/install_engines.sh bfcl ({exc})")
    spec = importlib.util.spec_from_file_location(
        f"bfcl_{name}", package / "model_handler" / "parser" / f"{name}.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _their(parse: Any, reply: str) -> Any:
    """`default_decode_ast_prompting`'s framing around BFCL's parser; ("raises",) when it raises."""
    text = reply.strip("`\n ")
    text = text if text.startswith("[") else "[" + text
    text = text if text.endswith("]") else text + "]"
    try:
        return parse(text[1:-1])
    except Exception:  # noqa: BLE001
        return ("raises",)


def _ours(decode: Any, reply: str) -> Any:
    try:
        return decode(reply)
    except Exception:  # noqa: BLE001
        return ("raises",)


@pytest.mark.engine
def test_equal_to_bfcl_parsers() -> None:
    java = _bfcl_parser("java_parser").parse_java_function_call
    js = _bfcl_parser("js_parser").parse_javascript_function_call
    for reply in (
        [r for r, _ in JAVA] + UNREADABLE["java"] + ["f(a=new int[][]{{1}, {2}})", "x.y.z(q=Foo.class)"]
    ):
        assert _ours(decode_java_calls, reply) == _their(java, reply), reply
    for reply in [r for r, _ in JS] + UNREADABLE["javascript"] + ["f(a=function(){return 1;})", "f(a=`t`)"]:
        assert _ours(decode_js_calls, reply) == _their(js, reply), reply
