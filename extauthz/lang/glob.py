"""Shell glob matching (* ? [abc] [!a-z]) without regular expressions.

Attackers write /???/c?t for /bin/cat; the detectors match such a pattern
against their own short lists (command names, sensitive paths). Python's
fnmatch would compile the attacker's pattern into a regular expression, which
is exactly what must not happen on untrusted input, so this is a plain
two-pointer matcher: O(len(pattern) * len(name)) at worst, with both capped.
"""
from __future__ import annotations

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
    p = n = 0
    star_p = star_n = -1
    lp, ln = len(pattern), len(name)
    while n < ln:
        if p < lp:
            c = pattern[p]
            if c == "*":
                star_p, star_n = p, n
                p += 1
                continue
            if c == "?":
                p += 1
                n += 1
                continue
            if c == "[":
                cls = _class_at(pattern, p)
                if cls is not None:
                    chars, negated, nxt = cls
                    if (name[n] in chars) != negated:
                        p = nxt
                        n += 1
                        continue
                elif name[n] == "[":
                    p += 1
                    n += 1
                    continue
            elif c == name[n]:
                p += 1
                n += 1
                continue
        if star_p >= 0:
            star_n += 1
            p, n = star_p + 1, star_n
            continue
        return False
    while p < lp and pattern[p] == "*":
        p += 1
    return p == lp
