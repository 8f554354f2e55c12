"""EvalScope's argparse flags take several values (`--datasets gsm8k arc`); click options take one.

`expand_multi_value_args` rewrites `--datasets gsm8k arc` into `--datasets gsm8k --datasets arc`
before click parses, and also splits `--datasets gsm8k,arc`, so both habits keep working.
"""

from __future__ import annotations


def expand_multi_value_args(args: list[str], options: set[str]) -> list[str]:
    out: list[str] = []
    i = 0
    while i < len(args):
        arg = args[i]
        name, eq, inline = arg.partition("=")
        i += 1
        if name not in options:
            out.append(arg)
            continue
        values = [inline] if eq else []
        while not eq and i < len(args) and not args[i].startswith("-"):
            values.append(args[i])
            i += 1
        if not values:
            out.append(name)  # let click report the missing value
        for value in values:
            out += [x for part in value.split(",") if part for x in (name, part)]
    return out
