"""A real redis-server on loopback for the store and mesh tests.

With EXTAUTHZ_REQUIRE_ENVOY=1 (make test, .ci/run) a missing redis-server
fails the test instead of skipping it.
"""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from extauthz.mesh import free_port

REQUIRE = os.environ.get("EXTAUTHZ_REQUIRE_ENVOY") == "1"


def redis_server_bin() -> str:
    path = os.environ.get("EXTAUTHZ_REDIS_SERVER") or shutil.which("redis-server") or (
        "/usr/bin/redis-server" if os.path.exists("/usr/bin/redis-server") else None)
    if not path:
        msg = "redis-server is not installed (Debian: apt-get install redis-server)"
        if REQUIRE:
            pytest.fail(msg)
        pytest.skip(msg)
    return path


class RedisServer:
    """One redis-server process; kill() and start() again keep its port and data directory.

    Append-only persistence with fsync on every write, so that a killed server
    restarts with its state, as a production Redis with AOF would.
    """

    def __init__(self, workdir: Path, port: int = 0) -> None:
        self.bin = redis_server_bin()
        self.port = port or free_port()
        self.dir = workdir / f"redis-{self.port}"
        self.dir.mkdir(parents=True, exist_ok=True)
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 10) -> "RedisServer":
        log = open(self.dir / "redis.log", "ab")
        self.proc = subprocess.Popen(
            [self.bin, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.dir),
             "--appendonly", "yes", "--appendfsync", "always", "--save", "", "--daemonize", "no"],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        log.close()
        deadline = time.monotonic() + timeout
        import redis
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"redis-server exited: {(self.dir / 'redis.log').read_text()[-2000:]}")
            try:
                if redis.Redis(port=self.port, socket_timeout=0.5).ping():
                    return self
            except redis.RedisError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not answer")

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()

    def client(self):
        import redis
        return redis.Redis(port=self.port, decode_responses=True)


@pytest.fixture
def redis_server(tmp_path):
    server = RedisServer(tmp_path).start()
    yield server
    server.stop()
