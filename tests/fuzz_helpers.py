"""Hostile input generators shared by the fuzz tests and the long fuzz run (bench/fuzz_long.py).

Two kinds of generators over the same vocabulary:
- hypothesis strategies (tests: shrinking, reproducible failures);
- plain `random.Random` generators (the long run: millions of inputs, no
  hypothesis overhead), seeded, so any input can be re-made from (seed, index).

The vocabulary is the syntax of every attack family the detectors know, the
characters decoders treat specially, and the shapes that stress parsers
(nesting, repetition, long runs, broken encodings), so that random input
reaches the detectors' slow paths instead of being dropped by the prefilter.
"""
from __future__ import annotations

import json
import random
from typing import Callable

from hypothesis import strategies as st

from extauthz._wire import ext_authz_pb2 as pb
from extauthz.request import Hop, Peer, Request

# The corpus categories a Finding's cls may use (COMMON.md).
CLASSES = frozenset("sqli xss rce lfi rfi ssrf xxe ssti nosqli ldapi crlf log4shell shellshock scanner protocol "
                    "other".split())
KINDS = ("path", "query", "header", "cookie", "form", "json", "xml", "multipart", "graphql", "body")

TOKENS = (
    # SQL
    "'", '"', "`", " or ", " OR 1=1", "' or '1'='1", " union select ", "UNION ALL SELECT NULL,", " from ", " where ",
    "--", "-- -", "#", "/*", "*/", "/*!50000", ";", " and ", "sleep(5)", "benchmark(", "waitfor delay '0:0:5'",
    "char(", "0x41", "information_schema", "@@version", "pg_sleep(", "||", "exec xp_cmdshell", "(select", ")",
    # HTML / JS
    "<", ">", "<script>", "</script>", "<img src=x onerror=", "<svg onload=", "javascript:", "alert(1)",
    "document.cookie", "<iframe", "srcdoc=", "&lt;", "&#x3c;", "&#60;", "\\u003c", "\\x3c", "on", "=", "style=",
    # shell / code
    "$(", "${", "`id`", "|", "&&", ";cat /etc/passwd", "/bin/sh", "wget ", "curl ", "nc -e ", "bash -i", "$IFS",
    "<?php", "?>", "system(", "eval(", "exec(", "passthru(", "base64_decode(", "Runtime.getRuntime().exec(",
    "java.lang.ProcessBuilder", "require('child_process')", "process.mainModule", "__import__('os')",
    "<!--#exec cmd=", "() { :; };", "%{", "#{", "{{", "}}", "{%", "%}", "<%=", "%>", "*{", "@{",
    "${jndi:ldap://", "${lower:j}", "${::-j}",
    # paths / urls
    "../", "..\\", "..%2f", "%2e%2e/", "....//", "/etc/passwd", "c:\\windows\\win.ini", "/proc/self/environ",
    "file://", "http://", "https://", "gopher://", "dict://", "php://filter/", "data:text/html;base64,",
    "169.254.169.254", "127.0.0.1", "[::1]", "0x7f000001", "localhost", "@", "?", "#", ".php", ".jsp", ".htaccess",
    # xml / ldap / nosql / crlf
    "<?xml version=\"1.0\"?>", "<!DOCTYPE x [", "<!ENTITY x SYSTEM \"file:///etc/passwd\">", "&x;", "]>",
    "<xi:include href=", "*)(", "(|(", ")(uid=*", "$ne", "$where", "$gt", "__proto__", "constructor[prototype]",
    "\r\n", "%0d%0a", "Set-Cookie: a=b", "Location: ", "%00", "\x00", "\\0",
    # encodings and oddities
    "%", "%25", "%2525", "%u003c", "%c0%af", "%ff", "+", "\\", "\\\\", "&", "&amp;", "&#", "==", "QUFB", "\t", "\n",
    "\u202e", "\ufeff", "\uff1c", "\u0131", "\udcff", "ﷺ", "é", "中文", "😀",
    # scanners / sessions / uploads
    "sqlmap", "nikto", "Nmap Scripting Engine", "PHPSESSID=", "jsessionid=", "shell.php", "a.php.jpg", "GIF89a",
)


# ----------------------------------------------------------------- hypothesis strategies

def hostile_text(max_parts: int = 30) -> st.SearchStrategy[str]:
    """Attack syntax, special characters and arbitrary text, glued together."""
    part = st.one_of(st.sampled_from(TOKENS), st.text(max_size=6), st.sampled_from("'\"<>()[]{};|&$%\\/=*#@!`~^"))
    return st.lists(part, max_size=max_parts).map("".join)


def repeated(max_repeat: int = 400) -> st.SearchStrategy[str]:
    """One or two tokens repeated many times: what makes a scanner quadratic."""
    return st.builds(lambda a, b, n: (a + b) * n, st.sampled_from(TOKENS), st.sampled_from(("",) + TOKENS),
                     st.integers(min_value=1, max_value=max_repeat))


def value_text() -> st.SearchStrategy[str]:
    return st.one_of(hostile_text(), repeated(), st.text(max_size=80))


_HEADER_NAMES = ("user-agent", "referer", "cookie", "content-type", "x-forwarded-for", "accept", "x-api-version",
                 "authorization", "x-custom", "origin", "host", "content-length", "transfer-encoding", "x-a")
_CTYPES = ("application/json", "application/xml", "text/xml", "application/x-www-form-urlencoded",
           "multipart/form-data; boundary=B", "application/graphql", "text/plain", "application/octet-stream",
           "application/json; charset=utf-16", "multipart/form-data", "", "text/html; charset=utf-7")


def bodies() -> st.SearchStrategy[bytes]:
    text = value_text()
    return st.one_of(
        st.binary(max_size=300),
        text.map(lambda s: s.encode("utf-8", "surrogatepass")),
        st.lists(st.tuples(text, text), max_size=8).map(
            lambda kv: "&".join(f"{k}={v}" for k, v in kv).encode("utf-8", "surrogatepass")),
        st.recursive(st.one_of(st.none(), st.booleans(), st.integers(), text),
                     lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(text, inner, max_size=4)),
                     max_leaves=12).map(lambda v: json.dumps(v).encode("utf-8", "surrogatepass")),
        st.lists(st.tuples(text, text), max_size=4).map(
            lambda parts: "".join(f'--B\r\nContent-Disposition: form-data; name="{n}"\r\n\r\n{v}\r\n'
                                  for n, v in parts).encode("utf-8", "surrogatepass") + b"--B--\r\n"),
        st.lists(st.tuples(st.sampled_from("abxyz"), text), max_size=5).map(
            lambda els: ("<r>" + "".join(f"<{n}>{v}</{n}>" for n, v in els) + "</r>").encode("utf-8", "surrogatepass")),
    )


@st.composite
def requests(draw) -> Request:
    """A Request as the adapter could build it, with hostile content everywhere."""
    text = value_text()
    headers: dict[str, tuple[str, ...]] = {}
    for name, vals in draw(st.lists(st.tuples(st.sampled_from(_HEADER_NAMES), st.lists(text, min_size=1, max_size=2)),
                                    max_size=6)):
        headers[name] = tuple(vals)
    ctype = draw(st.sampled_from(_CTYPES))
    if ctype:
        headers["content-type"] = (ctype,)
    body = draw(bodies())
    query = draw(st.one_of(text, st.lists(st.tuples(text, text), max_size=6).map(
        lambda kv: "&".join(f"{k}={v}" for k, v in kv))))
    return Request(method=draw(st.sampled_from(("GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "G E T", ""))),
                   path="/" + draw(text), query=query, headers=headers, body=body, body_size=len(body),
                   body_truncated=draw(st.booleans()), authority="shop.example.com", hop=Hop.EDGE, service="shop",
                   source=Peer(draw(st.sampled_from(("203.0.113.7", "10.0.0.1", "::1", "not-an-ip", ""))), 1234),
                   invalid_utf8=draw(st.sampled_from(((), ("path",), ("header:user-agent",)))))


# ----------------------------------------------------------------- CheckRequests (the wire)

def check_request_message(r: Request, context: dict[str, str] | None = None) -> pb.CheckRequest:
    """A structurally valid CheckRequest carrying `r` the way Envoy sends it (raw headers, raw body)."""
    msg = pb.CheckRequest()
    a = msg.attributes
    a.source.address.socket_address.address = r.source.address
    a.source.address.socket_address.port_value = r.source.port
    for k, v in (context if context is not None else {"hop": "edge", "service": r.service}).items():
        a.context_extensions[k] = v
    h = a.request.http
    h.method = r.method
    target = r.path + ("?" + r.query if r.query else "")
    h.path = target.encode("utf-8", "surrogatepass")
    h.host = r.authority
    h.protocol = "HTTP/1.1"
    if r.body:
        h.raw_body = r.body
        h.size = r.body_size
    for name, vals in r.headers.items():
        for v in vals:
            h.header_map.headers.add(key=name, raw_value=v.encode("utf-8", "surrogatepass"))
    return msg


def mutate(data: bytes, rnd: random.Random, rounds: int = 4) -> bytes:
    """Byte-level mutations of a serialized message: flips, cuts, splices, varint and length smashing."""
    b = bytearray(data)
    for _ in range(rnd.randint(1, rounds)):
        op = rnd.randrange(7)
        if not b:
            b.extend(rnd.randbytes(rnd.randint(1, 16)))
            continue
        i = rnd.randrange(len(b))
        if op == 0:
            b[i] ^= 1 << rnd.randrange(8)
        elif op == 1:
            b[i] = rnd.choice((0x00, 0xFF, 0x7F, 0x80, 0x0A, 0x12, 0x1A, 0x22))
        elif op == 2:
            del b[i:i + rnd.randint(1, 32)]
        elif op == 3:
            b[i:i] = rnd.randbytes(rnd.randint(1, 32))
        elif op == 4:  # a huge or negative length/varint
            b[i:i + 1] = rnd.choice((b"\xff\xff\xff\xff\x0f", b"\x80\x80\x80\x80\x80\x80\x80\x80\x80\x01", b"\x00"))
        elif op == 5:  # duplicate a slice (repeated fields, nested garbage)
            j = rnd.randrange(len(b))
            lo, hi = min(i, j), max(i, j)
            b[hi:hi] = b[lo:hi][:4096]
        else:
            b = b[:i]
    return bytes(b)


# ----------------------------------------------------------------- random.Random generators (long run)

def random_text(rnd: random.Random, max_parts: int = 40) -> str:
    """Mostly short values (tens to hundreds of characters), now and then a long repetition."""
    out = []
    for _ in range(rnd.randint(0, max_parts)):
        r = rnd.random()
        if r < 0.6:
            out.append(rnd.choice(TOKENS))
        elif r < 0.82:
            out.append(chr(rnd.choice((rnd.randint(0x20, 0x7E), rnd.randint(0, 0x10FFFF)))))
        elif r < 0.97:
            out.append(rnd.choice(TOKENS) * rnd.randint(2, 8))
        elif r < 0.999:
            out.append("".join(rnd.choice("'\"<>()[]{};|&$%\\/=*#") for _ in range(rnd.randint(1, 50))))
        else:
            out.append(rnd.choice(TOKENS) * rnd.randint(50, 400))
    text = "".join(out)
    return text.encode("utf-8", "surrogatepass").decode("utf-8", "replace") if rnd.random() < 0.5 else text


def random_body(rnd: random.Random) -> tuple[str, bytes]:
    t = lambda: random_text(rnd, 8)  # noqa: E731
    kind = rnd.randrange(7)
    if kind == 0:
        return "application/octet-stream", rnd.randbytes(rnd.randint(0, 2000))
    if kind == 1:
        return "application/x-www-form-urlencoded", "&".join(f"{t()}={t()}" for _ in range(rnd.randint(0, 20))).encode(
            "utf-8", "surrogatepass")
    if kind == 2:
        def val(d: int):
            c = rnd.random()
            if d > 3 or c < 0.5:
                return t()
            if c < 0.75:
                return [val(d + 1) for _ in range(rnd.randint(0, 4))]
            return {t(): val(d + 1) for _ in range(rnd.randint(0, 4))}
        doc = json.dumps(val(0))
        if rnd.random() < 0.2:
            doc = doc[: rnd.randint(0, len(doc))]
        return "application/json", doc.encode("utf-8", "surrogatepass")
    if kind == 3:
        parts = "".join(f'--B\r\nContent-Disposition: form-data; name="{t()}"' +
                        (f'; filename="{t()}"' if rnd.random() < 0.3 else "") + f"\r\n\r\n{t()}\r\n"
                        for _ in range(rnd.randint(0, 8)))
        return "multipart/form-data; boundary=B", (parts + "--B--\r\n").encode("utf-8", "surrogatepass")
    if kind == 4:
        els = "".join(f"<{rnd.choice('abc')} x=\"{t()}\">{t()}</{rnd.choice('abc')}>" for _ in range(rnd.randint(0, 8)))
        return rnd.choice(("application/xml", "text/xml")), (rnd.choice(("", "<?xml version=\"1.0\"?>",
                                                                         "<!DOCTYPE r [<!ENTITY e \"x\">]>")) +
                                                              f"<r>{els}</r>").encode("utf-8", "surrogatepass")
    if kind == 5:
        return "application/graphql", ("query { user(name: \"" + t() + "\") { id " + t() + " } }").encode(
            "utf-8", "surrogatepass")
    return rnd.choice(_CTYPES), random_text(rnd).encode("utf-8", "surrogatepass")


def random_request(rnd: random.Random) -> Request:
    t = lambda: random_text(rnd, 10)  # noqa: E731
    ctype, body = random_body(rnd)
    headers = {"content-type": (ctype,)}
    for _ in range(rnd.randint(0, 8)):
        headers.setdefault(rnd.choice(_HEADER_NAMES), (t(),))
    return Request(method=rnd.choice(("GET", "POST", "PUT", "PATCH")), path="/" + t(),
                   query="&".join(f"{t()}={t()}" for _ in range(rnd.randint(0, 8))), headers=headers, body=body,
                   body_size=len(body), authority="shop.example.com", hop=Hop.EDGE, service="shop",
                   source=Peer(f"10.{rnd.randrange(256)}.{rnd.randrange(256)}.{rnd.randrange(256)}", 4000))


def random_payload(rnd: random.Random, seeds: list[bytes]) -> bytes:
    """One message for the gRPC fuzzer: valid-with-hostile-content, mutated, or plain garbage."""
    r = rnd.random()
    if r < 0.5:
        return check_request_message(random_request(rnd)).SerializeToString()
    if r < 0.9:
        base = rnd.choice(seeds) if seeds and rnd.random() < 0.5 else \
            check_request_message(random_request(rnd)).SerializeToString()
        return mutate(base, rnd)
    return rnd.randbytes(rnd.randint(0, 512))


Generator = Callable[[random.Random], object]
