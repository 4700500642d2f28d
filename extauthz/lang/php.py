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

from typing import NamedTuple

from extauthz.lang.escapes import numeric_escape

MAX_INPUT = 8192
MAX_TOKENS = 4096

_IDENT_START = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_")
_IDENT = _IDENT_START | frozenset("0123456789")
_SPACE = frozenset(" \t\r\n\f\v\x0b")
# punctuation that is always a one-character token (not / # $ - : or a quote, which may start more)
_PLAIN_PUNCT = frozenset("()[]{};,=*+!&|^~%@?<>\\.")
_DQ_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "v": "\v", "e": "\x1b", "f": "\f", "\\": "\\", "$": "$", '"': '"'}


class Token(NamedTuple):
    """One PHP token (a named tuple rather than a dataclass: a hostile value makes
    thousands of them, and a tuple is built in a third of the time)."""

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
        if c in _PLAIN_PUNCT:
            i += 1
            out.append(Token("punct", c, start, i))
            continue
        if c in _SPACE:
            while i < n and s[i] in _SPACE:
                i += 1
            out.append(Token("ws", s[start:i], start, i))
            continue
        if c in _IDENT_START or ord(c) >= 0x80:
            i += 1
            while i < n and (s[i] in _IDENT or ord(s[i]) >= 0x80):
                i += 1
            out.append(Token("ident", s[start:i], start, i))
            continue
        if c == "$":
            i += 1
            if i < n and (s[i] in _IDENT_START or ord(s[i]) >= 0x80):
                while i < n and _is_ident_char(s[i]):
                    i += 1
                out.append(Token("var", s[start + 1:i], start, i))
            else:
                out.append(Token("punct", c, start, i))
            continue
        if c == ":" or c == "-":
            i += 2 if s.startswith("::" if c == ":" else "->", i) else 1
            out.append(Token("punct", s[start:i], start, i))
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
        i += 1
        out.append(Token("punct", c, start, i))
    return out


def _single_quoted(s: str, i: int) -> tuple[str, int]:
    def escape(at: int) -> tuple[str, int]:
        e = s[at + 1] if at + 1 < len(s) else ""
        return (e, at + 2) if e and e in "\\'" else ("\\", at + 1)
    return _quoted(s, i, "'", escape)


def _double_quoted(s: str, i: int, quote: str) -> tuple[str, int]:
    def escape(at: int) -> tuple[str, int]:
        e = s[at + 1] if at + 1 < len(s) else ""
        if e and e in _DQ_ESCAPES:
            return _DQ_ESCAPES[e], at + 2
        decoded = numeric_escape(s, at) if e else None
        if decoded is not None:
            return decoded
        return (e, at + 2) if e == quote else ("\\", at + 1)
    return _quoted(s, i, quote, escape)


def _quoted(s: str, i: int, quote: str, escape) -> tuple[str, int]:
    """The string literal from s[i] to its closing quote: (value, index after the quote).

    Runs of plain text are copied whole between the next quote and the next
    backslash (each searched again only once passed), so a long string costs C
    speed, not a Python step per character. `escape(at)` decodes the backslash
    escape at s[at]: (text, next index).
    """
    out: list[str] = []
    n = len(s)
    close = s.find(quote, i)
    slash = s.find("\\", i)
    while True:
        if close < 0:
            close = n
        if slash < 0:
            slash = n
        if close <= slash:
            out.append(s[i:close])
            return "".join(out), min(close + 1, n)
        out.append(s[i:slash])
        text, i = escape(slash)
        out.append(text)
        if close < i:
            close = s.find(quote, i)
        slash = s.find("\\", i)


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


def bracket_partners(tokens: list[Token]) -> list[int]:
    """For each token, the index of the bracket pairing with it ( ( ) [ ] { } ), or -1.

    One pass with a stack per bracket kind, so every pair in the value is known in
    linear time: a detector asking "where does this call's argument list end" for
    each of thousands of candidates must not rescan the value each time.
    """
    partner = [-1] * len(tokens)
    stacks: dict[str, list[int]] = {"(": [], "[": [], "{": []}
    closers = {")": "(", "]": "[", "}": "{"}
    for j, t in enumerate(tokens):
        if t.kind != "punct":
            continue
        if t.text in stacks:
            stacks[t.text].append(j)
        elif t.text in closers:
            stack = stacks[closers[t.text]]
            if stack:
                o = stack.pop()
                partner[o] = j
                partner[j] = o
    return partner
