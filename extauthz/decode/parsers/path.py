"""The URL path: the whole decoded path, and its unusual segments.

`path` is the whole path percent-decoded (`+` stays `+`), overlong UTF-8
undone, but not normalised: `..`, `//` and `\\` stay for the traversal
detectors. A segment whose raw text uses anything beyond letters, digits and
`-._~` (an escape, a quote, a `;` matrix parameter) is also an Input of its
own, `path:[2]` (0-based, counted after the leading `/`), so that a detector
reading values sees `1' or 1=1` rather than the whole path around it.
Segments are split on the raw `/`, so an encoded `%2F` stays inside its segment.
"""
from __future__ import annotations

import string
from typing import TYPE_CHECKING

from extauthz.decode.parsers.base import Where, register
from extauthz.decode.wire import URL_PATH

if TYPE_CHECKING:
    from extauthz.decode.collector import Collector

_PLAIN_SEGMENT = string.ascii_letters + string.digits + "-._~"


@register("path", kind="path")
def parse_path(c: Collector, text: str, at: Where) -> bool:
    kind = at.kind
    c.add(kind, at.prefix, text, wire=URL_PATH, chain=at.chain, depth=at.depth)
    segments = text.split("/", c.limits.max_inputs)
    for index, segment in enumerate(segments[1:] if text.startswith("/") else segments):
        if segment and segment.strip(_PLAIN_SEGMENT):
            c.add(kind, f"{at.prefix}[{index}]", segment, wire=URL_PATH, chain=at.chain, depth=at.depth)
            if c.stopped:
                break
    return True
