"""Which span is a check's parent: W3C traceparent and B3 parsing, precedence, and a real
server exporting to a real OTLP receiver (no Envoy: the gRPC metadata set by hand)."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import grpc
import pytest
from hypothesis import given
from hypothesis import strategies as st

from extauthz._wire import ext_authz_pb2 as pb
from extauthz.server.service import CHECK_METHOD
from extauthz.telemetry.context import choose_parent, parse_b3_single, parse_traceparent
from otlp_receiver import OtlpReceiver

T1, S1 = "0af7651916cd43dd8448eb211c80319c", "b7ad6b7169203331"
T2, S2 = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
T3, S3 = "463ac35c9f6413ad48485a3953bb6124", "a2fb4a1d1a96d312"


def test_traceparent_parsing():
    assert parse_traceparent(f"00-{T1}-{S1}-01") == (int(T1, 16), int(S1, 16), True)
    assert parse_traceparent(f" 00-{T1.upper()}-{S1}-00 ") == (int(T1, 16), int(S1, 16), False)
    assert parse_traceparent(f"01-{T1}-{S1}-01-future") is not None  # later versions may add fields
    for bad in (f"00-{T1}-{S1}-01-extra", f"ff-{T1}-{S1}-01", f"00-{'0' * 32}-{S1}-01", f"00-{T1}-{'0' * 16}-01",
                f"00-{T1[:-1]}-{S1}-01", f"00-{T1}-{S1}-1", f"00-{T1}-{S1[:-1]}g-01", "", "00", "-" * 60, "x" * 10_000):
        assert parse_traceparent(bad) is None, bad


def test_b3_parsing():
    assert parse_b3_single(f"{T3}-{S3}-1") == (int(T3, 16), int(S3, 16), True)
    assert parse_b3_single(f"{T3}-{S3}-0-{S1}") == (int(T3, 16), int(S3, 16), False)
    assert parse_b3_single(f"{T3[16:]}-{S3}") == (int(T3[16:], 16), int(S3, 16), True)  # 64-bit trace id
    for bad in ("1", "0", "d", f"{T3}", f"{T3}-{S3}-1-{S1}-x", f"{T3}-zz"):
        assert parse_b3_single(bad) is None, bad


@given(st.text(max_size=300))
def test_parsers_never_raise(text):
    parse_traceparent(text)
    parse_b3_single(text)
    choose_parent({"traceparent": text, "b3": text}, {"traceparent": (text,), "x-b3-traceid": (text,),
                                                      "x-b3-spanid": (text,)})


def test_precedence_metadata_then_headers_then_b3():
    w3c = lambda t, s: f"00-{t}-{s}-01"  # noqa: E731
    headers = {"traceparent": (w3c(T2, S2),), "x-b3-traceid": (T3,), "x-b3-spanid": (S3,)}
    p = choose_parent({"traceparent": w3c(T1, S1), "tracestate": ""}, headers)
    assert (p.trace_id_hex, p.span_id_hex, p.origin) == (T1, S1, "metadata:traceparent")
    p = choose_parent({"x-envoy-internal": "true"}, headers)
    assert (p.trace_id_hex, p.span_id_hex, p.origin) == (T2, S2, "header:traceparent")
    p = choose_parent({}, {"x-b3-traceid": (T3,), "x-b3-spanid": (S3,), "x-b3-sampled": ("0",)})
    assert (p.trace_id_hex, p.span_id_hex, p.sampled, p.origin) == (T3, S3, False, "header:x-b3")
    p = choose_parent({"traceparent": "garbage"}, {"b3": (f"{T3}-{S3}-1",)})
    assert p.origin == "header:b3"
    assert choose_parent({}, {}) is None


def event_id_of(resp: pb.CheckResponse) -> str:
    return next(h.header.value.decode() for h in resp.denied_response.headers if h.header.key == "x-extauthz-event-id")


def _check(address: str, headers: dict[str, str], metadata: tuple = ()) -> pb.CheckResponse:
    msg = pb.CheckRequest()
    h = msg.attributes.request.http
    h.method, h.path, h.host = "GET", b"/x?file=../../../../etc/passwd", "shop"
    for k, v in headers.items():
        h.headers[k] = v.encode()
    with grpc.insecure_channel(address) as ch:
        raw = ch.unary_unary(CHECK_METHOD, request_serializer=lambda b: b, response_deserializer=lambda b: b)(
            msg.SerializeToString(), metadata=metadata, timeout=5)
    return pb.CheckResponse.FromString(raw)


@pytest.fixture
def receiver():
    r = OtlpReceiver().start()
    yield r
    r.stop()


def test_server_span_parent_follows_the_precedence(server, receiver):
    s = server(f"tracing:\n  enabled: true\n  endpoint: {receiver.endpoint}\n  service_name: waf-under-test\n",
               env={"OTEL_BSP_SCHEDULE_DELAY": "50"})
    cases = [
        ("metadata", {"traceparent": f"00-{T2}-{S2}-01"}, (("traceparent", f"00-{T1}-{S1}-01"),), T1, S1),
        ("header", {"traceparent": f"00-{T2}-{S2}-01"}, (), T2, S2),
        ("b3", {"b3": f"{T3}-{S3}-1"}, (), T3, S3),
    ]
    for name, headers, md, trace_id, parent in cases:
        event_id = event_id_of(_check(s.address, headers, md))
        spans = receiver.wait_for(lambda sp: sp.attributes.get("extauthz.event_id") == event_id, timeout=10)
        assert spans, name
        assert (spans[0].trace_id, spans[0].parent_span_id, spans[0].service) == (trace_id, parent, "waf-under-test")
    # no context at all: a new root trace
    event_id = event_id_of(_check(s.address, {}))
    root = receiver.wait_for(lambda sp: sp.attributes.get("extauthz.event_id") == event_id, timeout=10)
    assert root and root[0].parent_span_id == "" and root[0].trace_id not in (T1, T2, T3)
    # an unsampled parent: no span, but the event still names the trace
    event_id = event_id_of(_check(s.address, {"traceparent": f"00-{T2}-{S1}-00"}))
    assert not receiver.wait_for(lambda sp: sp.attributes.get("extauthz.event_id") == event_id, timeout=1.5)


def test_tracing_off_loads_no_sdk():
    """With tracing off the OpenTelemetry SDK is never imported: it costs nothing."""
    code = """
import sys
from extauthz.config import Config
from extauthz.server.grpc_server import ServingProcess, options_from
p = ServingProcess(Config(), options_from(Config(), None, "127.0.0.1:0", False, admin_listen="off"))
p.start(); p.request_stop(); p.drain()
assert p.telemetry.tracer is None
print(sorted(m for m in sys.modules if m.startswith("opentelemetry")))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                         env={k: v for k, v in os.environ.items() if not k.startswith("OTEL_")})
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_event_carries_the_trace_id_with_tracing_off(server):
    s = server("events:\n  output: stdout\n")
    _check(s.address, {"traceparent": f"00-{T2}-{S2}-01"})
    s.stop()
    events = [json.loads(line) for line in s.log().splitlines() if line.startswith('{"type":"security_event"')]
    assert events and events[-1]["trace_id"] == T2 and events[-1]["parent_span_id"] == S2
    assert events[-1]["span_id"] == ""
