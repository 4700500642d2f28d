"""SIGTERM drains: not ready and NOT_SERVING at once, checks in flight finish with real
answers, then state is flushed (events written, spans exported, stages closed)."""
from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request

import grpc
from grpc_health.v1 import health_pb2

from extauthz._wire import ext_authz_pb2 as pb
from extauthz.config import parse_config
from extauthz.engine import Engine
from extauthz.mesh import free_port
from extauthz.server.grpc_server import ServingProcess, options_from
from extauthz.server.service import CHECK_METHOD
from otlp_receiver import OtlpReceiver


class SlowEngine(Engine):
    """Each check takes a second: long enough to be in flight when the drain starts."""

    closed = False

    def check(self, request):
        time.sleep(1.0)
        return super().check(request)

    def close(self):
        SlowEngine.closed = True
        super().close()


def readyz(url: str) -> int:
    try:
        return urllib.request.urlopen(url + "/readyz", timeout=2).status
    except urllib.error.HTTPError as e:
        return e.code
    except OSError:
        return -1


def test_drain_finishes_in_flight_checks_and_flushes(tmp_path):
    receiver = OtlpReceiver().start()
    events = tmp_path / "events.jsonl"
    config = parse_config(f"events:\n  output: {events}\ntracing:\n  enabled: true\n  endpoint: {receiver.endpoint}\n"
                          "server:\n  drain_seconds: 10\n")
    options = options_from(config, None, f"127.0.0.1:{free_port()}", False, admin_listen=f"127.0.0.1:{free_port()}")
    proc = ServingProcess(config, options, engine_factory=SlowEngine)
    proc.start()
    admin_url = f"http://127.0.0.1:{proc.admin.port}"
    assert readyz(admin_url) == 200
    answers: list[str] = []

    def one(i: int) -> None:
        msg = pb.CheckRequest()
        h = msg.attributes.request.http
        h.path, h.host = f"/x{i}?file=..%2f..%2f..%2f..%2fetc%2fpasswd".encode(), "shop"
        with grpc.insecure_channel(f"127.0.0.1:{proc.port}") as ch:
            raw = ch.unary_unary(CHECK_METHOD, request_serializer=lambda b: b,
                                 response_deserializer=lambda b: b)(msg.SerializeToString(), timeout=15)
        resp = pb.CheckResponse.FromString(raw)
        answers.append("deny" if resp.HasField("denied_response") else "allow")

    clients = [threading.Thread(target=one, args=(i,)) for i in range(4)]
    for t in clients:
        t.start()
    time.sleep(0.4)  # all four are inside the engine now
    drainer = threading.Thread(target=proc.drain)
    drainer.start()
    time.sleep(0.2)
    assert readyz(admin_url) == 503  # load balancers stop sending
    status = proc.health.Check(health_pb2.HealthCheckRequest(service=""), None).status
    assert status == health_pb2.HealthCheckResponse.NOT_SERVING
    for t in clients:
        t.join(timeout=20)
    drainer.join(timeout=20)
    assert answers == ["deny"] * 4  # every check in flight got its real answer
    assert SlowEngine.closed
    lines = [json.loads(x) for x in events.read_text().splitlines()]
    assert sorted(e["path"] for e in lines) == ["/x0", "/x1", "/x2", "/x3"]  # events flushed before exit
    spans = receiver.wait_for(lambda s: s.service == "extauthz", timeout=5)
    assert len(spans) == 4  # spans exported before exit
    receiver.stop()
