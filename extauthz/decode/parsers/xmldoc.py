"""XML (and SOAP) documents: a hand-written tolerant tokenizer, no XML library.

Libraries resolve entities and fetch DTDs; this never does. Character
references and the five predefined entities are decoded; every other entity
reference stays as written (`&xxe;`), so billion-laughs expansion cannot
happen. What an XXE detector needs is handed over as Inputs of their own:

- `!doctype`: the whole DOCTYPE declaration, internal subset included;
- `?xml`, `?xml-stylesheet`, ...: processing instructions (the prolog's
  encoding, a stylesheet href);

and the data an application reads: element text at its path (`/order/note`,
repeated siblings as `/order/item[2]`) and attribute values (`/order/@id`).
Namespace declarations (xmlns) are structure, not data, and are skipped.

Malformed markup is read as far as it goes: unclosed elements are closed at
the end, stray end tags are ignored, a `<` that starts no tag is text. Every
token counts against the limits; nesting beyond limits.max_depth is flattened
into the deepest allowed element.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from extauthz.decode.inputs import location_of
from extauthz.decode.parsers.base import Where, register

if TYPE_CHECKING:
    from extauthz.decode.collector import Collector

_PREDEFINED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"', "apos": "'"}
_REF_MAX = 48  # longest reference looked at (leading zeros included)
_WS = " \t\r\n"
_NAME_START_EXTRA = frozenset("_:")


def xml_refs(text: str) -> str:
    """Decode character references and predefined entities; leave all others."""
    if "&" not in text:
        return text
    parts = text.split("&")
    out = [parts[0]]
    for part in parts[1:]:
        semi = part.find(";", 0, _REF_MAX)
        ref = part[:semi] if semi > 0 else ""
        ch = _PREDEFINED.get(ref) if ref else None
        if ch is None and ref[:1] == "#":
            digits, base = (ref[2:], 16) if ref[1:2] in ("x", "X") else (ref[1:], 10)
            try:
                cp = int(digits, base) if digits and digits.isalnum() else -1
            except ValueError:
                cp = -1
            if 0 < cp <= 0x10FFFF:
                ch = chr(cp)
        if ch is None:
            out.append("&")
            out.append(part)
        else:
            out.append(ch)
            out.append(part[semi + 1:])
    return "".join(out)


def _unquoted(text: str, start: int, stop: str) -> int:
    """Index of the first `stop` character at or after `start` that is not
    inside a quoted literal ("..." or '...'), or len(text)."""
    j, n = start, len(text)
    while True:
        hit = text.find(stop, j)
        if hit < 0:
            return n
        q1 = text.find('"', j, hit)
        q2 = text.find("'", j, hit)
        q = q1 if q2 < 0 or (0 <= q1 < q2) else q2
        if q < 0:
            return hit
        close = text.find(text[q], q + 1)
        if close < 0:
            return n
        j = close + 1


def _tag_end(text: str, start: int) -> int:
    """Index of the `>` closing the tag at `start`, skipping quoted attribute values."""
    return _unquoted(text, start, ">")


def _decl_end(text: str, start: int) -> int:
    """End (exclusive) of a `<!...>` declaration, internal subset `[...]` included."""
    n = len(text)
    gt = text.find(">", start)
    br = text.find("[", start, gt if gt >= 0 else n)
    if br < 0:
        return n if gt < 0 else gt + 1
    close = _unquoted(text, br + 1, "]")  # the `]` closing the subset
    gt = text.find(">", close)
    return n if gt < 0 else gt + 1


def _attributes(rest: str) -> list[tuple[str, str]]:
    out = []
    pos, n = 0, len(rest)
    while pos < n:
        eq = rest.find("=", pos)
        if eq < 0:
            break
        words = rest[pos:eq].split()
        name = words[-1] if words else ""
        k = eq + 1
        while k < n and rest[k] in _WS:
            k += 1
        q = rest[k:k + 1]
        if q == '"' or q == "'":
            end = rest.find(q, k + 1)
            if end < 0:
                end = n
            value, pos = rest[k + 1:end], end + 1
        else:
            end = k
            while end < n and rest[end] not in _WS:
                end += 1
            value, pos = rest[k:end], end
        if name:
            out.append((name, value))
    return out


class _Frame:
    __slots__ = ("tag", "path", "counts", "text")

    def __init__(self, tag: str, path: str) -> None:
        self.tag = tag
        self.path = path
        self.counts: dict[str, int] = {}
        self.text: list[str] = []  # pieces; CDATA pieces are marked with a leading \x00 marker


_CDATA = "\x01cdata\x01"


@register("xml", kind="xml")
def parse_xml(c: Collector, text: str, at: Where) -> bool:
    kind, prefix, chain = at.kind, at.prefix, at.chain
    room_depth = max(1, c.limits.max_depth - at.depth)
    root = _Frame("", prefix)
    stack = [root]
    overflow = 0
    markup = False
    i, n = 0, len(text)
    if text.startswith("\ufeff"):
        i = 1

    def flush(frame: _Frame, depth: int) -> None:
        if not frame.text:
            return
        pieces = [p[len(_CDATA):] if p.startswith(_CDATA) else xml_refs(p) for p in frame.text]
        value = "".join(pieces).strip()
        if value:
            c.add(kind, frame.path or (prefix + "/"), value, chain=chain, depth=at.depth + depth)

    while i < n and not c.stopped:
        lt = text.find("<", i)
        if lt < 0:
            stack[-1].text.append(text[i:])
            break
        if lt > i:
            stack[-1].text.append(text[i:lt])
        if not c.tick(kind, stack[-1].path or prefix):
            break
        nxt = text[lt + 1:lt + 2]
        if nxt == "!":
            if text.startswith("<!--", lt):
                end = text.find("-->", lt + 4)
                i = n if end < 0 else end + 3
            elif text.startswith("<![CDATA[", lt):
                end = text.find("]]>", lt + 9)
                stack[-1].text.append(_CDATA + text[lt + 9:(n if end < 0 else end)])
                i = n if end < 0 else end + 3
            else:
                end = _decl_end(text, lt)
                decl = text[lt:end]
                words = decl[2:].split(None, 1)
                what = "!" + (words[0].lower() if words else "")
                c.add(kind, prefix + what, decl, None, "value", chain, at.depth, False)
                i = end
            markup = True
            continue
        if nxt == "?":
            end = text.find("?>", lt + 2)
            body = text[lt + 2:(n if end < 0 else end)]
            words = body.split(None, 1)
            if words:
                c.add(kind, prefix + "?" + words[0], body, None, "value", chain, at.depth, False)
            i = n if end < 0 else end + 2
            markup = True
            continue
        if nxt == "/":
            end = text.find(">", lt + 2)
            name = text[lt + 2:(n if end < 0 else end)].strip()
            i = n if end < 0 else end + 1
            if overflow:
                overflow -= 1
                continue
            for k in range(len(stack) - 1, 0, -1):
                if stack[k].tag == name:
                    while len(stack) > k:
                        flush(stack.pop(), len(stack))
                    break
            continue
        if not (nxt.isalpha() or nxt in _NAME_START_EXTRA):
            stack[-1].text.append("<")  # a `<` that starts no tag is text
            i = lt + 1
            continue
        end = _tag_end(text, lt + 1)
        tag = text[lt + 1:end]
        i = end + 1
        self_closing = tag.endswith("/")
        if self_closing:
            tag = tag[:-1]
        words = tag.split(None, 1)
        name = words[0] if words else ""
        markup = True
        top = stack[-1]
        if len(stack) > room_depth:
            c.note("limit.depth", location_of(kind, top.path))
            if not self_closing:
                overflow += 1
            continue
        count = top.counts.get(name, 0) + 1
        top.counts[name] = count
        path = f"{top.path}/{name}" if count == 1 else f"{top.path}/{name}[{count}]"
        if len(words) > 1 and "=" in words[1]:
            for aname, avalue in _attributes(words[1]):
                if aname == "xmlns" or aname.startswith("xmlns:"):
                    continue
                c.add(kind, f"{path}/@{aname}", xml_refs(avalue), chain=chain, depth=at.depth + len(stack))
        if not self_closing:
            stack.append(_Frame(name, path))
    while len(stack) > 1:
        flush(stack.pop(), len(stack))
    if markup:
        flush(root, 0)
    return markup
