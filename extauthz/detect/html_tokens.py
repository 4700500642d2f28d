"""HTML tag scanning as a browser's tokenizer sees tags, for XSS detection.

Browsers are lenient, and XSS payloads rely on it: `<svg/onload=...>`
(a slash separates attributes), unclosed tags (`<img src=x onerror=alert(1)`),
odd quoting, entity-encoded URLs (`jav&#x09;ascript&colon;`), nested
fragments that survive naive stripping (`<scr<script>ipt>`). This module
reads tags and attributes the way the HTML5 tokenizer does, starting a fresh
read at every `<` (so a tag hidden inside another tag's name or attribute is
seen too), and decodes character references in attribute values.

Plain loops and str.find over the text with explicit caps; no `re`.
"""
from __future__ import annotations

from html.entities import html5 as _HTML5_ENTITIES
from typing import NamedTuple

MAX_TAGS = 128
MAX_ATTRS = 48
MAX_WORK = 65536  # characters looked at while reading tags, in total

_SPACE = frozenset(" \t\n\r\x0c")
_ASCII_LETTERS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")


class HtmlAttr(NamedTuple):
    name: str  # lower-case
    value: str  # raw (character references not decoded)
    start: int
    end: int
    has_value: bool


class HtmlTag(NamedTuple):
    name: str  # lower-case ("script", "?import", "x:script")
    attrs: tuple[HtmlAttr, ...]
    start: int  # index of "<"
    end: int  # index after ">" (or end of text when unclosed)
    end_tag: bool  # </name>
    closed: bool  # a ">" ended it


def scan_tags(text: str) -> list[HtmlTag]:
    """Every start or end tag in `text`, read from each `<` (see module docstring).

    Reads overlap (`<svg onload=<svg onload=...` has a tag at every `<`, each running to
    the end of the text), so attributes are read once: a read that reaches a position an
    earlier one already read from continues with the memoised result (AttributeReader).
    Total work is linear in the text."""
    tags: list[HtmlTag] = []
    n = len(text)
    reader = AttributeReader(text)
    i = text.find("<")
    while 0 <= i < n - 1 and len(tags) < MAX_TAGS and reader.work < MAX_WORK:
        c = text[i + 1]
        end_tag = False
        j = i + 1
        if c == "/":
            end_tag = True
            j += 1
            if j >= n:
                break
            c = text[j]
        if c in _ASCII_LETTERS or (c == "?" and not end_tag and i + 2 < n and text[i + 2] in _ASCII_LETTERS):
            k = j + 1
            while k < n and text[k] not in _SPACE and text[k] not in "/><" and k - j < 64:
                k += 1
            name = text[j:k].lower()
            if end_tag:
                close = text.find(">", k)
                end = n if close < 0 else close + 1
                tags.append(HtmlTag(name, (), i, end, True, close >= 0))
            else:
                attrs, end, closed = reader.read(k)
                tags.append(HtmlTag(name, attrs, i, end, False, closed))
        i = text.find("<", i + 1)
    return tags


def scan_attributes(text: str, i: int, stop_at_gt: bool = True) -> tuple[tuple[HtmlAttr, ...], int, bool]:
    """Attributes from index i to the end of the tag: (attrs, end index, closed by '>')."""
    return AttributeReader(text, stop_at_gt).read(i)


class AttributeReader:
    """Reads a tag's attributes as the HTML tokenizer does, from any index of one text.

    Where the next attribute starts and ends depends only on the index the reader is at,
    so each step (index -> attribute, next index) is computed once and memoised: reads
    from many starting points (one per `<`) share the text they have in common."""

    __slots__ = ("text", "n", "stop_at_gt", "steps", "work")

    def __init__(self, text: str, stop_at_gt: bool = True) -> None:
        self.text = text
        self.n = len(text)
        self.stop_at_gt = stop_at_gt
        # index -> (attribute, next index, value left open) | (None, index after ">", True) | None (end)
        self.steps: dict[int, tuple[HtmlAttr | None, int, bool] | None] = {}
        self.work = 0  # characters read (each once)

    def read(self, i: int) -> tuple[tuple[HtmlAttr, ...], int, bool]:
        attrs: list[HtmlAttr] = []
        steps = self.steps
        while len(attrs) < MAX_ATTRS and self.work < MAX_WORK:
            step = steps[i] if i in steps else self._step(i)
            if step is None:
                return tuple(attrs), self.n, False
            attr, nxt, stop = step
            if attr is None:
                return tuple(attrs), nxt, True
            attrs.append(attr)
            if stop:
                return tuple(attrs), self.n, False
            i = nxt
        return tuple(attrs), min(i, self.n), False

    def _step(self, at: int) -> tuple[HtmlAttr | None, int, bool] | None:
        text, n, stop_at_gt = self.text, self.n, self.stop_at_gt
        i = at
        while i < n and (text[i] in _SPACE or text[i] == "/"):
            i += 1
        step: tuple[HtmlAttr | None, int, bool] | None
        if i >= n:
            step = None
        elif text[i] == ">" and stop_at_gt:
            step = (None, i + 1, True)
        else:
            step = self._attribute(i)
        self.work += (step[1] if step is not None and step[1] > at else n) - at
        self.steps[at] = step
        return step

    def _attribute(self, start: int) -> tuple[HtmlAttr, int, bool]:
        text, n, stop_at_gt = self.text, self.n, self.stop_at_gt
        # the first character may be anything, even "=" or a quote
        i = _first_of(text, _NAME_ENDS, start + 1, min(n, start + 256))
        name = text[start:i].lower()
        j = i
        while j < n and text[j] in _SPACE:
            j += 1
        if j < n and text[j] == "=":
            j += 1
            while j < n and text[j] in _SPACE:
                j += 1
            if j < n and text[j] in "\"'":
                close = text.find(text[j], j + 1)
                if close < 0:
                    return HtmlAttr(name, text[j + 1:], start, n, True), n, True
                return HtmlAttr(name, text[j + 1:close], start, close + 1, True), close + 1, False
            k = _first_of(text, _VALUE_ENDS if stop_at_gt else _SPACE, j, min(n, j + 4096))
            return HtmlAttr(name, text[j:k], start, k, True), k, False
        return HtmlAttr(name, "", start, i, False), i, False


_VALUE_ENDS = _SPACE | {">"}
_NAME_ENDS = _SPACE | {"/", ">", "="}


def _first_of(text: str, chars: frozenset[str], i: int, end: int) -> int:
    """Index of the first of `chars` in text[i:end], else end (str.find per character: C speed)."""
    for c in chars:
        k = text.find(c, i, end)
        if k >= 0:
            end = k
    return end


# ------------------------------------------------------------------ character references

_MAX_ENTITY = 32


def decode_entities(text: str) -> str:
    """Character references decoded as a browser does in attribute values (bounded)."""
    if "&" not in text:
        return text
    out: list[str] = []
    n = len(text)
    i = 0
    while True:
        j = text.find("&", i)
        if j < 0 or len(out) > 8192:
            out.append(text[i:])
            break
        out.append(text[i:j])
        k = j + 1
        if k < n and text[k] == "#":
            k += 1
            hexa = k < n and text[k] in "xX"
            if hexa:
                k += 1
            d = k
            digits = "0123456789abcdefABCDEF" if hexa else "0123456789"
            while k < n and text[k] in digits and k - d < 40:
                k += 1
            if k > d:
                code = int(text[d:k], 16 if hexa else 10)
                out.append(chr(code) if 0 < code < 0x110000 and not 0xD800 <= code < 0xE000 else "\ufffd")
                if k < n and text[k] == ";":
                    k += 1
                i = k
                continue
            out.append("&")
            i = j + 1
            continue
        e = k
        while e < n and e - k < _MAX_ENTITY and text[e].isalnum():
            e += 1
        name = text[k:e]
        if e < n and text[e] == ";" and name + ";" in _HTML5_ENTITIES:
            out.append(_HTML5_ENTITIES[name + ";"])
            i = e + 1
            continue
        # Legacy references without ";" (&lt, &amp, &quot, &nbsp ...): longest prefix.
        for m in range(len(name), 1, -1):
            if name[:m] in _HTML5_ENTITIES:
                out.append(_HTML5_ENTITIES[name[:m]])
                i = k + m
                break
        else:
            out.append("&")
            i = j + 1
    return "".join(out)


# ------------------------------------------------------------------ URLs

# Browsers drop C0 controls and spaces around a URL and tabs/newlines inside it.
_URL_STRIP = frozenset(chr(c) for c in range(0, 33)) | {"\x7f", "\u00a0", "\ufeff", "\u200b"}


def url_scheme(value: str, decode: bool = True) -> tuple[str, str]:
    """(scheme, rest) of a URL as a browser resolves it; scheme is '' when there is none.

    Character references are decoded and tab/newline/controls removed, so
    "jav&#x09;ascript&colon;alert(1)" gives ("javascript", "alert(1)").
    """
    v = decode_entities(value[:2048]) if decode else value[:2048]
    colon = -1
    letters: list[str] = []
    for idx, c in enumerate(v):
        if c in _URL_STRIP:
            continue
        if c == ":":
            colon = idx
            break
        if not (c.isalnum() or c in "+-.") or len(letters) > 32:
            return "", v
        letters.append(c)
    if colon < 0 or not letters:
        return "", v
    return "".join(letters).lower(), v[colon + 1:]


def data_url_type(rest: str) -> str:
    """Media type of a data: URL body ("text/html" for "text/html;base64,...")."""
    out = []
    for c in rest[:128]:
        if c in ",;":
            break
        if c not in _URL_STRIP:
            out.append(c)
    return "".join(out).lower()
