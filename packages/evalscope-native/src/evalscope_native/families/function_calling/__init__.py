"""Function-calling benchmarks (`general_fc`, `tool_bench`), as EvalScope 1.14.1 prompts and scores them.

A family in its own folder: `catalog.py` holds the specs the native plugin registers (benchmarks,
scorers, metrics), the adapters turn records into chat requests with an OpenAI `tools` list
(`GenerateRequest.tools`), the scorers read the model's calls from the sample
(`metadata["tool_calls"]`, put there by the engine from `ModelOutput.tool_calls`). See
docs/benchmarks/function-calling.md.
"""
