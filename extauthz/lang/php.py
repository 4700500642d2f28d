"""A small PHP tokenizer for code-injection analysis.

Splits a value into PHP tokens (identifiers, $variables, strings with their
escapes undone, numbers, comments, whitespace, punctuation) so the detector can
see a call through the evasions PHP allows between a name and its parenthesis
(`exec/**/(`, `exec #c\\n(`), calls through strings and variables
(`"\\x73ystem"(…)`, `$f(…)`, `$_[@-_](…)`) and names assembled by
concatenation (`'sys'.'tem'`). Lenient (unterminated strings and comments run
to the end) and bounded (input and token counts).
"""
from __future__ import annotations

from dataclasses import dataclass

from extauthz.lang.escapes import numeric_escape

MAX_INPUT = 8192
MAX_TOKENS = 4096

_IDENT_START = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_")
_IDENT = _IDENT_START | frozenset("0123456789")
_SPACE = frozenset(" \t\r\n\f\v\x0b")
_DQ_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "v": "\v", "e": "\x1b", "f": "\f", "\\": "\\", "$": "$", '"': '"'}


@dataclass(frozen=True, slots=True)
class Token:
    kind: str  # ident var string number comment ws punct
    text: str  # identifier / variable name / string value / the punctuation
    start: int
    end: int

    @property
    def blank(self) -> bool:
        return self.kind in ("ws", "comment")


def _is_ident_char(c: str) -> bool:
    return c in _IDENT or ord(c) >= 0x80


def tokenize(value: str) -> list[Token]:
    s = value[:MAX_INPUT]
    n = len(s)
    out: list[Token] = []
    i = 0
    while i < n and len(out) < MAX_TOKENS:
        c = s[i]
        start = i
        if c in _SPACE:
            while i < n and s[i] in _SPACE:
                i += 1
            out.append(Token("ws", s[start:i], start, i))
            continue
        if c == "/" and s.startswith("/*", i):
            end = s.find("*/", i + 2)
            i = n if end < 0 else end + 2
            out.append(Token("comment", s[start:i], start, i))
            continue
        if c == "#" or (c == "/" and s.startswith("//", i)):
            end = s.find("\n", i)
            i = n if end < 0 else end + 1
            out.append(Token("comment", s[start:i], start, i))
            continue
        if c in _IDENT_START or ord(c) >= 0x80:
            while i < n and _is_ident_char(s[i]):
                i += 1
            out.append(Token("ident", s[start:i], start, i))
            continue
        if c == "$" and i + 1 < n and (s[i + 1] in _IDENT_START or ord(s[i + 1]) >= 0x80):
            i += 1
            while i < n and _is_ident_char(s[i]):
                i += 1
            out.append(Token("var", s[start + 1:i], start, i))
            continue
        if c.isdigit():
            while i < n and (s[i].isalnum() or s[i] == "."):
                i += 1
            out.append(Token("number", s[start:i], start, i))
            continue
        if c in "'\"`" and s.find(c, i + 1) < 0:
            i += 1  # a lone quote (an apostrophe in prose) opens nothing
            out.append(Token("punct", c, start, i))
            continue
        if c == "'":
            text, i = _single_quoted(s, i + 1)
            out.append(Token("string", text, start, i))
            continue
        if c == '"' or c == "`":
            text, i = _double_quoted(s, i + 1, c)
            out.append(Token("string" if c == '"' else "backtick", text, start, i))
            continue
        if s.startswith("->", i) or s.startswith("::", i):
            i += 2
            out.append(Token("punct", s[start:i], start, i))
            continue
        i += 1
        out.append(Token("punct", c, start, i))
    return out


def _single_quoted(s: str, i: int) -> tuple[str, int]:
    out: list[str] = []
    n = len(s)
    while i < n:
        c = s[i]
        if c == "\\" and i + 1 < n and s[i + 1] in "\\'":
            out.append(s[i + 1])
            i += 2
            continue
        if c == "'":
            return "".join(out), i + 1
        out.append(c)
        i += 1
    return "".join(out), n


def _double_quoted(s: str, i: int, quote: str) -> tuple[str, int]:
    out: list[str] = []
    n = len(s)
    while i < n:
        c = s[i]
        if c == "\\" and i + 1 < n:
            e = s[i + 1]
            if e in _DQ_ESCAPES:
                out.append(_DQ_ESCAPES[e])
                i += 2
                continue
            decoded = numeric_escape(s, i)
            if decoded is not None:
                out.append(decoded[0])
                i = decoded[1]
                continue
            if e == quote:
                out.append(e)
                i += 2
                continue
        if c == quote:
            return "".join(out), i + 1
        out.append(c)
        i += 1
    return "".join(out), n


def next_solid(tokens: list[Token], i: int) -> int:
    """Index of the first token at or after i that is not whitespace or a comment (or len)."""
    while i < len(tokens) and tokens[i].blank:
        i += 1
    return i


def prev_solid(tokens: list[Token], i: int) -> int:
    """Index of the last token at or before i that is not whitespace or a comment (or -1)."""
    while i >= 0 and tokens[i].blank:
        i -= 1
    return i


def matching(tokens: list[Token], i: int, limit: int = 512) -> int:
    """Index of the bracket closing tokens[i] ( [ or {, or -1."""
    pairs = {"(": ")", "[": "]", "{": "}"}
    opener = tokens[i].text
    closer = pairs.get(opener)
    if closer is None:
        return -1
    level = 0
    for j in range(i, min(len(tokens), i + limit)):
        t = tokens[j]
        if t.kind != "punct":
            continue
        if t.text == opener:
            level += 1
        elif t.text == closer:
            level -= 1
            if level == 0:
                return j
    return -1


def matching_back(tokens: list[Token], i: int, limit: int = 512) -> int:
    """Index of the bracket opening tokens[i] ) ] or }, or -1."""
    pairs = {")": "(", "]": "[", "}": "{"}
    closer = tokens[i].text
    opener = pairs.get(closer)
    if opener is None:
        return -1
    level = 0
    for j in range(i, max(-1, i - limit), -1):
        t = tokens[j]
        if t.kind != "punct":
            continue
        if t.text == closer:
            level += 1
        elif t.text == opener:
            level -= 1
            if level == 0:
                return j
    return -1
