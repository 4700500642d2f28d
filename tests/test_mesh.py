"""The core loop with real Envoy processes on loopback.

client → edge Envoy → frontend inbound sidecar → frontend app → frontend outbound
sidecar → backend inbound sidecar → backend app; extauthz answers every hop.
"""
from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest
import yaml

from extauthz import devcerts
from extauthz.mesh import asset_dir, render_file, validate

pytestmark = pytest.mark.envoy


def http(url: str, method: str = "GET", body: bytes | None = None, headers: dict | None = None):
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def access_log(mesh, envoy_name: str, wait_for: str | None = None, timeout: float = 5.0) -> list[dict]:
    """Envoy access log lines (JSON) of one proxy; waits until a line matches `wait_for` in its path."""
    deadline = time.monotonic() + timeout
    while True:
        lines = mesh.procs[f"envoy-{envoy_name}"].json_lines()
        if wait_for is None or any(wait_for in (line.get("path") or "") for line in lines) \
                or time.monotonic() > deadline:
            return lines
        time.sleep(0.1)


def events(mesh, wait_for: str = "", timeout: float = 5.0) -> list[dict]:
    """Security events logged so far; they are written by a background thread, so wait for `wait_for`."""
    deadline = time.monotonic() + timeout
    while True:
        found = [e for e in mesh.procs["extauthz"].json_lines() if e.get("type") == "security_event"]
        if not wait_for or any(e["event_id"] == wait_for for e in found) or time.monotonic() > deadline:
            return found
        time.sleep(0.05)


def test_every_envoy_config_validates(envoy_bin, tmp_path):
    certs = devcerts.generate(tmp_path / "certs")
    files = sorted(asset_dir("envoy").glob("*.yaml"))
    assert {f.name for f in files} >= {"edge.yaml", "sidecar-inbound.yaml", "sidecar-outbound.yaml"}
    for f in files:
        out = render_file(f.name, {}, certs["frontend"], tmp_path / f.name)
        ok, log = validate(envoy_bin, out)
        assert ok, f"{f.name}:\n{log}"


def test_configs_carry_the_ext_authz_settings_we_promise():
    for name, hop in (("edge.yaml", "edge"), ("sidecar-inbound.yaml", "sidecar-inbound"),
                      ("sidecar-outbound.yaml", "sidecar-outbound")):
        text = (asset_dir("envoy") / name).read_text()
        cfg = yaml.safe_load(text)
        hcm = cfg["static_resources"]["listeners"][0]["filter_chains"][0]["filters"][0]["typed_config"]
        ext = hcm["http_filters"][0]["typed_config"]
        assert ext["transport_api_version"] == "V3"
        assert ext["with_request_body"]["allow_partial_message"] is True
        assert ext["grpc_service"]["timeout"]
        assert "failure_mode_allow" in ext
        vhost = hcm["route_config"]["virtual_hosts"][0]
        ctx = vhost["typed_per_filter_config"]["envoy.filters.http.ext_authz"]["check_settings"]["context_extensions"]
        assert ctx["hop"] == hop
        cluster = next(c for c in cfg["static_resources"]["clusters"] if c["name"] == "extauthz")
        opts = cluster["typed_extension_protocol_options"]["envoy.extensions.upstreams.http.v3.HttpProtocolOptions"]
        assert "http2_protocol_options" in opts["explicit_http_config"]


def test_benign_traffic_passes_every_hop(mesh):
    status, headers, body = http(mesh.url() + "/")
    assert status == 200 and headers.get("x-served-by") == "frontend"
    status, _, body = http(mesh.url() + "/api/products?q=shoes")
    assert status == 200 and json.loads(body)["products"][0]["name"] == "Trail running shoes"
    order = json.dumps({"item": 2, "qty": 1, "note": "leave it at the door, it's fine"}).encode()
    status, _, body = http(mesh.url() + "/api/orders", "POST", order, {"content-type": "application/json"})
    assert status == 201 and json.loads(body)["received"]["note"].startswith("leave")
    # every Envoy asked extauthz and was told to allow
    for proxy, path in (("edge", "/api/orders"), ("frontend-inbound", "/api/orders"),
                        ("frontend-outbound", "/orders"), ("backend-inbound", "/orders")):
        lines = [line for line in access_log(mesh, proxy, path) if line.get("path") == path]
        assert lines, f"{proxy} logged nothing for {path}"
        assert lines[-1]["waf_action"] == "allow" and lines[-1]["status"] in (200, 201)
    # the sidecars saw the mesh identities (mTLS)
    inbound = [x for x in access_log(mesh, "backend-inbound", "/orders") if x.get("path") == "/orders"][-1]
    assert inbound["source_principal"] == devcerts.spiffe_id("frontend")
    assert inbound["destination_principal"] == devcerts.spiffe_id("backend")


def test_failure_modes_when_extauthz_is_down(mesh):
    """Edge and inbound sidecars fail closed (503); the outbound sidecar fails open."""
    mesh.stop_process("extauthz")
    try:
        status, _, _ = http(mesh.url() + "/api/products?q=down-test")
        assert status == 503  # edge: fail closed, the app is never reached
        edge = [x for x in access_log(mesh, "edge", "down-test") if "down-test" in (x.get("path") or "")]
        assert edge and edge[-1]["flags"] == "UAEX"  # Envoy: unauthorized by external service (error)
        before = mesh.envoy_stat("frontend-outbound", "http.outbound.ext_authz.failure_mode_allowed")
        status, _, _ = http(mesh.url("frontend_out") + "/products?q=outbound-down", headers={"host": "backend"})
        # fail-open outbound let the call go on; the backend's own sidecar then failed closed
        assert status == 503
        assert mesh.envoy_stat("frontend-outbound", "http.outbound.ext_authz.failure_mode_allowed") == before + 1
        inbound = access_log(mesh, "backend-inbound", "outbound-down")
        assert any("outbound-down" in (x.get("path") or "") and x["status"] == 503 for x in inbound)
    finally:
        mesh.start_extauthz_server()
        mesh.wait_extauthz()
    status, _, _ = http(mesh.url() + "/api/products?q=back-up")
    assert status == 200


ATTACK = "/api/products?q=" + urllib.parse.quote("shoes' UNION SELECT username, password FROM users--")


def test_plain_attack_is_denied_at_the_edge(mesh):
    status, headers, body = http(mesh.url() + ATTACK)
    assert status == 403
    doc = json.loads(body)
    assert doc["error"] == "request blocked" and doc["status"] == 403
    assert headers.get("x-extauthz-event-id") == doc["event_id"]
    edge = [x for x in access_log(mesh, "edge", "UNION") if "UNION" in (x.get("path") or "")]
    assert edge[-1]["waf_action"] == "deny" and edge[-1]["waf_event"] == doc["event_id"]
    assert "sqli" in edge[-1]["waf_classes"]
    # it never got past the edge
    assert not any("UNION" in (x.get("path") or "") for x in access_log(mesh, "frontend-inbound"))
    event = next(e for e in events(mesh, doc["event_id"]) if e["event_id"] == doc["event_id"])
    assert event["hop"] == "edge" and event["service"] == "frontend" and event["decision"] == "deny"
    assert any(f["class"] == "sqli" and f["location"] == "query:q" for f in event["findings"])


def test_east_west_attack_is_denied_at_the_destination_sidecar(mesh):
    """A compromised frontend calls the backend with an injection through its own outbound sidecar.

    The backend's policy only records on its callers' outbound hops (hop_modes) and blocks at
    its own inbound sidecar, where the verdict carries both mesh identities.
    """
    payload = "/products?q=" + urllib.parse.quote("1; DROP TABLE orders--")
    status, headers, body = http(mesh.url("frontend_out") + payload, headers={"host": "backend"})
    assert status == 403
    event_id = json.loads(body)["event_id"]
    ev = {e["event_id"]: e for e in events(mesh, event_id)}
    denied = ev[event_id]
    assert denied["hop"] == "sidecar-inbound" and denied["direction"] == "east-west"
    assert denied["decision"] == "deny" and denied["policy"] == "backend"
    assert denied["source"]["principal"] == devcerts.spiffe_id("frontend")
    assert denied["destination"]["principal"] == devcerts.spiffe_id("backend")
    # the caller's outbound sidecar saw it first: monitor mode let it through but recorded it
    outbound = [x for x in access_log(mesh, "frontend-outbound", "DROP") if "DROP" in (x.get("path") or "")]
    assert outbound[-1]["waf_action"] == "monitor" and outbound[-1]["status"] == 403
    recorded = ev[outbound[-1]["waf_event"]]
    assert recorded["hop"] == "sidecar-outbound" and recorded["action"] == "monitor"
    assert recorded["decision"] == "allow" and recorded["source"]["service"] == "frontend"
    assert any(f["class"] == "sqli" for f in recorded["findings"])
    # the backend app never saw it
    inbound = [x for x in access_log(mesh, "backend-inbound", "DROP") if "DROP" in (x.get("path") or "")]
    assert inbound[-1]["waf_action"] == "deny" and inbound[-1]["status"] == 403


def test_eval_via_envoy_counts_403_as_blocked(mesh, tmp_path):
    from extauthz.config import Config
    from extauthz.eval import evaluate

    lines = [
        {"id": "b1", "label": "benign", "category": "benign", "method": "GET", "uri": "/api/products?q=rain+jacket",
         "headers": [["Host", "shop"]], "body": ""},
        {"id": "b2", "label": "benign", "category": "benign", "method": "POST", "uri": "/api/orders",
         "headers": [["Content-Type", "application/json"]], "body": "{\"item\": 3, \"note\": \"O'Brien\"}"},
        {"id": "a1", "label": "attack", "category": "sqli", "method": "GET",
         "uri": "/api/products?q=1%27%20OR%20%271%27%3D%271", "headers": [], "body": ""},
        {"id": "a2", "label": "attack", "category": "sqli", "method": "GET",
         "uri": "/api/products?id=1%20UNION%20SELECT%20null,version()--", "headers": [], "body": ""},
        # a HEAD answer has a Content-Length and no body: the connection must go on to the next line
        {"id": "h1", "label": "benign", "category": "benign", "method": "HEAD", "uri": "/api/products?q=boots",
         "headers": [], "body": ""},
        {"id": "h2", "label": "attack", "category": "sqli", "method": "HEAD",
         "uri": "/api/products?q=1%27%20OR%20%271%27%3D%271", "headers": [], "body": ""},
        {"id": "b3", "label": "benign", "category": "benign", "method": "GET", "uri": "/api/products?q=socks",
         "headers": [], "body": ""},
    ]
    corpus = tmp_path / "mini.jsonl"
    corpus.write_text("\n".join(json.dumps(x) for x in lines) + "\n")
    started = time.monotonic()
    result = evaluate([str(corpus)], Config(), via=mesh.url(), jobs=1)
    assert time.monotonic() - started < 10
    overall = result["overall"]
    assert (overall["attack"], overall["benign"]) == (3, 4)
    assert overall["tpr"] == 1.0 and overall["fpr"] == 0.0
    assert result["mode"] == f"via {mesh.url()}"
