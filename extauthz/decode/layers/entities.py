"""HTML/XML character references, decoded the way a browser does.

Named (`&lt;`), decimal (`&#60;`), hex (`&#x3c;`), any number of leading
zeros, and without the semicolon where HTML allows it (`&#60`, `&lt`, the
legacy names). Code points the HTML standard maps elsewhere (0, surrogates,
above U+10FFFF, the C1 range read as windows-1252) are mapped the same way.

Zero padding is decoded like a browser does, but padding past the width
encoders write is reported (decode.padded-charref): most write the shortest
form; PHP pads decimals to three digits (`&#039;`), hand-written encoders to four
(`&#0039;`), the W3C entity tables and the feeds built from them to five
(`&#x00027;`, `&#00039;`). Six digits and more for an ASCII character
(`&#0000060`, `&#x00003c`) is the filter-evasion form from the XSS cheat sheets
(a filter that reads at most N digits, or looks for `&#60`, misses it), much as
overlong UTF-8 is for bytes.
"""
from __future__ import annotations

from html.entities import html5

from extauthz.decode.layers.base import Decoded, register

# "lt;" -> "<" (with semicolon) and the legacy names browsers accept without one.
_NAMED = {k[:-1]: v for k, v in html5.items() if k.endswith(";")}
_LEGACY = {k: v for k, v in html5.items() if not k.endswith(";")}
_LEGACY_MAX = max(len(k) for k in _LEGACY)
_NAME_MAX = max(len(k) for k in _NAMED)
_DEC = "0123456789"
_HEX = "0123456789abcdefABCDEF"
# Most digits encoders write for an ASCII character (see the module docstring).
_WIDEST_DEC = 5
_WIDEST_HEX = 5
PADDED = "decode.padded-charref"


def _char(cp: int) -> str:
    if cp == 0 or cp > 0x10FFFF or 0xD800 <= cp <= 0xDFFF:
        return "\ufffd"
    if 0x80 <= cp <= 0x9F:
        return bytes([cp]).decode("cp1252", "replace").replace("\ufffd", chr(cp))
    return chr(cp)


def _numeric(part: str) -> tuple[str, str, bool] | None:
    """`#...` after an `&`: (character, rest of part, padded past any encoder's width) or None."""
    if part[1:2] in ("x", "X"):
        start, digits, base, widest = 2, _HEX, 16, _WIDEST_HEX
    else:
        start, digits, base, widest = 1, _DEC, 10, _WIDEST_DEC
    body = part[start:]
    rest = body.lstrip(digits)
    n = len(body) - len(rest)
    if n == 0:
        return None
    significant = body[:n].lstrip("0") or "0"
    cp = int(significant, base) if len(significant) <= 8 else 0x110000
    if rest[:1] == ";":
        rest = rest[1:]
    return _char(cp), rest, n > widest and cp < 0x80


def _named(part: str) -> tuple[str, str] | None:
    end = 0
    limit = min(len(part), _NAME_MAX)
    while end < limit and part[end].isalnum():
        end += 1
    if part[end:end + 1] == ";":
        ch = _NAMED.get(part[:end])
        if ch is not None:
            return ch, part[end + 1:]
    for k in range(min(end, _LEGACY_MAX), 1, -1):
        ch = _LEGACY.get(part[:k])
        if ch is not None:
            return ch, part[k:]
    return None


@register("html", order=30, keep_before=True)
def decode_entities(text: str) -> Decoded | None:
    if "&" not in text:
        return None
    parts = text.split("&")
    out = [parts[0]]
    changed = padded = False
    for part in parts[1:]:
        c = part[:1]
        hit = None
        if c == "#":
            num = _numeric(part)
            if num is not None:
                hit = num[:2]
                padded = padded or num[2]
        elif c.isalpha():
            hit = _named(part)
        if hit is None:
            out.append("&")
            out.append(part)
        else:
            out.append(hit[0])
            out.append(hit[1])
            changed = True
    if not changed:
        return None
    return Decoded("".join(out), (PADDED,) if padded else ())
