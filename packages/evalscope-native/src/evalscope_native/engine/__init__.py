"""The native engine: plan (validate + render), execute (async, cached, retried), score, report."""
