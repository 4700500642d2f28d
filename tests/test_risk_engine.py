"""Actor risk through the whole engine, with a controllable clock."""
from __future__ import annotations

import json

from extauthz.envoy_api import deny_body
from extauthz.finding import Source
from extauthz.request import Hop
from extauthz.verdict import Action, Decision

from risk_helpers import ATTACK, CLEAN, engine, req


def test_repeated_attacks_block_the_actor_then_the_block_expires():
    eng, clock, _ = engine()
    actions = []
    for _ in range(20):
        actions.append(eng.check(req(ATTACK)).action)
        clock.advance(0.5)
    first_block = actions.index(Action.ACTOR_BLOCKED)
    assert first_block < 5, actions  # blocked within the first 5 attacks
    assert set(actions[first_block:]) == {Action.ACTOR_BLOCKED}
    v = eng.check(req(CLEAN))  # a clean-looking request: denied as a blocked actor
    assert v.decision is Decision.DENY and v.action is Action.ACTOR_BLOCKED
    body = json.loads(deny_body(v))
    assert body["error"] == "blocked actor" and body["event_id"] == v.event_id
    f = next(f for f in v.findings if f.rule == "risk.actor-blocked")
    assert f.source is Source.RISK and f.cls == "lfi" and "offence 1" in f.detail
    clock.advance(585)  # the block began at attack number first_block, at most 2.5 s in
    assert eng.check(req(CLEAN)).action is Action.ACTOR_BLOCKED
    clock.advance(10)  # the 600 s block has passed
    assert eng.check(req(CLEAN)).action is Action.ALLOW


def test_other_actors_are_not_affected():
    eng, clock, _ = engine()
    for _ in range(6):
        eng.check(req(ATTACK))
    assert eng.check(req(CLEAN)).action is Action.ACTOR_BLOCKED
    assert eng.check(req(CLEAN, ip="198.51.100.10")).action is Action.ALLOW


def test_repeat_offenders_are_blocked_longer():
    eng, clock, _ = engine("risk: {block_seconds: 100, repeat_factor: 3}")
    for _ in range(6):
        eng.check(req(ATTACK))
    clock.advance(101)
    assert eng.check(req(CLEAN)).action is Action.ALLOW
    for _ in range(6):
        eng.check(req(ATTACK))
    v = eng.check(req(CLEAN))
    assert v.action is Action.ACTOR_BLOCKED and "offence 2" in v.reason
    clock.advance(250)
    assert eng.check(req(CLEAN)).action is Action.ACTOR_BLOCKED  # second block: 300 s
    clock.advance(60)
    assert eng.check(req(CLEAN)).action is Action.ALLOW


def test_risk_decays_so_sparse_attacks_never_block():
    eng, clock, _ = engine()
    for _ in range(30):
        assert eng.check(req(ATTACK)).action is Action.DENY
        clock.advance(600)  # two half-lives between attacks


def test_elevated_risk_shows_as_a_finding_on_clean_requests():
    eng, clock, _ = engine()
    eng.check(req(ATTACK))
    eng.check(req(ATTACK))
    v = eng.check(req(CLEAN))
    assert v.action is Action.ALLOW
    f = next(f for f in v.findings if f.rule == "risk.elevated")
    assert f.source is Source.RISK and f.severity.name == "LOW" and f.cls == "lfi"


def test_allowed_findings_alone_never_block():
    """Sub-threshold findings raise risk only up to a ceiling under the block threshold."""
    eng, clock, rt = engine("defaults: {threshold: 50}")  # the attack now scores under the threshold
    for _ in range(200):
        assert eng.check(req(ATTACK)).action is Action.ALLOW
        clock.advance(1)
    rec = rt.state.actors(clock(), eng.stages[0].tracking)[0]
    assert 20 < rec.risk < 30 and not rec.blocked_until


def test_monitor_mode_records_a_blocked_actor_but_allows():
    eng, clock, _ = engine("defaults: {mode: monitor}")
    for _ in range(6):
        assert eng.check(req(ATTACK)).action is Action.MONITOR
    v = eng.check(req(CLEAN))
    assert v.decision is Decision.ALLOW and v.action is Action.MONITOR
    assert any(f.rule == "risk.actor-blocked" for f in v.findings)


def test_sidecar_hops_are_not_tracked_by_default():
    eng, clock, _ = engine()
    for _ in range(10):
        eng.check(req(ATTACK, hop=Hop.SIDECAR_INBOUND, principal="spiffe://cluster.local/ns/demo/sa/frontend"))
    v = eng.check(req(CLEAN, hop=Hop.SIDECAR_INBOUND, principal="spiffe://cluster.local/ns/demo/sa/frontend"))
    assert v.action is Action.ALLOW


def test_risk_disabled_or_no_runtime_means_no_blocking():
    from extauthz.config import parse_config
    from extauthz.engine import Engine
    eng, clock, _ = engine("risk: {enabled: false}")
    assert eng.stages[0].name == "risk" and eng.stages[0].store is None  # lists only (admin entries)
    plain = Engine(parse_config(""))
    for e in (eng, plain):
        for _ in range(10):
            e.check(req(ATTACK))
        assert e.check(req(CLEAN)).action is Action.ALLOW


def test_reload_keeps_actor_state_in_the_runtime():
    eng, clock, rt = engine()
    for _ in range(6):
        eng.check(req(ATTACK))
    from extauthz.config import parse_config
    from extauthz.engine import Engine
    reloaded = Engine(parse_config("defaults: {threshold: 9}"), clock=clock, runtime=rt)
    assert reloaded.check(req(CLEAN)).action is Action.ACTOR_BLOCKED


def test_scripted_activity_flood_of_distinct_paths_gets_denied_then_blocked():
    """A fast, regular brute force of distinct paths: signals, then a deny, then a block."""
    eng, clock, _ = engine()
    actions = []
    for i in range(400):
        actions.append(eng.check(req(f"/admin/backup{i}.zip", ua="python-requests/2.31")).action)
        clock.advance(0.05)  # 20 requests/s, machine-regular
    assert Action.ALLOW in actions[:10]
    assert Action.ACTOR_BLOCKED in actions, actions[-5:]
    v = eng.check(req("/", ua="python-requests/2.31"))
    assert v.action is Action.ACTOR_BLOCKED


def test_browsing_rate_raises_no_scripted_signal():
    import random
    rnd = random.Random(7)
    eng, clock, _ = engine()
    pages = ["/", "/catalog", "/catalog/shoes", "/cart", "/product/12", "/product/13", "/search?q=boots"]
    for _ in range(300):
        v = eng.check(req(rnd.choice(pages)))
        assert v.action is Action.ALLOW and not v.findings, v.findings
        clock.advance(rnd.expovariate(1 / 4))
