"""The request body: choose its parser by content type, or by sniffing when
the type is missing, unknown, or wrong.

- Only the first `body_limit` bytes (the policy's) are inspected; a longer
  body is reported (limit.body: MEDIUM for text formats, where padding is
  the evasion; LOW for multipart and binary types, where large uploads are
  normal). A body Envoy truncated (Request.body_truncated) is reported as
  limit.body-truncated. A truncated JSON document cannot be parsed; its text
  is then inspected as one value.
- A gzip or deflate content-encoding is undone first (output capped at
  body_limit; chain "gzip"/"deflate"); other encodings are reported.
- Text is decoded by the content type's charset when it is one we know
  (UTF-8, UTF-16/32 with or without BOM, latin-1, UTF-7), else as UTF-8 with
  latin-1 for stray bytes.
- A declared JSON/XML/form/GraphQL body that does not parse is reported
  (decode.malformed-body) and sniffed; a body of an unknown or binary type
  that sniffs as JSON/XML/form is parsed as that and reported
  (decode.content-type-mismatch). `text/*` bodies are sniffed silently
  (text/plain JSON is common in CORS-simple requests).
- A body still in chunked transfer coding (Transfer-Encoding: chunked and it
  parses as chunks; Envoy normally de-chunks first) is read as its payload.
"""
from __future__ import annotations

import zlib
from typing import TYPE_CHECKING, Mapping

from extauthz.decode.chunked import dechunk
from extauthz.decode.media import EVASIVE_CODECS, codec_for, format_of, parse_media_type
from extauthz.decode.parsers import PARSERS, Where
from extauthz.decode.parsers.graphql import is_graphql_request, walk_request
from extauthz.decode.parsers.jsondoc import TOO_DEEP, load, walk
from extauthz.decode.parsers.text import BINARY_SAMPLE, looks_binary
from extauthz.decode.utf8 import bytes_to_text
from extauthz.finding import Severity
from extauthz.request import Request

if TYPE_CHECKING:
    from extauthz.decode.collector import Collector

_BOMS = ((b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe\x00\x00", "utf-32"), (b"\x00\x00\xfe\xff", "utf-32"),
         (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16"))
_BINARY_PREFIXES = ("image/", "audio/", "video/", "font/")
_BINARY_TYPES = frozenset({"application/octet-stream", "application/pdf", "application/zip",
                           "application/gzip", "application/x-protobuf", "application/protobuf",
                           "application/grpc", "application/x-tar"})


def body_text(c: Collector, body: bytes, charset: str) -> str:
    codec = codec_for(charset)
    if codec in EVASIVE_CODECS:
        c.note("decode.evasive-charset", "header:content-type", charset)
    if codec is None:
        for bom, name in _BOMS:
            if body.startswith(bom):
                codec = name
                break
    if codec is not None:
        return body.decode(codec, "replace")
    decoded = bytes_to_text(body)
    if decoded.overlong:
        # raw bytes, not escapes someone spelled out: binary data sent as text
        # (curl --data-binary) holds C0 AF by chance, so a signal that needs company
        c.note("decode.overlong-utf8", "body", severity=Severity.MEDIUM)
    return decoded.text


def decompress(c: Collector, body: bytes, encodings: str, limit: int) -> tuple[bytes, tuple[str, ...]]:
    """Undo `content-encoding: gzip` / `deflate` (a backend that inflates the
    body would otherwise see a payload the WAF never read). The output is
    capped at `limit` bytes, so a compression bomb costs no more than a body
    of that size; anything else unknown is reported and left as is."""
    chain: tuple[str, ...] = ()
    for enc in reversed([e.strip().lower() for e in encodings.split(",") if e.strip()]):
        if enc in ("identity", ""):
            continue
        if enc not in ("gzip", "x-gzip", "deflate"):
            c.note("decode.content-encoding", "header:content-encoding", encodings)
            break
        attempts = (31,) if enc != "deflate" else (15, -15)  # deflate: zlib-wrapped, or raw as some clients send
        for wbits in attempts:
            try:
                inflater = zlib.decompressobj(wbits)
                out = inflater.decompress(body, limit + 1)
            except zlib.error:
                continue
            break
        else:
            c.note("decode.malformed-body", "body", f"not {enc} data")
            break
        if len(out) > limit or inflater.unconsumed_tail:
            c.note("limit.body", "body", severity=Severity.MEDIUM)
            out = out[:limit]
        body = out
        chain += (enc,)
    return body, chain


_STRUCTURED = frozenset({"json", "xml", "urlencoded", "graphql"})


def _has_bom(body: bytes) -> bool:
    return any(body.startswith(bom) for bom, _ in _BOMS)  # UTF-16/32 text: body_text decodes it as such


def _binary_head(body: bytes) -> bool:
    """Would the whole body, read as text, sniff as plain text that looks binary?

    Decides from the head alone (sniff and looks_binary read at most the first
    BINARY_SAMPLE characters, which come from at most 4 bytes each), so that a
    128 KiB upload is not decoded whole (about 60 µs per KiB) only to be skipped."""
    head = bytes_to_text(body[:4 * BINARY_SAMPLE]).text[:BINARY_SAMPLE]
    return head.strip() != "" and looks_binary(head) and sniff(head) == "text"


def sniff(text: str) -> str:
    """The format a body's text looks like: json, xml, multipart, urlencoded or text."""
    s = text.lstrip()[:1]
    if s == "{" or s == "[":
        return "json"
    if s == "<":
        return "xml"
    if s == "-" and text.lstrip().startswith("--") and "content-disposition:" in text[:1024].lower():
        return "multipart"
    head = text[:256]
    name, eq, _ = head.partition("=")
    if eq and name and not name.strip("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.[]%+"):
        return "urlencoded"
    return "text"


def _parse(c: Collector, fmt: str, text: str, params: Mapping[str, str], chain: tuple[str, ...]) -> bool:
    parser = PARSERS[fmt]
    if fmt != "json":
        return parser.parse(c, text, Where(parser.kind, "", chain, 0, params))
    at = Where("json", "", chain)
    doc = load(c, text, at)
    if doc is None:
        return False
    if doc is TOO_DEEP:
        c.add("json", "$", text, None, "value", chain, 0, False)
    elif is_graphql_request(doc):
        walk_request(c, doc, at)
    else:
        walk(c, doc, at, "$")
    return True


def collect_body(c: Collector, request: Request, body_limit: int) -> None:
    body = request.body
    if body and "chunked" in (request.header("transfer-encoding") or "").lower():
        body = dechunk(body) or body  # only when it really parses as chunks (Envoy normally de-chunks)
    if not body and not request.body_truncated:
        return
    ctypes = request.headers.get("content-type", ())
    media = parse_media_type(ctypes[0] if ctypes else "")
    if len({parse_media_type(t).mime for t in ctypes}) > 1:
        c.note("decode.content-type-conflict", "header:content-type", " | ".join(ctypes))
    if media.malformed:
        c.note("decode.content-type-malformed", "header:content-type", ctypes[0])
    declared = format_of(media.mime)
    binary = media.mime in _BINARY_TYPES or media.mime.startswith(_BINARY_PREFIXES)
    if request.body_truncated:
        c.note("limit.body-truncated", "body")
    if not body:
        return
    if len(body) > body_limit:
        c.note("limit.body", "body", severity=Severity.LOW if declared == "multipart" or binary else Severity.MEDIUM)
        body = body[:body_limit]
        if not body:
            return
    cut = request.body_truncated or len(request.body) > body_limit
    chain: tuple[str, ...] = ()
    encodings = request.headers.get("content-encoding")
    if encodings:
        body, chain = decompress(c, body, ", ".join(encodings), body_limit)
    if declared == "multipart":
        if PARSERS["multipart"].parse(c, body.decode("latin-1"), Where("multipart", "", chain, 0, media.params)):
            return
        c.note("decode.malformed-body", "body", body[:64].decode("latin-1"))
        declared = None
    charset = media.params.get("charset", "")
    if declared not in _STRUCTURED and not charset and not _has_bom(body) and _binary_head(body):
        return  # an image, an archive, a binary PUT: no text to inspect, and no need to decode it all
    text = body_text(c, body, charset)
    found = sniff(text)
    if found == "multipart":  # parts are read from the bytes, latin-1 keeps them 1:1
        text = body.decode("latin-1")
    if declared == "urlencoded" and found in ("json", "xml") and _parse(c, found, text, media.params, chain):
        c.note("decode.content-type-mismatch", "body", text)
        return
    if declared in ("json", "xml", "urlencoded", "graphql"):
        if _parse(c, declared, text, media.params, chain):
            return
        if not cut:
            c.note("decode.malformed-body", "body", text)
    if found != "text" and found != declared and _parse(c, found, text, media.params, chain):
        if declared not in ("text", None) or binary or media.malformed:
            c.note("decode.content-type-mismatch", "body", text)
        return
    if binary:
        return
    PARSERS["text"].parse(c, text, Where("body", "", chain))
