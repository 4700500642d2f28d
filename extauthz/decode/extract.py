"""extract(): a Request's attacker-controlled values as decoded Inputs, within limits.

Order matters only for limits: the path and query first, then the body, then
cookies and headers, so that a flood of headers cannot push the body out of
the inspected part.
"""
from __future__ import annotations

from extauthz.decode.body import collect_body
from extauthz.decode.collector import Collector
from extauthz.decode.headers import collect_headers
from extauthz.decode.inputs import Extraction
from extauthz.decode.limits import DecodeLimits
from extauthz.decode.parsers import PARSERS, Where
from extauthz.decode.parsers.graphql import looks_like_graphql
from extauthz.request import Request

DEFAULT_LIMITS = DecodeLimits()


def extract(request: Request, limits: DecodeLimits = DEFAULT_LIMITS, body_limit: int = 131072) -> Extraction:
    c = Collector(limits)
    for part in request.invalid_utf8:
        c.note("decode.invalid-utf8", part)
    PARSERS["path"].parse(c, request.path, Where("path"))
    if request.query:
        first = len(c.inputs)
        PARSERS["urlencoded"].parse(c, request.query, Where("query"))
        if "graphql" in request.path.lower():
            _graphql_get(c, first)
    collect_body(c, request, body_limit)
    cookies = request.headers.get("cookie")
    if cookies:
        PARSERS["cookies"].parse(c, "; ".join(cookies), Where("cookie"))
    collect_headers(c, request.headers)
    return Extraction(c.inputs, c.findings())


def _graphql_get(c: Collector, first: int) -> None:
    """GET /graphql?query=...: the query parameter is also read as a GraphQL document."""
    for inp in c.inputs[first:]:
        if inp.kind == "query" and inp.name == "query" and inp.role == "value" and looks_like_graphql(inp.value):
            PARSERS["graphql"].parse(c, inp.value, Where("graphql", chain=inp.chain))
            return
