"""JSON documents: bodies, and JSON found inside other values.

Every string value becomes an Input named by its JSONPath (`$.items[2].name`,
`$['a b']`); numbers, booleans and null carry no text to inject and are
skipped. Member names become Inputs (role "key") when they are not plain
(extauthz.decode.names): NoSQL operators (`$gt`) and `__proto__` live there.
Duplicate member names are all kept (parsers disagree on which one wins).

Python's json module recurses on nesting, so depth is checked before parsing
with a linear scan (str.count, then bytes.translate and accumulate over the
brackets outside strings, all in C). A document nested deeper than
limits.max_depth is not parsed; its text is inspected as one value instead.
The walk over the parsed document is iterative.
"""
from __future__ import annotations

import json
from array import array
from itertools import accumulate
from typing import TYPE_CHECKING, Any

from extauthz.decode.inputs import location_of
from extauthz.decode.names import is_plain_name
from extauthz.decode.parsers.base import Where, register
from extauthz.decode.scan import closing_quote
from extauthz.finding import writable

if TYPE_CHECKING:
    from extauthz.decode.collector import Collector


class Members(list):
    """A JSON object as its (name, value) pairs, duplicates included."""


_decoder = json.JSONDecoder(object_pairs_hook=Members)
# Brackets to +1/-1 as signed bytes, everything else deleted.
_BRACKETS = bytes.maketrans(b"[{]}", b"\x01\x01\xff\xff")
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[{]}")
_CHUNK = 512


def max_nesting(text: str, stop_above: int) -> int:
    """Deepest bracket nesting outside strings (stops early once above `stop_above`)."""
    depth = deepest = 0
    i, n = 0, len(text)
    while i < n:
        q = text.find('"', i)
        seg = text[i:] if q < 0 else text[i:q]
        if "[" in seg or "{" in seg:
            steps = seg.encode("utf-8", "surrogatepass").translate(_BRACKETS, _NOT_BRACKETS)
            for k in range(0, len(steps), _CHUNK):
                run = array("b", steps[k:k + _CHUNK])
                deepest = max(deepest, max(accumulate(run, initial=depth)))
                depth += sum(run)
                if deepest > stop_above:
                    return deepest
        elif "]" in seg or "}" in seg:
            depth -= seg.count("]") + seg.count("}")
        if q < 0:
            break
        j = closing_quote(text, q)
        if j < 0:
            return deepest
        i = j + 1
    return deepest


def member_path(path: str, key: str) -> str:
    """The JSONPath of member `key` under `path`; a lone surrogate in the key is written as an escape."""
    if key.isidentifier():  # the common case, checked in C: no quote, bracket, dot, space or surrogate
        return f"{path}.{key}"
    key = writable(key)
    if key and not any(ch in key for ch in ".[]'\" \t\r\n"):
        return f"{path}.{key}"
    return f"{path}['{key}']"


def load(c: Collector, text: str, at: Where) -> Any:
    """The parsed document, or None (not JSON, or too deep: then noted)."""
    room = c.limits.max_depth - at.depth
    if text.count("[") + text.count("{") > room and max_nesting(text, room) > room:
        c.note("limit.depth", location_of(at.kind, at.prefix + "$"))
        return TOO_DEEP
    try:
        return _decoder.decode(text)
    except (ValueError, RecursionError):
        return None


TOO_DEEP = object()  # load()'s answer for a document nested beyond the limit


def walk(c: Collector, doc: Any, at: Where, root: str) -> None:
    """Hand every string and notable member name of `doc` to the collector."""
    kind, chain = at.kind, at.chain
    pending: list[tuple[Any, str, int]] = [(doc, root, at.depth)]
    while pending:
        node, path, depth = pending.pop()
        if not isinstance(node, list):  # a bare string at the root
            if isinstance(node, str):
                c.add(kind, path, node, chain=chain, depth=depth)
            continue
        if not c.tick(kind, path):
            return
        members = isinstance(node, Members)
        nested = []
        for index, item in enumerate(node):
            if members:
                key, v = item
                p = member_path(path, key)
                if not is_plain_name(key):
                    c.add(kind, p, key, role="key", chain=chain, depth=depth)
            else:
                v = item
                p = f"{path}[{index}]"
            if isinstance(v, str):
                c.add(kind, p, v, chain=chain, depth=depth)
            elif isinstance(v, list):
                nested.append((v, p, depth + 1))
            if c.stopped:
                return
        pending.extend(reversed(nested))


@register("json", kind="json")
def parse_json(c: Collector, text: str, at: Where) -> bool:
    doc = load(c, text, at)
    if doc is None:
        return False
    root = at.prefix + "$"
    if doc is TOO_DEEP:
        c.add(at.kind, root, text, chain=at.chain, depth=at.depth, nest=False)
        return True
    walk(c, doc, at, root)
    return True
