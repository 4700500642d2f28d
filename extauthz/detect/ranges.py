"""Range request headers, read without regular expressions (RFC 9110 §14).

`bytes=0-99, 200-, -500`: first-last pairs, open-ended ranges, suffix
lengths. What matters for abuse (the "Apache Killer" CVE-2011-3192 family):
how many ranges, whether any is invalid (last before first), and whether
they overlap (the server then assembles the same bytes many times).
"""
from __future__ import annotations

from typing import NamedTuple

MAX_RANGES = 1024
MAX_DIGITS = 19


class RangeSpec(NamedTuple):
    unit: str
    count: int  # ranges listed (up to MAX_RANGES)
    invalid: bool  # a range that is not `first-last`, `first-` or `-suffix`, or last < first
    overlapping: bool  # two ranges with a byte in common (suffix ranges not compared)


def _number(s: str) -> int | None:
    s = s.strip()
    if not s or len(s) > MAX_DIGITS or not s.isdigit() or not s.isascii():
        return None
    return int(s)


def parse_range(value: str) -> RangeSpec | None:
    """The ranges of a Range header, or None when it has no `unit=` form at all."""
    unit, eq, rest = value.partition("=")
    if not eq:
        return None
    unit = unit.strip().lower()
    spans: list[tuple[int, int]] = []
    invalid = False
    count = 0
    for part in rest.split(",", MAX_RANGES)[:MAX_RANGES]:
        part = part.strip()
        if not part:
            continue  # empty list elements are allowed
        count += 1
        first_s, dash, last_s = part.partition("-")
        if not dash:
            invalid = True
            continue
        if not first_s.strip():  # suffix range `-500`
            if _number(last_s) is None:
                invalid = True
            continue
        first = _number(first_s)
        last = _number(last_s) if last_s.strip() else -1
        if first is None or (last_s.strip() and last is None):
            invalid = True
            continue
        if last != -1 and last < first:
            invalid = True
            continue
        spans.append((first, last if last != -1 else 1 << 63))
    spans.sort()
    overlapping = any(spans[i + 1][0] <= spans[i][1] for i in range(len(spans) - 1))
    return RangeSpec(unit, count, invalid, overlapping)
