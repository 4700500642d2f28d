"""Two extauthz processes share one real Redis, each behind its own real Envoy.

Envoy 1 → extauthz A, Envoy 2 → extauthz B (the edge config from envoy/edge.yaml,
its route answering directly instead of forwarding to a frontend). Clients
are told apart by X-Forwarded-For through two trusted hops: a load balancer's
entry, then the edge Envoy's own (use_remote_address).
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import yaml

from extauthz.mesh import asset_dir, free_port, render

from redis_helpers import RedisServer

pytestmark = [pytest.mark.envoy, pytest.mark.redis]

ATTACK = "/download?file=../../../../etc/passwd"
CLEAN = "/download?file=report.pdf"


def edge_config(path: Path, listen: int, admin: int, extauthz: int) -> Path:
    lo = "127.0.0.1"
    cfg = render(yaml.safe_load((asset_dir("envoy") / "edge.yaml").read_text()),
                 {("0.0.0.0", 8080): (lo, listen), (lo, 9901): (lo, admin), ("extauthz", 9001): (lo, extauthz)},
                 None)
    hcm = cfg["static_resources"]["listeners"][0]["filter_chains"][0]["filters"][0]["typed_config"]
    hcm["route_config"]["virtual_hosts"][0]["routes"] = [
        {"match": {"prefix": "/"}, "direct_response": {"status": 200, "body": {"inline_string": "app"}}}]
    cfg["static_resources"]["clusters"] = [c for c in cfg["static_resources"]["clusters"] if c["name"] == "extauthz"]
    # a shared 2-core CI machine can be slow: a late answer must not read as Envoy's 503
    hcm["http_filters"][0]["typed_config"]["grpc_service"]["timeout"] = "5s"
    path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    return path


class Edge:
    def __init__(self, envoy_bin: str, workdir: Path, name: str, extauthz_address: str) -> None:
        self.port, self.admin = free_port(), free_port()
        cfg = edge_config(workdir / f"{name}.yaml", self.port, self.admin, int(extauthz_address.rsplit(":", 1)[1]))
        self.log = open(workdir / f"{name}.log", "wb")
        self.proc = subprocess.Popen([envoy_bin, "-c", str(cfg), "--disable-hot-restart", "--concurrency", "1",
                                      "--log-level", "warn"], stdout=self.log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.admin}/ready", timeout=1) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            assert self.proc.poll() is None and time.monotonic() < deadline, f"envoy {name} did not start"
            time.sleep(0.1)

    def get(self, uri: str, client_ip: str) -> tuple[int, dict]:
        req = urllib.request.Request(f"http://127.0.0.1:{self.port}{uri}",
                                     headers={"x-forwarded-for": client_ip, "user-agent": "test-client/1"})
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                return r.status, {}
        except urllib.error.HTTPError as e:
            body = e.read()
            return e.code, json.loads(body) if body.startswith(b"{") else {"raw": body[:200]}

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.log.close()


@pytest.fixture
def shared(envoy_bin, server, tmp_path):
    redis = RedisServer(tmp_path).start()
    config = f"""
risk: {{xff_trusted_hops: 2}}
store:
  backend: redis
  redis: {{url: "{redis.url}", namespace: meshtest, retry_seconds: 0.2, timeout: 0.5}}
"""
    a, b = server(config), server(config)
    edges = [Edge(envoy_bin, tmp_path, "edge-a", a.address), Edge(envoy_bin, tmp_path, "edge-b", b.address)]
    yield redis, edges, (a, b)
    for e in edges:
        e.stop()
    redis.stop()


def attack_until_blocked(edge: Edge, ip: str, limit: int = 20) -> int:
    for n in range(1, limit + 1):
        status, body = edge.get(ATTACK, ip)
        assert status == 403
        if body.get("error") == "blocked actor":
            return n
    raise AssertionError(f"{ip} not blocked after {limit} attacks")


def wait_blocked(edge: Edge, ip: str, timeout: float = 10) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        status, body = edge.get(CLEAN, ip)
        if status == 403:
            return body
        assert time.monotonic() < deadline, f"{ip} not blocked through the other extauthz"
        time.sleep(0.2)


def test_an_actor_blocked_through_one_replica_is_blocked_through_the_other(shared):
    redis, (edge_a, edge_b), _ = shared
    assert edge_b.get(CLEAN, "203.0.113.10") == (200, {})
    n = attack_until_blocked(edge_a, "203.0.113.10")
    assert n <= 5
    status, body = edge_b.get(CLEAN, "203.0.113.10")  # a clean request, through the other replica
    assert status == 403 and body["error"] == "blocked actor" and body["event_id"]
    assert edge_b.get(CLEAN, "203.0.113.11") == (200, {})  # someone else


def test_redis_killed_and_restarted_service_continues_and_state_resumes(shared):
    redis, (edge_a, edge_b), (a, b) = shared
    attack_until_blocked(edge_a, "198.51.100.20")
    assert edge_b.get(CLEAN, "198.51.100.20")[0] == 403
    redis.kill()
    # service continues: clean traffic allowed, attacks denied, known blocks hold
    for i in range(5):
        assert edge_a.get(CLEAN, f"192.0.2.{i + 1}") == (200, {})
        assert edge_b.get(CLEAN, f"192.0.2.{i + 1}") == (200, {})
        assert edge_b.get(ATTACK, f"192.0.2.{i + 1}")[0] == 403
    assert edge_a.get(CLEAN, "198.51.100.20")[0] == 403
    assert edge_b.get(CLEAN, "198.51.100.20")[0] == 403
    # a new attacker during the outage is blocked locally by the replica that saw it
    attack_until_blocked(edge_a, "198.51.100.21")
    redis.start()
    # state resumes: B learns of the outage-time block once A's writes reach Redis
    body = wait_blocked(edge_b, "198.51.100.21")
    assert body["error"] == "blocked actor"
    assert edge_b.get(CLEAN, "198.51.100.20")[0] == 403
    assert edge_a.get(CLEAN, "192.0.2.200") == (200, {})
    for s in (a, b):
        log = s.log()
        assert "unavailable" in log and "reachable again" in log, log[-2000:]
        assert "Traceback" not in log
