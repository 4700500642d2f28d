"""Signals of high-intensity scripted activity, from the actor's tracked state.

- rate: the actor's request rate far above the endpoint's baseline (and above
  an absolute floor, so a quiet endpoint's baseline does not flag browsing);
- timing: machine-regular intervals between requests (a script's sleep loop);
- probes: many distinct paths within a short window (directory brute force).

Each is a LOW finding of class `scanner`: it adds a little to the request's
score and to the actor's risk, so two signals together with an elevated risk
deny, and a denied request adds real risk.

The rate baseline is pluggable (RateBaseline): the behaviour profile will
supply an endpoint's learned per-client rate; until then a configured rate.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from extauthz.config import ScriptedSettings
from extauthz.finding import Finding, Severity, Source
from extauthz.store.base import ActorView


class RateBaseline(Protocol):
    def expected_rate(self, service: str, method: str, path: str) -> float | None:
        """Requests per second one client normally sends to this endpoint; None while unknown."""
        ...


@dataclass(frozen=True, slots=True)
class StaticBaseline:
    """The configured `risk.scripted.baseline_rate` for every endpoint."""

    rate: float

    def expected_rate(self, service: str, method: str, path: str) -> float | None:
        return self.rate


# A learned rate resting on fewer active minutes than this is not trusted yet.
MIN_BASELINE_MINUTES = 10


class LearnedBaseline:
    """The behaviour profile's learned per-client rate of an endpoint (extauthz/profile).

    Looked up through the runtime at call time (`runtime.profiles.rate_baseline(service,
    method, path)`, rates per minute), because the profile is built after this stage and
    may be absent; the rate of a busy but normal client (90th percentile) is the baseline.
    Only asked when an actor is already fast (above `risk.scripted.min_rate`).
    """

    def __init__(self, runtime: object) -> None:
        self.runtime = runtime

    def expected_rate(self, service: str, method: str, path: str) -> float | None:
        lookup = getattr(getattr(self.runtime, "profiles", None), "rate_baseline", None)
        if lookup is None:
            return None
        b = lookup(service, method, path)
        if b is None or getattr(b, "minutes", 0) < MIN_BASELINE_MINUTES:
            return None
        rpm = max(getattr(b, "client_p90_rpm", 0.0), getattr(b, "client_median_rpm", 0.0))
        return rpm / 60 if rpm > 0 else None


class ScriptedSignals:
    def __init__(self, settings: ScriptedSettings, baseline: RateBaseline) -> None:
        self.s = settings
        self.baseline = baseline
        self.fallback_rate = settings.baseline_rate

    def findings(self, view: ActorView, service: str, method: str, path: str, location: str) -> list[Finding]:
        s = self.s
        out: list[Finding] = []
        if view.rate >= s.min_rate:
            base = self.baseline.expected_rate(service, method, path) or self.fallback_rate
            if view.rate >= s.rate_factor * base:
                out.append(Finding("scanner", "risk.scripted.rate", Severity.LOW, location, source=Source.RISK,
                                   detail=f"{view.rate:.1f} requests/s, {view.rate / base:.0f}x the endpoint's "
                                          f"baseline of {base:.2g}/s"))
        if (view.samples >= s.regular_samples and 0 < view.interval_mean <= s.regular_max_interval
                and view.interval_dev <= s.regular_cv * view.interval_mean):
            out.append(Finding("scanner", "risk.scripted.timing", Severity.LOW, location, source=Source.RISK,
                               detail=f"machine-regular timing: every {view.interval_mean:.3g}s "
                                      f"± {100 * view.interval_dev / view.interval_mean:.1f}% over "
                                      f"{view.samples} requests"))
        if view.distinct_paths >= s.distinct_paths:
            out.append(Finding("scanner", "risk.scripted.paths", Severity.LOW, location, source=Source.RISK,
                               detail=f"{view.distinct_paths} distinct paths within {s.path_window:.0f}s"))
        return out
