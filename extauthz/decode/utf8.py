"""Bytes to text the way a lenient server would read them.

Valid UTF-8 is the fast path. Otherwise:
- overlong UTF-8 sequences (C0 AF, E0 80 AF, F0 80 80 AF for `/`) are decoded
  to the character they spell, as old decoders did, so that a traversal
  detector sees the `/`; this is an anomaly worth reporting;
- any other byte that is not UTF-8 is read as latin-1 (what a latin-1
  application such as CSIC's shop sees: %F3 is `ó`), instead of U+FFFD which
  would hide the byte from detectors.
"""
from __future__ import annotations

from typing import NamedTuple

# surrogateescape maps a stray byte 0xXY to U+DCXY; this puts latin-1 back.
_SURROGATE_TO_LATIN1 = {0xDC00 + b: b for b in range(0x80, 0x100)}
_OVERLONG_LEADS = (b"\xc0", b"\xc1", b"\xe0", b"\xf0")


class Text(NamedTuple):
    text: str
    overlong: bool = False
    invalid: bool = False


def _undo_overlong(raw: bytes) -> tuple[bytes, bool]:
    """Replace overlong sequences by the shortest UTF-8 form of their code point."""
    found = False
    for lead in _OVERLONG_LEADS:
        if lead not in raw:
            continue
        parts = raw.split(lead)
        out = bytearray(parts[0])
        lb = lead[0]
        if lb < 0xE0:  # C0/C1 + one continuation byte: U+0000..U+007F
            base = (lb & 0x1F) << 6
            for part in parts[1:]:
                if part and 0x80 <= part[0] <= 0xBF:
                    out.append(base | (part[0] & 0x3F))
                    out += part[1:]
                    found = True
                else:
                    out.append(lb)
                    out += part
        else:  # E0 80..9F xx, F0 80..8F xx xx
            need, top = (2, 0x9F) if lb == 0xE0 else (3, 0x8F)
            for part in parts[1:]:
                seq = part[:need]
                if (len(seq) == need and 0x80 <= seq[0] <= top
                        and all(0x80 <= c <= 0xBF for c in seq[1:])):
                    cp = lb & (0x0F if need == 2 else 0x07)
                    for c in seq:
                        cp = (cp << 6) | (c & 0x3F)
                    out += chr(cp).encode("utf-8", "surrogatepass")
                    out += part[need:]
                    found = True
                else:
                    out.append(lb)
                    out += part
        raw = bytes(out)
    return raw, found


def bytes_to_text(raw: bytes) -> Text:
    try:
        return Text(raw.decode("utf-8"))
    except UnicodeDecodeError:
        pass
    raw, overlong = _undo_overlong(raw)
    escaped = raw.decode("utf-8", "surrogateescape")
    text = escaped.translate(_SURROGATE_TO_LATIN1)
    return Text(text, overlong, text != escaped)
