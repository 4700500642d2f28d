"""multipart/* bodies (form-data, mixed, related): one Input set per part.

For a part named `file` (content-disposition `name`; `[3]` when it has none):
- `multipart:file` the part body, when it is text (binary files yield none);
  a JSON or XML part is parsed as such, under that name (an XML file, such
  as an SVG, is also inspected as text: browsers render its markup);
- `multipart:file.filename` the filename (RFC 8187 `filename*` preferred);
- `multipart:file.content-type` the part's declared content type, for file
  parts and for unusual ones;
- a part declaring a charset such as UTF-7 or UTF-16 is also read in it
  (chain "utf-7"): `+ADw-script+AD4-` is `<script>` to whoever honours it;
- the name itself (role "key") when it is not plain.
Line breaks may be CRLF or bare LF (clients and test suites send both). A
part with `content-transfer-encoding: base64` or `quoted-printable` is
decoded first. The text given here is the body decoded as latin-1, which maps
bytes 1:1; each part's bytes are decoded as text on their own.
"""
from __future__ import annotations

import binascii
import quopri
from typing import TYPE_CHECKING

from extauthz.decode.media import EVASIVE_CODECS, codec_for, format_of, header_params, parse_media_type
from extauthz.decode.names import is_plain_name
from extauthz.decode.parsers.base import PARSERS, Where, register
from extauthz.decode.parsers.text import BINARY_SAMPLE, looks_binary
from extauthz.decode.utf8 import bytes_to_text

if TYPE_CHECKING:
    from extauthz.decode.collector import Collector

MAX_PART_HEADERS = 32
# A part's content type is an Input when the part is a file (upload checks want
# it) or when it uses characters beyond a plain `type/sub; charset=x`.
_PLAIN_TYPE = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/+-.;= "


def sniff_boundary(text: str) -> str:
    """The boundary from the body's first delimiter line, for a content type that lacks it."""
    start = text.lstrip("\r\n")
    if not start.startswith("--"):
        return ""
    line = start[2:start.find("\n")] if "\n" in start else ""
    return line.rstrip("\r").strip()


def _split_part(part: str) -> tuple[str, str]:
    """(headers, body) of one part, whatever its line breaks."""
    if part.startswith("\r\n"):
        return "", part[2:]
    if part.startswith("\n"):
        return "", part[1:]
    crlf = part.find("\r\n\r\n")
    lf = part.find("\n\n")
    if lf >= 0 and (crlf < 0 or lf < crlf):
        return part[:lf], part[lf + 2:]
    if crlf >= 0:
        return part[:crlf], part[crlf + 4:]
    return part, ""


def _part_body(raw: bytes, transfer: str) -> tuple[bytes, tuple[str, ...]]:
    if transfer == "base64":
        try:
            return binascii.a2b_base64(raw), ("base64",)
        except (binascii.Error, ValueError):
            return raw, ()
    if transfer == "quoted-printable":
        return quopri.decodestring(raw), ("qp",)
    return raw, ()


@register("multipart", kind="multipart")
def parse_multipart(c: Collector, text: str, at: Where) -> bool:
    kind = at.kind
    boundary = at.params.get("boundary", "") or sniff_boundary(text)
    if not boundary:
        return False
    delim = "--" + boundary
    first = text.find(delim)
    if first < 0:
        return False
    parts = text[first + len(delim):].split(delim, c.limits.max_inputs + 1)
    for index, part in enumerate(parts):
        if part.startswith("--"):
            break  # the closing delimiter
        nl = part.find("\n")
        if nl < 0:
            continue
        part = part[nl + 1:]
        if part.endswith("\r\n"):
            part = part[:-2]
        elif part.endswith("\n"):
            part = part[:-1]
        if not c.tick(kind, f"{at.prefix}[{index}]"):
            break
        head, body = _split_part(part)
        headers: dict[str, str] = {}
        for line in head.split("\n", MAX_PART_HEADERS)[:MAX_PART_HEADERS]:
            hname, colon, hvalue = line.partition(":")
            if colon:
                headers.setdefault(hname.strip().lower(), hvalue.strip())
        _, disp, _ = header_params(headers.get("content-disposition", ""))
        name = disp.get("name", "")
        field = at.prefix + (name or f"[{index}]")
        depth = at.depth
        if name and not is_plain_name(name):
            c.add(kind, field, name, role="key", chain=at.chain, depth=depth)
        filename = disp.get("filename")
        if filename:
            c.add(kind, field + ".filename", filename, chain=at.chain, depth=depth)
        ctype = headers.get("content-type", "")
        if ctype and (filename or ctype.strip(_PLAIN_TYPE)):
            c.add(kind, field + ".content-type", ctype, chain=at.chain, depth=depth)
        if not body:
            continue
        raw, undone = _part_body(body.encode("latin-1", "replace"),
                                 headers.get("content-transfer-encoding", "").lower())
        chain = at.chain + undone
        media = parse_media_type(ctype) if ctype else None
        fmt = format_of(media.mime) if media else None
        codec = codec_for(media.params.get("charset", "")) if media else None
        if codec in EVASIVE_CODECS:
            c.note("decode.evasive-charset", f"{kind}:{field}", ctype)
        if codec is None and fmt is None and looks_binary(bytes_to_text(raw[:BINARY_SAMPLE]).text):
            continue  # a binary file part (an image): skipped as before, without decoding all of it first
        decoded = bytes_to_text(raw)
        if codec is not None:  # a part in UTF-7 or UTF-16 reads differently: inspect both readings
            try:
                declared = raw.decode(codec)
            except (UnicodeDecodeError, ValueError):
                declared = decoded.text
            if declared != decoded.text:
                c.add(kind, field, declared, None, "value", chain + (codec,), depth)
        if fmt in ("json", "xml") and c.depth_ok(depth + 1, kind, field):
            parsed = PARSERS[fmt].parse(c, decoded.text, Where(kind, field, chain + (fmt,), depth + 1))
            if parsed and not (fmt == "xml" and filename):  # an uploaded SVG is markup a browser renders
                continue
        if looks_binary(decoded.text):
            continue
        if decoded.invalid and not filename:
            c.note("decode.invalid-utf8", f"{kind}:{field}", decoded.text)
        c.add(kind, field, decoded.text, chain=chain, depth=depth)
        if c.stopped:
            break
    return True
