"""The profile stage in the engine: learn clean traffic, flag what falls outside it."""
from __future__ import annotations

import random

import pytest

from extauthz.finding import Source
from extauthz.request import Hop

from dataclasses import replace

from profile_helpers import CONFIG as CONFIG_TEXT, Shop, config, normal_item_request, req, train


@pytest.fixture
def shop(tmp_path):
    s = Shop(tmp_path / "state")
    yield s
    s.close()


def test_a_service_without_a_profile_yields_no_profile_findings(shop):
    v = shop.check(req("/anything?id=1'"))
    assert not [f for f in v.findings if f.source is Source.PROFILE]


def test_learned_endpoint_flags_values_outside_its_model(shop):
    train(shop)
    assert shop.profile_findings(req("/items/77?id=12&sort=asc&user=ana")) == {}
    assert shop.profile_findings(req("/items/77?id=12abc&sort=asc&user=ana"))["profile.param.type"] == "HIGH"
    assert shop.profile_findings(req("/items/77?id=12&sort=random&user=ana"))["profile.param.enum"] == "HIGH"
    found = shop.profile_findings(req("/items/77?id=12&sort=asc&user=ana;ls"))
    assert found["profile.param.charset"] == "HIGH"
    assert shop.profile_findings(req("/items/77?id=12&sort=asc&user=ana&debug=1"))["profile.param.unknown"] == "MEDIUM"
    assert shop.profile_findings(req("/items/77?id=12&user=ana"))["profile.param.missing"] == "MEDIUM"
    assert shop.profile_findings(req("/admin/users"))["profile.endpoint.unknown"] == "HIGH"
    assert shop.profile_findings(req("/items/77?id=12&sort=asc&user=ana", method="DELETE"))[
        "profile.endpoint.method"] == "HIGH"
    # a type violation alone blocks
    assert shop.check(req("/items/77?id=12abc&sort=asc&user=ana")).denied


def test_findings_carry_location_redacted_excerpt_and_source(shop):
    train(shop)
    v = shop.check(req("/items/77?id=1%27%20or%201=1&sort=asc&user=ana"))
    f = next(f for f in v.findings if f.rule == "profile.param.type")
    assert f.source is Source.PROFILE and f.location == "query:id" and f.cls == "other"
    assert "1' or" in f.excerpt and "int" in f.detail


def test_other_services_are_untouched_by_a_learned_profile(shop):
    train(shop)
    assert shop.profile_findings(req("/admin?x=<b>", service="other")) == {}


def test_learn_mode_records_but_never_reports(tmp_path):
    s = Shop(tmp_path / "s", config("defaults: {profile: {mode: learn, min_samples: 10, stable_samples: 5}}"))
    try:
        train(s)
        assert s.profile_findings(req("/admin/users")) == {}
        assert s.book.live("shop").endpoints
    finally:
        s.close()


def test_auto_mode_waits_for_enough_samples(tmp_path):
    s = Shop(tmp_path / "s")
    try:
        train(s, n=30)  # below min_samples (40)
        assert s.profile_findings(req("/items/77?id=12abc&sort=asc&user=ana")) == {}
        train(s, n=100, seed=8)
        assert "profile.param.type" in s.profile_findings(req("/items/77?id=12abc&sort=asc&user=ana"))
    finally:
        s.close()


def test_an_endpoint_still_changing_stays_lenient(tmp_path):
    s = Shop(tmp_path / "s")
    try:
        rng = random.Random(1)
        for i in range(120):
            s.check(normal_item_request(rng))
        # a new optional parameter keeps appearing: the endpoint's model changed recently
        for i in range(5):
            s.check(req(f"/items/{i}?id=3&sort=asc&user=ana&page={i}", client=f"203.0.113.{i}"))
        s.flush()
        ep = s.book.live("shop").endpoints[("GET", "/items/{int}")]
        assert ep.n - ep.changed < 20
        assert s.profile_findings(req("/items/77?id=12abc&sort=asc&user=ana")) == {}
    finally:
        s.close()


def test_enforce_mode_stops_learning(tmp_path):
    s = Shop(tmp_path / "s")
    train(s)
    s.close()
    e = Shop(tmp_path / "s", config("defaults: {profile: {mode: enforce, min_samples: 40}}"))
    try:
        before = e.book.live("shop").n
        for _ in range(5):
            e.check(req("/items/77?id=12&sort=asc&user=ana"))
        e.flush()
        assert e.book.live("shop").n == before
        assert e.profile_findings(req("/new/endpoint"))["profile.endpoint.unknown"] == "HIGH"
    finally:
        e.close()


def test_requests_with_attack_findings_do_not_train(shop):
    train(shop)
    for i in range(60):  # a detector sees path traversal: none of this may become normal
        shop.check(req("/items/77?id=12&sort=asc&user=ana&file=../../../../etc/passwd", client=f"203.0.113.{i}"))
    shop.flush()
    ep = shop.book.live("shop").endpoints[("GET", "/items/{int}")]
    assert "query:file" not in ep.params


def test_one_client_cannot_teach_the_profile_its_payloads(tmp_path):
    from extauthz.engine import Engine

    s = Shop(tmp_path / "s", config("defaults: {profile: {mode: learn}}"))
    try:
        rng = random.Random(5)
        for i in range(300):  # learning phase: everything clean is learned...
            s.check(normal_item_request(rng))
            if i % 3 == 0:  # ...but one client's odd character, however often, waits for a second client
                s.check(req("/items/77?id=12&sort=asc&user=an*a", client="203.0.113.66"))
        s.check(req("/items/77?id=12&sort=asc&user=ana~", client="203.0.113.70"))
        s.check(req("/items/77?id=12&sort=asc&user=jon~", client="203.0.113.71"))  # two clients: learned
        s.flush()
        p = s.book.live("shop").endpoints[("GET", "/items/{int}")].params["query:user"]
        assert p.pending
        enforcing = Engine(config("defaults: {profile: {mode: enforce, min_samples: 40}}"), runtime=s.runtime)
        rules = {f.rule for f in enforcing.check(req("/items/77?id=12&sort=asc&user=an*a")).findings}
        assert "profile.param.charset" in rules
        rules = {f.rule for f in enforcing.check(req("/items/77?id=12&sort=asc&user=eva~")).findings}
        assert "profile.param.charset" not in rules
    finally:
        s.close()


def test_one_clients_share_of_training_is_capped(shop):
    train(shop)
    ep0 = shop.book.live("shop").endpoints[("GET", "/items/{int}")]
    n0 = ep0.n
    rng = random.Random(3)
    for _ in range(400):
        shop.check(normal_item_request(rng, client="203.0.113.99"))
    shop.flush()
    ep = shop.book.live("shop").endpoints[("GET", "/items/{int}")]
    mine = ep.n - n0
    assert mine <= 0.11 * ep.n + 1 and ep.refused >= 300


def test_profiles_survive_restart(tmp_path):
    s = Shop(tmp_path / "s")
    train(s)
    s.close()
    t = Shop(tmp_path / "s")
    try:
        assert t.profile_findings(req("/items/77?id=12abc&sort=asc&user=ana"))["profile.param.type"] == "HIGH"
    finally:
        t.close()


def test_profiles_survive_a_config_reload(shop):
    from extauthz.engine import Engine

    train(shop)
    reloaded = Engine(config("""
state: {flush_seconds: 3600}
defaults:
  threshold: 9
  profile: {mode: auto, min_samples: 40, stable_samples: 20}
"""), runtime=shop.runtime)
    v = reloaded.check(req("/items/77?id=12abc&sort=asc&user=ana"))
    assert "profile.param.type" in {f.rule for f in v.findings} and v.threshold == 9


def test_unknown_endpoints_flagged_once_two_clients_confirm_them_they_are_learned(shop):
    train(shop)
    assert shop.profile_findings(req("/reports/7", client="203.0.113.1"))["profile.endpoint.unknown"] == "HIGH"
    for _ in range(3):  # one client alone (a scanner) cannot make an endpoint normal
        shop.check(req("/reports/7", client="203.0.113.1"))
    shop.flush()
    assert ("GET", "/reports/{int}") not in shop.book.live("shop").endpoints
    shop.check(req("/reports/8", client="203.0.113.2"))  # a second client: a real new endpoint
    # its users are not denied while it waits for the next flush to join the live profile
    assert "profile.endpoint.unknown" not in shop.profile_findings(req("/reports/9", client="203.0.113.3"))
    shop.flush()
    assert ("GET", "/reports/{int}") in shop.book.live("shop").endpoints
    assert "profile.endpoint.unknown" not in shop.profile_findings(req("/reports/10", client="203.0.113.4"))


def test_behind_trusted_proxies_clients_are_told_apart_by_their_forwarded_address(tmp_path):
    """All traffic reaches the edge from one proxy address; with risk.xff_trusted_hops the
    profile counts clients as actor risk does, so two real clients confirm a new endpoint."""
    s = Shop(tmp_path / "state", config(CONFIG_TEXT + "risk: {xff_trusted_hops: 1}\n"))
    try:
        def forwarded(r, client: str):
            return replace(r, headers={**r.headers, "x-forwarded-for": (client,)})

        def via_proxy(uri: str, client: str):
            return forwarded(req(uri, client="10.0.0.9"), client)  # the proxy's connection

        rng = random.Random(7)
        for i in range(300):
            assert not s.check(forwarded(normal_item_request(rng, client="10.0.0.9"), f"198.51.100.{i % 50}")).denied
        s.flush()
        assert s.profile_findings(via_proxy("/reports/7", "203.0.113.1"))["profile.endpoint.unknown"] == "HIGH"
        s.check(via_proxy("/reports/8", "203.0.113.2"))  # a second client behind the same proxy
        s.flush()
        assert ("GET", "/reports/{int}") in s.book.live("shop").endpoints
    finally:
        s.close()


def test_lateral_movement_new_caller_names_both_identities(tmp_path):
    cfg = config("""
state: {flush_seconds: 3600}
defaults:
  profile: {mode: auto, min_samples: 40, stable_samples: 20}
services:
  backend: {aliases: ["spiffe://cluster.local/ns/demo/sa/backend"]}
  frontend: {aliases: ["spiffe://cluster.local/ns/demo/sa/frontend"]}
""")
    s = Shop(tmp_path / "s", cfg)
    try:
        rng = random.Random(2)
        for _ in range(80):
            s.check(req(f"/products?q={rng.choice(['shoes', 'socks', 'jacket'])}", service="backend",
                        hop=Hop.SIDECAR_INBOUND, principal="spiffe://cluster.local/ns/demo/sa/frontend",
                        destination="spiffe://cluster.local/ns/demo/sa/backend", client="10.0.0.5"))
        s.flush()
        assert set(s.book.live("backend").callers) == {"frontend"}
        ok = s.check(req("/products?q=socks", service="backend", hop=Hop.SIDECAR_INBOUND,
                         principal="spiffe://cluster.local/ns/demo/sa/frontend", client="10.0.0.5"))
        assert not ok.denied and not ok.findings
        v = s.check(req("/admin", service="backend", hop=Hop.SIDECAR_INBOUND,
                        principal="spiffe://cluster.local/ns/demo/sa/intruder", client="10.0.0.9",
                        destination="spiffe://cluster.local/ns/demo/sa/backend"))
        assert v.denied
        lateral = next(f for f in v.findings if f.rule == "profile.callgraph.new-caller")
        assert "spiffe://cluster.local/ns/demo/sa/intruder" in lateral.detail
        assert "spiffe://cluster.local/ns/demo/sa/backend" in lateral.detail
        assert "profile.endpoint.unknown" in {f.rule for f in v.findings}
        # a known caller on an endpoint it never called: weaker, a new edge
        v2 = s.check(req("/products?q=socks", service="backend", hop=Hop.SIDECAR_INBOUND,
                         principal="spiffe://cluster.local/ns/demo/sa/frontend", client="10.0.0.5"))
        assert not any(f.rule.startswith("profile.callgraph") for f in v2.findings)
    finally:
        s.close()


def test_rate_baseline_is_exposed_for_the_risk_stage(shop):
    from extauthz.risk.signals import MIN_BASELINE_MINUTES, LearnedBaseline

    t0 = 1_700_000_000.0
    minutes = max(5, MIN_BASELINE_MINUTES)
    for minute in range(minutes):
        for c in range(4):
            for _ in range(3 + c):  # clients do 3, 4, 5, 6 requests a minute
                shop.check(req("/items/5?id=1&sort=asc&user=ana", client=f"198.51.100.{c}", now=t0 + 60 * minute))
    shop.book.clock = lambda: t0 + 60 * (minutes + 1)
    shop.flush()
    base = shop.book.rate_baseline("shop", "GET", "/items/123")
    assert base is not None and base.minutes == minutes
    assert 4 <= base.client_median_rpm <= 5 and base.client_p90_rpm == 6 and base.total_rpm == 18
    # the risk stage reads it through the runtime: requests per second of a busy normal client
    assert LearnedBaseline(shop.runtime).expected_rate("shop", "GET", "/items/9") == pytest.approx(6 / 60)


def test_the_admin_api_sees_learned_profiles(shop):
    """The runtime's `profiles` part serves the admin API (extauthz.admin.providers.ProfileAdmin)."""
    import json

    from extauthz.admin.providers import ProfileAdmin

    train(shop)
    admin: ProfileAdmin = shop.runtime.profiles
    assert admin.profile_services() == ["shop"]
    doc = json.loads(json.dumps(admin.profile("shop")))
    assert doc["endpoints"][0]["template"] == "/items/{int}" and doc["endpoints"][0]["status"] == "enforced"
    assert admin.profile("nope") is None


def test_ordinary_requests_of_mature_endpoints_are_sampled_new_ones_always_learned(shop):
    from extauthz.profile.book import MATURE, SAMPLE_EVERY

    train(shop, n=MATURE + 50)
    before = shop.book.live("shop").endpoints[("GET", "/items/{int}")].n
    rng = random.Random(11)
    for _ in range(200):
        shop.check(normal_item_request(rng))
    shop.check(req("/items/5?id=7&sort=asc&user=ana&page=2", client="203.0.113.5"))  # something new
    shop.flush()
    ep = shop.book.live("shop").endpoints[("GET", "/items/{int}")]
    assert ep.n - before <= 200 // SAMPLE_EVERY + 5
    assert "query:page" in ep.params


def test_long_names_and_many_parameters_stay_bounded(shop):
    from extauthz.profile.model import LearnLimits

    long = "n" * 5000
    for i in range(60):
        many = "&".join(f"p{i}_{k}=1" for k in range(40))
        shop.check(req(f"/bulk?{long}=1&{many}", client=f"198.51.100.{i}"))
    shop.flush()
    ep = shop.book.live("shop").endpoints[("GET", "/bulk")]
    assert len(ep.params) <= LearnLimits().max_params and ep.param_overflow > 0
    assert max(len(k) for k in ep.params) <= 220
