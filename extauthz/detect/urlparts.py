"""A bounded URL finder and parser, and what a URL's host really is.

SSRF payloads rely on parsers disagreeing: `http:2852039166`, `0x7f.1`,
`[::ffff:a9fe:a9fe]`, `ⓛⓞⓒⓐⓛⓗⓞⓢⓣ`, `http://a.com%2f@evil/`. We parse
leniently (like the most lenient fetcher would), collect every host a parser
might pick, and classify each after normalising its spelling. Hosts that are
IP literals go through Python's ipaddress; everything else is string work with
explicit bounds. No regular expressions on request data.
"""
from __future__ import annotations

import enum
import ipaddress
import unicodedata
from dataclasses import dataclass

from extauthz.rules import rule_yaml

MAX_SCAN = 8192  # characters of a value searched for URLs
MAX_URLS = 8
MAX_URL = 2048
MAX_HOST = 255
MAX_SCHEME = 24
MAX_COLONS = 256

_DATA = rule_yaml("urls.yaml")
DANGEROUS_SCHEMES = frozenset(_DATA["dangerous_schemes"])
FETCH_SCHEMES = frozenset(_DATA["fetch_schemes"])
KNOWN_SCHEMES = DANGEROUS_SCHEMES | FETCH_SCHEMES
# Special schemes (WHATWG): slashes after the colon are optional and `\` is `/`.
SPECIAL_SCHEMES = frozenset({"http", "https", "ftp", "ftps", "ws", "wss"})
_LOOPBACK_NAMES = frozenset(_DATA["loopback_names"])
_METADATA = frozenset(h.lower() for h in _DATA["metadata_hosts"])
_INTERNAL_SUFFIXES = tuple(_DATA["internal_suffixes"])
_REBINDING_SUFFIXES = tuple(_DATA["rebinding_suffixes"])
_REBINDING_NAMES = frozenset(_DATA["rebinding_names"])
_INTERNAL_NAMES = frozenset(_DATA["internal_names"])

_SCHEME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789+.-_")
_URL_END = frozenset(" \t\r\n\"'<>`{}|^")
_AUTHORITY_END = frozenset("/?#\\")
# Dots that IDNA maps to `.`.
_DOTS = str.maketrans({"\u3002": ".", "\uff0e": ".", "\uff61": "."})


@dataclass(frozen=True, slots=True)
class UrlRef:
    """One URL found in a value."""

    scheme: str
    start: int  # offsets in the searched value
    end: int
    authority: bool  # the URL names a host
    host: str  # as the standard parser sees it (lower-case, raw)
    port: str
    path: str
    query: str | None  # None: no `?` at all
    other_hosts: tuple[str, ...]  # hosts another parser might pick (`@` tricks)
    confused: bool  # userinfo or `@` placement that parsers disagree on

    @property
    def trailing_question(self) -> bool:
        """`http://evil/shell.txt?`: a `?` that swallows whatever the app appends."""
        return self.query is not None and self.query.strip("?") == ""


def find_urls(value: str) -> list[UrlRef]:
    """URLs with a known scheme in `value` (whole value or embedded)."""
    text = value[:MAX_SCAN]
    low = text.lower()
    if "%3a" in low:
        # a URL percent-encoded once more than the rest (`ftp%3A%2F%2F1.1.1.1` in XML)
        low = low.replace("%3a", ":").replace("%2f", "/")
    out: list[UrlRef] = []
    pos = low.find(":")
    colons = 0
    while pos >= 0 and len(out) < MAX_URLS and colons < MAX_COLONS:
        colons += 1
        i = pos
        while i > 0 and pos - i < MAX_SCHEME and low[i - 1] in _SCHEME_CHARS:
            i -= 1
        scheme = low[i:pos].lstrip(".-+_0123456789")
        if scheme in KNOWN_SCHEMES:
            ref = _parse(low, pos - len(scheme), scheme, pos + 1)
            if ref is not None:
                out.append(ref)
        pos = low.find(":", pos + 1)
    return out


def _parse(low: str, start: int, scheme: str, i: int) -> UrlRef | None:
    n = min(len(low), start + MAX_URL)
    end = i
    while end < n and low[end] not in _URL_END:
        end += 1
    rest = low[i:end]
    special = scheme in SPECIAL_SCHEMES
    slashes = 0
    while slashes < len(rest) and rest[slashes] in "/\\":
        slashes += 1
    if not rest:
        return None
    has_authority = slashes >= 2 or (special and (slashes >= 1 or rest[:1].isalnum() or rest.startswith("[")))
    if not has_authority:
        path, _, query = rest.partition("?")
        return UrlRef(scheme, start, end, False, "", "", path, query if "?" in rest else None, (), False)
    body = rest[slashes:]
    # the authority ends at the first separator; `\` counts for special schemes
    k = 0
    while k < len(body) and body[k] not in ("/?#\\" if special else "/?#"):
        k += 1
    authority, tail = body[:k], body[k:]
    confused = False
    other_hosts: list[str] = []
    userinfo, at, hostport = authority.rpartition("@")
    if at and ("@" in userinfo or "\\" in userinfo or " " in userinfo or "&" in userinfo):
        confused = True
    if at:
        first = userinfo.split(":", 1)[0]
        if first and "." in first:
            other_hosts.append(first)  # a parser that stops at the first `@`
    if special and body[k:k + 1] == "\\":
        # `http://\l\o\c\a\l\h\o\s\t/`: parsers that drop backslashes see another host
        k2 = 0
        while k2 < len(body) and body[k2] not in "/?#":
            k2 += 1
        alt = _split_port(body[:k2].rpartition("@")[2].replace("\\", ""))[0]
        if alt:
            other_hosts.append(alt)
            confused = True
    # `http://good.com/@evil.com`, `http://good.com%2f:x@evil.com`: a host-like `@name`
    # in the first path segment is where parsers disagree on the authority
    seg_end = tail.find("/", 1)
    first_seg = tail[: seg_end if seg_end > 0 else len(tail)]
    at_in_seg = first_seg.rfind("@")
    if at_in_seg >= 0 and "." in _host_part(first_seg[at_in_seg + 1:]):
        confused = True
    # `@host` later in the URL, or after a space when the URL is the whole value
    # (`http://a:80 &@b:80# @c:22/`)
    far = end
    if start == 0:
        while far < n and far - end < MAX_URL and low[far] not in "\r\n\"'<>`":
            far += 1
    at_pos = low.find("@", i + slashes + k, far)
    while at_pos >= 0 and len(other_hosts) < 4:
        cand = _host_part(low[at_pos + 1:far])
        if cand:
            other_hosts.append(cand)
            if at_pos >= end:
                confused = True
        at_pos = low.find("@", at_pos + 1, far)
    host, port = _split_port(hostport)
    if "\\" in host:
        host = host.replace("\\", "")
    path, qm, query = tail.partition("?")
    return UrlRef(scheme, start, end, True, host[:MAX_HOST], port, path, query if qm else None,
                  tuple(h for h in other_hosts if h and h != host), confused)


def _host_part(s: str) -> str:
    k = 0
    while k < len(s) and k < MAX_HOST and s[k] not in "/?#\\@ ":
        k += 1
    return _split_port(s[:k])[0]


def _split_port(hostport: str) -> tuple[str, str]:
    if hostport.startswith("["):
        close = hostport.find("]")
        if close < 0:
            return hostport, ""
        host, rest = hostport[: close + 1], hostport[close + 1:]
        return host, rest[1:] if rest.startswith(":") else ""
    if hostport.count(":") == 1:
        host, _, port = hostport.partition(":")
        return host, port
    return hostport, ""


@dataclass(frozen=True, slots=True)
class BareHost:
    """A value that is a host name without a scheme: `localhost/`, `kubernetes.default:443/api`."""

    host: str
    port: str
    path: str  # from the first `/` on ('' when none)


_HOST_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789.-_[]:")


def bare_host(value: str) -> BareHost | None:
    """The value read as `host[:port][/path]` with no scheme, or None.

    Apps that take a host or a URL often prepend `http://` themselves, so a bare
    internal name is as good as a URL to an attacker. Only the whole value counts
    (one token, no blanks); the host must be a name or bracketed IPv6 followed by
    an optional numeric port."""
    v = value.strip()
    if not v or len(v) > MAX_URL or not (v[0].isalnum() or v[0] == "["):
        return None
    k = 0
    n = min(len(v), MAX_HOST + 8)
    while k < n and v[k] not in "/?#":
        k += 1
    hostport = v[:k].lower()
    if not hostport or not _HOST_CHARS.issuperset(hostport):
        return None
    if any(c.isspace() for c in v[k:k + 256]):
        return None
    host, port = _split_port(hostport)
    if port and not port.isdigit() or not host or ":" in host and not host.startswith("["):
        return None
    return BareHost(host, port, v[k:])


# ---------------------------------------------------------------- hosts


class HostKind(str, enum.Enum):
    METADATA = "metadata"  # cloud metadata service
    LOOPBACK = "loopback"
    UNSPECIFIED = "unspecified"  # 0.0.0.0, [::]: the local host to most stacks
    PRIVATE = "private"  # RFC 1918, ULA, CGNAT
    LINK_LOCAL = "link-local"
    RESERVED = "reserved"  # multicast, reserved, documentation
    INTERNAL_NAME = "internal-name"  # *.internal, *.svc.cluster.local, ...
    REBINDING = "rebinding"  # nip.io & co.
    PUBLIC_IP = "public-ip"
    NAME = "name"
    INVALID = "invalid"


INTERNAL_KINDS = frozenset({HostKind.METADATA, HostKind.LOOPBACK, HostKind.UNSPECIFIED,
                            HostKind.PRIVATE, HostKind.LINK_LOCAL, HostKind.INTERNAL_NAME, HostKind.REBINDING})


@dataclass(frozen=True, slots=True)
class HostInfo:
    kind: HostKind
    name: str  # normalised host (address in canonical form for IPs)
    ip_literal: bool
    obfuscated: bool  # spelled unusually: decimal/hex/octal IPv4, mapped IPv6, lookalikes


def normalise_host(raw: str) -> tuple[str, bool]:
    """Lower-case, NFKC (ⓛⓞⓒⓐⓛ → local, ① → 1), IDNA dots; trailing dot dropped."""
    h = raw[:MAX_HOST]
    changed = False
    if not h.isascii():
        h2 = unicodedata.normalize("NFKC", h.translate(_DOTS))
        changed = h2 != h
        h = h2
    h = h.lower().rstrip(".")
    return h, changed


def parse_ipv4_loose(host: str) -> tuple[int, bool] | None:
    """inet_aton's reading of a host: 1-4 parts, each decimal, octal (0…) or hex (0x…).

    Returns (address, spelled unusually). A single number wider than 32 bits
    keeps its low 32 bits, as some fetchers do (`0x41414141A9FEA9FE`).
    """
    parts = host.split(".")
    if not 1 <= len(parts) <= 4:
        return None
    values = []
    odd = len(parts) != 4
    for p in parts:
        if not p or len(p) > 24:
            return None
        if p[:2] == "0x":
            digits, base = p[2:], 16
            odd = True
            if digits and not all(c in "0123456789abcdef" for c in digits):
                return None
        elif len(p) > 1 and p[0] == "0":
            digits, base = p[1:], 8
            odd = True
            if not all(c in "01234567" for c in digits):
                return None
        else:
            digits, base = p, 10
            if not digits.isdigit() or not digits.isascii():
                return None
        values.append(int(digits, base) if digits else 0)
    *head, last = values
    if any(v > 255 for v in head):
        return None
    room = 1 << (8 * (4 - len(head)))
    if last >= room:
        if head:
            return None
        last &= 0xFFFFFFFF
        odd = True
    addr = 0
    for v in head:
        addr = addr * 256 + v
    addr = addr * room + last
    return addr, odd


def classify_host(raw: str) -> HostInfo:
    host, odd = normalise_host(raw)
    if not host:
        return HostInfo(HostKind.INVALID, host, False, odd)
    if host.startswith("["):
        inner = host[1:].split("]", 1)[0].split("%", 1)[0]
        try:
            ip6 = ipaddress.IPv6Address(inner)
        except ValueError:
            return HostInfo(HostKind.INVALID, host, True, odd)
        return _classify_ip(ip6, odd)
    if host in _METADATA:
        return HostInfo(HostKind.METADATA, host, False, odd)
    if host[0].isdigit():
        v4 = parse_ipv4_loose(host)
        if v4 is not None:
            addr, spelled = v4
            return _classify_ip(ipaddress.IPv4Address(addr), odd or spelled)
    if host in _LOOPBACK_NAMES:
        return HostInfo(HostKind.LOOPBACK, host, False, odd)
    if host.endswith(_REBINDING_SUFFIXES) or host in _REBINDING_NAMES:
        return HostInfo(HostKind.REBINDING, host, False, odd)
    if host.endswith(_INTERNAL_SUFFIXES) or host in _INTERNAL_NAMES:
        return HostInfo(HostKind.INTERNAL_NAME, host, False, odd)
    return HostInfo(HostKind.NAME, host, False, odd)


def _classify_ip(ip: ipaddress.IPv4Address | ipaddress.IPv6Address, odd: bool) -> HostInfo:
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or ip.sixtofour or _compat_v4(ip) or _nat64_v4(ip)
        if embedded is not None:
            inner = _classify_ip(embedded, True)
            return HostInfo(inner.kind, inner.name, True, True)
    name = str(ip)
    if name in _METADATA:
        return HostInfo(HostKind.METADATA, name, True, odd)
    if ip.is_loopback:
        kind = HostKind.LOOPBACK
    elif ip.is_unspecified:
        kind = HostKind.UNSPECIFIED
    elif ip.is_link_local:
        kind = HostKind.LINK_LOCAL
    elif ip.is_private or (isinstance(ip, ipaddress.IPv4Address) and ip in _CGNAT):
        kind = HostKind.PRIVATE
    elif ip.is_multicast or ip.is_reserved:
        kind = HostKind.RESERVED
    else:
        kind = HostKind.PUBLIC_IP
    return HostInfo(kind, name, True, odd)


_CGNAT = ipaddress.IPv4Network("100.64.0.0/10")
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


def _compat_v4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """`::a.b.c.d` (deprecated IPv4-compatible form), but not `::` or `::1`."""
    v = int(ip)
    if v >> 32 == 0 and v > 1:
        return ipaddress.IPv4Address(v)
    return None


def _nat64_v4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


_HEX = frozenset("0123456789abcdefABCDEF")


def percent_once(value: str) -> str:
    """One layer of %XX decoding (ASCII bytes only), in one linear pass.

    What a later component does to a value that is still encoded: a browser running
    a javascript: URL, a server decoding a header once more. Escapes of non-ASCII
    bytes and stray `%` stay as written (the full decoder is decode/layers/percent.py)."""
    out: list[str] = []
    i = 0
    n = len(value)
    while i < n:
        j = value.find("%", i)
        if j < 0:
            out.append(value[i:])
            break
        out.append(value[i:j])
        h = value[j + 1:j + 3]
        if len(h) == 2 and h[0] in _HEX and h[1] in _HEX and int(h, 16) < 0x80:
            out.append(chr(int(h, 16)))
            i = j + 3
        else:
            out.append("%")
            i = j + 1
    return "".join(out)
