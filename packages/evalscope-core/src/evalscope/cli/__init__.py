"""The `evalscope` command line. Subcommands load lazily; see `main.py`."""
