"""The risk stage: first in the engine, so a listed or blocked actor costs no detection.

inspect: identify the actor; apply allow/deny lists; count the request in the
store (one round trip with Redis) and learn the actor's risk and block; settle
a blocked actor's request (block mode) or report it (monitor mode: the finding
makes the verdict a monitor hit); otherwise add findings for elevated risk and
scripted activity. observe: add the verdict's risk points to the actor.
"""
from __future__ import annotations

import time
from typing import TYPE_CHECKING

from extauthz.config import Config
from extauthz.finding import Finding, Severity, Source
from extauthz.risk.identity import ActorIdentifier
from extauthz.risk.lists import ActorLists, ListHit
from extauthz.risk.points import RiskPoints
from extauthz.risk.signals import RateBaseline, ScriptedSignals, StaticBaseline
from extauthz.store.base import ActorView, BlockRule, StateStore, Tracking
from extauthz.verdict import Action, Decision, Verdict

if TYPE_CHECKING:
    from extauthz.engine import CheckContext
    from extauthz.risk.runtime_lists import RuntimeLists

SCRATCH_KEY = "risk"


def tracking_of(config: Config) -> Tracking:
    r = config.risk
    return Tracking(r.half_life, r.scripted.rate_half_life, r.scripted.path_window)


def block_rule_of(config: Config) -> BlockRule:
    r = config.risk
    return BlockRule(r.block_threshold, r.block_seconds, r.repeat_factor, r.max_block_seconds, r.offence_memory)


def _until(t: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


class RiskStage:
    name = "risk"

    def __init__(self, config: Config, store: StateStore | None, baseline: RateBaseline | None = None,
                 runtime_lists: "RuntimeLists | None" = None) -> None:
        r = config.risk
        self.lists = ActorLists(config.lists, config.services)
        self.runtime_lists = runtime_lists  # entries added through the admin API
        self.identifier = ActorIdentifier(r)
        self.store = store if r.enabled else None
        self.hops = frozenset(r.hops)
        self.tracking = tracking_of(config)
        self.rule = block_rule_of(config)
        self.points = RiskPoints(r)
        self.signals = ScriptedSignals(r.scripted, baseline or StaticBaseline(r.scripted.baseline_rate))
        self.low_at = r.elevated * r.block_threshold
        self.medium_at = max(self.low_at, 0.8 * r.block_threshold)

    # ------------------------------------------------------------ inspect

    def inspect(self, ctx: CheckContext) -> None:
        request = ctx.request
        tracked = self.store is not None and request.hop.value in self.hops
        dynamic = self.runtime_lists is not None and not self.runtime_lists.empty
        if self.lists.empty and not tracked and not dynamic:
            return
        actor = self.identifier.identify(request)
        hit = self.lists.lookup(ctx.policy.name, actor.label) if not self.lists.empty else None
        if hit is None and dynamic:
            hit = self.runtime_lists.lookup(actor.label, actor.id, ctx.now)  # type: ignore[union-attr]
        if hit is not None:
            self._listed(ctx, hit)
            return
        if not tracked or not actor.id:
            return
        view = self.store.touch(actor.id, ctx.now, request.path, self.tracking)  # type: ignore[union-attr]
        ctx.scratch[SCRATCH_KEY] = (actor, view)
        location = f"actor:{actor.id}"
        if view.blocked(ctx.now):
            self._blocked(ctx, view, location)
            return
        if view.risk >= self.low_at:
            sev = Severity.MEDIUM if view.risk >= self.medium_at else Severity.LOW
            ctx.findings.append(Finding(view.cause or "other", "risk.elevated", sev, location, source=Source.RISK,
                                        detail=f"actor risk {view.risk:.1f} of {self.rule.threshold:g} "
                                               f"(block threshold)"))
        ctx.findings.extend(self.signals.findings(view, request.service, request.method, request.path, location))

    def _listed(self, ctx: CheckContext, hit: ListHit) -> None:
        if hit.verdict == "allow":
            ctx.findings.append(Finding("other", "list.allow", Severity.INFO, "actor", source=Source.POLICY,
                                        detail=hit.reason))
            ctx.settled = (Decision.ALLOW, Action.LISTED_ALLOW, hit.reason)
            return
        ctx.findings.append(Finding("other", "list.deny", Severity.CRITICAL, "actor", source=Source.POLICY,
                                    detail=hit.reason))
        if ctx.policy.mode_for(ctx.request) == "block":
            ctx.settled = (Decision.DENY, Action.LISTED_DENY, hit.reason)
        # monitor mode: the finding makes the verdict a monitor hit; detection still runs

    def _blocked(self, ctx: CheckContext, view: ActorView, location: str) -> None:
        reason = (f"actor blocked until {_until(view.blocked_until)} (risk {view.risk:.1f}, "
                  f"offence {view.offences}, cause {view.cause or 'risk'})")
        cls = view.cause if view.cause and view.cause != "manual" else "other"  # manual: the admin API
        ctx.findings.append(Finding(cls, "risk.actor-blocked", Severity.CRITICAL, location,
                                    source=Source.RISK, detail=reason))
        if ctx.policy.mode_for(ctx.request) == "block":
            ctx.settled = (Decision.DENY, Action.ACTOR_BLOCKED, reason)

    # ------------------------------------------------------------ observe

    def observe(self, ctx: CheckContext, verdict: Verdict) -> None:
        seen = ctx.scratch.get(SCRATCH_KEY)
        if seen is None or self.store is None:
            return
        actor, view = seen
        p = self.points.of(verdict, view.risk)
        if p.points > 0:
            self.store.add_risk(actor.id, ctx.now, p.points, p.cause, actor.label, self.tracking, self.rule)


def risk_stage(config: Config, runtime: object | None) -> "RiskStage | None":
    """The engine's factory (STAGE_FACTORIES): lists always; actor risk with a runtime's state store.

    Works with a runtime that carries its parts as attributes (`state`, `lists`,
    `rate_baseline`, `profiles`), and with one that builds named parts on demand
    (`runtime.part(name, build)`), creating the state store and the admin views there.
    """
    from extauthz.risk.signals import LearnedBaseline
    state = getattr(runtime, "state", None)
    lists = getattr(runtime, "lists", None)
    part = getattr(runtime, "part", None)
    if state is None and callable(part) and getattr(runtime, "learning", True):
        from extauthz.runtime import attach_risk_parts
        state, lists = attach_risk_parts(runtime, config)
    baseline = getattr(runtime, "rate_baseline", None) or (LearnedBaseline(runtime) if runtime is not None else None)
    stage = RiskStage(config, state, baseline, lists)
    return stage if (stage.store is not None or not stage.lists.empty or stage.runtime_lists) else None
