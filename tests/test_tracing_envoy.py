"""Traces with real processes: Envoy's OpenTelemetry tracer and extauthz both export
OTLP/gRPC to a real receiver started here; the verdict's span sits inside the
request's own trace, under Envoy's ext_authz span, with a span event per finding.
"""
from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest

from conftest import MESH_CONFIG, write_config
from extauthz.mesh import LocalMesh
from otlp_receiver import OtlpReceiver

pytestmark = pytest.mark.envoy

SPAN_NAME = "envoy.service.auth.v3.Authorization/Check"
CLIENT_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
CLIENT_SPAN = "00f067aa0ba902b7"


@pytest.fixture(scope="module")
def traced(envoy_bin, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("traced")
    receiver = OtlpReceiver().start()
    cfg = write_config(tmp, MESH_CONFIG + f"""
tracing:
  enabled: true
  endpoint: {receiver.endpoint}
events:
  output: stdout
  redact_keys: [x-tenant-secret]
""")
    mesh = LocalMesh(extauthz_config=cfg, workdir=tmp / "mesh", envoy=envoy_bin,
                     ports={"otel": receiver.port}, extauthz_env={"OTEL_BSP_SCHEDULE_DELAY": "100"})
    mesh.start()
    yield mesh, receiver
    mesh.stop()
    receiver.stop()


def get(url: str, headers: dict | None = None) -> tuple[int, dict, bytes]:
    req = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def extauthz_span(receiver: OtlpReceiver, event_id: str):
    spans = receiver.wait_for(lambda s: s.name == SPAN_NAME and s.attributes.get("extauthz.event_id") == event_id)
    assert spans, f"no extauthz span for event {event_id}; got {[(s.service, s.name) for s in receiver.spans]}"
    return spans[0]


def wait_parent(receiver: OtlpReceiver, span) -> object:
    found = receiver.wait_for(lambda s: s.span_id == span.parent_span_id and s.trace_id == span.trace_id)
    assert found, f"the parent span {span.parent_span_id} never arrived; trace has " \
                  f"{[(s.service, s.name, s.span_id) for s in receiver.trace(span.trace_id)]}"
    return found[0]


def test_blocked_request_is_explained_inside_envoys_trace(traced):
    mesh, receiver = traced
    status, headers, body = get(mesh.url() + "/api/products?file=..%2f..%2f..%2f..%2fetc%2fpasswd",
                                {"authorization": "Bearer s3cr3t-token-value", "x-tenant-secret": "hunter2"})
    assert status == 403
    event_id = json.loads(body)["event_id"]
    span = extauthz_span(receiver, event_id)

    # the parent is Envoy's own ext_authz client span (from the gRPC metadata), in Envoy's trace
    parent = wait_parent(receiver, span)
    assert parent.service == "edge"
    assert span.attributes["extauthz.parent_from"] == "metadata:traceparent"
    # ... and that span hangs under the edge's request span: one trace from the edge down
    root = wait_parent(receiver, parent)
    assert root.service == "edge" and root.parent_span_id == ""

    a = span.attributes
    assert span.service == "extauthz" and span.kind == 2  # SPAN_KIND_SERVER
    assert a["extauthz.decision"] == "deny" and a["extauthz.action"] == "deny"
    assert a["extauthz.score"] >= 8 and a["extauthz.hop"] == "edge" and a["extauthz.service"] == "frontend"
    assert "lfi" in a["extauthz.classes"] and "lfi.traversal.restricted-file" in a["extauthz.rules"]
    assert len(a["extauthz.actor.hash"]) == 16 and "127.0.0.1" not in json.dumps(a)

    findings = [attrs for name, attrs in span.events if name == "finding"]
    assert findings, span.events
    f = next(x for x in findings if x["extauthz.finding.rule"] == "lfi.traversal.restricted-file")
    assert f["extauthz.finding.class"] == "lfi" and f["extauthz.finding.location"] == "query:file"
    assert f["extauthz.finding.chain"] == ["percent"] and "etc/passwd" in f["extauthz.finding.excerpt"]

    # no secrets anywhere in the trace, ours or Envoy's request span
    dumped = json.dumps([(s.attributes, s.events) for s in receiver.trace(span.trace_id)])
    assert "s3cr3t-token-value" not in dumped and "hunter2" not in dumped

    # the security event names the same trace
    events = [e for e in mesh.procs["extauthz"].json_lines() if e.get("event_id") == event_id]
    assert events and events[0]["trace_id"] == span.trace_id and events[0]["span_id"] == span.span_id
    assert events[0]["parent_span_id"] == parent.span_id


def test_clients_trace_context_is_joined(traced):
    """A client that sends its own traceparent: Envoy joins it, and so does extauthz."""
    mesh, receiver = traced
    status, _, _ = get(mesh.url() + "/api/products?q=traced-shoes",
                       {"traceparent": f"00-{CLIENT_TRACE}-{CLIENT_SPAN}-01"})
    assert status == 200
    spans = receiver.wait_for(lambda s: s.name == SPAN_NAME and s.trace_id == CLIENT_TRACE
                              and s.attributes.get("extauthz.hop") == "edge")
    assert spans, [(s.service, s.name, s.trace_id) for s in receiver.spans]
    span = spans[0]
    assert span.attributes["extauthz.decision"] == "allow" and span.events == []
    parent = wait_parent(receiver, span)
    assert parent.service == "edge" and parent.span_id != CLIENT_SPAN  # Envoy's span, not the client's
    # the inbound sidecar's check continues the same trace one hop further in
    inner = receiver.wait_for(lambda s: s.name == SPAN_NAME and s.trace_id == CLIENT_TRACE
                              and s.attributes.get("extauthz.hop") == "sidecar-inbound")
    assert inner and wait_parent(receiver, inner[0]).service == "sidecar-inbound"
