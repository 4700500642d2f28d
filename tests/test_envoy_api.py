"""The adapter: CheckRequest → Request and Verdict → CheckResponse."""
from __future__ import annotations

import json

import pytest

from extauthz import envoy_api
from extauthz._wire import ext_authz_pb2 as pb
from extauthz.config import UpstreamHeaders
from extauthz.finding import Finding, Severity
from extauthz.request import Hop, Request
from extauthz.verdict import Action, Decision, Verdict


def check_request(**http) -> pb.CheckRequest:
    ctx = http.pop("context", {})
    src = http.pop("source", None)
    dst = http.pop("destination", None)
    header_map = http.pop("header_map", None)
    msg = pb.CheckRequest()
    a = msg.attributes
    for k, v in http.items():
        if k == "headers":
            for hk, hv in v.items():
                a.request.http.headers[hk] = hv
        else:
            setattr(a.request.http, k, v)
    if header_map:
        for k, v in header_map:
            a.request.http.header_map.headers.add(key=k, raw_value=v)
    a.context_extensions.update(ctx)
    if src:
        a.source.principal = src.get("principal", "")
        a.source.address.socket_address.address = src.get("address", "")
        a.source.address.socket_address.port_value = src.get("port", 0)
    if dst:
        a.destination.principal = dst.get("principal", "")
    return msg


def test_basic_fields_and_query_split():
    r = envoy_api.to_request(check_request(method="post", path=b"/a/b?x=1&y=%27", host="Shop.Example:8443",
                                           id="rid-1", protocol="HTTP/1.1", body=b"q=1",
                                           headers={"content-type": b"application/x-www-form-urlencoded",
                                                    "x-request-id": b"rid-1"}))
    assert (r.method, r.path, r.query) == ("POST", "/a/b", "x=1&y=%27")
    assert r.service == "shop.example" and r.authority == "Shop.Example:8443"
    assert r.body == b"q=1" and r.request_id == "rid-1"
    assert r.header("content-type") == "application/x-www-form-urlencoded"


def test_service_resolution_order():
    dst = {"principal": "spiffe://cluster.local/ns/a/sa/orders"}
    assert envoy_api.to_request(check_request(path=b"/", host="h", context={"service": "named"},
                                              destination=dst)).service == "named"
    assert envoy_api.to_request(check_request(path=b"/", host="h", destination=dst)).service == dst["principal"]
    assert envoy_api.to_request(check_request(path=b"/", host="[::1]:80")).service == "::1"


def test_hop_named_or_inferred():
    assert envoy_api.to_request(check_request(path=b"/", context={"hop": "sidecar-outbound"})).hop is Hop.SIDECAR_OUTBOUND
    assert envoy_api.to_request(check_request(path=b"/", context={"hop": "bogus"})).hop is Hop.UNKNOWN
    assert envoy_api.to_request(check_request(path=b"/", source={"principal": "spiffe://x/ns/a/sa/b"})).hop is Hop.SIDECAR_INBOUND
    assert envoy_api.to_request(check_request(path=b"/")).hop is Hop.EDGE


def test_raw_header_map_keeps_repeats_and_bad_bytes():
    r = envoy_api.to_request(check_request(header_map=[
        (":method", b"GET"), (":path", b"/p?q=1"), (":authority", b"svc"), ("Cookie", b"a=1"), ("cookie", b"b=2"),
        ("x-bin", b"\xff\xfeok"), ("x-envoy-auth-partial-body", b"true")]))
    assert r.method == "GET" and r.path == "/p" and r.query == "q=1" and r.service == "svc"
    assert r.headers["cookie"] == ("a=1", "b=2")
    assert "header:x-bin" in r.invalid_utf8 and r.header("x-bin").endswith("ok")
    assert r.body_truncated and "x-envoy-auth-partial-body" not in r.headers


def test_raw_body_preferred_and_invalid_utf8_path():
    r = envoy_api.to_request(check_request(path=b"/\xc0\xaf", raw_body=b"\x00\x01binary"))
    assert r.body == b"\x00\x01binary" and "path" in r.invalid_utf8


def test_empty_request_is_usable():
    r = envoy_api.to_request(pb.CheckRequest())
    assert r.path == "/" and r.method == "" and r.hop is Hop.EDGE


def _verdict(decision, action, findings=()):
    return Verdict(decision, action, 10, 8, tuple(findings), "ev123", "shop", "shop", "block", Hop.EDGE, 451, "r")


def test_deny_response_carries_status_body_event_id_and_metadata():
    v = _verdict(Decision.DENY, Action.DENY, [Finding("sqli", "sqli.x", Severity.HIGH, "query:q")])
    resp = envoy_api.to_response(v)
    assert resp.status.code == envoy_api.GRPC_PERMISSION_DENIED
    assert resp.denied_response.status.code == 451
    headers = {h.header.key: h.header.value.decode() for h in resp.denied_response.headers}
    assert headers["x-extauthz-event-id"] == "ev123"
    assert json.loads(resp.denied_response.body) == {"error": "request blocked", "event_id": "ev123", "status": 451}
    md = resp.dynamic_metadata
    assert md["decision"] == "deny" and md["classes"] == "sqli" and md["score"] == 10


def test_blocked_actor_deny_says_so():
    resp = envoy_api.to_response(_verdict(Decision.DENY, Action.ACTOR_BLOCKED))
    assert json.loads(resp.denied_response.body)["error"] == "blocked actor"


def test_allow_adds_configured_upstream_headers_overwriting():
    v = _verdict(Decision.ALLOW, Action.MONITOR, [Finding("xss", "xss.x", Severity.HIGH, "query:q")])
    resp = envoy_api.to_response(v, UpstreamHeaders(score="x-waf-score", event_id="x-waf-event", decision="x-waf"))
    assert resp.status.code == 0 and resp.HasField("ok_response")
    got = {h.header.key: (h.header.value.decode(), h.append_action) for h in resp.ok_response.headers}
    assert got == {"x-waf-score": ("10", 2), "x-waf-event": ("ev123", 2), "x-waf": ("monitor", 2)}


def test_wire_roundtrip_through_bytes():
    data = check_request(path=b"/x", method="GET").SerializeToString()
    assert envoy_api.to_request(envoy_api.parse_check_request(data)).path == "/x"
    assert isinstance(Request(), Request)


@pytest.mark.parametrize("decision,action,findings,upstream", [
    (Decision.ALLOW, Action.ALLOW, [], None),
    (Decision.ALLOW, Action.ALLOW, [], UpstreamHeaders(score="x-waf-score")),
    (Decision.ALLOW, Action.MONITOR, [Finding("xss", "xss.x", Severity.HIGH, "query:q"),
                                      Finding("sqli", "sqli.y", Severity.LOW, "query:r")],
     UpstreamHeaders(score="x-s", decision="x-d")),
    (Decision.ALLOW, Action.MONITOR, [Finding("xss", "xss.x", Severity.HIGH, "query:q")],
     UpstreamHeaders(event_id="x-e")),
    (Decision.ALLOW, Action.OFF, [], None),
    (Decision.DENY, Action.DENY, [Finding("sqli", "sqli.x", Severity.HIGH, "query:q")], None),
    (Decision.DENY, Action.ACTOR_BLOCKED, [], UpstreamHeaders(score="x-s")),
])
def test_response_bytes_is_the_same_message_as_to_response(decision, action, findings, upstream):
    """The template path (allows) and the full path (denials) both equal the object-built message,
    for successive event ids and services (a template must not leak one answer's fields into another)."""
    for i, service in enumerate(["shop", "shöp", "s" * 300, "shop"]):
        v = Verdict(decision, action, 3 + i, 8, tuple(findings), f"ev{i:0{i * 40 + 1}d}", service, "shop", "block",
                    Hop.SIDECAR_INBOUND if i % 2 else Hop.EDGE, 403, "r")
        got = pb.CheckResponse.FromString(envoy_api.response_bytes(v, upstream))
        assert got == envoy_api.to_response(v, upstream)
        assert got.dynamic_metadata["event_id"] == v.event_id
