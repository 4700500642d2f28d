"""The learned east-west call graph with real Envoy sidecars.

Learn (profile.mode: learn) while the frontend calls the backend through the
loopback mesh; switch the backend to `enforce` by a config reload; then the
learned frontend -> backend calls pass, and a workload the backend never heard
from (the `intruder` identity, calling the backend's inbound sidecar with its
own mTLS certificate) is denied on /admin, the security event naming both
identities. The profile survives the reload and a restart of extauthz.
"""
from __future__ import annotations

import http.client
import json
import signal
import ssl
import textwrap
import time
import urllib.error
import urllib.request

import pytest

from extauthz import devcerts
from extauthz.mesh import LocalMesh

pytestmark = pytest.mark.envoy

CONFIG = """
state: {{dir: "{state}", flush_seconds: 0.5}}
risk: {{enabled: false}}
services:
  frontend:
    aliases: ["spiffe://cluster.local/ns/demo/sa/frontend"]
    profile: {{mode: off}}
  backend:
    aliases: ["spiffe://cluster.local/ns/demo/sa/backend"]
    profile: {{mode: {mode}, min_samples: 20}}
"""
INTRUDER = devcerts.spiffe_id("intruder")
BACKEND = devcerts.spiffe_id("backend")


def fetch(url: str, method: str = "GET", body: bytes | None = None, headers: dict | None = None) -> int:
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=20) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code


def as_workload(mesh: LocalMesh, workload: str, path: str) -> int:
    """Call the backend's inbound sidecar over mTLS with `workload`'s own certificate."""
    certs = mesh.workdir / "certs"
    ctx = ssl.create_default_context(cafile=str(certs / "ca.crt"))
    ctx.check_hostname = False
    ctx.load_cert_chain(certs / workload / "workload.crt", certs / workload / "workload.key")
    conn = http.client.HTTPSConnection("127.0.0.1", mesh.ports["backend_in"], context=ctx, timeout=20)
    try:
        conn.request("GET", path, headers={"host": "backend"})
        return conn.getresponse().status
    finally:
        conn.close()


def security_events(mesh: LocalMesh) -> list[dict]:
    return [e for e in mesh.procs["extauthz"].json_lines() if e.get("type") == "security_event"]


def wait_for(cond, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.2)


@pytest.fixture(scope="module")
def learned_mesh(envoy_bin, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("profile-mesh")
    config = tmp / "extauthz.yaml"
    config.write_text(textwrap.dedent(CONFIG.format(state=tmp / "state", mode="learn")))
    mesh = LocalMesh(extauthz_config=config, workdir=tmp / "mesh", envoy=envoy_bin)
    mesh.start()
    try:
        # normal traffic: browsers at the edge, the frontend calling the backend east-west
        for i, q in enumerate(["shoes", "socks", "jacket", "rain", "wool", "trail"] * 5):
            assert fetch(f"{mesh.url()}/api/products?q={q}") == 200
            note = ["leave it at the door", "ring twice", "gift wrap please", "", "call me first"][i % 5]
            order = json.dumps({"item": i % 3 + 1, "qty": i % 4 + 1, "note": note}).encode()
            assert fetch(f"{mesh.url()}/api/orders", "POST", order, {"content-type": "application/json"}) == 201
        # a flush merges what was learned (flush_seconds 0.5); then enforce by reloading the config
        time.sleep(1.5)
        config.write_text(textwrap.dedent(CONFIG.format(state=tmp / "state", mode="enforce")))
        mesh.procs["extauthz"].popen.send_signal(signal.SIGHUP)
        wait_for(lambda: "configuration reloaded" in mesh.procs["extauthz"].log())
        yield mesh
    finally:
        mesh.stop()


def test_learned_frontend_to_backend_calls_pass(learned_mesh):
    for q in ("socks", "wool"):
        assert fetch(f"{learned_mesh.url()}/api/products?q={q}") == 200
    order = json.dumps({"item": 2, "qty": 1, "note": "call me first"}).encode()
    assert fetch(f"{learned_mesh.url()}/api/orders", "POST", order, {"content-type": "application/json"}) == 201
    assert not [e for e in security_events(learned_mesh) if e["service"] in ("backend", BACKEND)]


def test_intruder_calling_backend_admin_is_flagged_with_both_identities(learned_mesh):
    assert as_workload(learned_mesh, "intruder", "/admin/users") == 403
    wait_for(lambda: any(e["hop"] == "sidecar-inbound" and e["source"]["principal"] == INTRUDER
                         for e in security_events(learned_mesh)))
    event = next(e for e in security_events(learned_mesh) if e["source"]["principal"] == INTRUDER)
    assert event["decision"] == "deny" and event["destination"]["principal"] == BACKEND
    rules = {f["rule"]: f for f in event["findings"]}
    lateral = rules["profile.callgraph.new-caller"]
    assert lateral["source"] == "profile" and lateral["severity"] == "high"
    assert INTRUDER in lateral["detail"] and BACKEND in lateral["detail"] and "/admin/users" in lateral["detail"]
    assert "profile.endpoint.unknown" in rules
    # the frontend itself calling a learned endpoint is still fine; on an endpoint it never used, it is not
    assert as_workload(learned_mesh, "frontend", "/products?q=socks") == 200
    assert as_workload(learned_mesh, "frontend", "/admin/users") == 403
    wait_for(lambda: any(e["source"]["principal"] == devcerts.spiffe_id("frontend") and e["path"] == "/admin/users"
                         for e in security_events(learned_mesh)))
    event = next(e for e in security_events(learned_mesh) if e["path"] == "/admin/users"
                 and e["source"]["principal"] == devcerts.spiffe_id("frontend"))
    edge = next(f for f in event["findings"] if f["rule"] == "profile.callgraph.new-edge")
    assert devcerts.spiffe_id("frontend") in edge["detail"] and BACKEND in edge["detail"]


def test_profile_survives_a_restart(learned_mesh):
    mesh = learned_mesh
    assert mesh.stop_process("extauthz") == 0  # drain writes the profile
    mesh.start_extauthz_server()
    mesh.wait_extauthz()
    assert fetch(f"{mesh.url()}/api/products?q=socks") == 200
    assert as_workload(mesh, "intruder", "/products?q=socks") == 403  # a caller the backend never had
