"""application/x-www-form-urlencoded: query strings and form bodies.

Names are kept as sent (decoded): repeated keys give one Input each, and
array or map syntax (`a[]=1`, `a[b][c]=2`) stays in the name, which is what
the exclusions in the config match. A repeated key also gives its values
joined with `,` (chain "join"), as ASP.NET reads them: parameter pollution
splits a payload across repeats (`q=select 1&q=2 from users`). A name that is not plain (see
extauthz.decode.names) is inspected too, as an Input with role "key".
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from extauthz.decode.layers.percent import decode_url
from extauthz.decode.names import is_plain_name
from extauthz.decode.parsers.base import Where, register
from extauthz.decode.wire import FORM

if TYPE_CHECKING:
    from extauthz.decode.collector import Collector


def decode_name(raw: str) -> str:
    if "%" not in raw and "+" not in raw:
        return raw
    return decode_url(raw, plus=True).value


@register("urlencoded", kind="form")
def parse_urlencoded(c: Collector, text: str, at: Where) -> bool:
    kind, prefix, chain, depth = at.kind, at.prefix, at.chain, at.depth
    # maxsplit bounds the work on 100k tiny parameters; the unsplit rest is
    # reached only once the item limit is hit, which then says so.
    pairs = text.split("&", c.limits.max_inputs)
    values: dict[str, list[str]] = {}
    for pair in pairs:
        if not pair:
            continue
        raw_name, _, raw_value = pair.partition("=")
        name = decode_name(raw_name)
        plain = is_plain_name(name)
        if prefix:
            name = prefix + name
        if not plain:
            c.add(kind, name, raw_name, FORM, "key", chain, depth)
        if raw_value:
            c.add(kind, name, raw_value, FORM, "value", chain, depth)
            values.setdefault(name, []).append(raw_value)
        elif not c.room(kind, name):
            break
        if c.stopped:
            break
    for name, raws in values.items():
        if len(raws) > 1 and not c.stopped:
            c.add(kind, name, ",".join(raws), FORM, "value", chain + ("join",), depth)
    return True
