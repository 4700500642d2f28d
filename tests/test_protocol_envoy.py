"""What of a request's framing ext_authz can see behind the real edge Envoy.

The protocol detector (extauthz/detect/protocol.py) also checks anomalies that
only other proxies pass on. These tests pin down which ones Envoy settles
itself, so that the detector's docstring and its severities rest on fact:

- hop-by-hop headers (Connection, Keep-Alive, Proxy-Connection,
  Transfer-Encoding) are removed before ext_authz; a chunked body arrives
  de-chunked, Host arrives as :authority;
- Content-Length together with Transfer-Encoding, and a method outside
  Envoy's known set, are answered 400 by Envoy: ext_authz is never asked;
- end-to-end headers with a dangerous meaning (Request-Range, Proxy, Range)
  do reach ext_authz, and are judged there.

ext_authz is served in-process here (the engine with default settings) so the
test can look at the Request the engine was given.
"""
from __future__ import annotations

import socket
import time
from concurrent import futures

import pytest

from extauthz.config import load_config
from extauthz.engine import Engine
from extauthz.mesh import LocalMesh
from extauthz.server.service import CheckService, grpc_handler

pytestmark = pytest.mark.envoy


@pytest.fixture(scope="module")
def edge(envoy_bin, tmp_path_factory):
    import grpc

    mesh = LocalMesh(workdir=tmp_path_factory.mktemp("protocol-envoy"), envoy=envoy_bin, start_extauthz=False)
    seen: list = []
    service = CheckService(Engine(load_config(None)))
    service.observers.append(lambda request, verdict, seconds, metadata: seen.append((request, verdict)))
    server = grpc.server(futures.ThreadPoolExecutor(2))
    server.add_generic_rpc_handlers((grpc_handler(service),))
    server.add_insecure_port(mesh.extauthz_address)
    server.start()
    try:
        mesh.start()
        yield mesh.ports["edge"], seen
    finally:
        mesh.stop()
        server.stop(0)


def send(edge, head: str, body: bytes = b""):
    """Sends one raw HTTP/1.1 request; returns (status, what ext_authz was given or None)."""
    port, seen = edge
    before = len(seen)
    data = (head.replace("\n", "\r\n") + "\r\n").encode() + body
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(data)
        reply = b""
        while b"\r\n" not in reply:
            chunk = s.recv(4096)
            if not chunk:
                break
            reply += chunk
    status = int(reply.split(b" ", 2)[1])
    deadline = time.monotonic() + 2
    while len(seen) == before and status not in (400, 501) and time.monotonic() < deadline:
        time.sleep(0.01)
    return status, (seen[before] if len(seen) > before else None)


def test_hop_by_hop_headers_never_reach_ext_authz(edge):
    status, got = send(edge, "GET /api?q=1 HTTP/1.1\nHost: shop.example\nConnection: keep-alive, keep-alive, close\n"
                             "Keep-Alive: 300\nProxy-Connection: keep-alive\nUser-Agent: t\n\n")
    assert got is not None, status
    request, verdict = got
    assert not {"connection", "keep-alive", "proxy-connection", "host"} & set(request.headers)
    assert request.authority == "shop.example"
    assert "protocol.connection.conflict" not in {f.rule for f in verdict.findings}


def test_a_chunked_body_arrives_dechunked_without_transfer_encoding(edge):
    status, got = send(edge, "POST /api HTTP/1.1\nHost: shop.example\nTransfer-Encoding: chunked\n"
                             "Content-Type: application/x-www-form-urlencoded\n", b"7\r\nfoo=bar\r\n0\r\n\r\n")
    assert got is not None, status
    request, _ = got
    assert "transfer-encoding" not in request.headers and request.body == b"foo=bar"


@pytest.mark.parametrize("head", [
    # CL.TE smuggling shape
    "POST /api HTTP/1.1\nHost: shop.example\nContent-Length: 7\nTransfer-Encoding: chunked\n\n",
    # a method Envoy does not know
    "FOO /api HTTP/1.1\nHost: shop.example\n\n",
    "REALLYLONGUNREALMETHOD / HTTP/1.1\nHost: shop.example\n\n",
])
def test_envoy_rejects_framing_anomalies_before_asking(edge, head):
    body = b"7\r\nfoo=bar\r\n0\r\n\r\n" if "chunked" in head else b""
    status, got = send(edge, head, body)
    assert status == 400 and got is None


def test_end_to_end_headers_with_a_dangerous_meaning_are_judged(edge):
    status, got = send(edge, "GET /file.pdf HTTP/1.1\nHost: shop.example\nRequest-Range: bytes=0-,5-0,5-1\n\n")
    assert status == 403 and "protocol.header.request-range" in {f.rule for f in got[1].findings}
    status, got = send(edge, "GET / HTTP/1.1\nHost: shop.example\nProxy: http://evil.example:3128\n\n")
    assert status == 403 and "protocol.header.proxy" in {f.rule for f in got[1].findings}
    status, got = send(edge, "GET /a HTTP/1.1\nHost: shop.example\nRange: bytes=5-1\n\n")
    assert status == 403 and "protocol.range.invalid" in {f.rule for f in got[1].findings}
    # a WebDAV method Envoy knows passes and is only noted
    status, got = send(edge, "SUBSCRIBE /a HTTP/1.1\nHost: shop.example\n\n")
    assert got is not None and "protocol.method.unusual" in {f.rule for f in got[1].findings}
