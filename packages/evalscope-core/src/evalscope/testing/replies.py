"""The reply table and the small readings of a request every responder needs.

Request KEY: the text of the last `user` message (list contents: text parts joined with "\\n"), or
the completion prompt (a list of prompts: joined with "\\n"; each prompt is still answered on its
own), the embedded texts joined with "\\n", or a rerank query.

Matching rule: the reply is that of the FIRST entry, in table order, whose `contains` is a substring
of the key; if none matches, the default reply. A linear scan costs ~1,500 substring searches per
request for a benchmark's table, so an index gives the same answer cheaply: an entry of length
L >= 2K-1 is filed under one K-character window ("gram") per residue class of its start offset modulo
K -- the window least shared with other entries, so a boilerplate few-shot prefix common to every
entry never becomes an anchor. Any occurrence of the entry in the key then fully contains one key
window starting at a multiple of K, so scanning only those len(key)/K windows finds every candidate,
which is verified with `str.startswith`. Tiers K = 16, 8, 4, 2 take entries by length; shorter ones
(and "") are checked linearly.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["ReplyTable", "content_text", "image_urls", "last_user_text", "split_tokens", "word_count"]


class ReplyTable:
    """First-entry-wins substring matching via a strided gram index (see the module docstring)."""

    _TIERS = (16, 8, 4, 2)  # gram length K (= stride); an entry needs length >= 2K-1 for tier K

    def __init__(self, entries: Sequence[Mapping[str, str]], default_reply: str) -> None:
        self.default_reply = default_reply
        self._patterns = [e["contains"] for e in entries]
        self._replies = [e["reply"] for e in entries]
        self._linear: list[int] = []
        by_tier: dict[int, list[int]] = {k: [] for k in self._TIERS}
        for idx, pat in enumerate(self._patterns):
            tier = next((k for k in self._TIERS if len(pat) >= 2 * k - 1), None)
            (self._linear if tier is None else by_tier[tier]).append(idx)
        self._tiers: list[tuple[int, int, dict[str, list[tuple[int, int]]]]] = []
        for k, members in by_tier.items():
            if members:
                self._tiers.append((k, members[0], self._build(k, members)))
        self._cache: dict[str, int | None] = {}

    def reply(self, key: str) -> str:
        idx = self.match(key)
        return self.default_reply if idx is None else self._replies[idx]

    def _build(self, k: int, members: list[int]) -> dict[str, list[tuple[int, int]]]:
        freq: dict[str, int] = {}
        for idx in members:
            pat = self._patterns[idx]
            for gram in {pat[o : o + k] for o in range(len(pat) - k + 1)}:
                freq[gram] = freq.get(gram, 0) + 1
        index: dict[str, list[tuple[int, int]]] = {}
        for idx in members:
            pat = self._patterns[idx]
            for residue in range(k):
                # Any offset with this residue works; the rarest gram keeps candidate lists short.
                offset = min(range(residue, len(pat) - k + 1, k), key=lambda o: freq[pat[o : o + k]])
                index.setdefault(pat[offset : offset + k], []).append((idx, offset))
        return index

    def match(self, key: str) -> int | None:
        """The index of the first entry contained in `key`, or None."""
        cached = self._cache.get(key, -1)
        if cached != -1:
            return cached
        best = len(self._patterns)
        for idx in self._linear:  # ascending, so the first hit is the earliest linear entry
            if self._patterns[idx] in key:
                best = idx
                break
        pats = self._patterns
        for k, first, index in self._tiers:
            if first >= best:
                continue
            get = index.get
            for pos in range(0, len(key) - k + 1, k):
                hits = get(key[pos : pos + k])
                if hits:
                    for idx, offset in hits:
                        start = pos - offset
                        if idx < best and start >= 0 and key.startswith(pats[idx], start):
                            best = idx
        result = best if best < len(pats) else None
        if len(self._cache) > 100_000:  # bound memory in long benchmark runs
            self._cache.clear()
        self._cache[key] = result
        return result


def content_text(content: Any) -> str:
    """A message's text: a string as is; a list of parts: the text parts joined with newlines."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(p["text"] for p in content if isinstance(p, dict) and isinstance(p.get("text"), str))
    return ""


def last_user_text(messages: Sequence[Mapping[str, Any]]) -> str:
    users = [m for m in messages if m.get("role") == "user"]
    return content_text(users[-1].get("content")) if users else ""


def image_urls(messages: Sequence[Mapping[str, Any]]) -> list[str]:
    """The `image_url` parts of the last user message (a `data:` URL or a link), in order."""
    users = [m for m in messages if m.get("role") == "user"]
    content = users[-1].get("content") if users else None
    if not isinstance(content, list):
        return []
    return [
        str(p["image_url"]["url"])
        for p in content
        if isinstance(p, dict) and p.get("type") == "image_url" and isinstance(p.get("image_url"), dict)
    ]


def word_count(text: str) -> int:
    """Whitespace words: the stand-in for a tokenizer in `usage`, stable and cheap."""
    return len(text.split())


def split_tokens(text: str) -> list[str]:
    """Split a reply into per-word stream deltas whose concatenation is exactly the reply."""
    parts = re.findall(r"\s*\S+", text)
    tail = text[len("".join(parts)) :]
    if tail:
        parts = parts[:-1] + [parts[-1] + tail] if parts else [tail]
    return parts
