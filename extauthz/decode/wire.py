"""Wire decodings: the encoding a part of the request has by its grammar.

Applied once, before the recursive layers: a query or form value is
URL-encoded with `+` for space, the path is URL-encoded, a cookie is often
percent-encoded by convention. Where the grammar requires percent-encoding,
a `%` that starts no valid escape is an anomaly.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Callable

from extauthz.decode.inputs import location_of
from extauthz.decode.layers.percent import anomalies_of, decode_url

if TYPE_CHECKING:
    from extauthz.decode.collector import Collector

# (collector, kind, name, text, chain) -> (text, chain)
Wire = Callable[["Collector", str, str, str, tuple[str, ...]], tuple[str, tuple[str, ...]]]



def _url_wire(plus: bool, report_invalid: bool) -> Wire:
    def wire(c: Collector, kind: str, name: str, text: str,
             chain: tuple[str, ...]) -> tuple[str, tuple[str, ...]]:
        if "%" not in text and not (plus and "+" in text):
            return text, chain
        p = decode_url(text, plus)
        location = location_of(kind, name)
        if p.plus:
            chain = chain + ("plus",)
        if p.escapes:
            chain = chain + ("percent",)
        if p.invalid and report_invalid:
            c.note("decode.invalid-percent", location, text)
        for rule in anomalies_of(p):
            c.note(rule, location, text)
        return p.value, chain
    return wire


# Query strings and form bodies: `+` is a space, a bare `%` is malformed.
FORM = _url_wire(plus=True, report_invalid=True)
# The path: `+` is a plus sign, a bare `%` is malformed.
URL_PATH = _url_wire(plus=False, report_invalid=True)
# Cookies and other values where percent-encoding is a convention, not the grammar.
PERCENT = _url_wire(plus=False, report_invalid=False)
