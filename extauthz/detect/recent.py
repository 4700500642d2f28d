"""RecentResults: a bounded memo of a detector's analysis by value.

The same values arrive on request after request: the browser's User-Agent,
Accept headers, cookie values, the same search terms. Reading them as SQL or
HTML each time is wasted work, and a User-Agent with "(KHTML, like Gecko)" is on
nearly every request. The analyses are pure functions of the value, so a
result can be reused; only short values are kept, and the table is emptied
when full (no ordering to maintain, and every operation is a single dict
access, which is safe across threads under the GIL).
"""
from __future__ import annotations

from typing import Callable, Generic, TypeVar

R = TypeVar("R")

_MISSING = object()


class RecentResults(Generic[R]):
    def __init__(self, compute: Callable[[str], R], max_entries: int = 4096, max_value_len: int = 512) -> None:
        self._compute = compute
        self._max_entries = max_entries
        self._max_value_len = max_value_len
        self._table: dict[str, R] = {}

    def __call__(self, value: str) -> R:
        if len(value) > self._max_value_len:
            return self._compute(value)
        hit = self._table.get(value, _MISSING)
        if hit is not _MISSING:
            return hit  # type: ignore[return-value]
        result = self._compute(value)
        if len(self._table) >= self._max_entries:
            self._table.clear()
        self._table[value] = result
        return result
