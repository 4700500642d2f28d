"""The admin API: open health/metrics, bearer-token protection, clear 4xx JSON errors,
events with filters, effective config with secrets redacted, actors/lists/profiles
through the provider protocols, and every route checked against /openapi.json
(schemathesis generates the requests from the document)."""
from __future__ import annotations

import json
import time
import urllib.error
import urllib.request

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from extauthz._wire import ext_authz_pb2 as pb
from extauthz.admin.api import AdminAPI
from extauthz.admin.openapi import document
from extauthz.config import load_config
from extauthz.finding import set_secret_names
from extauthz.mesh import free_port
from extauthz.server.grpc_server import ServingProcess, options_from

TOKEN = "admin-test-token-0123456789"


class FakeActors:
    def __init__(self) -> None:
        self.blocked: dict[str, dict] = {}

    def list_actors(self, limit, blocked_only):
        return list(self.blocked.values())[:limit]

    def block(self, actor, seconds, reason):
        if actor == "invalid!":
            raise ValueError("not an actor key")
        self.blocked[actor] = {"actor": actor, "risk": 100.0, "blocked_until": time.time() + seconds, "reason": reason}
        return self.blocked[actor]

    def unblock(self, actor):
        return self.blocked.pop(actor, None) is not None


class FakeLists:
    def __init__(self) -> None:
        self.lists: dict[str, list[dict]] = {"allow": [], "deny": []}

    def get_lists(self):
        return self.lists

    def add_entries(self, name, entries, reason, seconds):
        added = [{"entry": e, "reason": reason} for e in entries]
        self.lists[name].extend(added)
        return added

    def remove_entries(self, name, entries):
        before = len(self.lists[name])
        self.lists[name] = [x for x in self.lists[name] if x["entry"] not in entries]
        return before - len(self.lists[name])


class FakeProfiles:
    def profile_services(self):
        return ["shop"]

    def profile(self, service):
        return {"service": service, "endpoints": 3} if service == "shop" else None


class FakeRuntime:
    def __init__(self) -> None:
        self.actors, self.lists, self.profiles = FakeActors(), FakeLists(), FakeProfiles()


CONFIG = """
events:
  output: "off"
  redact_keys: [x-tenant-key]
tracing:
  endpoint: "http://collector-user:collector-pass@127.0.0.1:4317"
services:
  shop:
    aliases: [shop.example]
  static:
    mode: monitor
"""


@pytest.fixture(scope="module")
def admin(tmp_path_factory, monkeypatch_module):
    tmp = tmp_path_factory.mktemp("admin")
    cfg = tmp / "extauthz.yaml"
    cfg.write_text(CONFIG)
    monkeypatch_module.setenv("EXTAUTHZ_ADMIN_TOKEN", TOKEN)
    config = load_config(cfg)
    proc = ServingProcess(config, options_from(config, str(cfg), f"127.0.0.1:{free_port()}", False,
                                               admin_listen=f"127.0.0.1:{free_port()}"))
    # The API layer is tested against simple providers (any schema-valid input accepted);
    # the real ones (risk, profiles) are tested in test_real_providers_behind_the_api.
    fakes = FakeRuntime()
    backend = proc.admin.api.backend
    backend.actor_admin, backend.list_admin, backend.profile_admin = \
        (lambda: fakes.actors), (lambda: fakes.lists), (lambda: fakes.profiles)
    proc.start()
    proc.url = f"http://127.0.0.1:{proc.admin.port}"
    yield proc
    proc.request_stop()
    proc.drain()
    set_secret_names(())


@pytest.fixture(scope="module")
def monkeypatch_module():
    mp = pytest.MonkeyPatch()
    yield mp
    mp.undo()


def call(url: str, method: str = "GET", path: str = "/", token: str | None = TOKEN, body=None,
         raw: bytes | None = None, headers: dict | None = None):
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    h = {"Authorization": f"Bearer {token}"} if token else {}
    h.update(headers or {})
    req = urllib.request.Request(url + path, method=method, data=data, headers=h)
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            content, status, hdrs = r.read(), r.status, dict(r.headers)
    except urllib.error.HTTPError as e:
        content, status, hdrs = e.read(), e.code, dict(e.headers)
    return status, (json.loads(content) if hdrs.get("Content-Type", "").startswith("application/json")
                    else content.decode()), hdrs


def check(proc: ServingProcess, path: bytes, host: str = "shop", headers: dict | None = None) -> None:
    msg = pb.CheckRequest()
    h = msg.attributes.request.http
    h.method, h.path, h.host = "GET", path, host
    h.id = f"req-{path[-6:].hex()}"
    for k, v in (headers or {}).items():
        h.headers[k] = v.encode()
    proc.service.check_bytes(msg.SerializeToString(), {})


def test_open_endpoints(admin):
    status, body, _ = call(admin.url, path="/healthz", token=None)
    assert status == 200 and body["status"] == "ok"
    status, body, _ = call(admin.url, path="/readyz", token=None)
    assert status == 200 and body == {"status": "ready", "reason": "serving"}
    check(admin, b"/x?q=1")
    status, text, headers = call(admin.url, path="/metrics", token=None)
    assert status == 200 and headers["Content-Type"].startswith("text/plain")
    assert 'extauthz_checks_total{action="allow",decision="allow",hop="edge",service="shop"}' in text
    for family in ("extauthz_check_duration_seconds_bucket", "extauthz_failures_total", "extauthz_config_reloads_total",
                   "extauthz_findings_total", "extauthz_security_events_total", "extauthz_store_errors_total",
                   "extauthz_learned_endpoints", "extauthz_blocked_actors"):
        assert family in text, family
    assert call(admin.url, path="/openapi.json", token=None)[1] == json.loads(json.dumps(document()))


def test_everything_under_v1_needs_the_token(admin):
    for method, path in (("GET", "/v1/events"), ("POST", "/v1/reload"), ("GET", "/v1/config"), ("GET", "/v1/actors"),
                         ("POST", "/v1/actors/block"), ("GET", "/v1/lists"), ("GET", "/v1/profiles"),
                         ("POST", "/v1/lists/deny/add")):
        for token in (None, "wrong", TOKEN + "x", ""):
            status, body, headers = call(admin.url, method, path, token=token, body={"actor": "a"})
            assert status == 401 and body["status"] == 401 and "token" in body["error"], (method, path, token)
            assert headers["WWW-Authenticate"].startswith("Bearer")
        status, _, _ = call(admin.url, method, path, token=None, headers={"Authorization": f"Basic {TOKEN}"})
        assert status == 401


def test_no_token_configured_means_401_not_open(server):
    s = server(env={"EXTAUTHZ_ADMIN_TOKEN": ""})
    status, body, _ = call(s.admin_url, path="/v1/config", token="anything")
    assert status == 401 and "no admin token is configured" in body["error"]
    assert call(s.admin_url, path="/healthz", token=None)[0] == 200


def test_token_from_a_file(server, tmp_path):
    (tmp_path / "token").write_text("from-file-token\n")
    s = server(f"admin:\n  token_file: {tmp_path / 'token'}\n", env={"EXTAUTHZ_ADMIN_TOKEN": "env-token"})
    assert call(s.admin_url, path="/v1/config", token="from-file-token")[0] == 200
    assert call(s.admin_url, path="/v1/config", token="env-token")[0] == 401
    # actor risk and lists (issue 5) are served from the runtime
    status, body, _ = call(s.admin_url, path="/v1/actors", token="from-file-token")
    assert status == 200 and body["count"] == 0
    status, body, _ = call(s.admin_url, "POST", "/v1/actors/block", token="from-file-token",
                           body={"actor": "not an address"})
    assert status == 400 and "not an actor id" in body["error"]


def test_real_providers_behind_the_api(server):
    """Actor risk, run-time lists and profiles as they ship, through the HTTP API."""
    s = server("events:\n  output: 'off'\n", env={"EXTAUTHZ_ADMIN_TOKEN": TOKEN})
    status, body, _ = call(s.admin_url, "POST", "/v1/actors/block",
                           body={"actor": "192.0.2.77", "seconds": 30, "reason": "SOC"})
    assert status == 200 and body["blocked"]["blocked_until"] > time.time()
    blocked = call(s.admin_url, path="/v1/actors?blocked=true")[1]["actors"]
    assert [a["actor"] for a in blocked] == [body["blocked"]["actor"]]
    assert call(s.admin_url, "POST", "/v1/actors/unblock", body={"actor": "192.0.2.77"})[0] == 200
    assert call(s.admin_url, path="/v1/actors?blocked=true")[1]["count"] == 0
    status, body, _ = call(s.admin_url, "POST", "/v1/lists/deny/add", body={"entries": ["198.51.100.0/24"]})
    assert status == 200
    assert any(e["entry"] == "198.51.100.0/24" for e in call(s.admin_url, path="/v1/lists")[1]["deny"])
    status, body, _ = call(s.admin_url, "POST", "/v1/lists/deny/add", body={"entries": ["not a cidr at all"]})
    assert status == 400
    status, body, _ = call(s.admin_url, path="/v1/profiles")
    assert status in (200, 501)


def test_runtime_metrics_are_sampled(tmp_path, monkeypatch):
    monkeypatch.setenv("EXTAUTHZ_ADMIN_TOKEN", TOKEN)
    config = load_config(None)
    proc = ServingProcess(config, options_from(config, None, f"127.0.0.1:{free_port()}", False,
                                               admin_listen=f"127.0.0.1:{free_port()}"))
    proc.start()
    url = f"http://127.0.0.1:{proc.admin.port}"
    try:
        status, _, _ = call(url, "POST", "/v1/actors/block", body={"actor": "192.0.2.77", "seconds": 30})
        assert status == 200
        proc.sampler.sample()
        assert "extauthz_blocked_actors 1.0" in call(url, path="/metrics", token=None)[1]
        call(url, "POST", "/v1/actors/unblock", body={"actor": "192.0.2.77"})
        proc.sampler.sample()
        assert "extauthz_blocked_actors 0.0" in call(url, path="/metrics", token=None)[1]
    finally:
        proc.request_stop()
        proc.drain()


@pytest.mark.parametrize("method,path,body,status,says", [
    ("GET", "/v2/nothing", None, 404, "no such endpoint"),
    ("DELETE", "/v1/events", None, 405, "not allowed"),
    ("GET", "/v1/events?limit=abc", None, 400, "limit"),
    ("GET", "/v1/events?limit=0", None, 400, "limit"),
    ("GET", "/v1/events?limit=5000", None, 400, "limit"),
    ("GET", "/v1/events?colour=red", None, 400, "unknown query parameter"),
    ("GET", "/v1/events?since=yesterday", None, 400, "since"),
    ("GET", "/v1/events?limit=1&limit=2", None, 400, "twice"),
    ("POST", "/v1/actors/block", b"{not json", 400, "not JSON"),
    ("POST", "/v1/actors/block", b"[1]", 400, "JSON object"),
    ("POST", "/v1/actors/block", b"", 400, "actor"),
    ("POST", "/v1/actors/block", {"seconds": 5}, 400, "missing field 'actor'"),
    ("POST", "/v1/actors/block", {"actor": "a", "seconds": -1}, 400, "seconds"),
    ("POST", "/v1/actors/block", {"actor": "a", "seconds": True}, 400, "seconds"),
    ("POST", "/v1/actors/block", {"actor": "a", "why": "x"}, 400, "unknown field"),
    ("POST", "/v1/actors/block", {"actor": "invalid!"}, 400, "not an actor key"),
    ("POST", "/v1/actors/block", {"actor": "x" * 600}, 400, "actor"),
    ("POST", "/v1/actors/unblock", {"actor": "never-blocked"}, 404, "not blocked"),
    ("POST", "/v1/lists/grey/add", {"entries": ["1.2.3.4"]}, 404, "no list named"),
    ("POST", "/v1/lists/deny/add", {"entries": []}, 400, "entries"),
    ("POST", "/v1/lists/deny/add", {"entries": [3]}, 400, "entries"),
    ("GET", "/v1/profiles/nope", None, 404, "no learned profile"),
    ("GET", "/v1/config?x=1", None, 400, "unknown query parameter"),
])
def test_bad_input_gets_a_clear_4xx(admin, method, path, body, status, says):
    raw = body if isinstance(body, bytes) else None
    got, obj, _ = call(admin.url, method, path, body=None if raw is not None else body, raw=raw)
    assert got == status and obj["status"] == status and says in obj["error"], obj


def test_oversized_body_is_refused(admin):
    status, obj, _ = call(admin.url, "POST", "/v1/lists/deny/add", raw=b"{" + b" " * 1_100_000 + b"}")
    assert status == 413 and "larger than" in obj["error"]


def test_events_with_filters(admin):
    check(admin, b"/a?file=..%2f..%2fetc%2fpasswd", host="shop", headers={"authorization": "Bearer abc.def.ghi"})
    check(admin, b"/b?file=..%2f..%2fetc%2fpasswd", host="static")  # monitor mode: allowed, recorded
    check(admin, b"/c?q=harmless", host="shop")  # allowed: no event
    admin.telemetry.events.flush()
    status, body, _ = call(admin.url, path="/v1/events")
    assert status == 200 and body["count"] >= 2
    assert body["events"][0]["path"] == "/b" and body["events"][1]["path"] == "/a"  # newest first
    assert all(e["path"] != "/c" for e in body["events"])
    assert [e["path"] for e in call(admin.url, path="/v1/events?action=monitor")[1]["events"]] == ["/b"]
    assert [e["path"] for e in call(admin.url, path="/v1/events?service=shop&decision=deny")[1]["events"]][:1] == ["/a"]
    assert call(admin.url, path="/v1/events?class=lfi&limit=1")[1]["count"] == 1
    assert call(admin.url, path="/v1/events?class=sqli")[1]["count"] == 0
    assert call(admin.url, path=f"/v1/events?since={time.time() + 60}")[1]["count"] == 0
    assert call(admin.url, path="/v1/events?since=2000-01-01T00:00:00Z")[1]["count"] >= 2
    one = call(admin.url, path="/v1/events?service=shop&decision=deny")[1]["events"][0]
    assert call(admin.url, path=f"/v1/events?event_id={one['event_id']}")[1]["events"] == [one]
    assert "abc.def.ghi" not in json.dumps(body)


def test_effective_config_is_complete_and_redacted(admin):
    status, cfg, _ = call(admin.url, path="/v1/config")
    assert status == 200
    assert cfg["services"]["static"]["mode"] == "monitor" and cfg["events"]["redact_keys"] == ["x-tenant-key"]
    assert cfg["tracing"]["endpoint"] == "http://collector-user:[redacted]@127.0.0.1:4317"
    assert "collector-pass" not in json.dumps(cfg)
    assert len(cfg["_source"]["sha256"]) == 64


def test_actors_lists_profiles_through_the_providers(admin):
    status, body, _ = call(admin.url, "POST", "/v1/actors/block", body={"actor": "203.0.113.7", "seconds": 60,
                                                                        "reason": "SOC ticket 42"})
    assert status == 200 and body["blocked"]["actor"] == "203.0.113.7"
    assert call(admin.url, path="/v1/actors?blocked=true")[1]["actors"][0]["reason"] == "SOC ticket 42"
    assert call(admin.url, "POST", "/v1/actors/unblock", body={"actor": "203.0.113.7"})[0] == 200
    assert call(admin.url, path="/v1/actors")[1]["count"] == 0
    assert call(admin.url, "POST", "/v1/lists/deny/add", body={"entries": ["198.51.100.0/24"], "reason": "r"})[0] == 200
    assert call(admin.url, path="/v1/lists")[1]["deny"][0]["entry"] == "198.51.100.0/24"
    assert call(admin.url, "POST", "/v1/lists/deny/remove", body={"entries": ["198.51.100.0/24"]})[1]["removed"] == 1
    assert call(admin.url, path="/v1/profiles")[1] == {"services": ["shop"]}
    assert call(admin.url, path="/v1/profiles/shop")[1]["endpoints"] == 3


def test_every_route_is_documented():
    doc = document()
    api = AdminAPI(backend=None, token=None)  # type: ignore[arg-type]
    routes = {(m.lower(), "/" + "/".join(p)) for m, p, _, _ in api.routes}
    documented = {(m, path) for path, ops in doc["paths"].items() for m in ops}
    assert routes == documented


SCHEMA = schemathesis.openapi.from_dict(document())


@SCHEMA.parametrize()
@settings(max_examples=25, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
def test_api_matches_its_openapi_document(case, admin):
    case.call_and_validate(base_url=admin.url, headers={"Authorization": f"Bearer {TOKEN}"})
