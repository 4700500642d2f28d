"""Media types and header parameters: `type/subtype; a=1; b="x;y"`, read without regular expressions."""
from __future__ import annotations

from typing import NamedTuple

from extauthz.decode.layers.percent import decode_url


class MediaType(NamedTuple):
    mime: str  # lower-case type/subtype, "" when absent
    params: dict[str, str]  # lower-case names
    malformed: bool  # not `type/subtype`, or junk where a parameter should be


def header_params(text: str, max_params: int = 32) -> tuple[str, dict[str, str], bool]:
    """Split `value; k=v; k="quoted;value"` into (value, params, malformed)."""
    semi = text.find(";")
    head = (text if semi < 0 else text[:semi]).strip()
    params: dict[str, str] = {}
    malformed = False
    n = len(text)
    pos = n if semi < 0 else semi + 1
    while pos < n and len(params) < max_params:
        eq = text.find("=", pos)
        semi = text.find(";", pos)
        if eq < 0 or (0 <= semi < eq):
            if text[pos:(n if semi < 0 else semi)].strip():
                malformed = True
            if semi < 0:
                break
            pos = semi + 1
            continue
        key = text[pos:eq].strip().lower()
        k = eq + 1
        while k < n and text[k] in " \t":
            k += 1
        if text[k:k + 1] == '"':
            end = k + 1
            while True:
                end = text.find('"', end)
                if end < 0 or text[end - 1] != "\\":
                    break
                end += 1
            if end < 0:
                value, pos = text[k + 1:], n
                malformed = True
            else:
                value = text[k + 1:end].replace('\\"', '"')
                semi = text.find(";", end)
                pos = n if semi < 0 else semi + 1
        else:
            semi = text.find(";", k)
            value = text[k:(n if semi < 0 else semi)].strip()
            pos = n if semi < 0 else semi + 1
        if key.endswith("*"):  # RFC 8187: charset'lang'percent-encoded, preferred over the plain one
            _, _, encoded = value.partition("'")
            _, _, encoded = encoded.partition("'")
            params[key[:-1]] = decode_url(encoded).value
        elif key:
            params.setdefault(key, value)
    return head, params, malformed


def parse_media_type(text: str) -> MediaType:
    head, params, malformed = header_params(text)
    mime = head.lower()
    kind, slash, sub = mime.partition("/")
    if mime and (not slash or not kind or not sub or " " in mime):
        malformed = True
    return MediaType(mime, params, malformed)


def format_of(mime: str) -> str | None:
    """The parser for a declared media type, or None (unknown or binary: sniff)."""
    if mime == "application/x-www-form-urlencoded":
        return "urlencoded"
    if mime.startswith("multipart/"):
        return "multipart"
    if mime.endswith("/json") or mime.endswith("+json") or mime in ("application/csp-report", "application/jsonrequest"):
        return "json"
    if mime.endswith("/xml") or mime.endswith("+xml"):
        return "xml"
    if mime == "application/graphql":
        return "graphql"
    if mime.startswith("text/"):
        return "text"
    return None


# Charsets a body or part may declare that change how its bytes read; UTF-8
# (and anything unknown) is read by extauthz.decode.utf8 instead.
_CODECS = {
    "utf-16": "utf-16", "utf-16le": "utf-16-le", "utf-16be": "utf-16-be",
    "utf-32": "utf-32", "utf-32le": "utf-32-le", "utf-32be": "utf-32-be",
    "iso-8859-1": "latin-1", "latin1": "latin-1", "latin-1": "latin-1", "us-ascii": "latin-1",
    "windows-1252": "cp1252", "cp1252": "cp1252", "utf-7": "utf-7",
    # EBCDIC: IIS/ASP.NET honour these for form bodies, a known WAF bypass
    "ibm037": "cp037", "cp037": "cp037", "ibm500": "cp500", "cp500": "cp500", "ibm875": "cp875",
    "cp875": "cp875", "ibm1026": "cp1026", "cp1026": "cp1026", "ibm273": "cp273", "cp273": "cp273",
    "ibm01140": "cp1140", "cp1140": "cp1140",
}
# Charsets no ordinary client sends, but that some servers honour: declaring
# one is itself a sign of evasion.
EVASIVE_CODECS = frozenset({"utf-7", "cp037", "cp500", "cp875", "cp1026", "cp273", "cp1140"})


def codec_for(charset: str) -> str | None:
    """The Python codec for a declared charset other than UTF-8, or None."""
    return _CODECS.get(charset.strip().strip('"').lower()) if charset else None
