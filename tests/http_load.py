"""Background HTTP load for tests that break things while clients keep sending (loopback only)."""
from __future__ import annotations

import http.client
import threading


class KeepAlive:
    """One keep-alive connection; a failed request yields the exception's name and a fresh connection."""

    def __init__(self, port: int, timeout: float = 10) -> None:
        self.port, self.timeout = port, timeout
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)

    def get(self, path: str, headers: dict[str, str] | None = None) -> int | str:
        try:
            self.conn.request("GET", path, headers=headers or {})
            r = self.conn.getresponse()
            r.read()
            return r.status
        except (OSError, http.client.HTTPException) as exc:
            self.conn.close()
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
            return type(exc).__name__

    def close(self) -> None:
        self.conn.close()


class BackgroundLoad:
    """`clients` threads each running `step(client)` until the `with` block ends."""

    def __init__(self, port: int, clients: int = 3) -> None:
        self.port = port
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self._run, daemon=True) for _ in range(clients)]

    def step(self, client: KeepAlive) -> None:
        raise NotImplementedError

    def _run(self) -> None:
        client = KeepAlive(self.port)
        try:
            while not self.stop.is_set():
                self.step(client)
        finally:
            client.close()

    def __enter__(self):
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        for t in self.threads:
            t.join(timeout=20)
