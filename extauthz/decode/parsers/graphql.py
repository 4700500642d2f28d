"""GraphQL: the document, its string arguments, variables, operation name.

A GraphQL document is typed, so only string literals carry free text: each
becomes an Input named by the field and argument it is given to
(`graphql:query.user(name)`), next to the whole document (`graphql:query`).
Variables are walked like JSON under `graphql:variables...`. Requests come
as `application/graphql` bodies, as JSON `{"query": ..., "variables": ...}`
(or a batch: a list of those, `graphql:[1].query`), or as GET parameters.
"""
from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from extauthz.decode.parsers.base import Where, register
from extauthz.decode.parsers.jsondoc import TOO_DEEP, Members, load, walk
from extauthz.decode.scan import closing_quote

if TYPE_CHECKING:
    from extauthz.decode.collector import Collector

_OPERATION_WORDS = ("query", "mutation", "subscription", "fragment")
_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")


def looks_like_graphql(text: str) -> bool:
    s = text.lstrip()
    if s.startswith("{"):
        return True
    word = s.split(None, 1)[0] if s else ""
    return any(word.startswith(w) for w in _OPERATION_WORDS)


def _name_before(text: str, end: int) -> str:
    """The GraphQL Name ending just before `end` (whitespace skipped), or ""."""
    k = end - 1
    while k >= 0 and text[k] in " \t\r\n,":
        k -= 1
    stop = k
    while k >= 0 and text[k] in _NAME_CHARS and stop - k < 128:
        k -= 1
    return text[k + 1:stop + 1]


def _argument_name(text: str, quote: int) -> tuple[str, str]:
    """(field, argument) a string literal at `quote` is given to, best effort."""
    k = quote - 1
    while k >= 0 and text[k] in " \t\r\n":
        k -= 1
    arg = _name_before(text, k) if k >= 0 and text[k] == ":" else ""
    paren = text.rfind("(", 0, quote)
    field = _name_before(text, paren) if paren >= 0 else ""
    return field, arg


def _literal(text: str, start: int, end: int) -> str:
    raw = text[start:end]
    if "\\" not in raw:
        return raw
    try:
        return json.loads('"' + raw + '"')
    except ValueError:
        return raw


@register("graphql", kind="graphql")
def parse_graphql(c: Collector, text: str, at: Where) -> bool:
    kind, prefix = at.kind, at.prefix
    doc = prefix + "query"
    c.add(kind, doc, text, chain=at.chain, depth=at.depth)
    i, n = 0, len(text)
    while i < n and not c.stopped:
        q = text.find('"', i)
        if q < 0:
            break
        comment = text.rfind("#", i, q)
        if comment >= 0 and text.find("\n", comment, q) < 0:
            nl = text.find("\n", q)  # the quote is inside a comment
            i = n if nl < 0 else nl + 1
            continue
        if text.startswith('"""', q):
            end = text.find('"""', q + 3)
            value, i = text[q + 3:(n if end < 0 else end)], (n if end < 0 else end + 3)
        else:
            end = closing_quote(text, q)
            if end < 0:
                break
            value, i = _literal(text, q + 1, end), end + 1
        if value:
            field, arg = _argument_name(text, q)
            c.add(kind, f"{doc}.{field}({arg})", value, chain=at.chain, depth=at.depth)
    return True


def is_graphql_request(doc: Any) -> bool:
    ops = doc if isinstance(doc, list) and not isinstance(doc, Members) else [doc]
    return bool(ops) and all(
        isinstance(op, Members) and any(k == "query" and isinstance(v, str) and looks_like_graphql(v) for k, v in op)
        for op in ops[:16])


def walk_request(c: Collector, doc: Any, at: Where) -> None:
    """A GraphQL-over-JSON request (single or batch)."""
    batch = isinstance(doc, list) and not isinstance(doc, Members)
    for index, op in enumerate(doc if batch else [doc]):
        prefix = f"{at.prefix}[{index}]." if batch else at.prefix
        gql = Where("graphql", prefix, at.chain, at.depth + 1)
        for key, value in op:
            if key == "query" and isinstance(value, str):
                parse_graphql(c, value, gql)
            elif key in ("variables", "extensions", "operationName"):
                if isinstance(value, str) and key != "operationName" and value.lstrip()[:1] in ("{", "["):
                    parsed = load(c, value, gql)
                    if parsed is not None and parsed is not TOO_DEEP:
                        value = parsed
                walk(c, value, gql, prefix + key)
            else:
                walk(c, value, Where("json", at.prefix, at.chain, at.depth + 1), f"{prefix}$.{key}")
        if c.stopped:
            break
