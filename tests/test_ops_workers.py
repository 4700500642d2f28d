"""--workers N: one admin port for all workers (the supervisor's), metrics summed over
the workers' multiprocess files, events merged, reload sent to every worker."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request

from admin_client import admin_call
from extauthz.mesh import free_port, grpc_health
from test_tracing_context import _check

TOKEN = "workers-token"


def admin(url: str, path: str, method: str = "GET", token: str | None = TOKEN):
    return admin_call(url, path, method, token)


def sample(text: str, name: str) -> float:
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith(name))


def test_supervisor_admin_aggregates_workers(tmp_path):
    cfg = tmp_path / "extauthz.yaml"
    cfg.write_text("events:\n  output: 'off'\nserver:\n  watch_config: false\n")
    address, admin_port = f"127.0.0.1:{free_port()}", free_port()
    url = f"http://127.0.0.1:{admin_port}"
    log = open(tmp_path / "sup.log", "wb")
    sup = subprocess.Popen([sys.executable, "-m", "extauthz", "serve", "--workers", "2", "--listen", address,
                            "--config", str(cfg), "--admin-listen", f"127.0.0.1:{admin_port}"],
                           stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                           env={**os.environ, "EXTAUTHZ_ADMIN_TOKEN": TOKEN})
    try:
        deadline = time.monotonic() + 60
        while not (_up(url) and admin(url, "/readyz", token=None)[0] == 200):
            assert sup.poll() is None and time.monotonic() < deadline, (tmp_path / "sup.log").read_text()
            time.sleep(0.2)
        assert "2 of 2 workers" in admin(url, "/readyz", token=None)[1]["reason"]
        assert grpc_health(address) == "SERVING"
        attacks = 0
        for i in range(40):  # a fresh channel each: the kernel spreads them over the workers
            attack = i % 4 == 0
            attacks += attack
            if attack:
                _check(address, {})
            else:
                _benign(address)
        status, text = admin(url, "/metrics", token=None)
        assert status == 200
        assert sample(text, "extauthz_checks_total{") == 40  # the sum over both workers
        assert sample(text, 'extauthz_checks_total{action="deny"') == attacks
        status, body = admin(url, "/v1/events?limit=1000")
        assert status == 200 and body["count"] == attacks  # merged from both workers
        times = [e["time"] for e in body["events"]]
        assert times == sorted(times, reverse=True)
        assert admin(url, "/v1/events", token="wrong")[0] == 401
        # reload reaches every worker
        cfg.write_text("events:\n  output: 'off'\nserver:\n  watch_config: false\ndefaults:\n  threshold: 9\n")
        status, body = admin(url, "/v1/reload", "POST")
        assert status == 200 and body["message"] == "reloaded in 2 workers"
        assert admin(url, "/v1/config")[1]["defaults"]["threshold"] == 9
        cfg.write_text("defaults: {threshold: -1}\n")
        status, body = admin(url, "/v1/reload", "POST")
        assert status == 422 and "2 of 2 workers rejected" in body["error"] and "threshold" in body["error"]
        status, text = admin(url, "/metrics", token=None)
        assert sample(text, 'extauthz_config_reloads_total{result="applied"}') == 2
        assert sample(text, 'extauthz_config_reloads_total{result="rejected"}') == 2
        # a block and a list entry made through the supervisor hold in every worker
        status, body = admin_call(url, "/v1/actors/block", "POST", TOKEN,
                                  json.dumps({"actor": "203.0.113.50", "seconds": 600}).encode())
        assert status == 200, body
        status, body = admin_call(url, "/v1/lists/deny/add", "POST", TOKEN,
                                  json.dumps({"entries": ["198.51.100.0/24"], "reason": "test"}).encode())
        assert status == 200, body
        assert body_actor(url)
        outcomes = {_benign(address, "203.0.113.50") for _ in range(12)} | \
            {_benign(address, "198.51.100.7") for _ in range(12)}
        assert outcomes == {"deny"}  # 24 fresh connections, spread over both workers: all denied
        assert admin_call(url, "/v1/actors/unblock", "POST", TOKEN, b'{"actor": "203.0.113.50"}')[0] == 200
        assert {_benign(address, "203.0.113.50") for _ in range(12)} == {"allow"}
        sup.send_signal(signal.SIGTERM)
        assert sup.wait(timeout=60) == 0
    finally:
        if sup.poll() is None:
            sup.kill()
        log.close()


def _up(url: str) -> bool:
    try:
        urllib.request.urlopen(url + "/healthz", timeout=1)
        return True
    except OSError:
        return False


def body_actor(url: str) -> str:
    """The actor id the workers gave the blocked address (one, merged over both workers)."""
    actors = admin(url, "/v1/actors?blocked=true")[1]["actors"]
    assert len(actors) == 1
    return actors[0]["actor"]


def _benign(address: str, source: str = "") -> str:
    import grpc

    from extauthz._wire import ext_authz_pb2 as pb
    from extauthz.server.service import CHECK_METHOD

    msg = pb.CheckRequest()
    msg.attributes.request.http.path = b"/catalog?q=shoes"
    msg.attributes.request.http.host = "shop"
    if source:
        msg.attributes.source.address.socket_address.address = source
    with grpc.insecure_channel(address) as ch:
        raw = ch.unary_unary(CHECK_METHOD, request_serializer=lambda b: b, response_deserializer=lambda b: b)(
            msg.SerializeToString(), timeout=5)
    return "deny" if pb.CheckResponse.FromString(raw).HasField("denied_response") else "allow"
