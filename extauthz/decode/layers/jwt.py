"""JSON Web Tokens: the header and claims a token carries, as JSON.

A JWT (`eyJhbGciOi....eyJzdWIiOi....signature`) is base64url JSON that many
applications read before, or without, checking the signature; injections
live in its claims and in header fields such as `kid` (a key id used in file
paths and SQL lookups). This layer turns a token into the JSON array
`[header, claims]`, which the collector then reads as nested JSON
(`cookie:token$[0].kid`, `cookie:token$[1].sub`, chain ("jwt", "json")).
The token itself stays an Input too (keep_before). Only the first two
segments are read; the signature is not checked (not the WAF's business).
"""
from __future__ import annotations

import binascii
import json

from extauthz.decode.layers.base import Decoded, register

_MAX_TOKEN = 8192


def looks_like_jwt(text: str) -> bool:
    return text.startswith("eyJ") and text.count(".") == 2


def _segment(seg: str) -> dict | None:
    try:
        raw = binascii.a2b_base64(seg.translate(_URL_TO_STD) + "=" * (-len(seg) % 4), strict_mode=True)
        obj = json.loads(raw)
    except (binascii.Error, ValueError, RecursionError):
        return None
    return obj if isinstance(obj, dict) else None


_URL_TO_STD = str.maketrans("-_", "+/")


@register("jwt", order=85, keep_before=True)
def decode_jwt(text: str) -> Decoded | None:
    if not looks_like_jwt(text) or len(text) > _MAX_TOKEN:
        return None
    header_seg, claims_seg, _ = text.split(".")
    header, claims = _segment(header_seg), _segment(claims_seg)
    if header is None or claims is None:
        return None
    return Decoded(json.dumps([header, claims], ensure_ascii=False))
