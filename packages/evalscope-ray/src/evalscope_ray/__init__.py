"""EvalScope on Ray: the `ray` runner (`--runner ray`) for `evalscope eval` and `evalscope perf`."""
