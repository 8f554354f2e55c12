"""Fidelity harness: the same scripted replies scored by EvalScope 1.14.1 and by us, sample by sample.

Modules: `replies` (the reply formats), `entries` (one row per benchmark both engines have),
`baseline` (EvalScope's virtual environment, data layout and run), `matching` (reading both
engines' reviews, pairing samples by question text, comparing scores), `run` (the command).
"""
