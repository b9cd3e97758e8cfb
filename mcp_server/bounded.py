"""Keep a tool result inside what MCP hosts accept (they cap tool output at ~25k tokens).

A result is the JSON-ready dump of a tool's output model. When its JSON text is longer than the
budget, the longest lists are cut (the model schema still holds: a list stays a list) and long
strings are shortened, and the cut is reported as "showing N of M" so the client can say so.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

# ~4 characters per token: the JSON (sent twice, as structured content and as text) stays
# well under the ~25k tokens hosts accept.
MAX_RESULT_CHARS = 40_000
MAX_STRING_CHARS = 2_000
MIN_KEPT_ITEMS = 1


@dataclass
class Cut:
    """One list that was shortened: where, how many items kept of how many."""

    path: str
    kept: int
    total: int


@dataclass
class Bounded:
    """A result that fits, with the cuts made to get there."""

    data: Any
    cuts: list[Cut] = field(default_factory=list)
    chars: int = 0

    @property
    def truncated(self) -> bool:
        return bool(self.cuts)

    def summary(self) -> str:
        """One line for people and models: what was left out and what to do about it."""
        if not self.cuts:
            return ""
        parts = [f"{c.path}: showing {c.kept:,} of {c.total:,}" for c in self.cuts]
        return "Result shortened to fit the client's limit (" + "; ".join(parts) + "). Narrow or aggregate the query."


def size(data: Any) -> int:
    return len(json.dumps(data, ensure_ascii=False, default=str))


def _lists(data: Any, path: str = "") -> list[tuple[str, list[Any], Any, Any]]:
    """Every list in ``data`` as (path, list, parent, key), outermost first."""
    found: list[tuple[str, list[Any], Any, Any]] = []
    items: list[tuple[Any, Any]] = []
    if isinstance(data, dict):
        items = list(data.items())
    elif isinstance(data, list):
        items = list(enumerate(data[:50]))  # nested lists inside the first rows only
    for key, value in items:
        sub = f"{path}.{key}" if path else str(key)
        if isinstance(value, list):
            found.append((sub, value, data, key))
        if isinstance(value, dict | list):
            found.extend(_lists(value, sub))
    return found


def _shorten_strings(data: Any, limit: int) -> Any:
    if isinstance(data, str) and len(data) > limit:
        return data[: limit - 1] + "…"
    if isinstance(data, dict):
        return {k: _shorten_strings(v, limit) for k, v in data.items()}
    if isinstance(data, list):
        return [_shorten_strings(v, limit) for v in data]
    return data


def bound(data: Any, max_chars: int = MAX_RESULT_CHARS) -> Bounded:
    """Cut the biggest lists of ``data`` (a JSON-ready value) until its JSON fits in ``max_chars``.

    Lists inside ``data`` are replaced (not mutated), but ``data``'s own containers may be updated in
    place: pass a fresh dump (``model_dump(mode="json")``), not something the caller keeps using.
    """
    total = size(data)
    if total <= max_chars:
        return Bounded(data=data, chars=total)
    cuts = _cut_lists(data, max_chars)
    if size(data) > max_chars:
        data = _shorten_strings(data, MAX_STRING_CHARS)
        cuts.update(_cut_lists(data, max_chars))
    return Bounded(data=data, cuts=list(cuts.values()), chars=size(data))


def _cut_lists(data: Any, max_chars: int) -> dict[str, Cut]:
    cuts: dict[str, Cut] = {}
    for _ in range(64):
        total = size(data)
        if total <= max_chars:
            break
        candidates = [(size(lst), p, lst, parent, key) for p, lst, parent, key in _lists(data)]
        candidates = [c for c in candidates if len(c[2]) > MIN_KEPT_ITEMS]
        if not candidates:
            break
        lst_size, path, lst, parent, key = max(candidates, key=lambda c: c[0])
        excess = total - max_chars
        per_item = max(lst_size / max(len(lst), 1), 1.0)
        drop = max(int(excess / per_item) + 1, len(lst) // 10, 1)
        keep = max(len(lst) - drop, MIN_KEPT_ITEMS)
        original = cuts[path].total if path in cuts else len(lst)
        parent[key] = lst[:keep]
        cuts[path] = Cut(path=path, kept=keep, total=original)
    return cuts
