"""istio/, checked without a cluster.

- Istio kinds (EnvoyFilter, AuthorizationPolicy, ServiceEntry, Gateway,
  VirtualService) against the Istio 1.30 CRDs (tests/data/istio/crd-all.gen.yaml):
  the OpenAPI v3 schema with openapi-schema-validator, unknown fields rejected as
  kubectl's strict field validation does (only where the CRD does not preserve
  unknown fields), and the CRDs' CEL rules (x-kubernetes-validations) with
  cel-python.
- Kubernetes kinds with kubernetes-validate (bundled JSON schemas, strict).
- `kubectl kustomize` renders istio/ and each overlay; what it renders is checked
  the same way (skipped only where kubectl is absent).
- The ext_authz filter of each EnvoyFilter, embedded in an Envoy bootstrap with its
  per-virtual-host context, passes `envoy --mode validate`, and matches the
  envoy/*.yaml filter of the same hop.
- meshConfig's extension providers parse as Istio's MeshConfig protobuf (a subset
  with upstream's field names; JSON mapping, unknown fields rejected), and every
  name they use (service, port, provider) points at something these manifests create.
"""
from __future__ import annotations

import copy
import functools
import importlib
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
ISTIO = ROOT / "istio"
DATA = Path(__file__).resolve().parent / "data" / "istio"
KUBERNETES_VERSION = "1.33"            # the oldest Kubernetes Istio 1.30 supports, roughly
KUSTOMIZATIONS = ["", "overlays/envoyfilter", "overlays/sidecar"]
ISTIO_GROUPS = ("networking.istio.io", "security.istio.io", "telemetry.istio.io", "extensions.istio.io")
HOP_OF_CONTEXT = {"GATEWAY": "gateway", "SIDECAR_INBOUND": "sidecar-inbound", "SIDECAR_OUTBOUND": "sidecar-outbound"}
ENVOY_FILE_OF_CONTEXT = {"GATEWAY": "edge.yaml", "SIDECAR_INBOUND": "sidecar-inbound.yaml",
                         "SIDECAR_OUTBOUND": "sidecar-outbound.yaml"}


# ---------------------------------------------------------------- loading


def load_all(path: Path) -> list[dict]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d]


def kustomization(directory: Path) -> dict:
    return yaml.safe_load((directory / "kustomization.yaml").read_text())


def resource_files(directory: Path, seen: set[Path] | None = None) -> list[Path]:
    """The manifest files a kustomization includes, following its directory resources."""
    seen = set() if seen is None else seen
    out = []
    for entry in kustomization(directory).get("resources", []):
        path = (directory / entry).resolve()
        if path in seen:
            continue
        seen.add(path)
        out += resource_files(path, seen) if path.is_dir() else [path]
    return out


def used_files(directory: Path) -> set[Path]:
    """Every file a kustomization tree reads: resources, patches, generator files."""
    k = kustomization(directory)
    files = {directory / "kustomization.yaml"}
    for entry in k.get("resources", []):
        path = (directory / entry).resolve()
        files |= used_files(path) if path.is_dir() else {path}
    for patch in k.get("patches", []):
        if "path" in patch:
            files.add((directory / patch["path"]).resolve())
    for gen in k.get("configMapGenerator", []):
        files |= {(directory / f.split("=")[-1]).resolve() for f in gen.get("files", [])}
    return files


def raw_documents() -> list[dict]:
    files: dict[Path, None] = {}
    for k in KUSTOMIZATIONS:
        files.update(dict.fromkeys(resource_files(ISTIO / k)))
    return [doc for f in files for doc in load_all(f)]


def kubectl() -> str | None:
    return shutil.which("kubectl")


@functools.cache
def rendered(directory: str) -> list[dict]:
    proc = subprocess.run([kubectl(), "kustomize", str(ISTIO / directory)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, f"kubectl kustomize istio/{directory}:\n{proc.stderr}"
    return [d for d in yaml.safe_load_all(proc.stdout) if d]


def documents_for(directory: str) -> list[dict]:
    """What `kubectl apply -k` would send: rendered when kubectl exists, else the raw files."""
    if kubectl():
        return rendered(directory)
    return [doc for f in resource_files(ISTIO / directory) for doc in load_all(f)]


def of_kind(docs: list[dict], kind: str) -> list[dict]:
    return [d for d in docs if d["kind"] == kind]


# ---------------------------------------------------------------- Istio CRD validation


@functools.cache
def istio_crds() -> dict[tuple[str, str, str], dict]:
    """(group, version, kind) -> the CRD version entry (schema, served)."""
    out = {}
    for crd in load_all(DATA / "crd-all.gen.yaml"):
        spec = crd["spec"]
        for version in spec["versions"]:
            out[(spec["group"], version["name"], spec["names"]["kind"])] = {**version, "scope": spec["scope"]}
    return out


def strict(schema: object) -> object:
    """Unknown fields are errors, as with kubectl's default strict field validation,
    except where the CRD preserves unknown fields (EnvoyFilter patch values)."""
    if isinstance(schema, dict):
        out = {k: strict(v) for k, v in schema.items()}
        if "properties" in out and "additionalProperties" not in out \
                and not out.get("x-kubernetes-preserve-unknown-fields"):
            out["additionalProperties"] = False
        return out
    if isinstance(schema, list):
        return [strict(v) for v in schema]
    return schema


@functools.cache
def _cel():
    import celpy

    return celpy, celpy.Environment()


def _k8s_substring(s, start, end=None):
    """Kubernetes' CEL string extension `substring` (cel-python has the standard library only)."""
    import celpy

    return celpy.celtypes.StringType(str(s)[int(start):] if end is None else str(s)[int(start):int(end)])


def cel_violations(schema: dict, value: object, where: str) -> list[str]:
    """Evaluate the CRD's x-kubernetes-validations rules where the value exists."""
    celpy, env = _cel()
    problems = []
    for rule in schema.get("x-kubernetes-validations", []):
        program = env.program(env.compile(rule["rule"]), functions={"substring": _k8s_substring})
        try:
            result = program.evaluate({"self": celpy.json_to_cel(value)})
        except celpy.CELEvalError as exc:
            problems.append(f"{where}: rule {rule['rule']!r} could not be evaluated: {exc.args[0][:200]}")
            continue
        if not (isinstance(result, celpy.celtypes.BoolType) and bool(result)):
            problems.append(f"{where}: {rule.get('message') or rule['rule']}")
    if isinstance(value, dict):
        for key, sub in value.items():
            if key in schema.get("properties", {}):
                problems += cel_violations(schema["properties"][key], sub, f"{where}.{key}")
            elif isinstance(schema.get("additionalProperties"), dict):
                problems += cel_violations(schema["additionalProperties"], sub, f"{where}.{key}")
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        for i, sub in enumerate(value):
            problems += cel_violations(schema["items"], sub, f"{where}[{i}]")
    return problems


def istio_problems(doc: dict) -> list[str]:
    from openapi_schema_validator import OAS30Validator

    group, _, version = doc["apiVersion"].partition("/")
    where = f"{doc['kind']}/{doc.get('metadata', {}).get('name')}"
    crd = istio_crds().get((group, version, doc["kind"]))
    if crd is None:
        return [f"{where}: no CRD for {doc['apiVersion']} {doc['kind']} in Istio 1.30"]
    problems = [] if crd.get("served") else [f"{where}: {doc['apiVersion']} is not served"]
    if not doc.get("metadata", {}).get("name"):
        problems.append(f"{where}: metadata.name missing")
    extra = set(doc) - {"apiVersion", "kind", "metadata", "spec"}
    if extra:
        problems.append(f"{where}: unexpected top-level keys {sorted(extra)}")
    schema = crd["schema"]["openAPIV3Schema"]["properties"]["spec"]
    validator = OAS30Validator(strict(schema))
    problems += [f"{where}: spec.{'.'.join(map(str, e.absolute_path))}: {e.message}"
                 for e in validator.iter_errors(doc.get("spec", {}))]
    if not problems:
        problems += cel_violations(schema, doc.get("spec", {}), f"{where}: spec")
    return problems


def kubernetes_problems(doc: dict) -> list[str]:
    import kubernetes_validate

    try:
        kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)
    except kubernetes_validate.ValidationError as e:
        return [f"{doc['kind']}/{doc['metadata'].get('name')}: {'.'.join(map(str, e.absolute_path))}: {e.message}"]
    except kubernetes_validate.SchemaNotFoundError as e:
        return [e.message]
    return []


def problems_of(doc: dict) -> list[str]:
    group = doc["apiVersion"].partition("/")[0]
    return istio_problems(doc) if group in ISTIO_GROUPS else kubernetes_problems(doc)


# ---------------------------------------------------------------- schema tests


def test_the_validators_catch_mistakes():
    """The checks below are only worth something if they fail on a real mistake."""
    ap = {"apiVersion": "security.istio.io/v1", "kind": "AuthorizationPolicy", "metadata": {"name": "x"},
          "spec": {"action": "CUSTOM", "provider": {"name": "extauthz"}, "rules": [{}]}}
    assert istio_problems(ap) == []
    assert istio_problems({**ap, "spec": {**ap["spec"], "action": "EXTERNAL"}})                # not in the enum
    assert istio_problems({**ap, "spec": {**ap["spec"], "providers": {"name": "x"}}})          # unknown field
    both = {**ap["spec"], "selector": {"matchLabels": {"a": "b"}},
            "targetRefs": [{"group": "gateway.networking.k8s.io", "kind": "Gateway", "name": "g"}]}
    assert istio_problems({**ap, "spec": both}) == [  # CEL rule of the CRD
        "AuthorizationPolicy/x: spec: only one of targetRefs or selector can be set"]
    se = {"apiVersion": "networking.istio.io/v1", "kind": "ServiceEntry", "metadata": {"name": "x"},
          "spec": {"hosts": ["a.local"], "resolution": "STATIC", "endpoints": [{"address": "127.0.0.1"}],
                   "ports": [{"name": "grpc", "number": 9001, "protocol": "GRPC"}]}}
    assert istio_problems(se) == []
    dup_ports = copy.deepcopy(se)
    dup_ports["spec"]["ports"].append({"name": "grpc2", "number": 9001, "protocol": "GRPC"})
    assert istio_problems(dup_ports) == ["ServiceEntry/x: spec.ports: port number cannot be duplicated"]
    no_resolution = copy.deepcopy(se)
    del no_resolution["spec"]["resolution"]
    assert istio_problems(no_resolution) == ["ServiceEntry/x: spec: NONE mode cannot set endpoints"]
    unix = copy.deepcopy(se)
    unix["spec"]["endpoints"][0]["address"] = "unix://relative"  # a rule using Kubernetes' substring()
    assert istio_problems(unix) == ["ServiceEntry/x: spec.endpoints[0].address: UDS must be an absolute path or "
                                    "abstract socket"]
    deployment = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"},
                  "spec": {"selector": {"matchLabels": {"a": "b"}},
                           "template": {"metadata": {"labels": {"a": "b"}},
                                        "spec": {"containers": [{"name": "c", "image": "i", "prots": []}]}}}}
    assert kubernetes_problems(deployment), "unknown field in a container"


def test_every_manifest_file_validates():
    docs = raw_documents()
    kinds = {d["kind"] for d in docs}
    assert {"EnvoyFilter", "AuthorizationPolicy", "ServiceEntry", "Gateway", "VirtualService", "Deployment",
            "Service", "ServiceAccount", "Namespace", "PodDisruptionBudget"} <= kinds
    problems = [p for d in docs for p in problems_of(d)]
    assert not problems, "\n".join(problems)


def test_every_file_in_istio_is_used_or_is_the_mesh_config():
    used = set()
    for k in KUSTOMIZATIONS:
        used |= used_files(ISTIO / k)
    files = {p.resolve() for p in ISTIO.rglob("*.yaml")}
    assert files - used == {(ISTIO / "mesh-config.yaml").resolve()}, "files no kustomization reads (unchecked)"


@pytest.mark.parametrize("directory", KUSTOMIZATIONS, ids=lambda d: d or "istio")
def test_kustomize_renders_and_every_object_validates(directory):
    if not kubectl():
        pytest.skip("kubectl is not installed")
    docs = rendered(directory)
    ids = [(d["kind"], d["metadata"].get("namespace"), d["metadata"]["name"]) for d in docs]
    assert len(ids) == len(set(ids)), "duplicate objects"
    problems = [p for d in docs for p in problems_of(d)]
    assert not problems, "\n".join(problems)
    namespaced = [d for d in docs if d["kind"] not in ("Namespace",)]
    assert all(d["metadata"].get("namespace") for d in namespaced), "every namespaced object has its namespace"


# ---------------------------------------------------------------- EnvoyFilter: the Envoy side


def envoy_filters() -> list[dict]:
    return of_kind(documents_for("overlays/envoyfilter"), "EnvoyFilter")


def filter_patch(ef: dict) -> dict:
    patches = [p for p in ef["spec"]["configPatches"] if p["applyTo"] == "HTTP_FILTER"]
    assert len(patches) == 1
    return patches[0]


def vhost_patches(ef: dict) -> list[dict]:
    return [p for p in ef["spec"]["configPatches"] if p["applyTo"] == "VIRTUAL_HOST"]


def bootstrap_for(ef: dict) -> dict:
    """An Envoy bootstrap holding the EnvoyFilter's ext_authz filter before the router, its
    virtual-host patches as virtual hosts, and the clusters the filter names."""
    ext_authz = filter_patch(ef)["patch"]["value"]
    cluster = ext_authz["typed_config"]["grpc_service"]["envoy_grpc"]["cluster_name"]
    vhosts = [{"name": f"vhost{i}", "domains": [f"host{i}.test"],
               "routes": [{"match": {"prefix": "/"}, "route": {"cluster": "app"}}], **p["patch"]["value"]}
              for i, p in enumerate(vhost_patches(ef))]

    def static_cluster(name: str, port: int, http2: bool) -> dict:
        c = {"name": name, "type": "STATIC", "connect_timeout": "1s",
             "load_assignment": {"cluster_name": name, "endpoints": [{"lb_endpoints": [
                 {"endpoint": {"address": {"socket_address": {"address": "127.0.0.1", "port_value": port}}}}]}]}}
        if http2:
            c["typed_extension_protocol_options"] = {"envoy.extensions.upstreams.http.v3.HttpProtocolOptions": {
                "@type": "type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions",
                "explicit_http_config": {"http2_protocol_options": {}}}}
        return c

    return {"static_resources": {
        "listeners": [{"name": "patched", "address": {"socket_address": {"address": "127.0.0.1", "port_value": 0}},
                       "filter_chains": [{"filters": [{
                           "name": "envoy.filters.network.http_connection_manager",
                           "typed_config": {
                               "@type": "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager"
                                        ".v3.HttpConnectionManager",
                               "stat_prefix": "patched",
                               "route_config": {"name": "patched", "virtual_hosts": vhosts},
                               "http_filters": [ext_authz, {
                                   "name": "envoy.filters.http.router",
                                   "typed_config": {"@type": "type.googleapis.com/envoy.extensions.filters.http"
                                                             ".router.v3.Router"}}]}}]}]}],
        "clusters": [static_cluster(cluster, 9001, True), static_cluster("app", 8000, False)]}}


@pytest.mark.envoy
def test_envoyfilter_ext_authz_config_passes_envoy_validate(envoy_bin, tmp_path):
    from extauthz.mesh import validate

    filters = envoy_filters()
    assert {filter_patch(ef)["match"]["context"] for ef in filters} == set(HOP_OF_CONTEXT)
    for ef in filters:
        path = tmp_path / f"{ef['metadata']['name']}.yaml"
        path.write_text(yaml.safe_dump(bootstrap_for(ef), sort_keys=False))
        ok, log = validate(envoy_bin, path)
        assert ok, f"{ef['metadata']['name']}:\n{log}"


def test_envoyfilters_insert_ext_authz_before_the_router_with_hop_context():
    for ef in envoy_filters():
        name = ef["metadata"]["name"]
        patch = filter_patch(ef)
        context = patch["match"]["context"]
        assert patch["patch"]["operation"] == "INSERT_BEFORE"
        flt = patch["match"]["listener"]["filterChain"]["filter"]
        assert flt == {"name": "envoy.filters.network.http_connection_manager",
                       "subFilter": {"name": "envoy.filters.http.router"}}, name
        assert patch["patch"]["value"]["name"] == "envoy.filters.http.ext_authz"
        vhosts = vhost_patches(ef)
        assert vhosts, f"{name}: no context_extensions"
        for p in vhosts:
            assert p["match"]["context"] == context and p["patch"]["operation"] == "MERGE"
            ctx = p["patch"]["value"]["typed_per_filter_config"]["envoy.filters.http.ext_authz"]
            assert ctx["@type"].endswith("ext_authz.v3.ExtAuthzPerRoute")
            assert ctx["check_settings"]["context_extensions"]["hop"] == HOP_OF_CONTEXT[context], name
        # a generic patch first (every virtual host gets its hop), specific ones after it (they win)
        assert "routeConfiguration" not in vhosts[0]["match"]


def test_envoyfilter_ext_authz_matches_the_envoy_config_of_the_same_hop():
    """Gateway = envoy/edge.yaml, inbound = sidecar-inbound.yaml, outbound = sidecar-outbound.yaml,
    apart from the cluster name (Istio's) — so the validated, mesh-tested settings are the ones shipped."""
    def settings(typed_config: dict) -> dict:
        out = copy.deepcopy(typed_config)
        out["grpc_service"].pop("envoy_grpc")
        return {k: v for k, v in out.items() if v is not False}  # an explicit false is the default

    for ef in envoy_filters():
        context = filter_patch(ef)["match"]["context"]
        envoy_cfg = yaml.safe_load((ROOT / "envoy" / ENVOY_FILE_OF_CONTEXT[context]).read_text())
        hcm = envoy_cfg["static_resources"]["listeners"][0]["filter_chains"][0]["filters"][0]["typed_config"]
        ours = next(f for f in hcm["http_filters"] if f["name"] == "envoy.filters.http.ext_authz")["typed_config"]
        assert settings(filter_patch(ef)["patch"]["value"]["typed_config"]) == settings(ours), ef["metadata"]["name"]


def istio_cluster_name(service: dict, port_name_or_number: int | str) -> str:
    port = next(p for p in service["spec"]["ports"] if port_name_or_number in (p["port"], p.get("name")))
    meta = service["metadata"]
    return f"outbound|{port['port']}||{meta['name']}.{meta['namespace']}.svc.cluster.local"


def test_envoyfilter_names_resolve_to_what_the_overlay_creates():
    docs = documents_for("overlays/envoyfilter")
    services = {(s["metadata"]["name"], s["metadata"].get("namespace")): s for s in of_kind(docs, "Service")}
    extauthz = services[("extauthz", "extauthz")] if ("extauthz", "extauthz") in services else \
        next(s for (n, _), s in services.items() if n == "extauthz")
    grpc_port = next(p for p in extauthz["spec"]["ports"] if p.get("appProtocol") == "grpc")
    expected_cluster = istio_cluster_name({**extauthz, "metadata": {**extauthz["metadata"], "namespace": "extauthz"}},
                                          grpc_port["port"])
    from extauthz.config import load_config

    policy = load_config(str(ISTIO / "base" / "policy" / "extauthz.yaml"))
    deployments = of_kind(docs, "Deployment")
    for ef in of_kind(docs, "EnvoyFilter"):
        cfg = filter_patch(ef)["patch"]["value"]["typed_config"]
        assert cfg["grpc_service"]["envoy_grpc"]["cluster_name"] == expected_cluster
        for p in vhost_patches(ef):
            ctx = p["patch"]["value"]["typed_per_filter_config"]["envoy.filters.http.ext_authz"]["check_settings"][
                "context_extensions"]
            for key in ("service", "source"):
                if key in ctx:
                    assert ctx[key] in policy.services, f"{ef['metadata']['name']}: {key} {ctx[key]} has no policy"
            vhost = p["match"].get("routeConfiguration", {}).get("vhost", {}).get("name")
            if vhost and p["match"]["context"] == "SIDECAR_OUTBOUND":
                host, port = vhost.rsplit(":", 1)
                name, ns = host.split(".")[:2]
                svc = services.get((name, ns)) or services.get((name, None))
                assert svc and any(sp["port"] == int(port) for sp in svc["spec"]["ports"]), vhost
            if vhost and p["match"]["context"] == "GATEWAY":
                host, port = vhost.rsplit(":", 1)
                assert any(host in server["hosts"] and server["port"]["number"] == int(port)
                           for gw in of_kind(docs, "Gateway") for server in gw["spec"]["servers"]), vhost
        selector = ef["spec"].get("workloadSelector", {}).get("labels")
        if selector and ef["metadata"].get("namespace") != "istio-system":
            assert any(selector.items() <= d["spec"]["template"]["metadata"]["labels"].items() for d in deployments)
        if selector and ef["metadata"].get("namespace") == "istio-system":
            assert any(gw["spec"]["selector"] == selector for gw in of_kind(docs, "Gateway"))


# ---------------------------------------------------------------- extension providers (meshConfig)


@pytest.fixture(scope="module")
def mesh_proto(tmp_path_factory):
    """tests/data/istio/mesh_extension_provider.proto, compiled with grpcio-tools' protoc."""
    from grpc_tools import protoc

    import grpc_tools

    out = tmp_path_factory.mktemp("meshproto")
    well_known = Path(grpc_tools.__file__).parent / "_proto"
    assert protoc.main(["protoc", f"-I{DATA}", f"-I{well_known}", f"--python_out={out}",
                        str(DATA / "mesh_extension_provider.proto")]) == 0
    sys.path.insert(0, str(out))
    try:
        return importlib.import_module("mesh_extension_provider_pb2")
    finally:
        sys.path.remove(str(out))


def mesh_config() -> dict:
    doc, = load_all(ISTIO / "mesh-config.yaml")
    assert doc["kind"] == "IstioOperator" and doc["apiVersion"] == "install.istio.io/v1alpha1"
    return doc["spec"]["meshConfig"]


def test_mesh_config_parses_as_istio_meshconfig(mesh_proto):
    from google.protobuf import json_format

    mesh = json_format.ParseDict(mesh_config(), mesh_proto.MeshConfig())  # unknown fields, wrong types: ParseError
    providers = {p.name: p for p in mesh.extension_providers}
    assert set(providers) == {"extauthz", "extauthz-local"}
    for p in providers.values():
        assert p.WhichOneof("provider") == "envoy_ext_authz_grpc"
    with pytest.raises(json_format.ParseError):  # the check bites: a misspelt field
        json_format.ParseDict({"extensionProviders": [{"name": "x", "envoyExtAuthzGrpc": {"failopen": True}}]},
                              mesh_proto.MeshConfig())


def test_provider_settings_are_those_of_the_validated_envoy_configs(mesh_proto):
    from google.protobuf import json_format

    from extauthz.config import Config

    edge = yaml.safe_load((ROOT / "envoy" / "edge.yaml").read_text())
    hcm = edge["static_resources"]["listeners"][0]["filter_chains"][0]["filters"][0]["typed_config"]
    ext = next(f for f in hcm["http_filters"] if f["name"] == "envoy.filters.http.ext_authz")["typed_config"]
    mesh = json_format.ParseDict(mesh_config(), mesh_proto.MeshConfig())
    for p in mesh.extension_providers:
        grpc = p.envoy_ext_authz_grpc
        assert f"{grpc.timeout.ToMilliseconds() / 1000:g}s" == ext["grpc_service"]["timeout"]
        assert grpc.fail_open == ext["failure_mode_allow"] is False
        assert grpc.status_on_error == "503" and ext["status_on_error"]["code"] == "ServiceUnavailable"
        body = grpc.include_request_body_in_check
        assert body.max_request_bytes == ext["with_request_body"]["max_request_bytes"] == Config().defaults.body_limit
        assert body.allow_partial_message and body.pack_as_bytes


def test_provider_services_and_policies_point_at_real_objects(mesh_proto):
    from google.protobuf import json_format

    mesh = json_format.ParseDict(mesh_config(), mesh_proto.MeshConfig())
    providers = {p.name: p.envoy_ext_authz_grpc for p in mesh.extension_providers}

    central_docs = documents_for("")
    svc = next(s for s in of_kind(central_docs, "Service") if s["metadata"]["name"] == "extauthz")
    ns = svc["metadata"].get("namespace") or kustomization(ISTIO / "base" / "extauthz")["namespace"]
    assert providers["extauthz"].service == f"extauthz.{ns}.svc.cluster.local"
    port = next(p for p in svc["spec"]["ports"] if p["port"] == providers["extauthz"].port)
    assert port.get("appProtocol") == "grpc"
    deployment = next(d for d in of_kind(central_docs, "Deployment") if d["metadata"]["name"] == "extauthz")
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    target = next(p["containerPort"] for p in container["ports"] if p["name"] == port["targetPort"])
    env = {e["name"]: e["value"] for e in container["env"]}
    assert env["EXTAUTHZ_LISTEN"] == f"0.0.0.0:{target}"

    sidecar_docs = documents_for("overlays/sidecar")
    entry = next(se for se in of_kind(sidecar_docs, "ServiceEntry") if providers["extauthz-local"].service
                 in se["spec"]["hosts"])
    assert [e["address"] for e in entry["spec"]["endpoints"]] == ["127.0.0.1"]
    assert any(p["number"] == providers["extauthz-local"].port and p["protocol"] == "GRPC"
               for p in entry["spec"]["ports"])
    if kubectl():  # the per-pod container (added by a patch) listens where the ServiceEntry points
        for d in of_kind(sidecar_docs, "Deployment"):
            if d["metadata"].get("namespace") == entry["metadata"]["namespace"]:
                local = next(c for c in d["spec"]["template"]["spec"]["containers"] if c["name"] == "extauthz")
                env = {e["name"]: e["value"] for e in local["env"]}
                assert env["EXTAUTHZ_LISTEN"] == f"127.0.0.1:{providers['extauthz-local'].port}"

    for directory in ("", "overlays/sidecar"):
        policies = of_kind(documents_for(directory), "AuthorizationPolicy")
        assert policies
        for ap in policies:
            assert ap["spec"]["action"] == "CUSTOM" and ap["spec"]["provider"]["name"] in providers
            assert ap["spec"]["rules"], "a CUSTOM policy without rules matches no request"
    if kubectl():
        local = [ap for ap in of_kind(rendered("overlays/sidecar"), "AuthorizationPolicy")
                 if ap["spec"]["provider"]["name"] == "extauthz-local"]
        assert [ap["metadata"]["namespace"] for ap in local] == [entry["metadata"]["namespace"]]


def test_demo_workloads_run_what_the_image_ships_with_the_identities_the_policy_knows():
    from dockerfile_parse import DockerfileParser

    from extauthz.config import load_config

    copies = [i["value"].split() for i in DockerfileParser(str(ROOT / "Dockerfile")).structure
              if i["instruction"] == "COPY" and "--from" not in i["value"]]
    shipped = {dest: src for *srcs, dest in copies for src in srcs}
    policy = load_config(str(ISTIO / "base" / "policy" / "extauthz.yaml"))
    aliases = {alias for name, svc in policy.services.items() for alias in svc.aliases}
    docs = documents_for("")
    for d in of_kind(docs, "Deployment"):
        if d["metadata"]["name"] == "extauthz":
            continue
        pod = d["spec"]["template"]["spec"]
        script = Path(pod["containers"][0]["command"][1])
        src = shipped[str(script.parent)]
        assert (ROOT / src / script.name).is_file(), f"{script}: not in the image"
        ns = d["metadata"].get("namespace") or "demo"
        assert f"spiffe://cluster.local/ns/{ns}/sa/{pod['serviceAccountName']}" in aliases
