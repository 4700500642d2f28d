"""A body of no structured format: the whole text is one Input (kind `body`).

Binary content (a NUL byte, or mostly non-printable characters in its first
kilobyte) is not text a detector can read; it yields no Input.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from extauthz.decode.parsers.base import Where, register

if TYPE_CHECKING:
    from extauthz.decode.collector import Collector

BINARY_SAMPLE = 1024  # characters looks_binary judges a text by (its head)


def looks_binary(text: str) -> bool:
    head = text[:BINARY_SAMPLE]
    if "\x00" in head:
        return True
    if head.isprintable():
        return False
    odd = sum(1 for ch in head if not ch.isprintable() and ch not in "\r\n\t")
    return odd * 10 > len(head)


@register("text", kind="body")
def parse_text(c: Collector, text: str, at: Where) -> bool:
    if not text.strip() or looks_binary(text):
        return False
    c.add(at.kind, at.prefix, text, chain=at.chain, depth=at.depth)
    return True
