"""EvalScope 1.x import paths kept for its users' scripts (only what collections need)."""
