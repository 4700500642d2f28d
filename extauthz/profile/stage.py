"""The profile stage: learned behaviour in, anomaly Findings out.

inspect: compares the request with its service's live profile (examine) and
reports the anomalies the policy enforces as Findings (source profile, class
`other`). What is enforced (ProfilePolicy.mode):
  learn    nothing; the profile only records.
  auto     an endpoint's findings once it has min_samples requests and its model
           has not changed for stable_samples; unknown endpoints and methods once
           the service's set of endpoints is that settled; new callers likewise.
  enforce  everything learned with min_samples, settled or not; learning stops.
A service without a learned profile yields no findings.

observe: after the verdict, a clean request trains the profile (ProfileBook.learn):
no detector or decoder finding above INFO, and no profile finding at HIGH
except "unknown endpoint/method", whose requests still train through the
two-client gate (a new endpoint is learned only once two clients used it
cleanly), so a deployment's new endpoint is learned while one scanner's
probes are not.
"""
from __future__ import annotations

from extauthz.config import Config, ProfilePolicy
from extauthz.finding import Finding, Severity, Source, excerpt
from extauthz.profile.book import ProfileBook, client_of
from extauthz.profile.examine import Anomaly, Observation, caller_of, examine
from extauthz.profile.model import ServiceProfile
from extauthz.verdict import Action, Verdict

FINDING_CLASS = "other"  # anomalies are not an attack class of their own; the rule says what
GATED_RULES = frozenset({"profile.endpoint.unknown", "profile.endpoint.method"})


class ProfileStage:
    name = "profile"

    def __init__(self, config: Config, book: ProfileBook) -> None:
        self.book = book
        # mTLS principals and hosts that name a configured service: callers are shown by that name
        self.aliases = {alias: name for name, pol in config.services.items() for alias in pol.aliases}
        self.trusted_hops = config.risk.xff_trusted_hops  # the client address, as actor risk reads it
        book.follow(config, self.aliases)

    @staticmethod
    def _service(ctx) -> str:
        return ctx.policy.name if ctx.policy.name != "defaults" else ctx.request.service

    def inspect(self, ctx) -> None:
        pol: ProfilePolicy = ctx.policy.policy.profile
        if pol.mode == "off":
            return
        service = self._service(ctx)
        live = self.book.live(service)
        learning = self.book.learning and pol.mode in ("learn", "auto")
        if live is None and not learning:
            return
        request = ctx.request
        complete = not any(f.rule.startswith("limit.") for f in ctx.findings)
        caller = caller_of(request, self.aliases)
        obs, anomalies = examine(live, service, request, ctx.inputs, client_of(request, caller, self.trusted_hops), caller,
                                 learning, complete, self.book.sample)
        if learning:
            ctx.scratch["profile"] = obs
        if not anomalies or pol.mode == "learn" or live is None:
            return
        ep = live.endpoints.get((obs.method, obs.template))
        confirmed = ep is None and self.book.confirmed(service, obs.method, obs.template)
        for a in anomalies:
            if confirmed and a.rule in GATED_RULES:
                obs.gated = True  # still learned through the gate, but no longer flagged
                continue
            if self._enforced(a.scope, live, ep, pol):
                ctx.findings.append(self._finding(a, obs, ctx.request, live))
                if a.rule in GATED_RULES:
                    obs.gated = True

    @staticmethod
    def _enforced(scope: str, live: ServiceProfile, ep, pol: ProfilePolicy) -> bool:
        if scope == "endpoint":
            if ep is None:
                return False
            n, since = ep.n, ep.n - ep.changed
        elif scope == "callers":
            n, since = live.n, live.n - live.new_caller_at
        else:  # endpoints, service
            n, since = live.n, live.n - live.new_endpoint_at
        return n >= pol.min_samples and (pol.mode == "enforce" or since >= pol.stable_samples)

    @staticmethod
    def _finding(a: Anomaly, obs: Observation, request, live: ServiceProfile) -> Finding:
        detail = a.detail
        if a.rule.startswith("profile.callgraph."):
            src = request.source.principal or request.source.service or obs.caller
            dst = request.destination.principal or live.service
            what = "new caller" if a.rule.endswith("new-caller") else "caller never seen on this endpoint"
            detail = f"{what}: {src} -> {dst} (service {live.service}): {obs.method} {obs.template}"
            text = f"{src} -> {dst} {obs.method} {obs.template}"
        else:
            text = excerpt(a.value, location=a.location) if a.value else ""
        return Finding(FINDING_CLASS, a.rule, a.severity, a.location, text, (), Source.PROFILE, detail)

    def observe(self, ctx, verdict: Verdict) -> None:
        obs: Observation | None = ctx.scratch.get("profile")
        if obs is None or not trainable(verdict):
            return
        self.book.learn(obs, ctx.now)

    def close(self) -> None:
        """Engine.close (server drain): write what was learned; the runtime closes the book itself."""
        if self.book.learning:
            self.book.flush()


def trainable(verdict: Verdict) -> bool:
    """May this request teach the profile? (see the module docstring)"""
    if verdict.action not in (Action.ALLOW, Action.DENY, Action.MONITOR):
        return False
    gated_only = 0
    for f in verdict.findings:
        if f.source is Source.PROFILE:
            if f.severity >= Severity.HIGH:
                if f.rule not in GATED_RULES:
                    return False
                gated_only += 1
        elif f.severity > Severity.INFO:
            return False
    if verdict.action is Action.ALLOW:
        return True
    # denied or monitored: only when the gated findings alone made it so
    rest = sum(int(f.severity) for f in verdict.findings if f.rule not in GATED_RULES)
    return gated_only > 0 and rest < verdict.threshold


def profile_stage(config: Config, runtime) -> ProfileStage | None:
    """STAGE_FACTORIES entry: profiles live in the Runtime (they outlive Engines); none there, no stage."""
    book = getattr(runtime, "profiles", None)
    return ProfileStage(config, book) if book is not None else None
