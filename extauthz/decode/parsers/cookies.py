"""The Cookie header: one Input per cookie (`cookie:sid`).

`a=1; b="two"`: names are trimmed, double quotes around a value dropped,
values percent-decoded (a common convention, not the grammar, so a bare `%`
is not an anomaly here; `+` stays `+`, as in base64 session cookies). A
cookie name that is not plain is inspected too (role "key").
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from extauthz.decode.names import is_plain_name
from extauthz.decode.parsers.base import Where, register
from extauthz.decode.wire import PERCENT

if TYPE_CHECKING:
    from extauthz.decode.collector import Collector


@register("cookies", kind="cookie")
def parse_cookies(c: Collector, text: str, at: Where) -> bool:
    kind = at.kind
    for pair in text.split(";", c.limits.max_inputs):
        name, eq, value = pair.partition("=")
        name = name.strip()
        value = value.strip()
        if len(value) >= 2 and value[0] == '"' and value[-1] == '"':
            value = value[1:-1]
        if not name and not value:
            continue
        if not is_plain_name(name):
            c.add(kind, name, name, None, "key", at.chain, at.depth)
        if value:
            c.add(kind, name, value, PERCENT, "value", at.chain, at.depth)
        elif not c.room(kind, name):
            break
        if c.stopped:
            break
    return True
