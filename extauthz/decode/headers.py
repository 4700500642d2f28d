"""Which request headers become Inputs (`header:user-agent`), per extauthz/rules/decode.yaml.

Three groups, listed in that one file: headers never inspected (set or
checked by the proxy, or parsed elsewhere like cookie), structural headers
inspected only when a value leaves its grammar's character set, and all the
rest (user-agent, referer, origin, x-forwarded-*, forwarded, custom headers),
always inspected. Every value of a repeated header is inspected.
"""
from __future__ import annotations

from itertools import islice
from typing import TYPE_CHECKING, Mapping

from extauthz.decode.collector import STRUCTURE_FACTOR
from extauthz.decode.policy import POLICY

if TYPE_CHECKING:
    from extauthz.decode.collector import Collector

_IGNORE = POLICY.ignore
_IGNORE_PREFIXES = POLICY.ignore_prefixes
_STRUCTURAL = POLICY.structural


def collect_headers(c: Collector, headers: Mapping[str, tuple[str, ...]]) -> None:
    # Skipping a header costs no item, so bound the loop itself: a flood of
    # ignored or clean structural headers is cut here, and reported.
    budget = STRUCTURE_FACTOR * c.limits.max_inputs
    if len(headers) > budget:
        c.note("limit.inputs", "header")
    for name, values in islice(headers.items(), budget):
        if name in _IGNORE or name.startswith(_IGNORE_PREFIXES):
            continue
        clean = _STRUCTURAL.get(name)
        for value in values:
            if clean is not None and not value.strip(clean):
                continue
            c.add("header", name, value)
        if c.stopped:
            return
