r"""JavaScript/JSON (and C/PHP/Python string) escapes: \uXXXX, \u{X…}, \xXX.

Only these: other backslash escapes (\', \n) change meaning by language and
are left for detectors to read in context.

- Consecutive \xNN escapes are read as bytes, so UTF-8 sequences
  (`\xe2\x80\x99`) become their character, as in C, PHP or Python strings;
  a run that is not UTF-8 reads byte by byte (latin-1), as in JavaScript.
- `\\` is an escaped backslash, so the text after it is no escape; but when
  that text would be one (`\\u003c`, an escape escaped once more), this
  layer undoes the outer level and the next round undoes the inner one.
"""
from __future__ import annotations

from extauthz.decode.layers.base import Decoded, register
from extauthz.decode.utf8 import bytes_to_text

_HEX = frozenset("0123456789abcdefABCDEF")


def _is_hex(s: str) -> bool:
    return bool(s) and all(ch in _HEX for ch in s)


def _unicode_escape(part: str) -> tuple[int, str] | None:
    """(code point, rest) for a part after `\\` that starts uXXXX or u{X...}."""
    if part[:1] != "u":
        return None
    if part[1:2] == "{":
        end = part.find("}", 2, 10)
        if end > 2 and _is_hex(part[2:end]) and int(part[2:end], 16) <= 0x10FFFF:
            return int(part[2:end], 16), part[end + 1:]
        return None
    if len(part) >= 5 and _is_hex(part[1:5]):
        return int(part[1:5], 16), part[5:]
    return None


def _byte_escape(part: str) -> bool:
    return part[:1] in ("x", "X") and len(part) >= 3 and _is_hex(part[1:3])


@register("js", order=20)
def decode_js_escapes(text: str) -> Decoded | None:
    if "\\" not in text:
        return None
    parts = text.split("\\")
    out = [parts[0]]
    run = bytearray()  # consecutive \xNN bytes, read together
    changed = surrogate = False
    literal_next = False
    for part in parts[1:]:
        if literal_next:  # the part after an escaped backslash (already written as `\`)
            literal_next = False
            if _unicode_escape(part) is not None or _byte_escape(part):
                changed = True  # `\\u003c`: the outer escape is undone now, the inner one next round
            out.append(part)
            continue
        if run and not _byte_escape(part):
            out.append(bytes_to_text(bytes(run)).text)
            run.clear()
        if not part:
            out.append("\\")
            literal_next = True
            continue
        if _byte_escape(part):
            run.append(int(part[1:3], 16))
            changed = True
            if len(part) > 3:
                out.append(bytes_to_text(bytes(run)).text)
                run.clear()
                out.append(part[3:])
            continue
        hit = _unicode_escape(part)
        if hit is not None:
            cp, rest = hit
            surrogate |= 0xD800 <= cp <= 0xDBFF
            out.append(chr(cp) + rest)
            changed = True
            continue
        out.append("\\" + part)
    if run:
        out.append(bytes_to_text(bytes(run)).text)
    if not changed:
        return None
    value = "".join(out)
    if surrogate:  # join \uD83D\uDE00 pairs into one character
        value = value.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "surrogatepass")
    return Decoded(value)
