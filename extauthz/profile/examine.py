"""One request against one learned profile: what it looks like, and what is new in it.

`examine` walks the request's Inputs once. For each it computes the features
the profile keeps (length, classes, type, shape when useful) and compares them
with the live profile; the result is an Observation (kept for learning after
the verdict) and the list of Anomalies: everything the request shows that the
profile has not seen. Whether anomalies become Findings is the stage's choice
(extauthz.profile.stage): only on endpoints the policy enforces.

Severities (calibrated on CSIC 2010 dev for FPR <= 0.5 %, see README):
a value that breaks a strong model of a well-learned parameter (not in its
closed set of values, not of its type, a syntax character it never had) is
HIGH and blocks alone; weaker signs (a new harmless character, a longer value,
an unknown parameter) are MEDIUM or LOW and block only together.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Sequence

from extauthz.decode import Input
from extauthz.finding import Severity
from extauthz.profile.features import (ENCODING_BITS, JOIN, PUNCT_BIT, PUNCTUATION, SHAPE_MAX_VALUE, SYNTAX_CLASSES,
                                       TYPE_NAMES, Features, accepts, class_names, encoding_bits, encoding_names, shape,
                                       value_features)
from extauthz.profile.model import CHECK_MIN_SAMPLES, EndpointStats, ParamStats, ServiceProfile
from extauthz.profile.paths import normalize_name, template
from extauthz.request import Request
from extauthz.rules import rule_yaml

ENDPOINT_KINDS = frozenset({"query", "form", "json", "xml", "multipart", "graphql", "body"})
SERVICE_KINDS = frozenset({"header", "cookie"})
MAX_PARAMS_PER_REQUEST = 96
MAX_HEADERS_PER_REQUEST = 48
# A parameter's model is trusted fully from this many samples, weakly (one
# severity step lower) from WEAK_SAMPLES, and not at all below.
FULL_SAMPLES = CHECK_MIN_SAMPLES
WEAK_SAMPLES = 5
STRONG_SAMPLES = 100  # from here a breach of a settled model is HIGH
SHAPE_LEARNING_SAMPLES = 1000  # a parameter whose shapes have not closed by then is not shaped
SETTLED_RATIO = 200  # classes seen once, per sample: at most 1 in 200 for "settled"
# Layers ordinary values come through (URL encoding; compatibility forms like º): never a sign alone.
NATURAL_ENCODINGS = ENCODING_BITS["percent"] | ENCODING_BITS["nfkc"]
_UNMODELLED = tuple(str(h).lower() for h in rule_yaml("profile.yaml")["unmodelled_headers"])
UNMODELLED_HEADERS = frozenset(h for h in _UNMODELLED if not h.endswith("*"))
UNMODELLED_PREFIXES = tuple(h[:-1] for h in _UNMODELLED if h.endswith("*"))
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
WEAKER = {Severity.CRITICAL: Severity.HIGH, Severity.HIGH: Severity.MEDIUM, Severity.MEDIUM: Severity.LOW,
          Severity.LOW: Severity.LOW, Severity.INFO: Severity.INFO}

# (key, Input, value, features, shape or None, encoding bits)
Observed = tuple[str, Input, str, Features, "str | None", int]


@dataclass(slots=True)
class Anomaly:
    rule: str  # profile.<what>.<how>, e.g. profile.param.type
    severity: Severity
    location: str
    value: str = ""  # the offending value (the stage redacts it into an excerpt)
    detail: str = ""
    # Which part of the profile must be settled (enforced) for this to count:
    # "endpoint" (its endpoint), "endpoints" (the service's set of endpoints),
    # "callers" (the service's set of callers), "service" (headers, service-wide).
    scope: str = "endpoint"


@dataclass(slots=True)
class Observation:
    """What the learning side needs from a request, computed once during inspect."""

    service: str
    method: str
    template: str
    client: int | None
    caller: str
    params: list[Observed] = field(default_factory=list)
    headers: list[Observed] = field(default_factory=list)
    ctype: str = ""
    body_size: int = 0
    caller_known: bool = True
    gated: bool = False  # flagged as an unknown endpoint/method: learned only once two clients agree
    sampled: bool = True  # an ordinary request of a mature endpoint may count for its rate only
    anomalous: bool = False  # showed something the profile lacks: always learned when clean


def media_type(request: Request) -> str:
    ct = request.content_type
    return ct.partition(";")[0].strip().lower()[:64] if ct else ""


def caller_of(request: Request, aliases: dict[str, str]) -> str:
    """The calling workload: its service name when the config names it, else its mTLS principal."""
    src = request.source
    who = src.principal or src.service
    return aliases.get(who, who)


_KEYS: dict[tuple[str, str], str | None] = {}
KEY_CACHE_SIZE = 4096
MAX_NAME = 200


def _param_key(kind: str, name: str) -> str | None:
    """The profile's key of an Input (`query:ids[*]`, `header:user-agent`); None: not modelled. Cached."""
    key = _KEYS.get((kind, name), "")
    if key != "":
        return key
    whole = name
    if len(name) > MAX_NAME:
        name = name[:MAX_NAME] + "…"  # a parameter is known by its first MAX_NAME characters
    if kind == "header":
        low = name.lower()
        key = None if low in UNMODELLED_HEADERS or low.startswith(UNMODELLED_PREFIXES) else f"header:{low}"
    else:
        key = f"{kind}:{normalize_name(name)}" if name else kind
    if len(whole) <= MAX_NAME:
        if len(_KEYS) >= KEY_CACHE_SIZE:
            _KEYS.clear()  # an attacker's stream of new names costs a rebuild, never memory
        _KEYS[(kind, whole)] = key
    return key


def examine(profile: ServiceProfile | None, service: str, request: Request, inputs: Sequence[Input],
            client: int | None, caller: str, want_shapes: bool, complete: bool = True,
            sample: Callable[[str, str, str, EndpointStats], bool] | None = None) -> tuple[Observation, list[Anomaly]]:
    """`complete` is False when the decoder stopped at a limit: absent parameters then prove nothing.
    `sample(service, method, template, endpoint)` says whether an ordinary request of a learned
    endpoint is to be learned (ProfileBook.sample); shapes are only worked out for those."""
    tpl = profile.template_of(request.path) if profile is not None else template(request.path)
    obs = Observation(service, request.method, tpl, client, caller, ctype=media_type(request),
                      body_size=len(request.body) if request.body_size < 0 else request.body_size)
    anomalies: list[Anomaly] = []
    ep = profile.endpoints.get((request.method, tpl)) if profile is not None else None
    if want_shapes and ep is not None and sample is not None:
        obs.sampled = want_shapes = sample(service, request.method, tpl, ep)
    obs.caller_known = profile is not None and profile.callers is not None and caller in profile.callers
    if profile is not None:
        _endpoint_checks(profile, ep, obs, request, anomalies)
    headers = profile.headers if profile is not None else None
    eparams = ep.params if ep is not None else None
    seen_keys: set[str] = set()
    n_params = n_headers = 0
    previous = None
    for inp in inputs:
        kind = inp.kind
        # The decoder may hand over a value twice, before and after a speculative layer
        # (base64, entities): the profile models the value as sent, once.
        same = (kind, inp.name, inp.raw)
        if same == previous:
            continue
        previous = same
        if kind in ENDPOINT_KINDS:
            if n_params >= MAX_PARAMS_PER_REQUEST or inp.role != "value":
                continue
            n_params += 1
            key = _param_key(kind, inp.name)
            known = eparams.get(key) if eparams is not None else None
            service_wide = False
        elif kind in SERVICE_KINDS:
            if n_headers >= MAX_HEADERS_PER_REQUEST or inp.role != "value":
                continue
            key = _param_key(kind, inp.name)
            if key is None:
                continue
            n_headers += 1
            known = headers.get(key) if headers is not None else None
            service_wide = True
        else:
            continue
        value = inp.value
        cached = value_features(value)
        feats = cached[0]
        shp = None
        if feats[0] <= SHAPE_MAX_VALUE and (want_shapes if known is None else known.shapes is not None and (
                known.closure()[1] is not None or (want_shapes and known.n < SHAPE_LEARNING_SAMPLES))):
            shp = cached[1]
            if shp is None:
                shp = cached[1] = shape(value, feats[1])
        item = (key, inp, value, feats, shp, encoding_bits(inp.chain) if inp.chain else 0)
        if service_wide:
            obs.headers.append(item)
            if known is not None:
                _value_checks(known, item, anomalies, "profile.header", Severity.MEDIUM, "service", one_rule=True)
        else:
            obs.params.append(item)
            seen_keys.add(key)
            if known is not None:
                _value_checks(known, item, anomalies, "profile.param", Severity.CRITICAL)
            elif ep is not None and ep.param_overflow == 0 and ep.n >= FULL_SAMPLES:
                anomalies.append(Anomaly("profile.param.unknown", Severity.MEDIUM, inp.location, value,
                                         f"parameter {key} never seen on {request.method} {tpl}"))
    if ep is not None and ep.n >= FULL_SAMPLES and complete:
        for key, p in ep.params.items():
            if p.present == ep.n and key not in seen_keys:
                anomalies.append(Anomaly("profile.param.missing", Severity.MEDIUM, key, "",
                                         f"parameter {key} was in all {ep.n} learned requests"))
    obs.anomalous = bool(anomalies)
    return obs, anomalies


def _endpoint_checks(profile: ServiceProfile, ep: EndpointStats | None, obs: Observation, request: Request,
                     anomalies: list[Anomaly]) -> None:
    method, tpl, caller = obs.method, obs.template, obs.caller
    if ep is None:
        methods = profile.methods_of(tpl)
        if methods:
            if method == "HEAD" and "GET" in methods:
                pass  # HEAD is GET without a body
            else:
                sev = Severity.LOW if method == "OPTIONS" else \
                    Severity.MEDIUM if method in SAFE_METHODS else Severity.HIGH
                anomalies.append(Anomaly("profile.endpoint.method", sev, "method", method,
                                         f"{method} never seen on {tpl} (learned: {', '.join(methods)})",
                                         scope="endpoints"))
        elif profile.endpoint_overflow == 0:
            anomalies.append(Anomaly("profile.endpoint.unknown", Severity.HIGH, "path", request.path,
                                     f"{method} {tpl}: endpoint never seen"
                                     + (f" (caller {caller})" if caller else ""), scope="endpoints"))
    else:
        ctypes = ep.ctypes
        if ctypes and obs.ctype not in ctypes and ep.n >= FULL_SAMPLES:
            anomalies.append(Anomaly("profile.endpoint.content-type", Severity.MEDIUM, "header:content-type",
                                     obs.ctype, f"content type {obs.ctype or '(none)'} never seen on {method} {tpl}"))
        if obs.body_size > 2 * ep.bmax + 1024 and ep.n >= FULL_SAMPLES:
            anomalies.append(Anomaly("profile.endpoint.body-size", Severity.MEDIUM, "body", "",
                                     f"body of {obs.body_size} bytes; at most {ep.bmax} learned"))
    if caller:
        callers = profile.callers
        if callers is not None and caller not in callers:
            anomalies.append(Anomaly("profile.callgraph.new-caller", Severity.HIGH, f"source:{caller}", caller,
                                     "", scope="callers"))
        elif ep is None:  # a known caller on an endpoint or method the service never served
            anomalies.append(Anomaly("profile.callgraph.new-edge", Severity.MEDIUM, f"source:{caller}", caller,
                                     "", scope="endpoints"))
        elif ep.callers is not None and caller not in ep.callers:
            anomalies.append(Anomaly("profile.callgraph.new-edge", Severity.MEDIUM, f"source:{caller}", caller,
                                     ""))


def _value_checks(p: ParamStats, item: Observed, anomalies: list[Anomaly], prefix: str, cap: Severity,
                  scope: str = "endpoint", one_rule: bool = False) -> None:
    """A value against its parameter's model. The more evidence behind a model, the stronger a breach.

    Evidence: the parameter's sample count, and for characters Good-Turing's
    view that classes seen only once say how likely an unseen one is.
    `one_rule`: every breach counts as the one rule `prefix` (headers: many
    clients, many browsers; their signs add up to one MEDIUM at most).
    """
    if p.n < WEAK_SAMPLES:
        return
    key, inp, value, (length, mask, vtype, punct), shp, enc = item
    new_enc = enc & ~p.encs & ~NATURAL_ENCODINGS
    if not new_enc and p.values and value in p.values:
        return  # a value learned as it is: everything about it is in the model
    values, shapes = p.closure()
    type_ok = vtype < 0 or (p.type >= 0 and JOIN[p.type][vtype] == p.type)
    if (type_ok and not new_enc and not mask & ~p.mask and p.lmin <= length <= p.lmax and not p.always & ~mask
            and values is None and (shp is None or shapes is None or shp in shapes)
            and (not punct or _within(punct, p.punct))):
        return  # the usual case, decided without building anything
    location = inp.location
    strong = p.n >= STRONG_SAMPLES
    found: list[Anomaly] = []
    if values is not None and value not in values:
        found.append(Anomaly(f"{prefix}.enum", Severity.HIGH, location, value,
                             f"{key}: not one of the {len(values)} values learned"))
    # a model whose characters and type no two clients have confirmed yet has nothing to say
    confirmed = p.mask != 0 or p.lmax == 0
    if confirmed and not accepts(p.type, vtype):
        found.append(Anomaly(f"{prefix}.type", Severity.HIGH, location, value,
                             f"{key}: {TYPE_NAMES[vtype]} where {TYPE_NAMES[p.type]} was learned"))
    new = mask & ~p.mask
    if new and confirmed:
        settled = strong and (p.mask & ~p.mask2).bit_count() * SETTLED_RATIO <= p.n
        sev = Severity.HIGH if new & SYNTAX_CLASSES or settled else Severity.MEDIUM
        found.append(Anomaly(f"{prefix}.charset", sev, location, value,
                             f"{key}: characters never seen here: {' '.join(class_names(new))}"))
    if new_enc:
        found.append(Anomaly(f"{prefix}.encoding", Severity.HIGH if strong else Severity.MEDIUM, location, value,
                             f"{key}: encoded in a way never seen here: {' '.join(encoding_names(new_enc))}"))
    if punct and p.punct is not None:
        most = p.punct
        over = [(i, c, most[i]) for i, c in punct if 0 < most[i] < c]
        if over:
            # a separator every value had exactly once (the @ of an e-mail) is a structure; others are counts
            invariant = strong and any(m == 1 and p.always & PUNCT_BIT[PUNCTUATION[i]] for i, _, m in over)
            what = ", ".join(f"{c} x {PUNCTUATION[i]} (at most {m})" for i, c, m in over)
            found.append(Anomaly(f"{prefix}.repeat", Severity.HIGH if invariant else Severity.MEDIUM,
                                 location, value, f"{key}: {what}"))
    lacking = p.always & ~mask
    if lacking and length:
        found.append(Anomaly(f"{prefix}.lacking", Severity.MEDIUM, location, value,
                             f"{key}: lacks what every value had: {' '.join(class_names(lacking))}"))
    if shp is not None and shapes is not None:
        if shp not in shapes:
            found.append(Anomaly(f"{prefix}.shape", Severity.HIGH if strong else Severity.MEDIUM, location, value,
                                 f"{key}: shape {shp} never seen ({len(shapes)} learned)"))
    if length > p.lmax or length < p.lmin:
        found.append(Anomaly(f"{prefix}.length", _length_severity(p, length, strong), location, value,
                             f"{key}: {length} characters; {p.lmin}..{p.lmax} learned"))
    weak = p.n < FULL_SAMPLES
    for a in found:
        if one_rule:
            a.detail = f"{a.rule.rsplit('.', 1)[1]}: {a.detail}"
            a.rule = prefix
        if weak:
            a.severity = WEAKER[a.severity]
        if a.severity > cap:
            a.severity = cap
        a.scope = scope
        anomalies.append(a)


def _within(punct: tuple, most: bytearray | None) -> bool:
    if most is None:
        return True
    for i, c in punct:
        if c > most[i] > 0:
            return False
    return True


def _length_severity(p: ParamStats, length: int, strong: bool) -> Severity:
    if p.lmin == p.lmax and strong:
        return Severity.HIGH  # a fixed-length value (a card number, a code) that is not
    if length > p.lmax:
        if length > 2 * p.lmax + 16:
            return Severity.HIGH
        if length > p.lmax + max(4, p.lmax // 4):
            return Severity.MEDIUM
        return Severity.LOW
    return Severity.MEDIUM if length == 0 else Severity.LOW
