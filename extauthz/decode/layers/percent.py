"""URL percent-decoding: %XX, IIS %uXXXX, and `+` for form encoding.

Escaped bytes are read as UTF-8 with overlong forms undone and stray bytes as
latin-1 (extauthz.decode.utf8). Used twice: as the wire decoding of URL parts
(`decode_url`, which also reports invalid escapes, since a bare `%` breaks the
URL grammar there) and as a recursive layer for double encoding (where a bare
`%` is just text, so only a value with at least one valid escape is decoded).
"""
from __future__ import annotations

from typing import NamedTuple

from extauthz.decode.layers.base import Decoded, register
from extauthz.decode.utf8 import bytes_to_text

_HEXDIGITS = "0123456789abcdefABCDEF"
_HEX: dict[str, int] = {a + b: int(a + b, 16) for a in _HEXDIGITS for b in _HEXDIGITS}


class Percent(NamedTuple):
    value: str
    escapes: int  # valid %XX and %uXXXX undone
    invalid: int  # `%` not starting a valid escape
    percent_u: bool
    overlong: bool
    invalid_utf8: bool
    plus: bool  # `+` read as space


def decode_url(text: str, plus: bool = False) -> Percent:
    """Undo one level of URL encoding (with `+` as space when `plus`)."""
    had_plus = False
    if plus and "+" in text:
        text = text.replace("+", " ")
        had_plus = True
    if "%" not in text:
        return Percent(text, 0, 0, False, False, False, had_plus)
    first = text.find("%")
    tail = text[first:]
    if len(tail) == 3 * tail.count("%") and not tail[::3].strip("%"):
        # Everything after the first `%` is escapes (`/x%27%20%6f...`, how
        # payloads are often sent): their hex digits go through bytes.fromhex
        # in one C call instead of a Python loop per escape.
        digits = tail.replace("%", "")
        try:
            raw = bytes.fromhex(digits) if digits.isascii() and digits.isalnum() else None
        except ValueError:
            raw = None
        if raw is not None:
            decoded = bytes_to_text(text[:first].encode("utf-8", "surrogatepass") + raw)
            return Percent(decoded.text, len(raw), 0, False, decoded.overlong, decoded.invalid, had_plus)
    parts = text.split("%")
    # Escaped bytes and the literal text between them go into one byte
    # string, decoded once: what a server does that percent-decodes the
    # URL to bytes and then reads them as UTF-8.
    buf = bytearray(parts[0].encode("utf-8", "surrogatepass"))
    out: list[str] = []
    escapes = invalid = 0
    percent_u = False
    hexmap = _HEX
    for part in parts[1:]:
        if not part:  # `%%`: the commonest junk, kept cheap
            invalid += 1
            buf.append(0x25)
            continue
        b = hexmap.get(part[:2])
        if b is not None:
            buf.append(b)
            escapes += 1
            if len(part) > 2:
                buf += part[2:].encode("utf-8", "surrogatepass")
        elif part[:1] in ("u", "U") and part[1:3] in hexmap and part[3:5] in hexmap:
            out.append(_text(buf))  # %u gives a character, not a byte
            buf.clear()
            out.append(chr(int(part[1:5], 16)))
            buf += part[5:].encode("utf-8", "surrogatepass")
            escapes += 1
            percent_u = True
        else:
            invalid += 1
            buf.append(0x25)
            buf += part.encode("utf-8", "surrogatepass")
    decoded = bytes_to_text(bytes(buf))
    if out:
        out.append(decoded.text)
        value = "".join(out)
    else:
        value = decoded.text
    return Percent(value, escapes, invalid, percent_u, decoded.overlong, decoded.invalid, had_plus)


def _text(buf: bytearray) -> str:
    return bytes_to_text(bytes(buf)).text


def anomalies_of(p: Percent) -> tuple[str, ...]:
    out = []
    if p.percent_u:
        out.append("decode.percent-u")
    if p.overlong:
        out.append("decode.overlong-utf8")
    if p.invalid_utf8:
        out.append("decode.invalid-utf8")
    return tuple(out)


@register("percent", order=10)
def decode_percent(text: str) -> Decoded | None:
    """Another level of percent-encoding (double encoding); `+` stays `+`."""
    if "%" not in text:
        return None
    p = decode_url(text)
    if not p.escapes:
        return None
    return Decoded(p.value, anomalies_of(p))
