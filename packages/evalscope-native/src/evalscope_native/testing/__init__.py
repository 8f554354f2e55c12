"""Test helpers that ship with the native engine: the scripted judge's rules (`judge_rules`), served by
the core's scripted server (`evalscope.testing`)."""
