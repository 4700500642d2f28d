"""Configuration: one YAML document, validated into frozen dataclasses.

Every key is typed by the dataclass that holds it; unknown keys, wrong types and
out-of-range values are errors that name the key's full path. Per-service
policies inherit every key they do not set from `defaults`.

Each section documents its keys in field metadata (`doc`), which is also what
`extauthz config reference` prints, so the reference cannot drift from the code.
"""
from __future__ import annotations

import collections.abc
import dataclasses
import enum
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Mapping

import yaml

from extauthz.decode.limits import DecodeLimits


class ConfigError(ValueError):
    """A configuration document that cannot be used; the message names the key."""

    def __init__(self, message: str, key: str = "", source: str = "") -> None:
        self.message = message
        self.key = key
        self.source = source
        where = f"{source}: " if source else ""
        at = f"{key}: " if key else ""
        super().__init__(f"{where}{at}{message}")


def doc(text: str, **kw: Any) -> dict:
    """Field metadata: a one-line description and optional checks."""
    return {"doc": text, **kw}


def _positive(v: float) -> str | None:
    return None if v > 0 else "must be greater than 0"


def _non_negative(v: float) -> str | None:
    return None if v >= 0 else "must not be negative"


def _http_status(v: int) -> str | None:
    return None if 200 <= v <= 599 else "must be an HTTP status between 200 and 599"


HOP_NAMES = ("edge", "gateway", "sidecar-inbound", "sidecar-outbound", "unknown")


def _hop_keys(v: Mapping[str, str]) -> str | None:
    bad = [k for k in v if k not in HOP_NAMES]
    return f"unknown hop {bad[0]!r} (hops: {', '.join(HOP_NAMES)})" if bad else None


def _ratio(v: float) -> str | None:
    return None if 0 <= v <= 1 else "must be between 0 and 1"


def _address(v: str) -> str | None:
    host, sep, port = v.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 <= int(port) <= 65535:
        return "must be HOST:PORT, e.g. 127.0.0.1:9001"
    return None


def _address_or_off(v: str) -> str | None:
    return None if v == "off" else _address(v)


# ---------------------------------------------------------------- sections


@dataclass(frozen=True)
class Exclusion:
    """Silence findings precisely: rules × services × routes × parameters.

    An exclusion applies when every list that is set matches (an empty list
    matches anything). Rules match a rule id exactly, a class name (`sqli`), or a
    prefix ending in `*` (`sqli.quote-*`). Routes are path globs where `*` is one
    segment and `**` the rest of the path. Parameters are locations
    (`query:q`, `json:$.comment`, `header:referer`), `*` allowed at the end.
    """

    rules: tuple[str, ...] = field(default=(), metadata=doc("rule ids, classes or `prefix*`; empty = all rules"))
    services: tuple[str, ...] = field(default=(), metadata=doc("service names; empty = the policy's service(s)"))
    routes: tuple[str, ...] = field(default=(), metadata=doc("path globs (`/api/*/notes`, `/static/**`)"))
    parameters: tuple[str, ...] = field(default=(), metadata=doc("input locations (`query:q`, `form:comment`, `json:$.bio`, `header:*`)"))
    reason: str = field(default="", metadata=doc("why (for reviewers of the config)"))


@dataclass(frozen=True)
class UpstreamHeaders:
    """Headers added to allowed requests on their way upstream."""

    score: str = field(default="", metadata=doc("header carrying the request score, e.g. x-extauthz-score; empty = none"))
    event_id: str = field(default="", metadata=doc("header carrying the event id when there were findings; empty = none"))
    decision: str = field(default="", metadata=doc("header carrying allow/monitor; empty = none"))


@dataclass(frozen=True)
class ProfilePolicy:
    """Behaviour learning for one service (README: Behaviour learning)."""

    mode: Literal["off", "learn", "auto", "enforce"] = field(
        default="auto", metadata=doc("off: no profile; learn: record only, never a finding; auto: learn, and enforce each "
                                     "endpoint once it has min_samples and stopped changing; enforce: stop learning, "
                                     "flag what the learned profile has not seen"))
    min_samples: int = field(default=100, metadata=doc("requests an endpoint (and the service) needs before anything is enforced", check=_positive))
    stable_samples: int = field(default=200, metadata=doc("auto: requests since the endpoint's model last changed before it is enforced", check=_positive))


@dataclass(frozen=True)
class ServicePolicy:
    """What to do with one service's requests (or, under `defaults`, everyone's)."""

    mode: Literal["block", "monitor", "off"] = field(
        default="block", metadata=doc("block: deny at the threshold; monitor: allow but record; off: allow, inspect nothing"))
    threshold: int = field(default=8, metadata=doc("score at which a request is denied (one HIGH finding = 8 points)", check=_positive))
    body_limit: int = field(default=131072, metadata=doc("bytes of body inspected; the rest is not, and a limit finding says so", check=_non_negative))
    detect_budget_ms: float = field(default=0.0, metadata=doc(
        "detector CPU budget for this service's requests, instead of limits.detect_budget_ms (0 = that); "
        "for services that receive long documents (a wiki, a CMS, an issue tracker), e.g. 200", check=_non_negative))
    hop_modes: Mapping[str, Literal["block", "monitor", "off"]] = field(
        default_factory=dict, metadata=doc("mode per hop, overriding `mode`; e.g. {sidecar-outbound: monitor} blocks "
                                           "at the destination's sidecar and only records at the caller's", check=_hop_keys))
    failure: Literal["deny", "allow"] = field(
        default="deny", metadata=doc("decision when the engine fails internally on a request"))
    deny_status: int = field(default=403, metadata=doc("HTTP status of a deny", check=_http_status))
    detectors: Mapping[str, bool] = field(default_factory=dict, metadata=doc("detector name → enabled; unlisted detectors are on"))
    exclusions: tuple[Exclusion, ...] = field(default=(), metadata=doc("findings to silence (added to the defaults' list)"))
    upstream_headers: UpstreamHeaders = field(default_factory=UpstreamHeaders, metadata=doc("headers added to allowed requests"))
    aliases: tuple[str, ...] = field(default=(), metadata=doc("other names that select this policy: hosts, SPIFFE principals"))
    profile: ProfilePolicy = field(default_factory=ProfilePolicy, metadata=doc("behaviour learning: what normal requests look like"))


@dataclass(frozen=True)
class ServerSettings:
    listen: str = field(default="127.0.0.1:9001", metadata=doc("gRPC listen address (ext_authz and grpc.health.v1)", check=_address))
    workers: int = field(default=1, metadata=doc("worker processes sharing the port (SO_REUSEPORT)", check=_positive))
    threads: int = field(default=4, metadata=doc("gRPC handler threads per worker (the engine is CPU-bound Python: more threads only contend for the GIL; measured behind Envoy at 16 connections, 4 threads gave 1.3x the checks/s of 8, with lower CPU per check)", check=_positive))
    drain_seconds: float = field(default=10.0, metadata=doc("on SIGTERM: time given to in-flight checks", check=_non_negative))
    max_message_bytes: int = field(default=8 * 1024 * 1024, metadata=doc("largest CheckRequest accepted", check=_positive))
    watch_config: bool = field(default=True, metadata=doc("reload when the config file changes (as SIGHUP and the admin reload do)"))
    watch_seconds: float = field(default=1.0, metadata=doc("how often the config file is looked at", check=_positive))


@dataclass(frozen=True)
class EventSettings:
    output: str = field(default="stderr", metadata=doc("where security events go: stderr, stdout, off, or a file path"))
    max_bytes: int = field(default=100 * 1024 * 1024, metadata=doc("a file output rotates at this size; 0 = never", check=_non_negative))
    backups: int = field(default=5, metadata=doc("rotated files kept (events.jsonl.1 ... .N)", check=_non_negative))
    redact_keys: tuple[str, ...] = field(default=(), metadata=doc(
        "more header/cookie/parameter names whose values are secrets (added to authorization, cookie, password, token, ...)"))
    recent: int = field(default=1000, metadata=doc("events kept in memory for the admin API", check=_non_negative))


@dataclass(frozen=True)
class TracingSettings:
    enabled: bool = field(default=False, metadata=doc("export a span per check over OTLP/gRPC; OTEL_TRACES_EXPORTER=otlp also turns it on, "
                                                      "OTEL_SDK_DISABLED=true or OTEL_TRACES_EXPORTER=none off"))
    endpoint: str = field(default="", metadata=doc("OTLP/gRPC collector, e.g. http://otel-collector:4317; "
                                                   "OTEL_EXPORTER_OTLP_[TRACES_]ENDPOINT wins; empty = the SDK's default"))
    service_name: str = field(default="extauthz", metadata=doc("service.name of the spans; OTEL_SERVICE_NAME wins"))
    sample_ratio: float = field(default=1.0, metadata=doc("share of checks without a sampled parent that start a trace "
                                                          "(parent-based; OTEL_TRACES_SAMPLER wins)", check=_ratio))
    max_finding_events: int = field(default=32, metadata=doc("span events per check at most (one per finding)", check=_non_negative))


@dataclass(frozen=True)
class AdminSettings:
    listen: str = field(default="127.0.0.1:9002", metadata=doc("admin HTTP API address (health, metrics, events, reload, ...); "
                                                               "\"off\" = no admin port", check=_address_or_off))
    token_file: str = field(default="", metadata=doc("file holding the bearer token for the protected endpoints"))
    token_env: str = field(default="EXTAUTHZ_ADMIN_TOKEN", metadata=doc(
        "environment variable holding the token when token_file is empty; no token = protected endpoints answer 401"))


# ---------------------------------------------------------------- actor risk, lists, shared state
# (extauthz/risk/ and extauthz/store/ read these; README "Actor risk" explains them)

ACTOR_KEYS = ("ip", "principal", "user_agent", "api_key", "jwt_subject")


def _cidrs(v: tuple[str, ...]) -> str | None:
    import ipaddress
    for c in v:
        try:
            ipaddress.ip_network(c, strict=False)
        except ValueError:
            return f"{c!r} is not an IP address or CIDR (e.g. 203.0.113.0/24, 2001:db8::/32)"
    return None


def _actor_keys(v: tuple[str, ...]) -> str | None:
    bad = [k for k in v if k not in ACTOR_KEYS]
    if bad:
        return f"unknown actor key {bad[0]!r} (keys: {', '.join(ACTOR_KEYS)})"
    return None if v else "name at least one actor key"


def _hops(v: tuple[str, ...]) -> str | None:
    bad = [h for h in v if h not in HOP_NAMES]
    return f"unknown hop {bad[0]!r} (hops: {', '.join(HOP_NAMES)})" if bad else None


def _fraction(v: float) -> str | None:
    return None if 0 <= v <= 1 else "must be between 0 and 1"


@dataclass(frozen=True)
class ActorList:
    """Who is on a list: any matching entry puts the actor on it."""

    cidrs: tuple[str, ...] = field(default=(), metadata=doc("client addresses or networks (203.0.113.0/24, 2001:db8::/32)", check=_cidrs))
    principals: tuple[str, ...] = field(default=(), metadata=doc("mTLS principals, exact or `prefix*` (spiffe://cluster.local/ns/ops/*)"))
    user_agents: tuple[str, ...] = field(default=(), metadata=doc("user-agent globs, case-insensitive, `*` = any text (`*sqlmap*`)"))


@dataclass(frozen=True)
class ServiceLists:
    allow: ActorList = field(default_factory=ActorList, metadata=doc("never inspected nor blocked: allowed, and the decision says which entry"))
    deny: ActorList = field(default_factory=ActorList, metadata=doc("always denied (monitor mode: recorded); the decision says which entry"))


@dataclass(frozen=True)
class ListSettings:
    """Allow and deny lists. A service's own lists are consulted before the global ones;
    within one level deny wins over allow."""

    allow: ActorList = field(default_factory=ActorList, metadata=doc("global allow list (every service, every hop)"))
    deny: ActorList = field(default_factory=ActorList, metadata=doc("global deny list (every service, every hop)"))
    services: Mapping[str, ServiceLists] = field(default_factory=dict, metadata=doc("per-service lists, by service name under `services`"))


@dataclass(frozen=True)
class ScriptedSettings:
    """Signals of high-intensity scripted activity; each adds a LOW risk finding (class scanner)."""

    rate_half_life: float = field(default=10.0, metadata=doc("seconds over which an actor's request rate is averaged (exponential decay half-life)", check=_positive))
    baseline_rate: float = field(default=1.0, metadata=doc("requests/s one client normally sends to an endpoint, until a learned baseline (behaviour profile) says otherwise", check=_positive))
    rate_factor: float = field(default=10.0, metadata=doc("rate signal: the actor's rate is at least this many times the endpoint's baseline ...", check=_positive))
    min_rate: float = field(default=5.0, metadata=doc("... and at least this many requests/s", check=_non_negative))
    regular_cv: float = field(default=0.1, metadata=doc("timing signal: intervals between requests vary less than this fraction of their mean (machine-regular) ...", check=_non_negative))
    regular_samples: int = field(default=20, metadata=doc("... over at least this many requests ...", check=_positive))
    regular_max_interval: float = field(default=10.0, metadata=doc("... at most this many seconds apart on average", check=_positive))
    path_window: float = field(default=60.0, metadata=doc("probe signal: seconds of a distinct-path window ...", check=_positive))
    distinct_paths: int = field(default=50, metadata=doc("... in which the actor requests at least this many distinct paths", check=_positive))


@dataclass(frozen=True)
class RiskSettings:
    """Actor risk: findings add risk, risk decays, past the threshold the actor is blocked."""

    enabled: bool = field(default=True, metadata=doc("track actor risk (lists apply either way)"))
    hops: tuple[str, ...] = field(default=("edge", "gateway"), metadata=doc("hops where actors are tracked; on sidecar hops the actor is a workload identity, and blocking it blocks all its calls", check=_hops))
    actor_keys: tuple[str, ...] = field(default=("ip", "principal"), metadata=doc(f"what identifies an actor, any of: {', '.join(ACTOR_KEYS)}; keys a client controls (user_agent, api_key, jwt_subject) let it split itself into new actors", check=_actor_keys))
    xff_trusted_hops: int = field(default=0, metadata=doc("the client address is the N-th from the right in X-Forwarded-For (count the entries your trusted proxies, and an Envoy with use_remote_address, append); 0 = the connection's source address", check=_non_negative))
    api_key_headers: tuple[str, ...] = field(default=("x-api-key",), metadata=doc("headers carrying an API key (hashed, never stored)"))
    half_life: float = field(default=300.0, metadata=doc("seconds for an actor's risk to halve", check=_positive))
    block_threshold: float = field(default=30.0, metadata=doc("risk at which the actor is blocked (a denied request adds its score, at most `max_points`)", check=_positive))
    max_points: float = field(default=12.0, metadata=doc("most risk one request can add", check=_positive))
    allowed_factor: float = field(default=0.25, metadata=doc("share of its points an allowed request adds (findings under the threshold)", check=_fraction))
    allowed_ceiling: float = field(default=0.9, metadata=doc("allowed requests raise risk at most to this share of the block threshold: only denied ones can block", check=_fraction))
    elevated: float = field(default=0.5, metadata=doc("from this share of the block threshold an actor's requests carry a LOW risk finding, from 0.8 a MEDIUM one", check=_fraction))
    block_seconds: float = field(default=600.0, metadata=doc("first block's duration", check=_positive))
    repeat_factor: float = field(default=2.0, metadata=doc("each further block lasts this many times longer ...", check=_positive))
    max_block_seconds: float = field(default=86400.0, metadata=doc("... up to this", check=_positive))
    offence_memory: float = field(default=86400.0, metadata=doc("seconds after a block ends that it still counts as a previous offence", check=_non_negative))
    class_weights: Mapping[str, float] = field(default_factory=dict, metadata=doc("finding class → weight of its points in risk (default 1; e.g. {protocol: 0.5})"))
    scripted: ScriptedSettings = field(default_factory=ScriptedSettings, metadata=doc("scripted-activity signals"))


@dataclass(frozen=True)
class RedisSettings:
    url: str = field(default="redis://127.0.0.1:6379/0", metadata=doc("redis://[user@]host:port/db, rediss:// for TLS, unix:///path"))
    cluster: bool = field(default=False, metadata=doc("the URL names a Redis Cluster node (keys carry hash tags)"))
    username: str = field(default="", metadata=doc("ACL user (or in the URL)"))
    password_env: str = field(default="", metadata=doc("environment variable holding the password (keep it out of the file)"))
    tls_ca_file: str = field(default="", metadata=doc("CA bundle to verify the server (rediss://)"))
    tls_cert_file: str = field(default="", metadata=doc("client certificate (mutual TLS)"))
    tls_key_file: str = field(default="", metadata=doc("client certificate's key"))
    namespace: str = field(default="extauthz", metadata=doc("key prefix, so several deployments can share one Redis"))
    timeout: float = field(default=0.05, metadata=doc("seconds for connecting and for each round trip; then the check goes on with local state", check=_positive))
    retry_seconds: float = field(default=1.0, metadata=doc("after a failure, Redis is left alone this long (doubling up to 30 s) while a background probe reconnects", check=_positive))


@dataclass(frozen=True)
class StoreSettings:
    backend: Literal["memory", "redis"] = field(default="memory", metadata=doc("memory: per process (each --workers process has its own); redis: shared by workers and replicas"))
    max_actors: int = field(default=100000, metadata=doc("memory: actors kept (least recently seen go first)", check=_positive))
    redis: RedisSettings = field(default_factory=RedisSettings, metadata=doc("the Redis connection (backend: redis)"))


def _share(v: float) -> str | None:
    return None if 0 < v <= 1 else "must be a fraction in (0, 1]"


@dataclass(frozen=True)
class StateSettings:
    dir: str = field(default="", metadata=doc("directory for learned profiles (profiles.sqlite3) unless store.backend is redis; empty: memory only, lost at restart"))
    flush_seconds: float = field(default=10.0, metadata=doc("how often learned profiles are merged and written (and on stop)", check=_positive))


@dataclass(frozen=True)
class ProfileSettings:
    """Bounds on everything learned, whatever the service (a restart applies changes)."""

    client_share: float = field(default=0.1, metadata=doc("largest share of an endpoint's training requests one client may supply", check=_share))
    max_services: int = field(default=1000, metadata=doc("services profiled; traffic of further services is not learned", check=_positive))
    max_endpoints: int = field(default=200, metadata=doc("endpoints (method + path template) per service", check=_positive))
    max_params: int = field(default=64, metadata=doc("parameters per endpoint", check=_positive))
    max_headers: int = field(default=48, metadata=doc("header and cookie names per service", check=_positive))
    max_literals: int = field(default=50, metadata=doc("distinct path segments at one place before they become `{slug}`", check=_positive))


@dataclass(frozen=True)
class Config:
    version: int = field(default=1, metadata=doc("document format version; this release reads 1"))
    server: ServerSettings = field(default_factory=ServerSettings, metadata=doc("the gRPC server"))
    defaults: ServicePolicy = field(default_factory=ServicePolicy, metadata=doc("policy for every service not listed under `services`"))
    services: Mapping[str, ServicePolicy] = field(default_factory=dict, metadata=doc("per-service policies; unset keys come from `defaults`"))
    events: EventSettings = field(default_factory=EventSettings, metadata=doc("the security event log"))
    limits: DecodeLimits = field(default_factory=DecodeLimits, metadata=doc("bounds on parsing and decoding each request (a hit is a limit.* finding)"))
    tracing: TracingSettings = field(default_factory=TracingSettings, metadata=doc("OpenTelemetry traces"))
    admin: AdminSettings = field(default_factory=AdminSettings, metadata=doc("the admin HTTP API"))
    risk: RiskSettings = field(default_factory=RiskSettings, metadata=doc("actor risk (extauthz/risk)"))
    lists: ListSettings = field(default_factory=ListSettings, metadata=doc("allow and deny lists"))
    store: StoreSettings = field(default_factory=StoreSettings, metadata=doc("where risk, rates and blocks live (extauthz/store)"))
    state: StateSettings = field(default_factory=StateSettings, metadata=doc("where learned state lives"))
    profiles: ProfileSettings = field(default_factory=ProfileSettings, metadata=doc("bounds of behaviour learning"))


SUPPORTED_VERSION = 1

# ---------------------------------------------------------------- loading


def load_config(path: str | Path | None) -> Config:
    """Read and validate a config file; None gives the built-in defaults."""
    if path is None:
        return Config()
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read config file: {exc.strerror or exc}", source=str(p)) from None
    except UnicodeDecodeError:
        raise ConfigError("config file is not UTF-8 text", source=str(p)) from None
    return parse_config(text, source=str(p))


def parse_config(text: str, source: str = "<config>") -> Config:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        raise ConfigError(f"not valid YAML{where}: {getattr(exc, 'problem', exc)}", source=source) from None
    if data is None:
        data = {}
    return config_from_dict(data, source)


def config_from_dict(data: Any, source: str = "<config>") -> Config:
    if not isinstance(data, dict):
        raise ConfigError(f"the document must be a mapping, not {_kind(data)}", source=source)
    try:
        version = data.get("version", SUPPORTED_VERSION)
        if version != SUPPORTED_VERSION:
            raise ConfigError(f"this extauthz reads format version {SUPPORTED_VERSION}, got {version!r}", "version")
        defaults_raw = data.get("defaults", {}) or {}
        services_raw = data.get("services", {}) or {}
        if not isinstance(services_raw, dict):
            raise ConfigError(f"expected a mapping of service name to policy, got {_kind(services_raw)}", "services")
        merged = dict(data)
        merged["services"] = {
            str(name): _merge_policy(defaults_raw, body, f"services.{name}")
            for name, body in services_raw.items()
        }
        cfg = _convert(Config, merged, "")
        _check_aliases(cfg)
    except ConfigError as exc:
        if not exc.source:
            raise ConfigError(exc.message, exc.key, source) from None
        raise
    return cfg


def _merge_policy(defaults: Any, body: Any, key: str) -> Any:
    if body is None:
        body = {}
    if not isinstance(body, dict):
        raise ConfigError(f"expected a mapping, got {_kind(body)}", key)
    if not isinstance(defaults, dict):
        return body  # the defaults' own error is reported at `defaults`
    out = dict(defaults)
    for k, v in body.items():
        if k == "exclusions" and isinstance(v, list) and isinstance(defaults.get(k), list):
            out[k] = list(defaults[k]) + v
        elif isinstance(v, dict) and isinstance(defaults.get(k), dict):
            out[k] = {**defaults[k], **v}
        else:
            out[k] = v
    if "aliases" not in body:
        out.pop("aliases", None)  # aliases name one service; they are never inherited
    return out


def _check_aliases(cfg: Config) -> None:
    seen: dict[str, str] = {}
    for name in cfg.services:
        seen[name] = name
    for name, pol in cfg.services.items():
        for alias in pol.aliases:
            if alias in seen and seen[alias] != name:
                raise ConfigError(f"alias {alias!r} already names service {seen[alias]!r}", f"services.{name}.aliases")
            seen[alias] = name


def _kind(v: Any) -> str:
    if v is None:
        return "nothing (null)"
    return {dict: "a mapping", list: "a list", str: "a string", bool: "a boolean",
            int: "an integer", float: "a number"}.get(type(v), type(v).__name__)


def _join(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else str(key)


def _convert(tp: Any, value: Any, path: str) -> Any:
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if dataclasses.is_dataclass(tp):
        return _convert_dataclass(tp, value, path)
    if origin is Literal:
        if value is False and "off" in args:
            value = "off"  # YAML 1.1 reads a bare `off` as false: `mode: off` means the word
        if value not in args:
            choices = ", ".join(str(a) for a in args)
            raise ConfigError(f"expected one of {choices}; got {value!r}", path)
        return value
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        inner = [a for a in args if a is not type(None)]
        return _convert(inner[0], value, path)
    if origin in (tuple, list):
        if value is None:
            return ()
        if isinstance(value, str) or not isinstance(value, (list, tuple)):
            raise ConfigError(f"expected a list, got {_kind(value)}", path)
        return tuple(_convert(args[0], v, _join(path, i)) for i, v in enumerate(value))
    if origin in (dict, Mapping, collections.abc.Mapping) or tp is dict:
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise ConfigError(f"expected a mapping, got {_kind(value)}", path)
        ktype, vtype = args if args else (str, Any)
        return {_convert(ktype, k, path): _convert(vtype, v, _join(path, str(k))) for k, v in value.items()}
    if tp is Any:
        return value
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        try:
            return tp(value)
        except ValueError:
            choices = ", ".join(str(m.value) for m in tp)
            raise ConfigError(f"expected one of {choices}; got {value!r}", path) from None
    if tp is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"expected true or false, got {_kind(value)}", path)
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"expected an integer, got {_kind(value)}", path)
        return value
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"expected a number, got {_kind(value)}", path)
        return float(value)
    if tp is str:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return str(value)
        if not isinstance(value, str):
            raise ConfigError(f"expected a string, got {_kind(value)}", path)
        return value
    raise ConfigError(f"unsupported type {tp!r} (a bug in extauthz)", path)


def _convert_dataclass(tp: Any, value: Any, path: str) -> Any:
    if value is None:
        value = {}
    if not isinstance(value, dict):
        raise ConfigError(f"expected a mapping, got {_kind(value)}", path)
    hints = typing.get_type_hints(tp)
    fields = {f.name: f for f in dataclasses.fields(tp)}
    unknown = [k for k in value if k not in fields]
    if unknown:
        known = ", ".join(sorted(fields))
        raise ConfigError(f"unknown key (known keys here: {known})", _join(path, str(unknown[0])))
    kwargs = {}
    for name, v in value.items():
        f = fields[name]
        key = _join(path, name)
        converted = _convert(hints[name], v, key)
        check = f.metadata.get("check")
        if check is not None:
            problem = check(converted)
            if problem:
                raise ConfigError(problem, key)
        kwargs[name] = converted
    return tp(**kwargs)


def reference(tp: Any = Config, prefix: str = "", _seen: dict | None = None) -> list[tuple[str, str, str, str]]:
    """(key, type, default, description) rows for every key, for docs and `config reference`.

    A section type that appears twice (a service policy is a `defaults` policy)
    is expanded once; later places refer to the first.
    """
    seen = {} if _seen is None else _seen
    rows = []
    hints = typing.get_type_hints(tp)
    for f in dataclasses.fields(tp):
        key = _join(prefix, f.name)
        hint = hints[f.name]
        if f.default is not dataclasses.MISSING:
            default = f.default
        elif f.default_factory is not dataclasses.MISSING:  # type: ignore[misc]
            default = f.default_factory()  # type: ignore[misc]
        else:
            default = None
        text = f.metadata.get("doc", "")
        args = typing.get_args(hint)
        origin = typing.get_origin(hint)
        section, kind, sub, empty = None, "", "", ""
        if dataclasses.is_dataclass(hint):
            section, kind, sub = hint, "mapping", key
        elif origin in (dict, Mapping, collections.abc.Mapping) and args and dataclasses.is_dataclass(args[1]):
            section, kind, sub, empty = args[1], "mapping", f"{key}.<name>", "{}"
        elif origin in (tuple, list) and args and dataclasses.is_dataclass(args[0]):
            section, kind, sub, empty = args[0], "list", f"{key}[]", "[]"
        if section is not None:
            if section in seen:
                rows.append((key, kind, empty, f"{text} (keys as under `{seen[section]}`)"))
            else:
                seen[section] = sub
                rows.append((key, kind, empty, text))
                rows.extend(reference(section, sub, seen))
            continue
        rows.append((key, _type_name(hint), _default_text(default), f.metadata.get("doc", "")))
    return rows


def _type_name(tp: Any) -> str:
    origin = typing.get_origin(tp)
    if origin is Literal:
        return "one of " + ", ".join(str(a) for a in typing.get_args(tp))
    if origin in (tuple, list):
        return f"list of {_type_name(typing.get_args(tp)[0])}"
    if origin in (dict, Mapping, collections.abc.Mapping):
        k, v = typing.get_args(tp)
        return f"mapping {_type_name(k)} → {_type_name(v)}"
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return "one of " + ", ".join(str(m.value) for m in tp)
    return getattr(tp, "__name__", str(tp))


def _default_text(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if v == () or v == {}:
        return "[]" if v == () else "{}"
    if isinstance(v, str):
        return f'"{v}"' if v else '""'
    return str(v)
