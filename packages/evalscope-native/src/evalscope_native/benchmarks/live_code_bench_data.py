"""LiveCodeBench's hub records: test-case decoding (safely), the format prompt, the date filter.

The hub (``livecodebench/code_generation_lite``) stores ``public_test_cases`` as JSON text and
``private_test_cases`` either as JSON text or as ``base64(zlib(pickle(json_text)))``. EvalScope
1.14.1 and LiveCodeBench call ``pickle.loads`` on that, which runs whatever the pickle says: a
dataset file (a mirror, a local copy someone handed you) could execute any command on the machine
doing the evaluation, outside every sandbox. We unpickle with ``SafeUnpickler``, which resolves no
global except ``builtins.str``/``list``/``dict``, so a pickle that asks for ``os.system`` (or any
other callable) is refused with ``UnsafePickleError`` before anything runs. Decompression is
bounded too (``MAX_DECODED_BYTES``), so a zlib bomb fails instead of filling the memory.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import io
import json
import pickle
import zlib
from typing import Any

#: the largest private test data we decompress for one problem (the biggest real ones are ~100 MB)
MAX_DECODED_BYTES = 1 << 30

SYSTEM_PROMPT = (
    "You are an expert Python programmer. You will be given a question (problem specification) and will "
    "generate a correct Python program that matches the specification and passes all tests. You will NOT "
    "return anything except for the program."
)
PROMPT_TEMPLATE = "### Question:\n{question_content}\n\n{format_prompt} ### Answer: (use the provided format with backticks)\n\n"
FORMAT_WITH_STARTER_CODE = (
    "You will use the following starter code to write the solution to the problem and enclose your code "
    "within delimiters."
)
FORMAT_WITHOUT_STARTER_CODE = (
    "Read the inputs from stdin solve the problem and write the answer to stdout (do not directly test on "
    "the sample inputs). Enclose your code within delimiters as follows."
)


class UnsafePickleError(ValueError):
    """The private test data is a pickle that asks for something other than plain str/list/dict."""


class SafeUnpickler(pickle.Unpickler):
    """Unpickles plain data only: strings, lists, dicts (and the numbers/None pickle has opcodes for).

    Any other global (``os.system``, ``subprocess.Popen``, ``builtins.eval``, ...) is refused, so
    no REDUCE can call anything: the dangerous part of a pickle is exactly the callables it names.
    """

    ALLOWED = frozenset({("builtins", "str"), ("builtins", "list"), ("builtins", "dict")})

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in self.ALLOWED:
            return super().find_class(module, name)
        raise UnsafePickleError(
            f"private_test_cases: the pickle asks for {module}.{name}, which is refused (only builtins "
            "str/list/dict are allowed); this is not LiveCodeBench's data format, or the file was tampered "
            "with. Use the dataset from livecodebench/code_generation_lite."
        )

    def persistent_load(self, pid: Any) -> Any:
        raise UnsafePickleError("private_test_cases: the pickle uses persistent ids, which are refused")


def safe_unpickle(data: bytes) -> Any:
    try:
        return SafeUnpickler(io.BytesIO(data)).load()
    except UnsafePickleError:
        raise
    except Exception as exc:  # a corrupt pickle raises many types; all mean "not our data"
        raise ValueError(f"private_test_cases: not a readable pickle ({type(exc).__name__}: {exc})") from None


def _inflate(data: bytes) -> bytes:
    inflater = zlib.decompressobj()
    out = inflater.decompress(data, MAX_DECODED_BYTES)
    if inflater.unconsumed_tail:
        raise ValueError(f"private_test_cases: more than {MAX_DECODED_BYTES >> 20} MB once decompressed")
    return out + inflater.flush()


def decode_private(raw: Any) -> Any:
    """The private cases as JSON-ready data: JSON text as is, else base64 + zlib + (safe) pickle."""
    if not isinstance(raw, str):
        return raw if raw is not None else []
    try:
        return json.loads(raw)
    except json.JSONDecodeError:
        pass
    try:
        packed = base64.b64decode(raw.encode("ascii"), validate=False)
        pickled = _inflate(packed)
    except (binascii.Error, UnicodeEncodeError, zlib.error) as exc:
        raise ValueError(f"private_test_cases: neither JSON nor base64+zlib data ({exc})") from None
    value = safe_unpickle(pickled)
    if isinstance(value, str):
        try:
            return json.loads(value)
        except json.JSONDecodeError as exc:
            raise ValueError(f"private_test_cases: the unpickled text is not JSON ({exc.msg})") from None
    return value


def format_prompt(starter_code: str) -> str:
    """LiveCodeBench's ``### Format:`` block: the starter code, or the read-stdin instruction."""
    if starter_code:
        return f"### Format: {FORMAT_WITH_STARTER_CODE}\n```python\n{starter_code}\n```\n\n"
    return f"### Format: {FORMAT_WITHOUT_STARTER_CODE}\n```python\n# YOUR CODE HERE\n```\n\n"


def parse_day(value: Any, name: str) -> dt.datetime | None:
    """A ``YYYY-MM-DD`` extra_param (None keeps everything); ValueError says the expected format."""
    if value is None or value == "":
        return None
    try:
        return dt.datetime.strptime(str(value), "%Y-%m-%d")
    except ValueError:
        raise ValueError(
            f"{name} must be a date written YYYY-MM-DD (e.g. 2024-08-01), got {value!r}"
        ) from None


def contest_datetime(value: Any) -> dt.datetime:
    """A record's ``contest_date`` (ISO text in the jsonl, a timestamp in the parquet mirror)."""
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=None)
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day)
    return dt.datetime.fromisoformat(str(value)).replace(tzinfo=None)


def in_date_range(contest: dt.datetime, start: dt.datetime | None, end: dt.datetime | None) -> bool:
    """EvalScope's ``filter_date``: both bounds inclusive, compared with the contest's timestamp.

    As there, ``end_date`` means midnight at the start of that day: a contest at 2024-08-01T10:00
    is after ``end_date: 2024-08-01``.
    """
    return not ((start is not None and start > contest) or (end is not None and end < contest))
