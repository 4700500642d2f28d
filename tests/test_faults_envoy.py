"""Faults under load, with real processes: the edge Envoy, extauthz, Redis (loopback only).

- extauthz killed (SIGKILL) and restarted while clients keep sending: Envoy applies
  the configured failure mode (the edge fails closed: 503, never an attack let
  through, no hung request), decisions resume after the restart, and the learned
  state comes back: a blocked actor is still blocked, the behaviour profile has
  at least what it had before the kill (both live in Redis).
- the shared store (Redis) killed and restarted while clients keep sending:
  every request is still decided right (no 503: extauthz goes on with local
  state), a block decided during the outage reaches Redis once it is back, and a
  block from before the outage survives it (append-only file).

(Config reloads under load through Envoy: tests/test_ops_reload.py, 20 reloads;
bench/soak.py --reload-every reloads throughout a soak.)

Load: a few keep-alive HTTP clients, each request from its own client address
(X-Forwarded-For through the trusted edge), benign requests expecting 200 and
attacks expecting 403; every response is recorded with its time.
"""
from __future__ import annotations

import itertools
import json
import signal
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

from extauthz.mesh import free_port, grpc_health

from http_load import BackgroundLoad, KeepAlive
from redis_helpers import RedisServer

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
from harness import EnvoyEdge, Proc, wait_for  # noqa: E402

pytestmark = [pytest.mark.envoy, pytest.mark.redis]

TOKEN = "faults-test-token"
BENIGN = "/items/{n}?id={n}&sort=asc&user=ana"
ATTACK = "/items/{n}?id=1%27%20UNION%20SELECT%20password%20FROM%20users--"


def config(redis_url: str) -> str:
    return f"""
risk: {{xff_trusted_hops: 2}}
store:
  backend: redis
  redis: {{url: "{redis_url}", namespace: faults, retry_seconds: 0.2}}
state: {{flush_seconds: 0.5}}
events: {{output: "off"}}
server: {{watch_seconds: 0.2}}
"""


@dataclass
class Response:
    t: float
    attack: bool
    status: int | str


class Load(BackgroundLoad):
    """Each request from a new client address; every response recorded with its time."""

    def __init__(self, port: int, clients: int = 3) -> None:
        super().__init__(port, clients)
        self.responses: list[Response] = []
        self.counter = itertools.count(1)

    def step(self, client: KeepAlive) -> None:
        n = next(self.counter)
        attack = n % 4 == 0
        path = (ATTACK if attack else BENIGN).format(n=n % 5000)
        status = client.get(path, {"x-forwarded-for": f"10.{n >> 16 & 255}.{n >> 8 & 255}.{n & 255}",
                                   "user-agent": "load/1"})
        with self.lock:
            self.responses.append(Response(time.monotonic(), attack, status))

    def since(self, t0: float) -> list[Response]:
        with self.lock:
            return [r for r in self.responses if r.t >= t0]


def get(port: int, path: str, ip: str) -> tuple[int, dict]:
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers={"x-forwarded-for": ip})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, {}
    except urllib.error.HTTPError as e:
        body = e.read()
        return e.code, json.loads(body) if body.startswith(b"{") else {}


def block(port: int, ip: str) -> None:
    for n in range(1, 20):
        status, body = get(port, ATTACK.format(n=n), ip)
        assert status == 403, status
        if body.get("error") == "blocked actor":
            return
    raise AssertionError(f"{ip} was not blocked")


def profile_requests(admin_url: str) -> int:
    req = urllib.request.Request(admin_url + "/v1/profiles/shop", headers={"Authorization": f"Bearer {TOKEN}"})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return int(json.loads(r.read())["requests"])
    except urllib.error.HTTPError as e:
        if e.code == 404:
            return 0
        raise


class Stack:
    """Redis + extauthz (on a fixed port, so it can be restarted in place) + the edge Envoy."""

    def __init__(self, envoy_bin: str, tmp: Path) -> None:
        self.tmp = tmp
        self.redis = RedisServer(tmp).start()
        self.port, self.admin_port = free_port(), free_port()
        self.admin_url = f"http://127.0.0.1:{self.admin_port}"
        self.extauthz = self.start_extauthz()
        self.edge = EnvoyEdge(envoy_bin, tmp, "edge", self.port)

    def start_extauthz(self) -> Proc:
        cfg = self.tmp / "extauthz.yaml"
        cfg.write_text(config(self.redis.url))
        proc = Proc("extauthz", [sys.executable, "-m", "extauthz", "serve", "--config", str(cfg), "--listen",
                                 f"127.0.0.1:{self.port}", "--admin-listen", f"127.0.0.1:{self.admin_port}"], self.tmp,
                    env={"EXTAUTHZ_ADMIN_TOKEN": TOKEN})
        wait_for(lambda: grpc_health(f"127.0.0.1:{self.port}") == "SERVING", 120, "extauthz to serve", proc)
        return proc

    def stop(self) -> None:
        self.edge.stop()
        self.extauthz.stop()
        self.redis.stop()


@pytest.fixture
def stack(envoy_bin, tmp_path):
    s = Stack(envoy_bin, tmp_path)
    yield s
    s.stop()


def test_extauthz_killed_under_load_fails_closed_and_comes_back_with_its_state(stack):
    port = stack.edge.port
    block(port, "198.51.100.66")
    with Load(port) as load:
        wait_for(lambda: profile_requests(stack.admin_url) >= 100, 60, "the profile to learn 100 requests")
        time.sleep(1.0)  # at least one flush (state.flush_seconds 0.5) since
        learned = profile_requests(stack.admin_url)
        t_kill = time.monotonic()
        stack.extauthz.kill(signal.SIGKILL)
        stack.extauthz.popen.wait()
        time.sleep(1.0)  # an outage under load
        t_restart = time.monotonic()
        stack.extauthz = stack.start_extauthz()
        t_back = time.monotonic()
        time.sleep(1.5)
    rs = load.since(0)
    during = [r for r in rs if t_kill <= r.t <= t_back + 0.5]
    after = [r for r in rs if r.t > t_back + 0.5]
    before = [r for r in rs if r.t < t_kill]
    assert len(before) > 50 and len(after) > 20 and len(during) > 5, (len(before), len(during), len(after))
    # fail closed: while extauthz is away nothing passes unchecked, and nothing hangs or breaks
    # (a benign 200 is fine when decided just before the kill or after the restart)
    assert not [r for r in during if r.attack and r.status == 200], "an attack passed while extauthz was down"
    odd = [r for r in during if r.status not in (503, 403, 200)
           or (r.status == 200 and t_kill + 0.3 < r.t < t_restart)]
    assert odd == [], odd[:5]
    assert any(r.status == 503 for r in during)
    for r in before + after:
        assert r.status == (403 if r.attack else 200), r
    # learned state is back: the block (Redis) and the profile (Redis), nothing lost. On a
    # loaded machine the new process's first Redis calls may time out and open its circuit
    # breaker (checks then use local state until the probe reconnects, ~1 s): the block must
    # be back once it has.
    def blocked_again() -> bool:
        status, body = get(port, BENIGN.format(n=1), "198.51.100.66")
        return status == 403 and body.get("error") == "blocked actor"
    wait_for(blocked_again, 10, "the block to be read back from Redis")
    relearned = profile_requests(stack.admin_url)
    assert relearned >= learned > 0
    assert "Traceback" not in stack.extauthz.log()
    from collections import Counter
    print(f"\nextauthz killed under load: {len(before)} requests before, {len(during)} during the outage "
          f"({dict(Counter(r.status for r in during))}), {len(after)} after; outage {t_back - t_kill:.1f} s; "
          f"profile requests {learned} before the kill, {relearned} after the restart")


def test_redis_killed_under_load_every_request_is_still_decided_and_state_resumes(stack):
    port = stack.edge.port
    block(port, "198.51.100.70")  # before the outage: must survive it (append-only file)
    with Load(port) as load:
        time.sleep(1.0)
        t_kill = time.monotonic()
        stack.redis.kill()
        block(port, "198.51.100.71")  # during the outage: blocked locally, written back later
        time.sleep(1.0)
        stack.redis.start()
        t_back = time.monotonic()
        time.sleep(1.5)
    rs = load.since(0)
    assert len([r for r in rs if t_kill <= r.t <= t_back]) > 5
    wrong = [r for r in rs if r.status != (403 if r.attack else 200)]
    assert wrong == [], f"{len(wrong)} of {len(rs)} wrong, e.g. {wrong[:3]}"
    print(f"\nredis killed under load: {len(rs)} requests, "
          f"{len([r for r in rs if t_kill <= r.t <= t_back])} during the outage ({t_back - t_kill:.1f} s), 0 wrong")
    for ip in ("198.51.100.70", "198.51.100.71"):
        status, body = get(port, BENIGN.format(n=2), ip)
        assert status == 403 and body["error"] == "blocked actor", ip
    # a second extauthz that only knows Redis sees both blocks: the outage-time one was written back
    stack.extauthz.stop()
    stack.extauthz = stack.start_extauthz()
    for ip in ("198.51.100.70", "198.51.100.71"):
        deadline = time.monotonic() + 10
        while get(port, BENIGN.format(n=3), ip)[0] != 403:
            assert time.monotonic() < deadline, f"{ip}'s block did not reach Redis"
            time.sleep(0.2)
