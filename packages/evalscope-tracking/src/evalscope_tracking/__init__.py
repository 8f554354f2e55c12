"""EvalScope tracking: reporters that log eval reports and perf results to experiment trackers."""
