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
    if n < MIN_LENGTH or n % 4 == 1 or text.strip(_ALPHABET):  # strip stops at the first outsider
        return False
    return not (text.islower() or not text.strip(_HEX))


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


def has_data_uri(text: str) -> bool:
    """Cheap test for a base64 data URI (`data:text/html;base64,PHN2Zz4=`)."""
    return "base64," in text or "BASE64," in text or "Base64," in text


def decode_data_uri(text: str) -> str | None:
    """`data:text/html;base64,PHN2Zz4=` -> `data:text/html,<svg>`: the same URI
    without its encoding, so a detector sees what the browser renders."""
    comma = text.find(",")
    while 7 <= comma:
        if text[comma - 7:comma].lower() == ";base64":
            body = text[comma + 1:]
            end = len(body) - len(body.lstrip(_ALPHABET))
            payload = body[:end].rstrip("=")
            if len(payload) >= 4:
                try:
                    raw = binascii.a2b_base64(payload.translate(_URL_TO_STD) + "=" * (-len(payload) % 4))
                except (binascii.Error, ValueError):
                    return None
                if raw.isascii():
                    out = raw.decode("ascii")
                    if out.isprintable() or out.translate(_WHITESPACE).isprintable():
                        return text[:comma - 7] + "," + out + body[end:]
            return None
        comma = text.find(",", comma + 1)
    return None


@register("base64", order=90, keep_before=True)
def decode_base64(text: str) -> Decoded | None:
    out = decode_text(text)
    if out is None and has_data_uri(text):
        out = decode_data_uri(text)
    return Decoded(out) if out is not None else None
