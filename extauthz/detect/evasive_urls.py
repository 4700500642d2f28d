"""URLs spelled to slip past a link filter: what an injected `<a href>` or `<img src>` uses.

A link in user markup is ordinary; a link whose URL is written so that a filter
and the browser read different hosts is not. The spellings (the "URL string
evasion" section of every XSS cheat sheet), all of which browsers still follow:

- blanks or character references inside the scheme or host: `h tt\\tp://`,
  `http&#58;//`, `6&#09;6.102.7.147` (browsers drop tabs and newlines in URLs and
  decode references in attributes; filters match the plain spelling);
- an IP address in an unusual spelling: `0x42.0000146.0x7.0x93`, `1113982867`;
- a host name in the user-info part: `http://bank.example@evil.example/`;
- a port that is not a number, or a host with colons: `http://google:ha.ckers.org`;
- a second scheme glued to the host: `http://www.gohttp://www.google.com/ogle.com/`.

Plain loops over a bounded prefix of the value; no regular expressions.
"""
from __future__ import annotations

from extauthz.detect.html_tokens import decode_entities
from extauthz.detect.urlparts import FETCH_SCHEMES, classify_host

MAX_URL_HEAD = 512
_BLANKS = frozenset(" \t\r\n\x0b\x0c")
_QUOTES = "\"'` \t\r\n\\"


def evasive_url(raw: str) -> str:
    """Why the URL in an attribute value (raw, references not decoded) is spelled to evade; '' if not."""
    head = raw[:MAX_URL_HEAD].strip(_QUOTES)
    if ":" not in head and "&" not in head:
        return ""
    decoded = decode_entities(head)
    sep = decoded.find("://")
    if sep <= 0 or sep > 32:
        return ""
    scheme_text = decoded[:sep]
    scheme = "".join(c for c in scheme_text if c not in _BLANKS).lower()
    if scheme not in FETCH_SCHEMES:
        return ""
    rest = decoded[sep + 3:]
    end = 0
    while end < len(rest) and rest[end] not in "/?#\\":
        end += 1
    authority = rest[:end]
    k = head.find("//") + 2 if "//" in head else 0
    while k < len(head) and head[k] not in "/?#\\":
        k += 1
    raw_prefix = head[:k]  # the scheme and authority as written
    if scheme_text != scheme_text.strip() or any(c in _BLANKS for c in scheme_text) \
            or any(c in _BLANKS for c in authority):
        return "blanks inside the scheme or host"
    if "&#" in raw_prefix or "&colon;" in raw_prefix.lower() or "&period;" in raw_prefix.lower():
        return "character references inside the scheme or host"
    userinfo, at, hostport = authority.rpartition("@")
    if at and "." in userinfo:
        return "a host name in the user-info part"
    host, _, port = hostport.partition(":")
    if port and not port.isdigit():
        return "a port that is not a number"
    if host.endswith(("http", "https", "ftp")) and rest[end:end + 2] == "//":
        return "a second scheme glued to the host"
    info = classify_host(host) if host and not host.startswith("[") else None
    if info is not None and info.ip_literal and info.obfuscated:
        return "an IP address in an unusual spelling"
    return ""
