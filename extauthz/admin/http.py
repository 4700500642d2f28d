"""The admin API over HTTP: stdlib ThreadingHTTPServer on its own port and threads.

Off the gRPC hot path: its own listening socket and its own threads; a slow or
hostile admin client costs the checks nothing but a share of the CPU. Bodies
are capped (1 MiB), idle connections time out.
"""
from __future__ import annotations

import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from extauthz.admin.api import MAX_BODY, AdminAPI, Response, error

log = logging.getLogger("extauthz.admin")


class _Handler(BaseHTTPRequestHandler):
    server_version = "extauthz-admin"
    sys_version = ""
    protocol_version = "HTTP/1.1"
    timeout = 10  # seconds a connection may idle or dribble
    api: AdminAPI

    def _send(self, r: Response) -> None:
        self.send_response(r.status)
        self.send_header("Content-Type", r.content_type)
        self.send_header("Content-Length", str(len(r.body)))
        self.send_header("Cache-Control", "no-store")
        for k, v in r.headers:
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(r.body)

    def _dispatch(self) -> None:
        length = self.headers.get("Content-Length")
        if self.headers.get("Transfer-Encoding"):
            self.close_connection = True
            return self._send(error(411, "send a Content-Length, not a chunked body"))
        try:
            n = int(length) if length else 0
        except ValueError:
            self.close_connection = True
            return self._send(error(400, "bad Content-Length"))
        if n < 0 or n > MAX_BODY:
            self.close_connection = True
            self._discard(n)  # read what was sent (bounded), so the client sees the answer, not a reset
            return self._send(error(413, f"body larger than {MAX_BODY} bytes"))
        body = self.rfile.read(n) if n else b""
        headers = {k.lower(): v for k, v in self.headers.items()}
        try:
            r = self.api.handle(self.command, self.path, headers, body)
        except Exception:
            log.exception("admin %s %s failed", self.command, self.path)
            r = error(500, "internal error (logged)")
        self._send(r)

    def _discard(self, n: int, cap: int = 8 * MAX_BODY) -> None:
        left = min(n, cap)
        while left > 0:
            chunk = self.rfile.read(min(left, 65536))
            if not chunk:
                break
            left -= len(chunk)

    def __getattr__(self, name: str):
        # Every method goes to the API, which answers 405 (with Allow) for those a route lacks.
        if name.startswith("do_"):
            return self._dispatch
        raise AttributeError(name)

    def do_HEAD(self) -> None:
        self.command = "GET"
        self._dispatch()

    def log_message(self, fmt: str, *args) -> None:  # quiet by default; the API has its own logs
        log.debug("admin %s " + fmt, self.client_address[0], *args)


class AdminServer:
    def __init__(self, api: AdminAPI, listen: str) -> None:
        host, _, port = listen.rpartition(":")
        self.api = api
        handler = type("AdminHandler", (_Handler,), {"api": api})
        try:
            self.httpd = ThreadingHTTPServer((host.strip("[]"), int(port)), handler)
        except OSError as exc:
            raise OSError(f"admin API: cannot listen on {listen}: {exc.strerror or exc}") from None
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.host = host
        self._thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.25},
                                        name="admin", daemon=True)

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    def start(self) -> None:
        self._thread.start()
        log.info("admin API on http://%s", self.address)

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
