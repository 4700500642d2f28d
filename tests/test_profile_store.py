"""Profile persistence: the document format, the SQLite store, merging between workers."""
from __future__ import annotations

import multiprocessing
import random
import sqlite3
import zlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from extauthz.profile.document import FORMAT, MAGIC, DocumentError, decode, encode
from extauthz.profile.features import features, shape
from extauthz.profile.model import LearnLimits, ParamStats, ServiceProfile
from extauthz.store import StoreError
from extauthz.store.sqlite import SqliteProfileStore

from profile_helpers import Shop, config, normal_item_request, req, train


def _doc(shop: Shop, service: str = "shop") -> ServiceProfile:
    return decode(encode(shop.book.live(service)))


def test_document_round_trip_keeps_everything(tmp_path):
    s = Shop(tmp_path / "s")
    try:
        train(s)
        live = s.book.live("shop")
        again = decode(encode(live))
        assert encode(again) == encode(live)
        assert set(again.endpoints) == set(live.endpoints)
        assert encode(live).startswith(MAGIC + b" %d\n" % FORMAT)
    finally:
        s.close()


def test_documents_from_a_newer_format_or_corrupt_are_refused_with_a_reason():
    with pytest.raises(DocumentError, match="newer extauthz"):
        decode(MAGIC + b" 99\n" + zlib.compress(b"{}"), "shop")
    with pytest.raises(DocumentError, match="not an extauthz profile"):
        decode(b"garbage", "shop")
    with pytest.raises(DocumentError, match="does not decode"):
        decode(MAGIC + b" 1\n" + b"not zlib", "shop")


def _learned(values: list[str], client_of=lambda i: None) -> ParamStats:
    p = ParamStats()
    for i, v in enumerate(values):
        p.learn(v, features(v), shape(v), 1 if i % 7 == 0 else 0, client_of(i), LearnLimits())
    return p


def test_merging_two_halves_equals_learning_the_whole():
    rng = random.Random(4)
    values = [rng.choice(["asc", "desc", "12", "a-b", "x@y.es", ""]) for _ in range(200)]
    whole = _learned(values)
    a, b = _learned(values[:90]), _learned(values[90:])
    a.merge(b, LearnLimits())
    for attr in ("n", "lmin", "lmax", "mask", "mask2", "always", "encs", "type", "values", "shapes", "punct"):
        assert getattr(a, attr) == getattr(whole, attr), attr


def test_sqlite_store_round_trip_and_versions(tmp_path):
    store = SqliteProfileStore.in_dir(tmp_path)
    assert store.load("shop") is None and store.services() == []
    store.save("shop", b"one")
    assert store.update("shop", lambda old: old + b"+two") == b"one+two"
    assert store.load("shop") == b"one+two" and store.versions() == {"shop": 2}
    store.close()
    ro = SqliteProfileStore.in_dir(tmp_path, read_only=True)
    assert ro.services() == ["shop"]
    with pytest.raises(StoreError, match="read-only"):
        ro.save("x", b"")
    ro.close()
    assert SqliteProfileStore.in_dir(tmp_path / "none", read_only=True).services() == []


def _add_many(path: str, tag: str) -> None:
    store = SqliteProfileStore(path)
    for _ in range(50):
        store.update("shop", lambda old: (old or b"") + tag.encode())
    store.close()


def test_concurrent_updates_from_processes_lose_nothing(tmp_path):
    path = str(tmp_path / "profiles.sqlite3")
    SqliteProfileStore(path).close()
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_add_many, args=(path, t)) for t in "ab"]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    doc = SqliteProfileStore(path, read_only=True).load("shop")
    assert doc.count(b"a") == 50 and doc.count(b"b") == 50


def test_a_corrupt_state_file_stops_the_start_and_is_kept(tmp_path):
    state = tmp_path / "state"
    state.mkdir()
    bad = state / "profiles.sqlite3"
    bad.write_bytes(b"this is not a database" * 100)
    with pytest.raises(StoreError, match="not a usable profile store"):
        Shop(state)
    assert bad.read_bytes() == b"this is not a database" * 100


def test_a_newer_store_schema_is_refused(tmp_path):
    SqliteProfileStore.in_dir(tmp_path).close()
    db = sqlite3.connect(tmp_path / "profiles.sqlite3")
    db.execute("UPDATE meta SET value='7' WHERE key='schema'")
    db.commit()
    db.close()
    with pytest.raises(StoreError, match="newer extauthz"):
        Shop(tmp_path)


def test_a_newer_document_in_the_store_is_refused_and_kept(tmp_path):
    store = SqliteProfileStore.in_dir(tmp_path)
    newer = MAGIC + b" 2\n" + zlib.compress(b"{}")
    store.save("shop", newer)
    store.close()
    with pytest.raises(StoreError, match="format 2 by a newer extauthz"):
        Shop(tmp_path)
    assert SqliteProfileStore.in_dir(tmp_path, read_only=True).load("shop") == newer


def test_two_workers_learn_apart_and_add_up_through_the_store(tmp_path):
    a, b = Shop(tmp_path), Shop(tmp_path)
    try:
        rng = random.Random(1)
        for _ in range(60):
            a.check(normal_item_request(rng))
            b.check(req(f"/orders?id={rng.randint(1, 99)}", client=f"198.51.100.{rng.randint(1, 9)}"))
        a.flush()
        b.flush()
        assert a.book.live("shop").n == 60  # a has not heard of b's yet...
        a.flush()  # ...until its next flush looks at the store
        live = a.book.live("shop")
        assert live.n == 120 and {("GET", "/items/{int}"), ("GET", "/orders")} <= set(live.endpoints)
    finally:
        a.close()
        b.close()
    c = Shop(tmp_path, learning=False)
    try:
        assert c.book.live("shop").n == 120
    finally:
        c.close()


def test_caps_bound_what_random_traffic_can_grow(tmp_path):
    s = Shop(tmp_path)
    try:
        rng = random.Random(9)
        for i in range(3000):
            word = "".join(rng.choice("abcdefghij") for _ in range(8))
            params = "&".join(f"{rng.choice('pqrstuvwxyz')}{rng.randint(0, 999)}=1" for _ in range(3))
            s.check(req(f"/{word}/{word[::-1]}?{params}", client=f"10.0.{i % 200}.{i % 7}"))
        s.flush()
        live = s.book.live("shop")
        assert len(live.endpoints) <= LearnLimits().max_endpoints
        assert all(len(ep.params) <= LearnLimits().max_params for ep in live.endpoints.values())
        assert live.collapsed  # the random first segments were folded into {slug}
    finally:
        s.close()


@pytest.fixture
def redis_server(tmp_path):
    from redis_helpers import RedisServer

    s = RedisServer(tmp_path).start()
    yield s
    s.stop()


@pytest.mark.redis
def test_redis_profile_store_merges_concurrent_updates(redis_server):
    import threading

    from extauthz.config import RedisSettings
    from extauthz.store.redis import RedisProfileStore

    stores = [RedisProfileStore.from_settings(RedisSettings(url=redis_server.url, namespace="p", timeout=5.0)) for _ in range(3)]
    try:
        def add(store, tag):
            for _ in range(30):
                store.update("shop", lambda old: (old or b"") + tag)

        threads = [threading.Thread(target=add, args=(s, t)) for s, t in zip(stores, (b"a", b"b", b"c"))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        doc = stores[0].load("shop")
        assert [doc.count(t) for t in (b"a", b"b", b"c")] == [30, 30, 30]
        assert stores[1].versions() == {"shop": 90}
    finally:
        for store in stores:
            store.close()


@pytest.mark.redis
def test_replicas_share_profiles_through_redis(redis_server, tmp_path):
    cfg = config(f"""
state: {{flush_seconds: 3600}}
store: {{backend: redis, redis: {{url: "{redis_server.url}", namespace: prof}}}}
defaults:
  profile: {{mode: auto, min_samples: 40, stable_samples: 20}}
""")
    a, b = Shop(None, cfg), Shop(None, cfg)
    try:
        train(a, n=120)
        b.flush()  # b learned nothing, but picks up what a merged
        assert b.book.live("shop").n == a.book.live("shop").n >= 100
        assert "profile.param.type" in b.profile_findings(req("/items/77?id=12abc&sort=asc&user=ana"))
    finally:
        a.close()
        b.close()


_VALUES = st.lists(st.sampled_from(["asc", "desc", "12", "7", "a-b", "x@y.es", "", "Ana Mar", "a;b", "2024-01-02"]),
                   max_size=40)


@settings(max_examples=100, deadline=None)
@given(_VALUES, _VALUES)
def test_merging_is_order_free(xs, ys):
    """Workers merge in any order: a+b and b+a must be the same summary."""
    ab, ba = _learned(xs), _learned(ys)
    ab.merge(_learned(ys), LearnLimits())
    ba.merge(_learned(xs), LearnLimits())
    for attr in ("n", "lmin", "lmax", "mask", "mask2", "always", "encs", "type", "values", "shapes", "punct"):
        assert getattr(ab, attr) == getattr(ba, attr), attr
