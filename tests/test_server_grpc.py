"""The real gRPC server (a subprocess) under bad input, signals and workers."""
from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

import grpc
import pytest

from extauthz._wire import ext_authz_pb2 as pb
from extauthz.mesh import free_port, grpc_health
from extauthz.server.service import CHECK_METHOD


def call(address: str, payload: bytes, timeout: float = 5.0) -> pb.CheckResponse:
    with grpc.insecure_channel(address, options=[("grpc.max_send_message_length", 64 << 20)]) as ch:
        raw = ch.unary_unary(CHECK_METHOD, request_serializer=lambda b: b, response_deserializer=lambda b: b)(
            payload, timeout=timeout)
    return pb.CheckResponse.FromString(raw)


def http_check(path: bytes = b"/", **kw) -> pb.CheckRequest:
    msg = pb.CheckRequest()
    h = msg.attributes.request.http
    h.method = kw.pop("method", "GET")
    h.path = path
    h.host = kw.pop("host", "shop")
    for k, v in kw.pop("headers", {}).items():
        h.headers[k] = v
    for k, v in kw.items():
        setattr(h, k, v)
    return msg


def decided(resp: pb.CheckResponse) -> str:
    if resp.HasField("ok_response") and resp.status.code == 0:
        return "allow"
    if resp.HasField("denied_response") and resp.status.code != 0:
        return "deny"
    raise AssertionError(f"not a decision: {resp}")


def test_bad_input_always_gets_a_decision(server):
    s = server()
    cases = {
        "empty": b"",
        "no http attributes": pb.CheckRequest(attributes=pb.AttributeContext()).SerializeToString(),
        "garbage bytes": b"\xff\xff\xff\xff\x0f not protobuf at all",
        "invalid utf-8": http_check(b"/p\xc3\x28?q=\xff", headers={"x-a": b"\xfe\xff", "user-agent": b"\x80abc"},
                                    body=b"\xc0\xaf\xff").SerializeToString(),
        "body over the limit": http_check(b"/upload", method="POST", raw_body=b"A" * 600_000,
                                          headers={"content-type": b"application/octet-stream"}).SerializeToString(),
        "huge header count": http_check(b"/", headers={f"x-h{i}": b"v" for i in range(20_000)}).SerializeToString(),
    }
    outcome = {}
    for name, payload in cases.items():
        t0 = time.monotonic()
        outcome[name] = decided(call(s.address, payload))
        assert time.monotonic() - t0 < 5, name
    # an unparsable message gets the default policy's failure decision (deny)
    assert outcome["garbage bytes"] == "deny"
    assert outcome["empty"] == "allow"
    assert grpc_health(s.address) == "SERVING"
    assert s.proc.poll() is None
    # the failure was logged, not swallowed
    assert "check failed (adapter)" in s.log()


def test_failure_decision_follows_policy(server):
    s = server("defaults:\n  failure: allow\n")
    assert decided(call(s.address, b"\xff\xff\xff\xff\x0f")) == "allow"


def test_deny_status_is_configurable_and_off_mode_allows(server):
    s = server("defaults:\n  mode: 'off'\nservices:\n  strict:\n    mode: block\n    threshold: 1\n    deny_status: 429\n")
    assert decided(call(s.address, http_check(b"/x", host="anything").SerializeToString())) == "allow"


def test_sigterm_drains_and_exits_zero(server):
    s = server()
    assert grpc_health(s.address) == "SERVING"
    assert s.stop(signal.SIGTERM) == 0
    assert "stopped" in s.log()


def test_invalid_config_is_a_usage_error(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("defaults:\n  mode: sometimes\n")
    p = subprocess.run([sys.executable, "-m", "extauthz", "serve", "--config", str(bad)],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 2
    assert "defaults.mode" in p.stderr


def test_port_in_use_is_reported(server, tmp_path):
    s = server()
    p = subprocess.run([sys.executable, "-m", "extauthz", "serve", "--listen", s.address],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 2 and "cannot listen" in p.stderr


def test_workers_share_the_port_and_stop_together(tmp_path):
    address = f"127.0.0.1:{free_port()}"
    log = open(tmp_path / "sup.log", "wb")
    sup = subprocess.Popen([sys.executable, "-m", "extauthz", "serve", "--workers", "2", "--listen", address,
                            "--admin-listen", "off"],
                           stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 120  # startup, not speed, is under test; the machine may be loaded
        while grpc_health(address) != "SERVING":
            assert sup.poll() is None and time.monotonic() < deadline, (tmp_path / "sup.log").read_text()
            time.sleep(0.1)
        children = subprocess.run(["pgrep", "-P", str(sup.pid)], capture_output=True, text=True).stdout.split()
        assert len(children) == 2
        # many connections get answered (the kernel spreads them over both workers)
        for _ in range(20):
            assert decided(call(address, http_check(b"/ok").SerializeToString())) == "allow"
        sup.send_signal(signal.SIGTERM)
        assert sup.wait(timeout=30) == 0
        time.sleep(0.2)
        for pid in children:
            assert subprocess.run(["kill", "-0", pid], capture_output=True).returncode != 0
    finally:
        if sup.poll() is None:
            sup.kill()
        log.close()


def test_check_command_exit_codes(tmp_path):
    ok = subprocess.run([sys.executable, "-m", "extauthz", "check", "/search?q=shoes"], capture_output=True, text=True)
    assert ok.returncode == 0 and ok.stdout.startswith("ALLOW")
    usage = subprocess.run([sys.executable, "-m", "extauthz", "check", "--json", "{not json"], capture_output=True, text=True)
    assert usage.returncode == 2
    line = json.dumps({"method": "GET", "uri": "/x", "headers": [["Host", "shop"]]})
    js = subprocess.run([sys.executable, "-m", "extauthz", "check", "--json", line, "-o", "json"],
                        capture_output=True, text=True)
    assert js.returncode == 0 and json.loads(js.stdout)["service"] == "shop"


@pytest.mark.parametrize("n", [1])
def test_health_service_names(server, n):
    s = server()
    assert grpc_health(s.address, "envoy.service.auth.v3.Authorization") == "SERVING"
    assert grpc_health(s.address, "no.such.Service") == "UNREACHABLE"


def test_engine_warm_up_does_not_train_or_score_actors():
    from extauthz.config import Config
    from extauthz.engine import Engine

    class Recorder:
        name = "recorder"
        seen = 0

        def inspect(self, ctx):
            Recorder.seen += 1

        def observe(self, ctx, verdict):
            Recorder.seen += 1

    engine = Engine(Config())
    engine.stages.append(Recorder())
    engine.warm_up()
    assert Recorder.seen == 0  # stateful stages never see synthetic traffic
