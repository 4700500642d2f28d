"""The Redis state store against a real redis-server: round trips, outage, recovery."""
from __future__ import annotations

import socket
import time

import pytest

from extauthz.config import ConfigError, RedisSettings
from extauthz.store.base import ActorLabel, BlockRule, StoreError, Tracking
from extauthz.store.redis import RedisProfileStore, RedisStateStore, make_client

from redis_helpers import RedisServer

pytestmark = pytest.mark.redis

T0 = 1_700_000_000.0
TR = Tracking(risk_half_life=100.0, rate_half_life=10.0, path_window=60.0)
RULE = BlockRule(threshold=30, seconds=600, repeat_factor=2, max_seconds=3600, offence_memory=1000)
LABEL = ActorLabel("198.51.100.7", "", "curl/8", "")


def settings(url: str, **kw) -> RedisSettings:
    return RedisSettings(url=url, namespace="t", timeout=0.05, retry_seconds=0.1, **kw)


def wait_for(cond, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.02)


@pytest.fixture
def server(tmp_path):
    s = RedisServer(tmp_path).start()
    yield s
    s.stop()


def test_one_round_trip_per_check_even_with_writes_queued(server):
    store = RedisStateStore.from_settings(settings(server.url))
    store.flush_delay = 10  # the background writer waits: checks carry the writes
    try:
        store.touch("a", T0, "/", TR)
        before = store.round_trips
        for i in range(50):
            store.touch("a", T0 + i, f"/p{i}", TR)
            store.add_risk("a", T0 + i, 0.1, "xss", LABEL, TR, RULE)
        assert store.round_trips - before == 50
        stats = server.client().info("commandstats")
        assert stats["cmdstat_evalsha"]["calls"] == 51 + 49  # 51 touches, 49 risk writes carried along
    finally:
        store.close()


def test_keys_are_namespaced_hash_tagged_and_expire(server):
    store = RedisStateStore.from_settings(settings(server.url))
    try:
        store.touch("abc123", T0, "/x", TR)
        keys = sorted(server.client().keys("*"))
        assert keys == ["t:{abc123}:a", f"t:{{abc123}}:p{int(T0 // 60)}"]
        for k in keys:
            assert 0 < server.client().ttl(k) <= 8 * 100
    finally:
        store.close()


def test_outage_checks_go_on_locally_then_state_resumes(server):
    store = RedisStateStore.from_settings(settings(server.url))
    try:
        store.add_risk("blocked-before", T0, 40, "sqli", LABEL, TR, RULE)
        store.touch("x", T0, "/", TR)  # carries the write
        server.kill()
        t0 = time.perf_counter()
        v = store.touch("blocked-before", T0 + 1, "/", TR)  # the failure that opens the circuit
        first = time.perf_counter() - t0
        assert v.blocked(T0 + 1)  # the local store knows the block
        assert store.breaker.is_open and store.breaker.outages == 1
        assert first < 0.5
        t0 = time.perf_counter()
        for i in range(200):
            store.touch("someone", T0 + 2 + i, "/", TR)
        per_check = (time.perf_counter() - t0) / 200
        assert per_check < 0.001  # an open circuit costs nothing per check
        # risk during the outage blocks locally at once
        store.add_risk("during", T0 + 3, 40, "rce", LABEL, TR, RULE)
        assert store.touch("during", T0 + 4, "/", TR).blocked(T0 + 4)
        server.start()
        wait_for(lambda: not store.breaker.is_open)
        wait_for(lambda: not store._pending)
        c = server.client()
        assert float(c.hget("t:{blocked-before}:a", "bu")) > T0 + 500  # survived (AOF)
        assert float(c.hget("t:{during}:a", "bu")) > T0 + 500  # written once Redis was back
        assert store.stats()["outages"] == 1 and store.stats()["errors"] >= 1
    finally:
        store.close()


def test_blocks_return_to_a_redis_that_restarted_empty(server, tmp_path):
    store = RedisStateStore.from_settings(settings(server.url))
    try:
        store.add_risk("b", T0, 40, "sqli", LABEL, TR, RULE)
        store.touch("b", T0 + 1, "/", TR)
        server.kill()
        for f in server.dir.glob("*"):
            if f.name != "redis.log":
                import shutil
                shutil.rmtree(f) if f.is_dir() else f.unlink()
        store.touch("b", T0 + 2, "/", TR)  # opens the circuit
        server.start()
        assert server.client().dbsize() == 0
        wait_for(lambda: not store.breaker.is_open)
        wait_for(lambda: server.client().hget("t:{b}:a", "bu") is not None)
        assert store.touch("b", T0 + 3, "/", TR).blocked(T0 + 3)
    finally:
        store.close()


def test_redis_down_at_start_is_not_fatal(tmp_path):
    from extauthz.mesh import free_port
    port = free_port()
    store = RedisStateStore.from_settings(settings(f"redis://127.0.0.1:{port}/0"))
    try:
        assert store.breaker.is_open
        assert store.touch("a", T0, "/", TR).rate > 0  # local
        server = RedisServer(tmp_path, port).start()
        try:
            wait_for(lambda: not store.breaker.is_open)
            store.touch("a", T0 + 1, "/", TR)
            assert server.client().exists("t:{a}:a")
        finally:
            server.stop()
    finally:
        store.close()


def test_a_redis_that_never_answers_costs_one_timeout(tmp_path):
    """A black hole: connections are accepted, nothing is ever answered."""
    hole = socket.socket()
    hole.bind(("127.0.0.1", 0))
    hole.listen(16)
    try:
        t0 = time.perf_counter()
        store = RedisStateStore.from_settings(settings(f"redis://127.0.0.1:{hole.getsockname()[1]}/0"))
        try:
            assert time.perf_counter() - t0 < 0.5 and store.breaker.is_open
            t0 = time.perf_counter()
            for i in range(100):
                store.touch("a", T0 + i, "/", TR)
            assert time.perf_counter() - t0 < 0.1
        finally:
            store.close()
    finally:
        hole.close()


def test_admin_calls_report_an_unreachable_redis(tmp_path):
    from extauthz.mesh import free_port
    store = RedisStateStore.from_settings(settings(f"redis://127.0.0.1:{free_port()}/0"))
    try:
        with pytest.raises(StoreError):
            store.actors(T0, TR)
    finally:
        store.close()


def test_password_from_the_environment(server, monkeypatch):
    server.client().config_set("requirepass", "s3cret")
    monkeypatch.setenv("EXTAUTHZ_TEST_REDIS_PW", "s3cret")
    store = RedisStateStore.from_settings(settings(server.url, password_env="EXTAUTHZ_TEST_REDIS_PW"))
    try:
        assert not store.breaker.is_open
        store.touch("a", T0, "/", TR)
    finally:
        store.close()
    with pytest.raises(ConfigError, match="store.redis.password_env"):
        make_client(settings(server.url, password_env="EXTAUTHZ_TEST_UNSET_VAR"))
    with pytest.raises(ConfigError, match="rediss://"):
        make_client(settings(server.url, tls_ca_file="/tmp/ca.pem"))


def test_profile_store_round_trip(server):
    ps = RedisProfileStore.from_settings(settings(server.url))
    try:
        assert ps.load("shop") is None and ps.services() == []
        doc = bytes(range(256)) * 10
        ps.save("shop", doc)
        ps.save("admin", b"{}")
        assert ps.load("shop") == doc and ps.services() == ["admin", "shop"]
        server.kill()
        with pytest.raises(StoreError):
            ps.load("shop")
    finally:
        ps.close()


def test_a_block_decided_here_holds_before_redis_has_it(server):
    """The risk write is queued behind the check; the next check must not wait for it."""
    store = RedisStateStore.from_settings(settings(server.url))
    store.flush_delay = 10
    try:
        store.touch("w", T0, "/", TR)
        store.add_risk("w", T0, 40, "sqli", LABEL, TR, RULE)
        store._take_pending()  # as if the background writer had taken it and not yet written it
        assert store.touch("w", T0 + 1, "/", TR).blocked(T0 + 1)
        assert not server.client().hget("t:{w}:a", "bu")
        # after the grace, Redis is the truth again (an unblock elsewhere wins)
        assert not store.touch("w", T0 + 10, "/", TR).blocked(T0 + 10)
    finally:
        store.close()
