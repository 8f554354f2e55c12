"""External evaluation engines (OpenCompass, VLMEvalKit, ...) driven as subprocesses: the template of their backends.

A backend that hands the evaluating to another framework subclasses `backend.ExternalEngineBackend` and writes
only its settings model, its plan (checks + the job), its engine-side driver and its result mapping. The rest
is here, so each such plugin installs alone on top of the core, and nothing here imports an engine:

* `backend.py`: `ExternalEngineBackend`, `EngineRun` (what `prepare` hands to `run`), `Converted`;
* `settings.py`: `EngineSettings` (the `eval_config` keys every engine takes), `parse_settings` (unknown keys
  with the closest names), the data folder lookup, distinct model names;
* `env.py`: finding the engine's interpreter (its own virtual environment when its pins clash with ours);
* `process.py`: running it with a log file, time limits and a clean kill of its process group; scrubbing
  secrets from the files it wrote;
* `job.py` and `driver/evalscope_driver.py`: the job protocol, our side and the engine's (job file, plan,
  the driver's verdict on bad input, exit codes, the engine's environment, failure explanations);
* `results.py`: building blocks of a result mapping (rows → report when they agree with the engine's
  headline, else the engine's metrics copied).
"""
