r"""JavaScript/JSON string escapes: \uXXXX, \u{X…}, \xXX.

Only these: other backslash escapes (\', \n) change meaning by language and
are left for detectors to read in context. `\\` is an escaped backslash, so
the text after it is not an escape.
"""
from __future__ import annotations

from extauthz.decode.layers.base import Decoded, register

_HEX = frozenset("0123456789abcdefABCDEF")


def _is_hex(s: str) -> bool:
    return bool(s) and all(ch in _HEX for ch in s)


@register("js", order=20)
def decode_js_escapes(text: str) -> Decoded | None:
    if "\\" not in text:
        return None
    parts = text.split("\\")
    out = [parts[0]]
    changed = surrogate = False
    literal_next = False
    for part in parts[1:]:
        if literal_next:  # the previous part was the empty one of `\\`
            out.append(part)
            literal_next = False
            continue
        if not part:
            out.append("\\")
            literal_next = True
            continue
        c = part[0]
        if c == "u" and part[1:2] == "{":
            end = part.find("}", 2, 10)
            if end > 2 and _is_hex(part[2:end]) and int(part[2:end], 16) <= 0x10FFFF:
                out.append(chr(int(part[2:end], 16)) + part[end + 1:])
                changed = True
                continue
        elif c == "u" and len(part) >= 5 and _is_hex(part[1:5]):
            cp = int(part[1:5], 16)
            surrogate |= 0xD800 <= cp <= 0xDBFF
            out.append(chr(cp) + part[5:])
            changed = True
            continue
        elif c in ("x", "X") and len(part) >= 3 and _is_hex(part[1:3]):
            out.append(chr(int(part[1:3], 16)) + part[3:])
            changed = True
            continue
        out.append("\\" + part)
    if not changed:
        return None
    value = "".join(out)
    if surrogate:  # join \uD83D\uDE00 pairs into one character
        value = value.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "surrogatepass")
    return Decoded(value)
