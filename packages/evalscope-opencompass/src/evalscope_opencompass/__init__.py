"""EvalScope backend `opencompass`: OpenCompass does the evaluating, EvalScope keeps the CLI, config and reports.

OpenCompass runs in its own virtual environment (its pins clash with ours), driven as a subprocess; see
docs/backends/opencompass.md.
"""
