"""IFEval (instruction following): the adapter and its instruction checkers, one module per group.

`adapter.IFEval` is the benchmark; `registry.BUILDERS` maps each instruction id to its checker
builder, which lives in the module named after the id's group (`keywords`, `language`,
`length_constraints`, `detectable_content`, `detectable_format`, `combination`, `startend`,
`change_case`, `punctuation`); `evaluate` applies them strictly and loosely; `text` and
`punkt_params` count words and sentences without downloaded NLTK data.
"""
