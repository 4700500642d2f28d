"""Allow and deny lists: CIDRs, principals, user-agent globs; per service or global."""
from __future__ import annotations

import pytest
from hypothesis import given, strategies as st

from extauthz.config import ConfigError, parse_config
from extauthz.risk.lists import Glob
from extauthz.verdict import Action, Decision

from risk_helpers import ATTACK, CLEAN, engine, req

LISTS = """
services:
  shop: {}
  admin: {}
lists:
  allow:
    cidrs: [192.0.2.0/24]
    principals: ["spiffe://cluster.local/ns/ops/*"]
  deny:
    cidrs: [203.0.113.0/24, "2001:db8::/32"]
    user_agents: ["*sqlmap*", "badbot"]
  services:
    admin:
      allow: {cidrs: [203.0.113.7/32]}
      deny: {cidrs: [198.51.100.0/24]}
"""


def test_deny_list_denies_and_says_why():
    eng, _, _ = engine(LISTS)
    v = eng.check(req(CLEAN, ip="203.0.113.9"))
    assert v.decision is Decision.DENY and v.action is Action.LISTED_DENY
    assert v.reason == "deny list (global): cidr 203.0.113.0/24"
    v = eng.check(req(CLEAN, ip="2001:db8::5"))
    assert v.action is Action.LISTED_DENY
    v = eng.check(req(CLEAN, ua="Mozilla/5.0 sqlmap/1.7 (https://sqlmap.org)"))
    assert v.action is Action.LISTED_DENY and "user-agent *sqlmap*" in v.reason
    assert eng.check(req(CLEAN, ua="badbot-ish")).action is Action.ALLOW  # no `*`: the whole value


def test_allow_list_skips_inspection_and_risk():
    eng, _, _ = engine(LISTS)
    for _ in range(10):
        v = eng.check(req(ATTACK, ip="192.0.2.44"))
        assert v.action is Action.LISTED_ALLOW and v.reason == "allow list (global): cidr 192.0.2.0/24"
    v = eng.check(req(ATTACK, ip="10.1.1.1", principal="spiffe://cluster.local/ns/ops/sa/prober"))
    assert v.action is Action.LISTED_ALLOW and "principal spiffe://cluster.local/ns/ops/*" in v.reason


def test_service_lists_come_before_global_ones():
    eng, _, _ = engine(LISTS)
    v = eng.check(req(CLEAN, ip="203.0.113.7", service="admin"))
    assert v.action is Action.LISTED_ALLOW and v.reason == "allow list (service admin): cidr 203.0.113.7/32"
    assert eng.check(req(CLEAN, ip="203.0.113.7", service="shop")).action is Action.LISTED_DENY
    assert eng.check(req(CLEAN, ip="198.51.100.3", service="admin")).action is Action.LISTED_DENY
    assert eng.check(req(CLEAN, ip="198.51.100.3", service="shop")).action is Action.ALLOW


def test_deny_list_in_monitor_mode_records_only():
    eng, _, _ = engine(LISTS + "defaults: {mode: monitor}\n")
    v = eng.check(req(CLEAN, ip="203.0.113.9"))
    assert v.decision is Decision.ALLOW and v.action is Action.MONITOR
    assert any(f.rule == "list.deny" for f in v.findings)


def test_lists_apply_without_actor_risk():
    eng, _, _ = engine(LISTS + "risk: {enabled: false}\n")
    assert eng.check(req(CLEAN, ip="203.0.113.9")).action is Action.LISTED_DENY


@pytest.mark.parametrize("text,key", [
    ("lists: {deny: {cidrs: [300.1.1.1]}}", "lists.deny.cidrs"),
    ("lists: {services: {nope: {deny: {cidrs: [10.0.0.0/8]}}}}", "lists.services.nope"),
    ("risk: {actor_keys: [ip, cookie]}", "risk.actor_keys"),
    ("risk: {hops: [edge, mars]}", "risk.hops"),
])
def test_bad_lists_name_the_key(text, key):
    from extauthz.engine import Engine
    with pytest.raises(ConfigError) as e:
        Engine(parse_config(text))
    assert key in str(e.value)


def test_glob_matching():
    assert Glob.of("*sqlmap*").matches("SQLMap/1.0")
    assert Glob.of("curl/*").matches("curl/8.1") and not Glob.of("curl/*").matches("xcurl/8")
    assert Glob.of("a*b*c").matches("a-b-c") and not Glob.of("a*b*c").matches("a-c-b")
    assert Glob.of("ab*ba").matches("aba") is False and Glob.of("ab*ba").matches("abba")


def _reference(pattern: str, value: str) -> bool:
    import fnmatch  # trusted test data only: the reference the linear matcher must agree with
    return fnmatch.fnmatchcase(value.lower(), pattern.lower().replace("[", "[[]").replace("?", "[?]"))


@given(st.text("ab*", max_size=8), st.text("abAB", max_size=12))
def test_glob_agrees_with_a_reference(pattern, value):
    assert Glob.of(pattern).matches(value) == _reference(pattern, value)
