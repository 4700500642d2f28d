"""Shell glob matching (* ? [abc] [!a-z]) without regular expressions.

Attackers write /???/c?t for /bin/cat; the detectors match such a pattern
against their own short lists (command names, sensitive paths). Python's
fnmatch would compile the attacker's pattern into a regular expression, which
is exactly what must not happen on untrusted input, so this is a plain
two-pointer matcher: O(len(pattern) * len(name)) at worst, with both capped.
"""
from __future__ import annotations

from functools import lru_cache

MAX_LEN = 128


def has_magic(text: str) -> bool:
    return "*" in text or "?" in text or "[" in text


def _class_at(pattern: str, i: int) -> tuple[frozenset[str], bool, int] | None:
    """Parse a [...] class at pattern[i] == "["; return (chars, negated, next index)."""
    n = len(pattern)
    j = i + 1
    negated = j < n and pattern[j] in "!^"
    if negated:
        j += 1
    chars: set[str] = set()
    first = True
    while j < n and (pattern[j] != "]" or first):
        c = pattern[j]
        if j + 2 < n and pattern[j + 1] == "-" and pattern[j + 2] != "]":
            lo, hi = ord(c), ord(pattern[j + 2])
            if lo <= hi and hi - lo <= 256:
                chars.update(chr(k) for k in range(lo, hi + 1))
            j += 3
        else:
            chars.add(c)
            j += 1
        first = False
    if j >= n:
        return None  # no closing bracket: "[" is a literal
    return frozenset(chars), negated, j + 1


def glob_match(pattern: str, name: str) -> bool:
    """True when `name` matches the shell glob `pattern` (case-sensitive)."""
    if len(pattern) > MAX_LEN or len(name) > MAX_LEN:
        return False
    items = _compile(pattern)
    p = n = 0
    star_p = star_n = -1
    lp, ln = len(items), len(name)
    while n < ln:
        if p < lp:
            item = items[p]
            kind = item[0]
            if kind == "*":
                star_p, star_n = p, n
                p += 1
                continue
            if kind == "?" or (kind == "=" and item[1] == name[n]) \
                    or (kind == "[" and (name[n] in item[1]) != item[2]):
                p += 1
                n += 1
                continue
        if star_p >= 0:
            star_n += 1
            p, n = star_p + 1, star_n
            continue
        return False
    while p < lp and items[p][0] == "*":
        p += 1
    return p == lp


@lru_cache(maxsize=512)
def _compile(pattern: str) -> tuple[tuple, ...]:
    """The pattern as items: ("*",), ("?",), ("=", char), ("[", chars, negated).

    Parsed once per pattern (a class such as [a-z] is a set built from its
    range): one pattern is matched against a whole vocabulary.
    """
    items: list[tuple] = []
    i, n = 0, len(pattern)
    while i < n:
        c = pattern[i]
        if c == "*" or c == "?":
            items.append((c,))
            i += 1
            continue
        if c == "[":
            cls = _class_at(pattern, i)
            if cls is not None:
                items.append(("[", cls[0], cls[1]))
                i = cls[2]
                continue
        items.append(("=", c))
        i += 1
    return tuple(items)
