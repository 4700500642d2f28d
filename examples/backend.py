"""Demo backend service: a product catalogue and an order API, plus an admin area.

Reached only through its inbound sidecar. Replies say what they received, so a
test can tell that a request got through. Standard library only.
"""
from __future__ import annotations

import argparse
import json
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

PRODUCTS = [
    {"id": 1, "name": "Trail running shoes", "price": 89.0},
    {"id": 2, "name": "Rain jacket", "price": 120.0},
    {"id": 3, "name": "Wool socks", "price": 12.5},
]


class Handler(BaseHTTPRequestHandler):
    server_version = "demo-backend/1"
    protocol_version = "HTTP/1.1"

    def _reply(self, status: int, payload: dict) -> None:
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.send_header("x-served-by", "backend")
        self.end_headers()
        self.wfile.write(body)

    def _body(self) -> bytes:
        length = int(self.headers.get("content-length") or 0)
        return self.rfile.read(length) if length else b""

    def do_GET(self) -> None:  # noqa: N802
        url = urlsplit(self.path)
        if url.path == "/healthz":
            return self._reply(200, {"ok": True})
        if url.path == "/products":
            q = (parse_qs(url.query).get("q") or [""])[0].lower()
            return self._reply(200, {"service": "backend", "query": q,
                                     "products": [p for p in PRODUCTS if q in p["name"].lower()]})
        if url.path.startswith("/admin"):
            return self._reply(200, {"service": "backend", "admin": True, "path": url.path})
        self._reply(404, {"service": "backend", "error": "not found", "path": url.path})

    def do_POST(self) -> None:  # noqa: N802
        url = urlsplit(self.path)
        body = self._body()
        if url.path == "/orders":
            try:
                order = json.loads(body or b"{}")
            except ValueError:
                return self._reply(400, {"service": "backend", "error": "invalid JSON"})
            return self._reply(201, {"service": "backend", "order_id": 1001, "received": order})
        self._reply(404, {"service": "backend", "error": "not found", "path": url.path})

    def log_message(self, fmt: str, *args: object) -> None:
        pass


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--listen", default="127.0.0.1:8000")
    host, _, port = ap.parse_args().listen.rpartition(":")
    ThreadingHTTPServer((host, int(port)), Handler).serve_forever()


if __name__ == "__main__":
    main()
