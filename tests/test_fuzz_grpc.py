"""CheckRequest fuzzing through the real gRPC server (a subprocess, `extauthz serve`).

Whatever arrives on Authorization/Check — random bytes, valid messages mutated
at the byte level, structurally valid CheckRequests with hostile content
everywhere, the pathological corpus — the server answers with a decision (a
CheckResponse that is an allow or a deny, never a gRPC error), stays healthy
(health SERVING, process alive, bounded memory) and still decides ordinary
requests correctly afterwards. Internal engine failures are counted by the
server's own metrics and must be zero, except for exception types listed in
tests/data/known_slow.yaml (open detector issues).

This is the short run for the default suite (about 1,500 messages); the long
one (a million and more, mostly in-process) is `python bench/fuzz_long.py`.
"""
from __future__ import annotations

import random
import re
import sys
import threading
from pathlib import Path

import grpc
import pytest
import yaml
from hypothesis import HealthCheck, given, settings

from extauthz._wire import ext_authz_pb2 as pb
from extauthz.mesh import grpc_health
from extauthz.server.service import CHECK_METHOD

from fuzz_helpers import check_request_message, mutate, random_payload, requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
from mixes import MIXES, check_request  # noqa: E402  (the benchmark's request mixes as Envoy sends them)

KNOWN_RAISES = {e["raises"] for e in yaml.safe_load((Path(__file__).parent / "data" / "known_slow.yaml").read_text())
                if "raises" in e}
CONFIG = """
events: {output: "off"}
risk: {xff_trusted_hops: 2}
"""


class Client:
    """One channel, raw bytes in and out (the server parses; so can garbage)."""

    def __init__(self, address: str) -> None:
        self.channel = grpc.insecure_channel(address, options=[("grpc.max_send_message_length", 64 << 20),
                                                               ("grpc.max_receive_message_length", 64 << 20)])
        self.check = self.channel.unary_unary(CHECK_METHOD, request_serializer=lambda b: b,
                                              response_deserializer=lambda b: b)

    def decide(self, payload: bytes) -> str:
        raw = self.check(payload, timeout=30)
        resp = pb.CheckResponse.FromString(raw)
        if resp.HasField("ok_response") and resp.status.code == 0:
            return "allow"
        if resp.HasField("denied_response") and resp.status.code != 0:
            return "deny"
        raise AssertionError(f"not a decision: {resp}")

    def close(self) -> None:
        self.channel.close()


def seeds() -> list[bytes]:
    return [check_request(r, f"10.9.{i}.{j}") for i, name in enumerate(MIXES) for j, r in enumerate(MIXES[name]())]


def metric(admin_url: str, name: str, labels: str = "") -> float:
    import urllib.request
    text = urllib.request.urlopen(admin_url + "/metrics", timeout=10).read().decode()
    for line in text.splitlines():
        if line.startswith(name + labels + " "):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def unknown_engine_failures(log: str) -> list[str]:
    """Engine failures in the server log whose exception type is not a listed open issue."""
    found = re.findall(r"check failed \(engine\)[^\n]*?: (\w+(?:Error|Exception)\w*):", log)
    return [f for f in found if f not in KNOWN_RAISES]


@pytest.fixture(scope="module")
def fuzz_server(tmp_path_factory):
    from conftest import ServerProcess, write_config
    tmp = tmp_path_factory.mktemp("fuzz")
    s = ServerProcess(write_config(tmp, CONFIG), tmp)
    client = Client(s.address)
    yield s, client
    client.close()
    s.stop()


def test_random_and_mutated_messages_always_get_a_decision(fuzz_server):
    s, _ = fuzz_server
    base = seeds()
    errors: list[str] = []
    counts = {"allow": 0, "deny": 0}
    lock = threading.Lock()

    def worker(seed: int, n: int) -> None:
        rnd = random.Random(seed)
        client = Client(s.address)
        try:
            for i in range(n):
                payload = random_payload(rnd, base)
                try:
                    d = client.decide(payload)
                except Exception as exc:  # a gRPC error or a non-decision is a failure
                    with lock:
                        errors.append(f"seed {seed} #{i}: {type(exc).__name__}: {str(exc)[:200]}")
                    continue
                with lock:
                    counts[d] += 1
        finally:
            client.close()

    threads = [threading.Thread(target=worker, args=(1000 + k, 250)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=600)
    assert not errors, errors[:5]
    assert counts["allow"] + counts["deny"] == 1000
    assert counts["allow"] > 0 and counts["deny"] > 0, counts
    assert grpc_health(s.address) == "SERVING" and s.proc.poll() is None
    assert unknown_engine_failures(s.log()) == []


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                   HealthCheck.too_slow])
@given(request=requests())
def test_valid_check_requests_with_hostile_content_get_a_decision(fuzz_server, request):
    _, client = fuzz_server
    msg = check_request_message(request)
    assert client.decide(msg.SerializeToString()) in ("allow", "deny")


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                   HealthCheck.too_slow])
@given(request=requests())
def test_mutations_of_hostile_requests_get_a_decision(fuzz_server, request):
    _, client = fuzz_server
    raw = check_request_message(request).SerializeToString()
    rnd = random.Random(len(raw))
    for _ in range(3):
        assert client.decide(mutate(raw, rnd)) in ("allow", "deny")


def test_pathological_corpus_through_the_server(fuzz_server):
    from test_pathological_engine import STRUCTURAL
    s, client = fuzz_server
    for name, (request, _) in STRUCTURAL.items():
        msg = check_request_message(request)
        assert client.decide(msg.SerializeToString()) in ("allow", "deny"), name


def test_server_is_healthy_and_still_right_after_the_fuzzing(fuzz_server):
    """Runs last in this module: ordinary requests are still decided correctly, memory is bounded."""
    s, client = fuzz_server
    for name, make in MIXES.items():
        for j, r in enumerate(make()):
            want = "deny" if r.expect == 403 else "allow"
            assert client.decide(check_request(r, f"10.77.{j}.1")) == want, (name, r.label)
    assert grpc_health(s.address) == "SERVING" and s.proc.poll() is None
    assert rss_mb(s.proc.pid) < 600, f"RSS {rss_mb(s.proc.pid):.0f} MB after fuzzing"
    assert unknown_engine_failures(s.log()) == []
    adapter = metric(s.admin_url, "extauthz_failures_total", '{kind="adapter"}')
    assert adapter > 0, "garbage was sent: the adapter must have refused some of it (counted)"
    assert metric(s.admin_url, "extauthz_failures_total", '{kind="response"}') == 0
