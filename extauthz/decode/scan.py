"""Small scanning helpers shared by the parsers (str.find based, linear)."""
from __future__ import annotations


def closing_quote(text: str, open_at: int, quote: str = '"') -> int:
    """Index of the quote closing the string opened at `open_at` (backslash
    escapes respected), or -1 when the string is not closed."""
    j = open_at + 1
    while True:
        j = text.find(quote, j)
        if j < 0:
            return -1
        k = j - 1
        while text[k] == "\\":
            k -= 1
        if (j - 1 - k) % 2 == 0:
            return j
        j += 1
