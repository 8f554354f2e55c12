"""Prompt mode for BFCL's `java` and `javascript` subsets: a reply's calls read as BFCL reads them.

Without the tools API a model writes its calls as text, `[func(param=value)]`, with each value in the
subset's language (`new ArrayList<>(Arrays.asList(1, 2))`, `{a: 1}`). BFCL (and so EvalScope 1.14.1,
which calls `bfcl_eval`'s `default_decode_ast_prompting`) parses that text with tree-sitter's Java or
JavaScript grammar and keeps each argument's *source text*, rebuilt node by node; the AST checker
then converts those strings with its type converters (bfcl_types.py). Which text a value becomes
decides the score, so this module walks the same grammar nodes the same way: the same tree-sitter
grammars, pinned to the releases BFCL pins (tree-sitter 0.21, tree-sitter-java 0.21.0,
tree-sitter-javascript 0.21.4), imported only when a java/javascript reply is decoded.

The quirks are BFCL's and kept on purpose: a Java call's positional arguments count only when they
are identifiers, class literals or sets, JavaScript's only when identifiers or `true`; a reply that
does not parse cleanly (any ERROR node) raises, which the scorer records as a decode failure; a
name given twice raises too.
"""

from __future__ import annotations

import functools
from typing import Any

__all__ = ["decode_java_calls", "decode_js_calls"]

_INSTALL_HINT = (
    'pip install "tree-sitter==0.21.3" "tree-sitter-java==0.21.0" "tree-sitter-javascript==0.21.4"'
)


@functools.lru_cache(maxsize=2)
def _parser(language: str) -> Any:
    try:
        import importlib

        from tree_sitter import Language, Parser

        grammar = importlib.import_module(
            "tree_sitter_java" if language == "java" else "tree_sitter_javascript"
        )
    except ImportError:
        from evalscope.errors import MissingDependencyError

        raise MissingDependencyError(
            f"Reading {language} calls from a reply (BFCL prompt mode) needs tree-sitter and its {language} grammar.",
            hint=_INSTALL_HINT,
        ) from None
    parser = Parser()
    parser.set_language(Language(grammar.language(), language))
    return parser


def _strip_brackets(text: str) -> str:
    """`default_decode_ast_prompting`'s framing: strip fences and blanks, wrap in [ ], then drop the
    first and last character again (what BFCL hands its Java/JavaScript parsers)."""
    text = text.strip("`\n ")
    if not text.startswith("["):
        text = "[" + text
    if not text.endswith("]"):
        text = text + "]"
    return text[1:-1]


def _add(arguments: dict[Any, Any], name: Any, value: Any) -> None:
    if name in arguments:
        raise ValueError("Error: Multiple arguments with the same name are not supported.")
    arguments[name] = value


def decode_java_calls(reply: str) -> list[dict[str, Any]] | dict[str, Any]:
    """The first Java method invocation in the reply as `[{name: {param: source text}}]` (`{}` when
    there is none, as BFCL returns)."""
    source = _strip_brackets(reply)
    data = source.encode("utf8")
    root = _parser("java").parse(data).root_node
    if "ERROR" in root.sexp():
        raise SyntaxError("Error parsing java the source code.")

    def text(node: Any) -> str:
        return data[node.start_byte : node.end_byte].decode("utf8")

    def value(node: Any, nested: bool = False) -> str:
        kind = node.type
        if kind in ("string_literal", "character_literal"):
            return text(node) if nested else text(node)[1:-1]
        if kind in ("identifier", "class_literal", "type_identifier", "method_invocation"):
            return text(node)
        if kind == "array_creation_expression":
            of, items = node.child_by_field_name("type"), node.child_by_field_name("value")
            return f"new {value(of, True)}[]{value(items, True)}"
        if kind == "object_creation_expression":
            of, args = node.child_by_field_name("type"), node.child_by_field_name("arguments")
            if not args:
                return f"new {value(of, True)}()"
            inner = ", ".join(value(c, True) for c in args.children if c.type not in (",", "(", ")"))
            return f"new {value(of, True)}({inner})"
        if kind == "set":
            return "{" + ", ".join(value(c, True) for c in node.children if c.type not in (",", "set")) + "}"
        if node.child_count > 0:
            return "".join(value(c, True) for c in node.children)
        return text(node)

    def arguments(node: Any) -> dict[Any, Any]:
        out: dict[Any, Any] = {}
        for child in node.children:
            if child.type == "assignment_expression":
                _add(out, text(child.children[0]), value(child.children[2]))
            elif child.type in ("identifier", "class_literal", "set"):
                _add(out, None, value(child))
        return out

    def first_call(node: Any) -> list[dict[str, Any]] | None:
        if node.type == "method_invocation":
            name = text(node.child_by_field_name("name"))
            owner = node.child_by_field_name("object")
            if owner is not None:
                name = f"{text(owner)}.{name}"
            args = node.child_by_field_name("arguments")
            return [{name: arguments(args)}] if args is not None else None
        for child in node.children:
            found = first_call(child)
            if found:
                return found
        return None

    return first_call(root) or {}


def decode_js_calls(reply: str) -> list[dict[str, Any]] | None:
    """The first JavaScript call statement in the reply as `[{name: {param: source text}}]` (None when
    there is none, as BFCL returns)."""
    source = _strip_brackets(reply)
    root = _parser("javascript").parse(source.encode("utf8")).root_node
    if "ERROR" in root.sexp():
        raise SyntaxError("Error js parsing the source code.")

    def arguments(node: Any) -> dict[Any, Any]:
        out: dict[Any, Any] = {}
        for child in node.children:
            if child.type == "assignment_expression":
                given = child.children[2].text.decode("utf-8")
                if any(given.startswith(q) and given.endswith(q) for q in "\"'"):
                    given = given[1:-1]
                _add(out, child.children[0].text.decode("utf-8"), given)
            elif child.type in ("identifier", "true"):
                _add(out, None, child.text.decode("utf-8"))
        return out

    if root.type == "program":
        for statement in root.children:
            if statement.type != "expression_statement":
                continue
            for call in statement.children:
                if call.type == "call_expression":
                    return [{call.children[0].text.decode("utf8"): arguments(call.children[1])}]
    return None
