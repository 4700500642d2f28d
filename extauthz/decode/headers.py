"""Which request headers become Inputs (`header:user-agent`), per extauthz/rules/decode.yaml.

Three groups, listed in that one file: headers never inspected (set or
checked by the proxy, or parsed elsewhere like cookie), structural headers
inspected only when a value leaves its grammar's character set, and all the
rest (user-agent, referer, origin, x-forwarded-*, forwarded, custom headers),
always inspected. Every value of a repeated header is inspected.

Credentials (authorization, proxy-authorization) are structural, but what
they carry is read: a Bearer JWT's header and claims
(`header:authorization$[1].sub`) and a Basic pair's user name and password
(`header:authorization.user`, `.password`; the password's excerpts are
redacted like every secret's).
"""
from __future__ import annotations

import binascii
from itertools import islice
from typing import TYPE_CHECKING, Mapping

from extauthz.decode.collector import STRUCTURE_FACTOR
from extauthz.decode.layers.base64 import decode_text
from extauthz.decode.layers.jwt import looks_like_jwt
from extauthz.decode.policy import POLICY

if TYPE_CHECKING:
    from extauthz.decode.collector import Collector

_IGNORE = POLICY.ignore
_IGNORE_PREFIXES = POLICY.ignore_prefixes
_STRUCTURAL = POLICY.structural


_CREDENTIALS = frozenset({"authorization", "proxy-authorization"})


def _credentials(c: Collector, name: str, value: str) -> None:
    scheme, _, token = value.strip().partition(" ")
    scheme, token = scheme.lower(), token.strip()
    if scheme == "bearer" and looks_like_jwt(token):
        c.add("header", name, token)  # the jwt layer reads header and claims
    elif scheme == "basic":
        pair = decode_text(token) if len(token) >= 4 else None
        if pair is None:
            try:
                pair = binascii.a2b_base64(token, strict_mode=True).decode("utf-8")
            except (binascii.Error, ValueError):
                return
        user, _, password = pair.partition(":")
        c.add("header", name + ".user", user)
        c.add("header", name + ".password", password)


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
            if name in _CREDENTIALS:
                _credentials(c, name, value)
            if clean is not None and not value.strip(clean):
                continue
            c.add("header", name, value)
        if c.stopped:
            return
