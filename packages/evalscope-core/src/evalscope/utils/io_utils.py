"""`from evalscope.utils.io_utils import dump_jsonl_data`, as EvalScope 1.x's collection guide writes it."""

from evalscope.collections.records import dump_jsonl_data

__all__ = ["dump_jsonl_data"]
