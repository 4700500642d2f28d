"""The runtime's admin views (extauthz.admin.providers): ActorAdmin and ListAdmin."""
from __future__ import annotations

import pytest

from extauthz.verdict import Action

from risk_helpers import ATTACK, CLEAN, engine, req


def test_actor_admin_lists_blocks_and_unblocks_by_address():
    eng, clock, rt = engine()
    rt.actors.admin.clock = clock
    for _ in range(6):
        eng.check(req(ATTACK, ip="203.0.113.5"))
    items = rt.actors.list_actors(10, blocked_only=True)
    assert [i["ip"] for i in items] == ["203.0.113.5"] and items[0]["actor"] == items[0]["id"]
    assert rt.actors.unblock("203.0.113.5") is True
    assert rt.actors.unblock("203.0.113.5") is False  # no longer blocked
    entry = rt.actors.block("198.51.100.44", 300, "abuse report")
    assert entry["blocked"] and entry["block_remaining_s"] == 300
    assert eng.check(req(CLEAN, ip="198.51.100.44")).action is Action.ACTOR_BLOCKED
    with pytest.raises(ValueError):
        rt.actors.block("not an actor", 300, "")


def test_runtime_list_entries_apply_at_once_and_expire():
    eng, clock, rt = engine()
    rt.lists.clock = clock
    added = rt.lists.add_entries("deny", ["203.0.113.0/24"], "scraper", 60)
    assert added[0]["kind"] == "cidr" and added[0]["expires"] == clock() + 60
    v = eng.check(req(CLEAN, ip="203.0.113.9"))
    assert v.action is Action.LISTED_DENY and v.reason == "deny list (admin API): cidr 203.0.113.0/24 (scraper)"
    rt.lists.add_entries("allow", ["spiffe://cluster.local/ns/ops/*"], "", None)
    assert eng.check(req(ATTACK, principal="spiffe://cluster.local/ns/ops/sa/probe")).action is Action.LISTED_ALLOW
    lists = rt.lists.get_lists()
    assert {e["entry"] for e in lists["deny"]} == {"203.0.113.0/24"}
    clock.advance(61)
    assert eng.check(req(CLEAN, ip="203.0.113.9")).action is Action.ALLOW
    assert rt.lists.remove_entries("allow", ["spiffe://cluster.local/ns/ops/*", "nope"]) == 1
    with pytest.raises(ValueError):
        rt.lists.add_entries("deny", ["10.0.0.0/8", "what?"], "", None)
    assert all(e["entry"] != "10.0.0.0/8" for e in rt.lists.get_lists()["deny"])  # all or nothing


def test_runtime_lists_show_the_configured_ones_too():
    eng, clock, rt = engine("services: {shop: {}}\nlists: {deny: {cidrs: [192.0.2.0/24]}, "
                            "services: {shop: {allow: {principals: [spiffe://x/*]}}}}")
    lists = rt.lists.get_lists()
    assert {"entry": "192.0.2.0/24", "kind": "cidr", "source": "config"} in lists["deny"]
    assert {"entry": "spiffe://x/*", "kind": "principal", "source": "config", "service": "shop"} in lists["allow"]
