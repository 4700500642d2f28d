"""Hot reload: the config file watched, SIGHUP and the admin API do the same thing;
a valid document replaces the engine in one step, an invalid one is rejected and
counted while the running config stays. Under load through real Envoy."""
from __future__ import annotations

import hashlib
import itertools
import http.client
import json
import signal
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from admin_client import admin_call
from conftest import ServerProcess
from http_load import BackgroundLoad, KeepAlive
from extauthz.mesh import find_envoy, free_port, grpc_health

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
from envoy_overhead import envoy_config  # noqa: E402  (one Envoy, ext_authz, a direct response upstream)

TOKEN = "reload-test-token"
BASE = """
server:
  watch_seconds: 0.2
events:
  output: "off"
risk: {enabled: false}  # the probe attacks repeatedly from one address: actor risk would block it
"""
# Valid versions differ in whether a `probe` parameter is excluded from lfi: the probe
# request's decision tells which version answered.
EXCLUDED = BASE + """
services:
  shop:
    exclusions:
    - rules: [lfi]
      parameters: ["query:probe"]
      reason: reload test
"""
NOT_EXCLUDED = BASE + """
services:
  shop:
    threshold: 8
"""
INVALID = [
    ("yaml", b"services:\n  shop: [unclosed\n"),
    ("unknown key", b"services:\n  shop:\n    treshold: 3\n"),
    ("bad type", b"defaults:\n  threshold: many\n"),
    ("no such detector", b"defaults:\n  detectors: {no_such_detector: true}\n"),
    ("version", b"version: 9\n"),
    ("not utf-8", b"services:\n  shop:\n    reason: \xff\xfe\n"),
    ("not a mapping", b"- a list\n"),
]


def admin(url: str, method: str = "GET", path: str = "/", token: str | None = TOKEN, body: bytes | None = None):
    return admin_call(url, path, method, token, body)


def metric(admin_url: str, name: str) -> float:
    _, text = admin(admin_url, path="/metrics", token=None)
    for line in text.splitlines():
        if line.startswith(name + " ") or line.startswith(name + "{") and line.split(" ")[0] == name:
            return float(line.rsplit(" ", 1)[1])
    return 0.0


class Load(BackgroundLoad):
    """Keep-alive HTTP clients with fixed expectations: benign → 200, attack → 403, always."""

    REQUESTS = [("/catalog?q=running+shoes&size=42", 200), ("/x?file=../../../../etc/passwd", 403)]

    def __init__(self, port: int, clients: int = 3) -> None:
        super().__init__(port, clients)
        self.sent = 0
        self.bad: list[str] = []
        self.counter = itertools.count()

    def step(self, client: KeepAlive) -> None:
        path, want = self.REQUESTS[next(self.counter) % len(self.REQUESTS)]
        status = client.get(path)
        with self.lock:
            self.sent += 1
            if status != want:
                self.bad.append(f"{path}: {status}")


def probe(port: int) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("GET", "/p?probe=../../../../etc/passwd")
    status = conn.getresponse().status
    conn.close()
    return status


@pytest.fixture
def envoy_and_server(envoy_bin, tmp_path):
    import subprocess

    cfg = tmp_path / "extauthz.yaml"
    cfg.write_text(NOT_EXCLUDED)
    srv = ServerProcess(cfg, tmp_path, env={"EXTAUTHZ_ADMIN_TOKEN": TOKEN})
    listen, envoy_admin = free_port(), free_port()
    ecfg = tmp_path / "envoy.json"
    ecfg.write_text(json.dumps(envoy_config(listen, envoy_admin, int(srv.address.rsplit(":", 1)[1]))))
    log = open(tmp_path / "envoy.log", "wb")
    envoy = subprocess.Popen([envoy_bin, "-c", str(ecfg), "--disable-hot-restart", "--concurrency", "1",
                              "--log-level", "warn"], stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{envoy_admin}/ready", timeout=1)
            break
        except OSError:
            assert time.monotonic() < deadline and envoy.poll() is None, (tmp_path / "envoy.log").read_text()
            time.sleep(0.1)
    yield cfg, srv, listen
    envoy.terminate()
    envoy.wait(timeout=15)
    log.close()
    srv.stop()


def wait_until(cond, timeout: float = 60.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


@pytest.mark.envoy
def test_twenty_reloads_under_load_through_envoy(envoy_and_server):
    cfg, srv, port = envoy_and_server
    assert probe(port) == 403  # NOT_EXCLUDED: the probe is an attack
    valid_seen, invalid_seen, expected = 0, 0, 403
    timings = []
    with Load(port) as load:
        time.sleep(0.5)
        for i in range(20):
            trigger = ("admin", "sighup", "watch")[i % 3]
            if i % 4 == 3:  # every fourth is invalid
                name, raw = INVALID[(i // 4) % len(INVALID)]
                before = metric(srv.admin_url, 'extauthz_config_reloads_total{result="rejected"}')
                cfg.write_bytes(raw)
                t0 = time.monotonic()
                if trigger == "admin":
                    status, body = admin(srv.admin_url, "POST", "/v1/reload")
                    assert status == 422 and body["applied"] is False and body["error"], (name, body)
                elif trigger == "sighup":
                    srv.proc.send_signal(signal.SIGHUP)
                wait_until(lambda: metric(srv.admin_url, 'extauthz_config_reloads_total{result="rejected"}') > before,
                           what=f"rejection of {name} via {trigger}")
                invalid_seen += 1
            else:
                text = EXCLUDED if expected == 403 else NOT_EXCLUDED
                expected = 200 if expected == 403 else 403
                cfg.write_text(text)
                digest = hashlib.sha256(text.encode()).hexdigest()
                t0 = time.monotonic()
                if trigger == "admin":
                    status, body = admin(srv.admin_url, "POST", "/v1/reload")
                    assert status == 200 and body["applied"] is True, body
                elif trigger == "sighup":
                    srv.proc.send_signal(signal.SIGHUP)
                wait_until(lambda: admin(srv.admin_url, path="/v1/config")[1]["_source"]["sha256"] == digest,
                           what=f"valid reload via {trigger}")
                valid_seen += 1
            timings.append((trigger, time.monotonic() - t0))
            # the policy in force is the last valid one: every request after the swap follows it
            for _ in range(3):
                assert probe(port) == expected, f"reload {i} ({trigger}): probe should be {expected}"
            time.sleep(0.2)
    assert load.sent > 200, load.sent
    assert load.bad == [], f"{len(load.bad)} of {load.sent} checks failed or were mis-decided: {load.bad[:5]}"
    assert grpc_health(srv.address) == "SERVING"
    assert metric(srv.admin_url, 'extauthz_config_reloads_total{result="applied"}') >= valid_seen == 15
    assert metric(srv.admin_url, 'extauthz_config_reloads_total{result="rejected"}') >= invalid_seen == 5
    assert metric(srv.admin_url, 'extauthz_failures_total{kind="engine"}') == 0
    assert "reload rejected, keeping the running config" in srv.log()
    print(f"\nreload under load: {load.sent} checks through Envoy, 0 failed; "
          + ", ".join(f"{t}={s * 1000:.0f}ms" for t, s in timings[:6]) + " ...")


def test_watcher_ignores_a_touch_and_waits_for_a_settled_file(server, tmp_path):
    s = server("server:\n  watch_seconds: 0.1\nevents:\n  output: 'off'\n", env={"EXTAUTHZ_ADMIN_TOKEN": TOKEN})
    cfg = Path(s.proc.args[s.proc.args.index("--config") + 1])
    cfg.touch()
    time.sleep(0.5)
    assert metric(s.admin_url, 'extauthz_config_reloads_total{result="applied"}') == 0
    cfg.write_text(cfg.read_text() + "defaults:\n  threshold: 5\n")
    wait_until(lambda: metric(s.admin_url, 'extauthz_config_reloads_total{result="applied"}') == 1, what="reload")
    assert admin(s.admin_url, path="/v1/config")[1]["defaults"]["threshold"] == 5


def test_reload_without_a_config_file_is_refused(server):
    s = server(env={"EXTAUTHZ_ADMIN_TOKEN": TOKEN})
    status, body = admin(s.admin_url, "POST", "/v1/reload")
    assert status == 422 and "no config file" in body["error"]


def test_envoy_binary_is_the_tested_one():
    assert find_envoy()
