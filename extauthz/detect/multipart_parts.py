"""The header blocks of a multipart body, as sent (escapes and all).

The decode stage reads multipart bodies for their values; parser
disagreements live in the part *headers*: a `;` or `\\"` inside a quoted
name that a naive parser splits on, two Content-Disposition lines, a header
name with a control character that one parser skips and another keeps, a
Content-Transfer-Encoding that hides the value from a WAF. This module hands
those header blocks over raw, with a quote-aware parameter splitter, so that
the protocol detector can judge them. Bounded: parts, header lines and
parameter counts are capped; plain string methods only.
"""
from __future__ import annotations

from typing import Iterator, NamedTuple

from extauthz.decode.parsers.multipart import _split_part as split_part

MAX_PARTS = 256
MAX_HEADER_LINES = 32
MAX_PARAMS = 16
MAX_VALUE_HEAD = 64  # characters of a part's body kept (for `_charset_`)


class PartHead(NamedTuple):
    index: int
    lines: tuple[str, ...]  # header lines, line ends removed, folded lines as sent
    body_head: str  # the first characters of the part's body


def part_heads(text: str, boundary: str) -> Iterator[PartHead]:
    """The parts of `text` (a body decoded as latin-1) delimited by `--boundary`."""
    if not boundary:
        return
    delim = "--" + boundary
    pos = text.find(delim)
    index = 0
    while pos >= 0 and index < MAX_PARTS:
        start = pos + len(delim)
        if text.startswith("--", start):
            return  # the closing delimiter
        nl = text.find("\n", start)
        if nl < 0:
            return
        nxt = text.find(delim, nl + 1)
        part = text[nl + 1: nxt if nxt >= 0 else len(text)]
        head, body = split_part(part)
        lines = tuple(line[:-1] if line.endswith("\r") else line
                      for line in head.split("\n", MAX_HEADER_LINES)[:MAX_HEADER_LINES] if line.strip("\r"))
        yield PartHead(index, lines, body[:MAX_VALUE_HEAD])
        index += 1
        pos = nxt


class Param(NamedTuple):
    name: str  # lower-case
    raw: str  # the value as sent, quotes and escapes included
    quoted: bool

    @property
    def value(self) -> str:
        """The value with surrounding quotes removed (escapes kept as sent)."""
        return self.raw[1:-1] if self.quoted and len(self.raw) >= 2 else self.raw.strip('"')


def split_params(header_value: str) -> tuple[str, list[Param]]:
    """`form-data; name="a;b"; filename="x\\"y"` → ("form-data", params), splitting on
    `;` only outside quoted strings (a backslash escapes the next character there)."""
    if '"' not in header_value:
        pieces = header_value.split(";", MAX_PARAMS + 1)
        return pieces[0].strip(), _params(pieces[1:])
    pieces: list[str] = []
    start = i = 0
    find = header_value.find
    semi = find(";")
    while semi >= 0 and len(pieces) <= MAX_PARAMS:  # each find moves forward: linear
        quote = find('"', i, semi)
        if quote < 0:  # a separator outside quotes
            pieces.append(header_value[start:semi])
            start = i = semi + 1
            semi = find(";", i)
            continue
        j = quote + 1  # skip the quoted string; a backslash escapes the next character
        close = find('"', j)
        while close >= 0:
            escape = find("\\", j, close)
            if escape < 0:
                break
            j = escape + 2
            if j > close:
                close = find('"', j)
        if close < 0:
            break  # unterminated: the rest is one piece
        i = close + 1
        if semi < i:
            semi = find(";", i)
    pieces.append(header_value[start:])
    return pieces[0].strip(), _params(pieces[1:])


def _params(pieces: list[str]) -> list[Param]:
    params: list[Param] = []
    for piece in pieces[:MAX_PARAMS]:
        name, eq, value = piece.partition("=")
        if not eq:
            continue
        value = value.strip()
        params.append(Param(name.strip().lower(), value, value.startswith('"') and value.endswith('"')
                            and len(value) >= 2))
    return params
