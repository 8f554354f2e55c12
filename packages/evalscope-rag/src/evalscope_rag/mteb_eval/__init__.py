"""MTEB/CMTEB through the `mteb` package: tasks by name, local data folders, one or two stages."""
