"""Protocol anomalies that matter for security behind Envoy (CRS 920/921/922).

What a WAF in a mesh must care about is not RFC pedantry but the places where
two parsers can read one request differently, or where a header asks a
server to do something dangerous:

- framing: Transfer-Encoding with Content-Length, obfuscated or repeated TE,
  a non-numeric or repeated Content-Length, TE or a form body on GET/HEAD
  (request smuggling and parameter smuggling);
- host: empty, repeated or malformed Host / X-Forwarded-Host (routing, cache
  poisoning); an IP address as Host at the edge is only noted (LOW);
- method: echo/debug methods (TRACE, TRACK, DEBUG) and CONNECT; method
  override (`X-HTTP-Method-Override`, `_method`) that turns a GET into a
  write or asks for TRACE (a plain POST→DELETE override, as Rails and Express
  forms do, is LOW);
- Range abuse: invalid, overlapping or very many ranges; Request-Range;
- Content-Type tricks: a charset in which ASCII bytes are not ASCII (UTF-7,
  EBCDIC, UTF-16) or that no server decodes, repeated parameters, a media
  type or `charset=` hidden in another parameter, junk in the type; the same
  per multipart part, for `_charset_`, Accept and x-up-devcap-post-charset;
- multipart part headers: names with characters outside the token set,
  repeated Content-Disposition or parameters, `;` `=` `"` `\\` inside a
  field name, escaped quotes or stray backslashes in a filename,
  Content-Transfer-Encoding;
- headers: `Proxy` (httpoxy), `Translate`, hop-by-hop abuse in `Connection`,
  invalid header names, raw CR/LF/NUL; `$Version` cookies (cookie smuggling);
- NUL percent-encoded into a URL part or form field (`?file=a%00.jpg`, `login=%00`):
  C-string truncation and filter evasion; no client sends it, and CRS blocks it at
  paranoia level 1 (920270). JSON and multipart bodies are left to decode.null-byte
  (binary-ish payloads, file parts);
- spelling: letters and digits percent-encoded (twice: always evasion), JS
  escapes of ASCII letters outside JSON, IIS `%uFFxx` fullwidth escapes, a
  name glued after an array bracket (`a[1]x=`); `unix:...|http://` (mod_proxy).

Policy questions (which methods, content types or extensions a site allows,
missing Accept or User-Agent headers, argument counts and lengths, duplicate
or array parameters, an off-site URL) are not blocking findings: API clients
and probes legitimately differ there.

What ext_authz sees behind Envoy (tests/test_protocol_envoy.py, real edge):
Envoy answers 400 itself to Content-Length with Transfer-Encoding, to methods
outside its known set and to malformed request lines, so those never reach
us; it removes Connection, Keep-Alive, Proxy-Connection and Transfer-Encoding
and de-chunks the body before asking, and Host arrives as :authority. The
framing checks below (TE, CL.TE, Connection) therefore only fire behind other
proxies, in `extauthz check`, and on replayed corpora; they stay because they
are cheap. End-to-end headers (Range, Request-Range, Proxy, Translate,
Content-Type and its parameters, multipart part headers) and all encodings
do reach ext_authz and are what this detector is for behind Envoy.
"""
from __future__ import annotations

import ipaddress
import string
from typing import Iterable, Sequence

from extauthz.decode import Input
from extauthz.decode.media import EVASIVE_CODECS, codec_for, header_params
from extauthz.decode.parsers.multipart import sniff_boundary
from extauthz.detect.base import Detector, register
from extauthz.detect.charsets import charset_risk
from extauthz.detect.multipart_parts import Param, part_heads, split_params
from extauthz.detect.ranges import parse_range
from extauthz.detect.raw_markers import ENCODED_ALNUM, raw_markers
from extauthz.detect.urlparts import percent_once
from extauthz.finding import Finding, Severity, excerpt
from extauthz.request import Hop, Request
from extauthz.rules import rule_yaml

HIGH, MEDIUM, LOW = Severity.HIGH, Severity.MEDIUM, Severity.LOW

_DATA = rule_yaml("protocol.yaml")
STANDARD_METHODS = frozenset(_DATA["methods"]["standard"])
KNOWN_METHODS = frozenset(_DATA["methods"]["known"])
DEBUG_METHODS = frozenset(_DATA["methods"]["debug"])
TUNNEL_METHODS = frozenset(_DATA["methods"]["tunnel"])
ALL_METHODS = STANDARD_METHODS | KNOWN_METHODS | DEBUG_METHODS | TUNNEL_METHODS
OVERRIDE_HEADERS = tuple(_DATA["override_headers"])
OVERRIDE_PARAMS = frozenset(_DATA["override_params"])
PROTECTED_HEADERS = frozenset(_DATA["protected_from_hop_by_hop"])
RESTRICTED_HEADERS: dict[str, tuple[Severity, str]] = {
    name: (Severity.parse(level), why) for level, items in _DATA["restricted_headers"].items()
    for name, why in items.items()}

# Headers whose presence sends the request down the slower checks below.
_NOTABLE_HEADERS = frozenset({"transfer-encoding", "connection", "range", "x-forwarded-host", "accept-charset",
                              "x-up-devcap-post-charset", *OVERRIDE_HEADERS,
                              *RESTRICTED_HEADERS})
_SAFE_METHODS = frozenset({"GET", "HEAD"})
_OUTSIDE_HOPS = frozenset({Hop.EDGE, Hop.GATEWAY})
_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")

_TOKEN = string.ascii_letters + string.digits + "!#$%&'*+-.^_`|~"
TOKEN_CHARS = frozenset(_TOKEN)
_DROP_TOKEN = str.maketrans("", "", _TOKEN)
_DROP_TOKEN_CHARS = str.maketrans("", "", _TOKEN + ":")
# Characters no Host can hold (RFC 9110 uri-host allows pct-encoded and sub-delims,
# so `%` `!` `;` ... pass); `@` `/` `\` and spaces are the host-injection ones.
_HOST_BAD = frozenset(' /?#@"<>\\^`{}|') | frozenset(chr(c) for c in range(32)) | {"\x7f"}
_MIME_CHARS = frozenset(string.ascii_lowercase + string.digits + ".+-_")
# Parameters whose values are media types by definition (multipart/related, RFC 2387).
_MIME_VALUED_PARAMS = frozenset({"type", "start-info", "profile"})
_BOUNDARY_CHARS = string.ascii_letters + string.digits + "'()+_,-./:=? "
_CONTROL = frozenset(chr(c) for c in range(32) if c not in (9,)) | {"\x7f"}
_CONTROL_NO_BREAKS = _CONTROL - {"\r", "\n", "\x00"}  # line breaks: crlf; NUL: decode.null-byte
_CONTROL_KINDS = frozenset({"query", "path", "cookie", "header", "form"})

MAX_HEADER_VALUE = 8192
MAX_BODY_SCAN = 1 << 20
MANY_RANGES = 6
TOO_MANY_RANGES = 64
_PERCENT_ALNUM = frozenset(f"{h:02x}" for h in (*range(0x30, 0x3a), *range(0x41, 0x5b), *range(0x61, 0x7b)))
_ALNUM = frozenset(string.ascii_letters + string.digits)
# Unicode-escape kinds: JSON's own escapes are its syntax, not an evasion.
_ESCAPE_KINDS = frozenset({"query", "form", "path", "cookie", "multipart", "header"})


def _f(rule: str, sev: Severity, location: str, value: str, detail: str, start: int = 0, end: int | None = None,
       chain: tuple[str, ...] = ()) -> Finding:
    return Finding("protocol", rule, sev, location, excerpt(value, start, end, location) if value else "", chain,
                   detail=detail)


def _is_token(s: str) -> bool:
    return bool(s) and not s.translate(_DROP_TOKEN)


def _looks_like_mime(value: str) -> bool:
    """`application/json`, `foobar/foobar`: a whole value that is type/subtype."""
    v = value.strip().strip("\"'").lower()
    kind, slash, sub = v.partition("/")
    return bool(slash and kind and sub and kind.isalpha() and len(v) <= 128
                and all(c in _MIME_CHARS for c in sub))


@register
class Protocol(Detector):
    name = "protocol"
    # mod_proxy's `unix:/path|http://...` (CVE-2021-40438); the rest is request-level
    triggers = (r"unix:",)
    kinds = None

    def __init__(self) -> None:
        self._markers = raw_markers()

    def scan_input(self, inp: Input) -> Iterable[Finding]:
        value = inp.value
        at = value.lower().find("unix:")
        bar = value.find("|", at) if at >= 0 else -1
        if at < 0 or bar < 0:
            return ()
        after = value[bar + 1:bar + 16].lower()
        sev = HIGH if after.startswith(("http:", "https:", "ws:", "wss:", "ftp:", "fcgi:", "ajp:", "h2")) \
            or "/" in value[at:bar] else MEDIUM
        return (_f("protocol.unix-socket-url", sev, inp.location, value,
                   "`unix:` socket path with `|`: Apache mod_proxy SSRF (CVE-2021-40438)", at, bar + 16, inp.chain),)

    def scan_request(self, request: Request, inputs: Sequence[Input]) -> Iterable[Finding]:
        out: list[Finding] = []
        h = request.headers
        method = request.method
        if method not in STANDARD_METHODS and method:
            _method(method, out)
        _host(request, out)
        if not _NOTABLE_HEADERS.isdisjoint(h):
            _notable_headers(request, out)
        if request.body or "content-length" in h:
            _body_framing(request, out)
        ctype = h.get("content-type")
        if ctype:
            _content_type(request, ctype, out)
        cookies = h.get("cookie")
        if cookies and any("$" in c for c in cookies):
            _cookie_v1(cookies, out)
        accept = h.get("accept")
        if accept and "harset" in accept[0]:
            _accept_charset("accept", accept[0], out)
        if "".join(h).translate(_DROP_TOKEN_CHARS):
            _header_names(h, out)
        markers = self._markers.of(request)
        if markers:
            _spelling(request, inputs, markers, out)
        if "nul-escape" not in markers and any("%00" in v or "%2500" in v for n in _URL_HEADERS for v in h.get(n, ())):
            _null_bytes(inputs, out)  # the markers read the target and body; a Referer is a URL too
        return out


# ---------------------------------------------------------------- request line


def _method(method: str, out: list[Finding]) -> None:
    if not _is_token(method):
        out.append(_f("protocol.method.invalid", HIGH, "method", method, "method with characters outside the token set"))
    elif method in DEBUG_METHODS:
        out.append(_f("protocol.method.debug", HIGH, "method", method,
                      f"{method}: echo/debug method (cross-site tracing, IIS TRACK, ASP.NET DEBUG)"))
    elif method in TUNNEL_METHODS:
        out.append(_f("protocol.method.connect", MEDIUM, "method", method, "CONNECT sent to an application"))
    else:
        out.append(_f("protocol.method.unusual", LOW, "method", method,
                      "a method outside GET/HEAD/POST/PUT/DELETE/PATCH/OPTIONS (site policy)"))


def _host(request: Request, out: list[Finding]) -> None:
    hosts = request.headers.get("host")
    if hosts is not None:
        if len(hosts) > 1 and len(set(hosts)) > 1:
            out.append(_f("protocol.host.multiple", HIGH, "header:host", " | ".join(hosts),
                          "several different Host headers (routing and cache disagreement)"))
        value = hosts[0]
        if not value.strip():
            out.append(_f("protocol.host.empty", HIGH, "header:host", "", "empty Host header"))
            return
    else:
        value = request.authority
        if not value:
            return  # not seen through Envoy (it requires a host); nothing to say about corpora without one
    if not _HOST_BAD.isdisjoint(value):
        out.append(_f("protocol.host.invalid", HIGH, "header:host", value,
                      "Host with characters no host name has (host header injection)"))
    elif (value[:1].isdigit() or value[:1] == "[") and request.hop in _OUTSIDE_HOPS and _is_public_ip(value):
        out.append(_f("protocol.host.ip", LOW, "header:host", value, "a public IP address as Host at the edge"))


def _is_public_ip(host: str) -> bool:
    """An IP literal that is not loopback, private or link-local (local testing,
    probes and mesh calls by IP are normal; the public address of an edge is
    what scanners sweep)."""
    name = host.rsplit(":", 1)[0] if host.count(":") == 1 or host.startswith("[") else host
    name = name.strip("[]")
    try:
        ip = ipaddress.ip_address(name)
    except ValueError:
        return False
    return ip.is_global


# ---------------------------------------------------------------- headers


def _notable_headers(request: Request, out: list[Finding]) -> None:
    h = request.headers
    te = h.get("transfer-encoding")
    if te is not None:
        _transfer_encoding(request, te, out)
    conn = h.get("connection")
    if conn is not None:
        _connection(conn, out)
    rng = h.get("range")
    if rng is not None:
        _range(rng[0][:MAX_HEADER_VALUE], out)
    xfh = h.get("x-forwarded-host")
    if xfh is not None:
        for v in xfh:
            if not _HOST_BAD.isdisjoint(v.replace(", ", ",")):
                out.append(_f("protocol.host.invalid", HIGH, "header:x-forwarded-host", v,
                              "X-Forwarded-Host with characters no host name has (host header injection)"))
                break
    ach = h.get("accept-charset")
    if ach is not None:
        _accept_charset("accept-charset", ach[0], out)
    devcap = h.get("x-up-devcap-post-charset")
    if devcap is not None:
        ua = (request.header("user-agent") or "").lstrip()
        sev = HIGH if ua[:2].upper() == "UP" else MEDIUM
        out.append(_f("protocol.charset.devcap", sev, "header:x-up-devcap-post-charset", devcap[0],
                      "x-up-devcap-post-charset: ASP.NET decodes the body in this charset (EBCDIC bypass)"))
    for name in OVERRIDE_HEADERS:
        values = h.get(name)
        if values:
            _override(request.method, values[0], f"header:{name}", out)
    for name, (sev, why) in RESTRICTED_HEADERS.items():
        if name in h:
            value = h[name][0]
            if name == "translate" and value.strip().lower() != "f":
                sev = LOW
            out.append(_f(f"protocol.header.{name}", sev, f"header:{name}", value, why))


def _transfer_encoding(request: Request, te: tuple[str, ...], out: list[Finding]) -> None:
    h = request.headers
    if "content-length" in h:
        out.append(_f("protocol.smuggling.cl-te", HIGH, "header:transfer-encoding", te[0],
                      "Transfer-Encoding and Content-Length together (CL.TE / TE.CL request smuggling)"))
    codings = [c.strip().lower() for v in te for c in v.split(",")]
    if len(te) > 1 or codings != ["chunked"] or te[0] != te[0].strip():
        out.append(_f("protocol.smuggling.te", HIGH, "header:transfer-encoding", " | ".join(te),
                      "Transfer-Encoding other than one plain `chunked` (TE.TE obfuscation)"))
    if request.method in _SAFE_METHODS:
        out.append(_f("protocol.smuggling.te-get", HIGH, "header:transfer-encoding", te[0],
                      f"{request.method} with a chunked body"))


def _connection(values: tuple[str, ...], out: list[Finding]) -> None:
    tokens = [t.strip().lower() for v in values for t in v.split(",") if t.strip()][:64]
    protected = [t for t in tokens if t in PROTECTED_HEADERS]
    if protected:
        out.append(_f("protocol.connection.hop-by-hop", HIGH, "header:connection", ", ".join(values),
                      f"asks proxies to strip {protected[0]} (hop-by-hop header abuse)"))
    elif "close" in tokens and "keep-alive" in tokens:
        out.append(_f("protocol.connection.conflict", HIGH, "header:connection", ", ".join(values),
                      "Connection both close and keep-alive"))
    elif len(set(tokens)) < len(tokens):
        out.append(_f("protocol.connection.repeated", MEDIUM, "header:connection", ", ".join(values),
                      "a Connection option given twice"))


def _range(value: str, out: list[Finding]) -> None:
    spec = parse_range(value)
    if spec is None or spec.unit != "bytes":
        return  # not a byte range: servers ignore it
    if spec.invalid:
        out.append(_f("protocol.range.invalid", HIGH, "header:range", value, "a byte range that is not first-last"))
    elif spec.overlapping:
        out.append(_f("protocol.range.overlapping", HIGH, "header:range", value,
                      "overlapping byte ranges (Range amplification, CVE-2011-3192)"))
    elif spec.count >= TOO_MANY_RANGES:
        out.append(_f("protocol.range.many", HIGH, "header:range", value, f"{spec.count} byte ranges"))
    elif spec.count >= MANY_RANGES:
        out.append(_f("protocol.range.many", MEDIUM, "header:range", value, f"{spec.count} byte ranges"))


def _accept_charset(name: str, value: str, out: list[Finding]) -> None:
    """Ask for a response in a charset that output filters cannot read (Accept `charset=`, Accept-Charset)."""
    for item in value[:MAX_HEADER_VALUE].split(",")[:32]:
        if name == "accept":
            _, params, _ = header_params(item)
            cs = params.get("charset")
        else:
            cs = item.split(";", 1)[0]
        if cs is None:
            continue
        risk = charset_risk(cs)
        if risk is not None and risk[0] >= HIGH:
            out.append(_f("protocol.charset.response", HIGH, f"header:{name}", value,
                          f"asks for a response in {cs.strip()}: {risk[1]}"))
            return


def _cookie_v1(cookies: tuple[str, ...], out: list[Finding]) -> None:
    """RFC 2109 `$Version`/`$Path`/`$Domain` attributes: Java containers then read quoted
    values that swallow other cookies (cookie smuggling); browsers never send them."""
    for raw in cookies:
        for piece in raw.split(";")[:64]:
            name = piece.split("=", 1)[0].strip().lower()
            if name in ("$version", "$path", "$domain", "$port"):
                out.append(_f("protocol.cookie.v1", HIGH, "cookie", "",
                              f"RFC 2109 {name} attribute in Cookie (cookie parsing differential)"))
                return


def _header_names(h, out: list[Finding]) -> None:
    """(Envoy rejects such names; other proxies may pass them on.)"""
    for name in h:
        if not _is_token(name) and not name.startswith(":"):
            out.append(_f("protocol.header.invalid-name", HIGH, "header", name[:64],
                          "a header name with characters outside the token set"))
            return


# ---------------------------------------------------------------- bodies


def _declared_body(request: Request) -> int:
    """Bytes of body the request says it has: Content-Length when it is a number,
    else what arrived."""
    cl = request.headers.get("content-length")
    if cl:
        v = cl[0].strip()
        if v.isdigit() and len(v) < 19:
            return int(v)
    return len(request.body)


def _body_framing(request: Request, out: list[Finding]) -> None:
    h = request.headers
    cl = h.get("content-length")
    if cl is not None and not (len(cl) == 1 and cl[0].isdigit() and cl[0].isascii()):
        values = {item.strip() for header in cl for item in header.split(",")}
        if any(not v.isdigit() or not v.isascii() for v in values):
            out.append(_f("protocol.smuggling.cl", HIGH, "header:content-length", " | ".join(cl),
                          "Content-Length that is not a number"))
        elif len(values) > 1:
            out.append(_f("protocol.smuggling.cl", HIGH, "header:content-length", " | ".join(cl),
                          "several different Content-Length values"))
    if not request.body:
        return
    if request.method in _SAFE_METHODS:
        if _declared_body(request) <= 0:
            return
        form = (h.get("content-type") or ("",))[0].strip().lower().startswith(_FORM_TYPES)
        out.append(_f("protocol.body-on-get", HIGH if form else MEDIUM, "body", "",
                      f"{request.method} with a {'form ' if form else ''}body (parameter smuggling)"))
    elif "content-type" not in h and _declared_body(request) > 0:
        out.append(_f("protocol.body-without-type", LOW, "body", "", "a body without Content-Type"))


def _content_type(request: Request, ctypes: tuple[str, ...], out: list[Finding]) -> None:
    value = ctypes[0][:MAX_HEADER_VALUE]
    if ";" not in value and value.count("/") == 1 and _is_token(value.replace("/", "")) \
            and not value[:10].lower().startswith("multipart/"):
        return  # `application/json`: nothing to look at
    head, params = split_params(value)
    mime = head.lower()
    kind, slash, sub = mime.partition("/")
    loc = "header:content-type"
    if mime and not (_is_token(kind) and (not slash or _is_token(sub.strip()))):
        out.append(_f("protocol.content-type.invalid", HIGH, loc, value,
                      "Content-Type that is not type/subtype tokens (parsers guess differently)"))
        return
    twice = _repeated(params)
    if twice:
        out.append(_f("protocol.content-type.repeated-param", HIGH, loc, value,
                      f"parameter {twice!r} given twice (parsers take different ones)"))
    for p in params:
        inner = p.value.lower()
        if ("charset=" in inner or "boundary=" in inner) or (
                p.name not in _MIME_VALUED_PARAMS and _looks_like_mime(p.value)):
            out.append(_f("protocol.content-type.smuggled-param", HIGH, loc, value,
                          f"parameter {p.name!r} holds a media type or parameter (content-type confusion)"))
            break
    charset = next((p.value for p in params if p.name == "charset"), None)
    if charset is not None and request.body:
        _declared_charset(charset, loc, value, out)
    if kind == "multipart" and request.body:
        _multipart(request, value, params, out)


def _repeated(params: list[Param]) -> str:
    """The first parameter name given twice, or ""."""
    seen: set[str] = set()
    for p in params:
        if p.name in seen:
            return p.name
        seen.add(p.name)
    return ""


def _declared_charset(charset: str, where: str, value: str, out: list[Finding]) -> None:
    """A body's or part's charset. UTF-7 and the EBCDIC pages Python decodes are the
    decode stage's (it reads the body as declared and reports decode.evasive-charset)."""
    if codec_for(charset) in EVASIVE_CODECS:
        return
    risk = charset_risk(charset)
    if risk is not None:
        out.append(_f("protocol.charset", risk[0], where, value, f"charset {charset.strip()[:32]!r}: {risk[1]}"))


# ---------------------------------------------------------------- multipart


def _multipart(request: Request, value: str, params: list[Param], out: list[Finding]) -> None:
    loc = "header:content-type"
    boundary_p = next((p for p in params if p.name == "boundary"), None)
    text = request.body[:MAX_BODY_SCAN].decode("latin-1")
    if boundary_p is None:
        out.append(_f("protocol.multipart.no-boundary", MEDIUM, loc, value, "multipart body without a boundary"))
        boundary = sniff_boundary(text)
    else:
        boundary = boundary_p.value
        if not boundary or len(boundary) > 70 or boundary.strip(_BOUNDARY_CHARS) or boundary.endswith(" "):
            out.append(_f("protocol.multipart.bad-boundary", MEDIUM, loc, value,
                          "boundary outside RFC 2046 (length or characters)"))
    for part in part_heads(text, boundary):
        if _part(part.lines, part.body_head, part.index, out):
            return


def _part(lines: tuple[str, ...], body_head: str, index: int, out: list[Finding]) -> bool:
    """Checks one part's headers; True once a HIGH finding makes further parts moot."""
    where = f"multipart:[{index}]"
    dispositions = 0
    for line in lines:
        if line[:1] in (" ", "\t"):
            continue  # folded continuation
        name, colon, hvalue = line.partition(":")
        if not colon:
            continue
        lname = name.lower()
        if not _is_token(name):
            out.append(_f("protocol.multipart.header-name", HIGH, where, line,
                          "part header name with characters outside the token set (parser differential)"))
            return True
        hvalue = hvalue.strip()
        if lname == "content-disposition":
            dispositions += 1
            if dispositions > 1:
                out.append(_f("protocol.multipart.repeated-header", HIGH, where, line,
                              "two Content-Disposition headers in one part"))
                return True
            _disposition(hvalue, body_head, where, out)
        elif lname == "content-type":
            _, params = split_params(hvalue)
            cs = next((p.value for p in params if p.name == "charset"), None)
            if cs is not None:
                _declared_charset(cs, where, hvalue, out)
        elif lname == "content-transfer-encoding":
            cte = hvalue.lower()
            if cte not in ("7bit", "8bit", "binary"):
                sev = MEDIUM if cte in ("base64", "quoted-printable") else HIGH
                out.append(_f("protocol.multipart.transfer-encoding", sev, where, hvalue,
                              "Content-Transfer-Encoding in a form part (deprecated by RFC 7578; hides the value)"))
    return False


_ENTITY_END = frozenset(string.ascii_letters + string.digits + "#")


def _strip_entities(s: str) -> str:
    """Remove `&name;`/`&#123;`/`&#x1F;` entities (browsers send characters the form's
    charset lacks that way); what is left must not hold `;`."""
    if "&" not in s:
        return s
    out = []
    i = 0
    while i < len(s):
        amp = s.find("&", i)
        if amp < 0:
            out.append(s[i:])
            break
        out.append(s[i:amp])
        semi = s.find(";", amp + 1, amp + 34)
        if semi > amp + 1 and all(c in _ENTITY_END for c in s[amp + 1:semi]) and s[amp + 1:semi][:1] != "#" \
                or semi > amp + 2 and s[amp + 1] == "#" and s[amp + 2:semi].lstrip("xX").isalnum():
            i = semi + 1
        else:
            out.append("&")
            i = amp + 1
    return "".join(out)


def _is_windows_path(s: str) -> bool:
    return (len(s) >= 3 and s[1] == ":" and s[0].isalpha() and s[2] == "\\") or s.startswith("\\\\")


def _disposition(value: str, body_head: str, where: str, out: list[Finding]) -> None:
    _, params = split_params(value)
    twice = _repeated(params)
    if twice:
        out.append(_f("protocol.multipart.repeated-param", HIGH, where, value,
                      f"{twice!r} twice in Content-Disposition (parsers take different ones)"))
        return
    name = next((p for p in params if p.name == "name"), None)
    if name is not None:
        v = _strip_entities(name.value)
        bad = next((c for c in v if c in ';="\\' or c in _CONTROL), None)
        if bad is not None:
            out.append(_f("protocol.multipart.name", HIGH, where, name.raw,
                          f"{bad!r} inside a form field name (Content-Disposition parser differential)"))
        elif name.value == "_charset_":
            risk = charset_risk(body_head.strip())
            if risk is not None:
                out.append(_f("protocol.charset", risk[0], f"{where}._charset_", body_head,
                              f"_charset_ {body_head.strip()[:32]!r}: {risk[1]}"))
    filename = next((p for p in params if p.name == "filename"), None)
    if filename is not None:
        v = filename.value
        if '"' in v or ("\\" in v and not _is_windows_path(v)) or any(c in _CONTROL for c in v):
            out.append(_f("protocol.multipart.filename", HIGH, where, filename.raw,
                          "escaped quote, backslash or control character in a filename (parser differential)"))
        elif ";" in _strip_entities(v) or "=" in v:
            out.append(_f("protocol.multipart.filename", MEDIUM, where, filename.raw,
                          "`;` or `=` inside a filename"))


# ---------------------------------------------------------------- spelling and names


def _override(method: str, value: str, location: str, out: list[Finding]) -> None:
    target = value.strip().upper()
    if not target or target not in ALL_METHODS or target == method:
        return
    if target in DEBUG_METHODS or target in TUNNEL_METHODS:
        sev, why = HIGH, f"method override to {target}"
    elif method in _SAFE_METHODS and target not in _SAFE_METHODS:
        sev, why = HIGH, f"{method} turned into {target} by method override (CSRF / access-rule bypass)"
    else:
        sev, why = LOW, f"method override {method} → {target}"
    out.append(_f("protocol.method-override", sev, location, value, why))


def _spelling(request: Request, inputs: Sequence[Input], markers: frozenset[str], out: list[Finding]) -> None:
    if "method-param" in markers:
        values = [i for i in inputs if i.name in OVERRIDE_PARAMS and i.kind in ("query", "form", "multipart")
                  and i.role == "value"]
        if values:
            _override(request.method, values[0].value, values[0].location, out)
            if len({i.value.strip().upper() for i in values}) > 1:
                out.append(_f("protocol.parameter-pollution", MEDIUM, values[0].location, "",
                              "method override parameter given twice with different values"))
    if "escaped-alnum" in markers:
        _escaped_alnum(inputs, out)
    if "control-escape" in markers:
        _control_chars(inputs, out)
    if "nul-escape" in markers:
        _null_bytes(inputs, out)
    if "percent-u-fullwidth" in markers:
        for i in inputs:
            low = i.raw.lower()
            at = low.find("%uff")
            if at >= 0:
                out.append(_f("protocol.fullwidth-escape", HIGH, i.location, i.raw,
                              "IIS %uFFxx escape of a fullwidth character (best-fit mapping to ASCII)", at, at + 6,
                              i.chain))
                break
    if "bracket-suffix" in markers:
        for i in inputs:
            if i.kind in ("query", "form") and "]" in i.name:
                j = i.name.find("]")
                while j >= 0:
                    nxt = i.name[j + 1:j + 2]
                    if nxt and nxt not in "[.":
                        out.append(_f("protocol.parameter-name.bracket", HIGH, i.location, i.name,
                                      "characters after an array bracket in a parameter name (parsers disagree)",
                                      j, j + 8))
                        return
                    j = i.name.find("]", j + 1)


def _control_chars(inputs: Sequence[Input], out: list[Finding]) -> None:
    """C0 controls (other than tab and line breaks, the crlf detector's; NUL is
    decode.null-byte) percent-encoded into URL parts and forms: no client types
    them; they split words for parsers (`%0b` as SQL whitespace) and forge
    terminal output in logs (`%1b[`)."""
    for i in inputs:
        if i.kind in _CONTROL_KINDS and "%" in i.raw:
            at = next((k for k, c in enumerate(i.value[:MAX_HEADER_VALUE]) if c in _CONTROL_NO_BREAKS), -1)
            if at >= 0:
                out.append(_f("protocol.control-chars", MEDIUM, i.location, i.value,
                              f"control character {i.value[at]!r} in a {i.kind} value", at, at + 8, i.chain))
                return


_NUL_KINDS = frozenset({"query", "path", "form"})
# Headers whose value is a URL the application may parse, log or follow like its own
_URL_HEADERS = frozenset({"referer", "origin"})


def _null_bytes(inputs: Sequence[Input], out: list[Finding]) -> None:
    """A NUL percent-encoded into the query, the path, a urlencoded form field or a URL header
    (a Referer ending in `%00`: browsers send the page's URL, which never holds one)."""
    for i in inputs:
        if (i.kind in _NUL_KINDS or i.kind == "header" and i.name in _URL_HEADERS) and "%" in i.raw:
            at = i.value.find("\x00", 0, MAX_HEADER_VALUE)
            if at >= 0:
                out.append(_f("protocol.null-byte", HIGH, i.location, i.value,
                              f"NUL percent-encoded into a {i.kind} value (truncation, filter evasion)", at, at + 8,
                              i.chain))
                return


def _escaped_alnum(inputs: Sequence[Input], out: list[Finding]) -> None:
    """Letters and digits need no escape; escaping them (twice even) only hides words."""
    best: Finding | None = None
    for i in inputs:
        raw = i.raw
        if not raw or ("%" not in raw and "\\" not in raw) or i.kind not in _ESCAPE_KINDS:
            continue
        low = raw.lower()
        if "%25" in low:
            once = percent_once(low)  # `%2561` and `%25%36%31` both leave `%61`
            at = once.find("%")
            while at >= 0:
                if once[at + 1:at + 3] in _PERCENT_ALNUM:
                    start = low.find("%25")
                    out.append(_f("protocol.escaped-alnum", HIGH, i.location, raw,
                                  "a letter or digit percent-encoded twice (double-encoding evasion)",
                                  start, start + 9, i.chain))
                    return
                at = once.find("%", at + 1)
        for esc in ("\\u00", "%5cu00"):
            at = low.find(esc)
            while at >= 0:
                code = low[at + len(esc) - 2:at + len(esc) + 2]
                if len(code) == 4 and all(c in "0123456789abcdef" for c in code) and chr(int(code, 16)) in _ALNUM:
                    out.append(_f("protocol.escaped-alnum", HIGH, i.location, raw,
                                  "a letter or digit written as a \\u escape outside JSON (escape evasion)",
                                  at, at + len(esc) + 2, i.chain))
                    return
                at = low.find(esc, at + 1)
        if best is None and i.kind != "header":
            at = low.find("%")
            while at >= 0:
                if low[at + 1:at + 3] in _PERCENT_ALNUM:
                    best = _f("protocol.escaped-alnum", MEDIUM, i.location, raw,
                              "a letter or digit percent-encoded (nobody needs to)", at, at + 3, i.chain)
                    break
                at = low.find("%", at + 1)
    if best is not None:
        out.append(best)


__all__ = ["Protocol", "ENCODED_ALNUM"]
