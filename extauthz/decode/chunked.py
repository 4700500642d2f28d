"""Chunked transfer coding (RFC 9112 §7.1), undone when a body really is chunked.

Envoy de-chunks request bodies before ext_authz sees them, so normally there
is nothing to do. A body that still says `Transfer-Encoding: chunked` and
parses, completely, as chunks (another proxy in front, a replayed capture)
is read as its payload; anything that does not parse stays as it is (and is
inspected as sent). Strict on structure; line ends are CRLF or LF, one style
throughout (the first size line's); bounded by the body size and MAX_CHUNKS.
"""
from __future__ import annotations

MAX_CHUNKS = 4096
MAX_SIZE_DIGITS = 16
_HEX = frozenset("0123456789abcdefABCDEF")


def _line_end(body: bytes, pos: int, eol: bytes) -> int:
    """Offset just past the line end `eol` at `pos`, or -1."""
    return pos + len(eol) if body[pos:pos + len(eol)] == eol else -1


def dechunk(body: bytes) -> bytes | None:
    """The payload of a chunked body, or None when `body` is not one."""
    out: list[bytes] = []
    pos = 0
    n = len(body)
    first = body.find(b"\n", 0, 1024)
    eol = b"\r\n" if first > 0 and body[first - 1:first] == b"\r" else b"\n"  # one style throughout
    for _ in range(MAX_CHUNKS):
        nl = body.find(eol, pos, pos + 1024)
        if nl < 0:
            return None
        line = body[pos:nl]
        size_text = line.split(b";", 1)[0].strip(b" \t")  # chunk extensions are ignored
        if not size_text or len(size_text) > MAX_SIZE_DIGITS or not all(chr(c) in _HEX for c in size_text):
            return None
        size = int(size_text, 16)
        start = nl + len(eol)
        if size == 0:
            return b"".join(out) if _trailers_end(body, start, eol) else None
        end = start + size
        if end > n:
            return None
        out.append(body[start:end])
        pos = _line_end(body, end, eol)
        if pos < 0:
            return None
    return None


def _trailers_end(body: bytes, pos: int, eol: bytes) -> bool:
    """After the last chunk: trailer lines, then an empty line, then nothing (or
    nothing at all: a body cut right after `0\\r\\n`)."""
    n = len(body)
    for _ in range(64):
        if pos >= n:
            return True
        nxt = _line_end(body, pos, eol)
        if nxt >= 0:
            return not body[nxt:].strip()
        nl = body.find(eol, pos, pos + 8192)
        if nl < 0 or b":" not in body[pos:nl]:
            return False
        pos = nl + len(eol)
    return False
