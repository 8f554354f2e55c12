"""Prompt datasets (`--dataset`): openqa, longalpaca, line_by_line, custom, random."""
