"""The engine side of the job protocol: `evalscope_driver.py`, run as a script by the engine's interpreter.

This folder holds nothing else, because running the script puts the folder on the engine's `sys.path`: a
plugin's driver imports `evalscope_driver` by that name, and no other module of ours shadows one of the
engine's. See `evalscope.engines.job` for our side of the protocol.
"""
