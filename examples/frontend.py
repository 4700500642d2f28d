"""Demo frontend service: a web shop that calls the backend east-west.

Reached through the edge and its inbound sidecar; calls the backend through its
outbound sidecar (BACKEND url, Host: backend), as an app in a mesh does.
Standard library only.
"""
from __future__ import annotations

import argparse
import json
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import quote, urlsplit

BACKEND = "http://127.0.0.1:15001"
PAGE = b"""<!doctype html><title>demo shop</title><h1>Demo shop</h1>
<p>Try <a href="/api/products?q=shoes">/api/products?q=shoes</a></p>"""


def call_backend(method: str, path: str, body: bytes | None = None, headers: dict | None = None) -> tuple[int, bytes]:
    req = urllib.request.Request(BACKEND + path, data=body, method=method,
                                 headers={"host": "backend", **(headers or {})})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()
    except OSError as e:
        return 502, json.dumps({"error": f"backend unreachable: {e}"}).encode()


class Handler(BaseHTTPRequestHandler):
    server_version = "demo-frontend/1"
    protocol_version = "HTTP/1.1"

    def _send(self, status: int, body: bytes, ctype: str = "application/json") -> None:
        self.send_response(status)
        self.send_header("content-type", ctype)
        self.send_header("content-length", str(len(body)))
        self.send_header("x-served-by", "frontend")
        self.end_headers()
        self.wfile.write(body)

    def _forward_headers(self) -> dict:
        # propagate the request id and trace context, as mesh apps should
        keep = ("x-request-id", "traceparent", "tracestate", "x-b3-traceid", "x-b3-spanid", "x-b3-sampled", "b3")
        return {k: v for k, v in self.headers.items() if k.lower() in keep}

    def do_GET(self) -> None:  # noqa: N802
        url = urlsplit(self.path)
        if url.path == "/healthz":
            return self._send(200, b'{"ok": true}')
        if url.path == "/":
            return self._send(200, PAGE, "text/html")
        if url.path == "/api/products":
            status, body = call_backend("GET", "/products" + (f"?{url.query}" if url.query else ""),
                                        headers=self._forward_headers())
            return self._send(status, body)
        self._send(404, json.dumps({"service": "frontend", "error": "not found"}).encode())

    def do_POST(self) -> None:  # noqa: N802
        url = urlsplit(self.path)
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length) if length else b""
        if url.path == "/api/orders":
            status, out = call_backend("POST", "/orders", body,
                                       {"content-type": "application/json", **self._forward_headers()})
            return self._send(status, out)
        self._send(404, json.dumps({"service": "frontend", "error": "not found"}).encode())

    def log_message(self, fmt: str, *args: object) -> None:
        pass


def main() -> None:
    global BACKEND
    ap = argparse.ArgumentParser()
    ap.add_argument("--listen", default="127.0.0.1:8000")
    ap.add_argument("--backend", default=BACKEND, help="the outbound sidecar's address")
    ap.add_argument("--call", metavar="PATH",
                    help="make one GET to the backend as this app does (through the outbound sidecar), print the "
                         "answer and exit: what a compromised frontend could send east-west")
    args = ap.parse_args()
    BACKEND = args.backend.rstrip("/")
    if args.call:
        # percent-encode what an HTTP request line cannot carry (spaces, quotes); keep the structure
        status, body = call_backend("GET", quote(args.call, safe="/?&=%+:@!$,;*()~"))
        print(status, body.decode("utf-8", "replace"))
        raise SystemExit(0 if status < 400 else 1)
    host, _, port = args.listen.rpartition(":")
    ThreadingHTTPServer((host, int(port)), Handler).serve_forever()


if __name__ == "__main__":
    main()
