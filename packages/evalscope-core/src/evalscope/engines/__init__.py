"""External evaluation engines (OpenCompass, VLMEvalKit, ...) driven as subprocesses.

Backends that hand the evaluating to another framework share two needs, kept here so each such plugin
installs alone on top of the core: finding the engine's interpreter (its own virtual environment when
its pins clash with ours: `env.py`) and running it with a log file, time limits and a clean kill of
its whole process group (`process.py`). Nothing here imports an engine.
"""
