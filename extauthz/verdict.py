"""Scoring and policy: Findings + a service policy → Verdict.

Scoring never re-inspects the request. Each rule counts once per request (its
highest severity), so one weak rule firing in ten parameters stays weak, while
different rules agreeing add up. Exclusions drop findings before scoring.
"""
from __future__ import annotations

import enum
import itertools
import os
from dataclasses import dataclass, field
from typing import Iterable, Sequence

from extauthz.config import Exclusion, ServicePolicy
from extauthz.finding import Finding
from extauthz.request import Hop, Request


class Decision(str, enum.Enum):
    ALLOW = "allow"
    DENY = "deny"


class Action(str, enum.Enum):
    """Why the decision is what it is; goes into logs, metadata and metrics."""

    ALLOW = "allow"  # inspected, under the threshold
    DENY = "deny"  # inspected, at or over the threshold
    MONITOR = "monitor"  # would have been denied; the policy only records
    OFF = "off"  # the policy inspects nothing
    FAILURE = "failure"  # the engine failed; the policy's failure decision applied
    ACTOR_BLOCKED = "actor-blocked"  # the actor is blocked for a while (risk)
    LISTED_ALLOW = "listed-allow"  # on an allow list
    LISTED_DENY = "listed-deny"  # on a deny list


_EVENT_PREFIX = os.urandom(5).hex()
_EVENT_COUNTER = itertools.count(1)


def new_event_id() -> str:
    """Unique across processes and replicas (random prefix), cheap (a counter)."""
    return f"{_EVENT_PREFIX}{next(_EVENT_COUNTER):08x}"


def reset_event_ids_after_fork() -> None:
    """Worker processes forked from one parent must not share event id prefixes."""
    global _EVENT_PREFIX, _EVENT_COUNTER
    _EVENT_PREFIX = os.urandom(5).hex()
    _EVENT_COUNTER = itertools.count(1)


@dataclass(frozen=True, slots=True)
class Verdict:
    decision: Decision
    action: Action
    score: int
    threshold: int
    findings: tuple[Finding, ...]
    event_id: str
    service: str  # resolved service name of the request
    policy: str  # name of the policy applied ("defaults" when unlisted)
    mode: str
    hop: Hop
    status: int = 403  # HTTP status when denied
    reason: str = ""  # one line for humans

    @property
    def denied(self) -> bool:
        return self.decision is Decision.DENY

    @property
    def classes(self) -> list[str]:
        return sorted({f.cls for f in self.findings})

    @property
    def rules(self) -> list[str]:
        return sorted({f.rule for f in self.findings})

    def as_dict(self) -> dict:
        return {
            "decision": self.decision.value,
            "action": self.action.value,
            "score": self.score,
            "threshold": self.threshold,
            "event_id": self.event_id,
            "service": self.service,
            "policy": self.policy,
            "mode": self.mode,
            "hop": self.hop.value,
            "reason": self.reason,
            "findings": [f.as_dict() for f in self.findings],
        }


def score(findings: Iterable[Finding]) -> int:
    best: dict[str, int] = {}
    for f in findings:
        points = int(f.severity)
        if points > best.get(f.rule, -1):
            best[f.rule] = points
    return sum(best.values())


# ---------------------------------------------------------------- exclusions


def _glob_segments(pattern: str, path: str) -> bool:
    """Segment glob: `*` is exactly one segment, `**` (last) is the rest. Linear time."""
    pat = pattern.strip("/").split("/") if pattern.strip("/") else []
    segs = path.split("?", 1)[0].strip("/").split("/") if path.strip("/") else []
    for i, p in enumerate(pat):
        if p == "**":
            return True
        if i >= len(segs):
            return False
        if p != "*" and p != segs[i]:
            return False
    return len(segs) == len(pat)


def _prefix_match(pattern: str, value: str) -> bool:
    if pattern.endswith("*"):
        return value.startswith(pattern[:-1])
    return value == pattern


@dataclass(frozen=True, slots=True)
class CompiledExclusion:
    rules: tuple[str, ...]
    services: tuple[str, ...]
    routes: tuple[str, ...]
    parameters: tuple[str, ...]

    @classmethod
    def of(cls, e: Exclusion) -> "CompiledExclusion":
        return cls(e.rules, e.services, e.routes, e.parameters)

    def applies(self, finding: Finding, service: str, path: str) -> bool:
        if self.services and service not in self.services:
            return False
        if self.rules and not any(
            r == finding.cls or _prefix_match(r, finding.rule) for r in self.rules
        ):
            return False
        if self.routes and not any(_glob_segments(r, path) for r in self.routes):
            return False
        if self.parameters and not any(_prefix_match(p, finding.location) for p in self.parameters):
            return False
        return True


@dataclass(frozen=True)
class PolicyDecider:
    """A ServicePolicy compiled for deciding."""

    name: str
    policy: ServicePolicy
    exclusions: tuple[CompiledExclusion, ...] = field(default=())

    @classmethod
    def of(cls, name: str, policy: ServicePolicy) -> "PolicyDecider":
        return cls(name, policy, tuple(CompiledExclusion.of(e) for e in policy.exclusions))

    def keep(self, findings: Sequence[Finding], request: Request) -> list[Finding]:
        if not self.exclusions:
            return list(findings)
        return [f for f in findings
                if not any(x.applies(f, request.service, request.path) for x in self.exclusions)]

    def mode_for(self, request: Request) -> str:
        return self.policy.hop_modes.get(request.hop.value, self.policy.mode) if self.policy.hop_modes \
            else self.policy.mode

    def decide(self, request: Request, findings: Sequence[Finding]) -> Verdict:
        kept = self.keep(findings, request)
        total = score(kept)
        p = self.policy
        mode = self.mode_for(request)
        over = total >= p.threshold
        if over and mode == "block":
            decision, action = Decision.DENY, Action.DENY
            reason = f"score {total} reached threshold {p.threshold}"
        elif over:
            decision, action = Decision.ALLOW, Action.MONITOR
            reason = f"score {total} reached threshold {p.threshold} (monitor mode: allowed)"
        else:
            decision, action = Decision.ALLOW, Action.ALLOW
            reason = ""
        return Verdict(decision, action, total, p.threshold, tuple(kept), new_event_id(),
                       request.service, self.name, mode, request.hop, p.deny_status, reason)

    def fixed(self, request: Request, decision: Decision, action: Action, reason: str,
              findings: Sequence[Finding] = ()) -> Verdict:
        """A verdict that does not come from scoring (off, failure, lists, blocked actor)."""
        return Verdict(decision, action, score(findings), self.policy.threshold, tuple(findings),
                       new_event_id(), request.service, self.name, self.mode_for(request), request.hop,
                       self.policy.deny_status, reason)

