"""Scripted-activity signals, the learned rate baseline, and runtimes with named parts."""
from __future__ import annotations

from dataclasses import dataclass

from extauthz.config import ScriptedSettings, parse_config
from extauthz.risk.signals import LearnedBaseline, ScriptedSignals, StaticBaseline
from extauthz.store.base import ActorView
from extauthz.verdict import Action

from risk_helpers import ATTACK, CLEAN, engine, req


def rules(view: ActorView, baseline=None) -> set[str]:
    sig = ScriptedSignals(ScriptedSettings(), baseline or StaticBaseline(1.0))
    return {f.rule for f in sig.findings(view, "shop", "GET", "/x", "actor:1")}


def test_each_signal_needs_its_evidence():
    assert rules(ActorView(rate=4.9)) == set()  # under the absolute floor
    assert rules(ActorView(rate=12)) == {"risk.scripted.rate"}
    assert rules(ActorView(samples=25, interval_mean=1.0, interval_dev=0.05)) == {"risk.scripted.timing"}
    assert rules(ActorView(samples=25, interval_mean=1.0, interval_dev=0.3)) == set()  # human jitter
    assert rules(ActorView(samples=5, interval_mean=1.0, interval_dev=0.0)) == set()  # too few
    assert rules(ActorView(samples=25, interval_mean=60.0, interval_dev=0.0)) == set()  # a slow cron job
    assert rules(ActorView(distinct_paths=50)) == {"risk.scripted.paths"}


@dataclass
class Rate:
    client_median_rpm: float
    client_p90_rpm: float
    total_rpm: float
    minutes: int


class Book:
    def __init__(self, rate):
        self.rate = rate
        self.asked = []

    def rate_baseline(self, service, method, path):
        self.asked.append((service, method, path))
        return self.rate


class Runtime:
    profiles = None


def test_learned_baseline_from_the_profile_replaces_the_configured_one():
    rt = Runtime()
    learned = LearnedBaseline(rt)
    assert learned.expected_rate("shop", "GET", "/x") is None  # no profile yet
    rt.profiles = Book(Rate(60, 120, 6000, 30))  # a busy client: 2/s
    assert learned.expected_rate("shop", "GET", "/x") == 2.0
    assert rules(ActorView(rate=12), learned) == set()  # 6x a busy client: not far above
    assert rules(ActorView(rate=25), learned) == {"risk.scripted.rate"}
    assert rt.profiles.asked[-1] == ("shop", "GET", "/x")
    rt.profiles = Book(Rate(60, 120, 6000, 3))  # too little history: fall back
    assert rules(ActorView(rate=12), learned) == {"risk.scripted.rate"}


class PartsRuntime:
    """A runtime that builds named parts on demand (the profile stage's design)."""

    def __init__(self, config):
        self.config = config
        self.learning = True
        self._parts = {}

    def part(self, name, build):
        if name not in self._parts:
            self._parts[name] = build(self)
        return self._parts[name]

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        return self.__dict__.get("_parts", {}).get(name)


def test_a_runtime_with_named_parts_gets_the_state_store_and_admin_views():
    cfg = parse_config("")
    rt = PartsRuntime(cfg)
    eng, clock, _ = engine(runtime=rt)
    assert rt.state is not None and rt.actors is not None and rt.lists is not None
    for _ in range(6):
        eng.check(req(ATTACK))
    again, _, _ = engine(runtime=rt, clock=clock)  # a reload: the same parts
    assert again.check(req(CLEAN)).action is Action.ACTOR_BLOCKED
    ro = PartsRuntime(cfg)
    ro.learning = False
    eng_ro, _, _ = engine(runtime=ro)
    assert ro.state is None and eng_ro.check(req(CLEAN)).action is Action.ALLOW
