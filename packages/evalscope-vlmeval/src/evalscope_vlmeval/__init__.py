"""EvalScope backend `vlmeval`: VLMEvalKit evaluates vision-language models, EvalScope keeps CLI, config, reports.

VLMEvalKit (PyPI `ms-vlmeval`) runs in its own virtual environment, driven as a subprocess; see
docs/backends/vlmeval.md.
"""
