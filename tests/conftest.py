"""Shared fixtures: a real extauthz gRPC server, and the real-Envoy local mesh.

With EXTAUTHZ_REQUIRE_ENVOY=1 (set by `make test` and .ci/run) a missing Envoy
(or redis-server, for tests marked `redis`) is an error, not a skip, and the run
fails unless Envoy tests actually passed.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from extauthz.mesh import LocalMesh, MeshError, find_envoy, free_port, grpc_health

REQUIRE_ENVOY = os.environ.get("EXTAUTHZ_REQUIRE_ENVOY") == "1"
_envoy_passed = 0
_envoy_skipped: list[str] = []


def pytest_runtest_logreport(report):
    global _envoy_passed
    if "envoy" not in report.keywords and "redis" not in report.keywords:  # redis: a real redis-server
        return
    if report.when == "call" and report.passed:
        _envoy_passed += 1
    if report.skipped:
        _envoy_skipped.append(report.nodeid)


def pytest_sessionfinish(session, exitstatus):
    if not REQUIRE_ENVOY:
        return
    if _envoy_skipped:
        print(f"\nEXTAUTHZ_REQUIRE_ENVOY=1 but {len(_envoy_skipped)} Envoy tests were skipped, e.g. {_envoy_skipped[0]}")
        session.exitstatus = 1
    elif _envoy_passed == 0 and exitstatus == 0 and session.testscollected:
        print("\nEXTAUTHZ_REQUIRE_ENVOY=1 but no Envoy integration test ran")
        session.exitstatus = 1


@pytest.fixture(scope="session")
def envoy_bin() -> str:
    try:
        path = find_envoy()
    except MeshError as exc:
        if REQUIRE_ENVOY:
            pytest.fail(f"Envoy is required here: {exc}")
        pytest.skip(str(exc))
    return path


def write_config(tmp: Path, text: str, name: str = "extauthz.yaml") -> Path:
    p = tmp / name
    p.write_text(textwrap.dedent(text))
    return p


MESH_CONFIG = """
services:
  frontend:
    aliases: ["spiffe://cluster.local/ns/demo/sa/frontend"]
  backend:
    aliases: ["spiffe://cluster.local/ns/demo/sa/backend"]
    # block at the backend's own sidecar; only record at its callers' outbound sidecars
    hop_modes: {sidecar-outbound: monitor}
# tests on this shared mesh judge requests alone; actor risk has its own (test_risk_mesh.py)
risk: {enabled: false}
"""


@pytest.fixture(scope="module")
def mesh(envoy_bin, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("mesh")
    cfg = write_config(tmp, MESH_CONFIG)
    m = LocalMesh(extauthz_config=cfg, workdir=tmp / "mesh", envoy=envoy_bin)
    m.start()
    yield m
    m.stop()


class ServerProcess:
    """`extauthz serve` as a subprocess on a free loopback port."""

    def __init__(self, config: Path | None, tmp: Path, extra: list[str] | None = None,
                 env: dict[str, str] | None = None) -> None:
        self.address = f"127.0.0.1:{free_port()}"
        self.admin_url = f"http://127.0.0.1:{free_port()}"
        self.log_path = tmp / f"extauthz-{self.address.rsplit(':', 1)[1]}.log"
        argv = [sys.executable, "-m", "extauthz", "serve", "--listen", self.address,
                "--admin-listen", self.admin_url.removeprefix("http://")]
        if config is not None:
            argv += ["--config", str(config)]
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(argv + (extra or []), stdout=self._log, stderr=subprocess.STDOUT,
                                     start_new_session=True, env={**os.environ, **(env or {})})
        deadline = time.monotonic() + 120
        while grpc_health(self.address) != "SERVING":
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"extauthz did not start:\n{self.log()}")
            time.sleep(0.1)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 20) -> int:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, sig)
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            return self.proc.wait()
        finally:
            self._log.close()


@pytest.fixture
def server(tmp_path):
    started: list[ServerProcess] = []

    def start(config_text: str | None = None, extra: list[str] | None = None,
              env: dict[str, str] | None = None) -> ServerProcess:
        cfg = write_config(tmp_path, config_text, f"cfg{len(started)}.yaml") if config_text else None
        s = ServerProcess(cfg, tmp_path, extra, env)
        started.append(s)
        return s

    yield start
    for s in started:
        s.stop()
