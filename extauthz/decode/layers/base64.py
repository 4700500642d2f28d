"""Base64 and base64url, only where a value really is encoded text.

Many ordinary words and tokens are valid base64 ("admin", "test1234",
session ids); decoding them yields bytes, not text. A value is decoded only
when it is long enough to carry a payload (MIN_LENGTH), uses the alphabet of
one variant consistently with padding only at the end, is not plain hex or
digits (ids, hashes), and decodes to printable ASCII text. Random bytes pass
that last test with probability (95/256)^n, about 1e-4 for the shortest
candidates, so tokens are almost never misread. Because the value may still
be an ordinary token, the form before decoding is kept too (keep_before).
"""
from __future__ import annotations

import binascii
import string

from extauthz.decode.layers.base import Decoded, register

MIN_LENGTH = 12  # 9 bytes: `' or 1=1#` still fits; shorter payloads are not worth the guess
_ALPHABET = string.ascii_letters + string.digits + "+/-_="
_HEX = string.hexdigits
_URL_TO_STD = str.maketrans("-_", "+/")
_WHITESPACE = str.maketrans("", "", "\t\r\n")


def is_candidate(text: str) -> bool:
    """Cheap test: could this be base64 of a payload? (No decoding yet.)"""
    n = len(text)
    if n < MIN_LENGTH or n % 4 == 1:
        return False
    if text.strip(_ALPHABET) or not text.strip(_HEX):
        return False
    return True


def decode_text(text: str) -> str | None:
    if not is_candidate(text):
        return None
    body = text.rstrip("=")
    if "=" in body or len(text) - len(body) > 2:
        return None
    std = "+" in body or "/" in body
    url = "-" in body or "_" in body
    if std and url:
        return None
    if url:
        body = body.translate(_URL_TO_STD)
    body += "=" * (-len(body) % 4)
    try:
        raw = binascii.a2b_base64(body, strict_mode=True)
    except (binascii.Error, ValueError):
        return None
    if not raw.isascii():
        return None
    out = raw.decode("ascii")
    if not out.isprintable() and not out.translate(_WHITESPACE).isprintable():
        return None
    return out


@register("base64", order=90, keep_before=True)
def decode_base64(text: str) -> Decoded | None:
    out = decode_text(text)
    return Decoded(out) if out is not None else None
