"""The StateStore contract, run against the in-process store and a real Redis."""
from __future__ import annotations

import pytest

from extauthz.store.base import ActorLabel, BlockRule, Tracking
from extauthz.store.memory import MemoryStateStore

from redis_helpers import RedisServer

T0 = 1_700_000_000.0
TR = Tracking(risk_half_life=100.0, rate_half_life=10.0, path_window=60.0)
RULE = BlockRule(threshold=30, seconds=60, repeat_factor=2, max_seconds=200, offence_memory=1000)
LABEL = ActorLabel("198.51.100.7", "", "curl/8", "api_key:0011")


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
def store(request, tmp_path):
    if request.param == "memory":
        yield MemoryStateStore()
        return
    from extauthz.store.redis import RedisStateStore
    server = RedisServer(tmp_path).start()
    s = RedisStateStore(server.client(), "test", flush_delay=0)
    yield s
    s.close()
    server.stop()


def settle(store) -> None:
    """Let write-behind reach Redis (the in-process store writes at once)."""
    flush = getattr(store, "_flush", None)
    if flush is not None:
        flush()


def test_touch_counts_rate_and_timing(store):
    v = None
    for i in range(30):
        v = store.touch("a1", T0 + i * 0.5, f"/p{i % 7}", TR)
    assert v.samples == 29 and abs(v.interval_mean - 0.5) < 1e-6 and v.interval_dev < 1e-6
    assert 1.0 < v.rate < 2.0  # 2/s, still building up over a 10 s half-life
    assert v.distinct_paths == 7
    assert v.risk == 0 and not v.blocked(T0)


def test_distinct_paths_count_one_path_repeated_once(store):
    assert [store.touch("a9", T0 + i, p, TR).distinct_paths for i, p in enumerate(["/x", "/x", "/x", "/y", "/x"])] \
        == [1, 1, 1, 2, 2]


def test_risk_adds_decays_and_blocks(store):
    store.touch("a2", T0, "/", TR)
    ch = store.add_risk("a2", T0, 20, "sqli", LABEL, TR, RULE)
    assert ch.risk == pytest.approx(20) and not ch.newly_blocked
    settle(store)
    assert store.touch("a2", T0 + 100, "/", TR).risk == pytest.approx(10, rel=1e-3)  # one half-life
    store.add_risk("a2", T0 + 100, 25, "sqli", LABEL, TR, RULE)
    settle(store)
    v = store.touch("a2", T0 + 101, "/", TR)
    assert v.blocked_until == pytest.approx(T0 + 160) and v.offences == 1 and v.cause == "sqli"
    rec = store.get("a2", T0 + 101, TR)
    assert rec.label == LABEL and rec.blocked_until == pytest.approx(T0 + 160)
    top = store.actors(T0 + 101, TR)
    assert [r.id for r in top] == ["a2"]


def test_repeat_offences_double_up_to_the_maximum(store):
    t = T0
    expect = [60, 120, 200, 200]
    for n, seconds in enumerate(expect, 1):
        store.touch("a3", t, "/", TR)
        store.add_risk("a3", t, 40, "xss", LABEL, TR, RULE)
        settle(store)
        v = store.touch("a3", t + 1, "/", TR)
        assert v.offences == n and v.blocked_until == pytest.approx(t + seconds), n
        t = v.blocked_until + 1
    # past the offence memory, the count starts again
    t += 2000
    store.add_risk("a3", t, 40, "xss", LABEL, TR, RULE)
    settle(store)
    v = store.touch("a3", t + 1, "/", TR)
    assert v.offences == 1 and v.blocked_until == pytest.approx(t + 60)


def test_clear_unblocks_and_forgets_risk(store):
    store.add_risk("a4", T0, 50, "rce", LABEL, TR, RULE)
    settle(store)
    assert store.touch("a4", T0 + 1, "/", TR).blocked(T0 + 1)
    assert store.clear("a4", T0 + 2)
    v = store.touch("a4", T0 + 3, "/", TR)
    assert not v.blocked(T0 + 3) and v.risk == 0
    assert store.clear("nobody", T0) is False


def test_manual_block_counts_as_an_offence(store):
    store.set_block("a5", T0, T0 + 500, "manual", LABEL, TR)
    v = store.touch("a5", T0 + 1, "/", TR)
    assert v.blocked_until == pytest.approx(T0 + 500) and v.cause == "manual" and v.offences == 1


def test_actors_ranks_blocked_first_then_by_risk(store):
    store.add_risk("low", T0, 5, "xss", LABEL, TR, RULE)
    store.add_risk("mid", T0, 20, "xss", LABEL, TR, RULE)
    store.add_risk("blk", T0, 31, "xss", LABEL, TR, RULE)
    store.touch("quiet", T0, "/", TR)
    settle(store)
    assert [r.id for r in store.actors(T0 + 1, TR)] == ["blk", "mid", "low"]
    assert [r.id for r in store.actors(T0 + 1, TR, limit=1)] == ["blk"]
