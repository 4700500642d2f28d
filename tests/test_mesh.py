"""The core loop with real Envoy processes on loopback.

client → edge Envoy → frontend inbound sidecar → frontend app → frontend outbound
sidecar → backend inbound sidecar → backend app; extauthz answers every hop.
"""
from __future__ import annotations

import json
import time
import urllib.error
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


def events(mesh) -> list[dict]:
    return [e for e in mesh.procs["extauthz"].json_lines() if e.get("type") == "security_event"]


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
