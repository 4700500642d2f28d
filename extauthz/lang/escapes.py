"""Backslash escapes shared by the shell ($'…') and PHP ("…") readers."""
from __future__ import annotations

_HEX = frozenset("0123456789abcdefABCDEF")
_OCT = frozenset("01234567")


def numeric_escape(s: str, i: int) -> tuple[str, int] | None:
    """Decode \\xHH or \\NNN at s[i] == "\\"; (character, next index) or None."""
    n = len(s)
    e = s[i + 1] if i + 1 < n else ""
    if e == "x":
        j = i + 2
        while j < n and j < i + 4 and s[j] in _HEX:
            j += 1
        if j > i + 2:
            return chr(int(s[i + 2:j], 16)), j
        return None
    if e and e in _OCT:
        j = i + 1
        while j < n and j < i + 4 and s[j] in _OCT:
            j += 1
        return chr(int(s[i + 1:j], 8) & 0xFF), j
    return None
