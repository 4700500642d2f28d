"""Literal strings as Hyperscan expressions (for trusted rule data only)."""
from __future__ import annotations


def hyperscan_literal(s: str) -> str:
    """`s` with every character that is not a letter or digit escaped, so that
    Hyperscan matches it literally (and can use its fast literal matcher)."""
    return "".join("\\" + c if not c.isalnum() else c for c in s)
