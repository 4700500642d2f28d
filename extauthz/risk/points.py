"""How much risk one verdict adds.

A denied request (or one monitor mode would have denied) adds its score, each
rule once at its highest severity, weighted by class and capped per request;
an allowed request with findings adds a share of that, and only up to a ceiling
below the block threshold: suspicion alone raises an actor's risk (and so the
weight of its next borderline request) but only requests judged as attacks
block it. Findings about the actor's own risk or list membership add nothing,
or risk would feed on itself.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

from extauthz.config import RiskSettings
from extauthz.finding import Finding, Source
from extauthz.verdict import Action, Verdict

# Rules the risk stage reports about the actor itself: never counted again.
SELF_RULES = frozenset({"risk.actor-blocked", "risk.elevated"})

COUNTED_ACTIONS = frozenset({Action.DENY, Action.MONITOR, Action.ALLOW})


@dataclass(frozen=True, slots=True)
class Points:
    points: float
    cause: str  # the class that contributed most


def weighted_points(findings: tuple[Finding, ...] | list[Finding], weights: Mapping[str, float]) -> Points:
    best: dict[str, tuple[int, str]] = {}
    for f in findings:
        if f.source is Source.POLICY or f.rule in SELF_RULES:
            continue
        pts = int(f.severity)
        if pts > best.get(f.rule, (-1, ""))[0]:
            best[f.rule] = (pts, f.cls)
    total = 0.0
    by_class: dict[str, float] = {}
    for pts, cls in best.values():
        w = pts * weights.get(cls, 1.0)
        total += w
        by_class[cls] = by_class.get(cls, 0.0) + w
    cause = max(by_class, key=by_class.__getitem__) if by_class else ""
    return Points(total, cause)


class RiskPoints:
    def __init__(self, settings: RiskSettings) -> None:
        self.weights = dict(settings.class_weights)
        self.max_points = settings.max_points
        self.allowed_factor = settings.allowed_factor
        self.ceiling = settings.allowed_ceiling * settings.block_threshold

    def of(self, verdict: Verdict, current_risk: float) -> Points:
        if verdict.action not in COUNTED_ACTIONS or not verdict.findings:
            return Points(0.0, "")
        p = weighted_points(verdict.findings, self.weights)
        pts = min(p.points, self.max_points)
        if verdict.action is Action.ALLOW:
            pts = min(pts * self.allowed_factor, max(0.0, self.ceiling - current_risk))
        return Points(pts, p.cause)
