"""Redis stores: actor state shared by workers and replicas, and learned profiles.

State store, per check: one round trip. `touch` runs one Lua script (count
the request, read risk, block, rate, timing, distinct paths); risk added after
a verdict is queued and written behind the check, riding along with the next
touch's round trip (a pipeline) or, when no check comes within a couple of
milliseconds, sent by a background thread. The process also applies its own
risk to a local in-process store at once, so its blocks take effect
immediately even before Redis confirms them.

Keys: `<namespace>:{<actor id>}:a` (a hash) and `...:p<window>` (a
HyperLogLog of paths), both carrying the actor's hash tag so each script works
in one cluster slot. Every key has a TTL: no sweeps.

Outage: socket timeouts are short (`store.redis.timeout`); the first failure
opens a circuit breaker, after which checks use the local store only and pay
nothing for Redis; a background probe reconnects (doubling pauses), then the
writes queued meanwhile (bounded) are sent, and blocks this process knows are
re-asserted, so a Redis that restarted empty learns them again.
"""
from __future__ import annotations

import dataclasses
import logging
import os
import threading
import time
import zlib
from collections import deque
from typing import Any, Callable, Iterable

from extauthz.config import ConfigError, RedisSettings
from extauthz.store.base import (LN2, ActorLabel, ActorRecord, ActorView, BlockRule, RiskChange, StoreError,
                                 Tracking)
from extauthz.store.breaker import CircuitBreaker
from extauthz.store.memory import INTERVAL_ALPHA, MemoryStateStore, path_window, rank_actors
from extauthz.store.redis_lua import SCRIPTS

log = logging.getLogger("extauthz.store")

MAX_PENDING = 10_000  # queued writes kept during an outage; the oldest go first
MAX_SCAN = 100_000  # keys looked at by `actors`
FLUSH_DELAY = 0.002  # seconds a queued write waits for a check's round trip to carry it
# Seconds during which a block this process decided overrides a Redis view that lacks it
# (the write may be in flight); after that Redis is the truth (an unblock elsewhere wins).
LOCAL_BLOCK_GRACE = 5.0

Op = tuple[str, tuple[str, ...], tuple[Any, ...]]


def make_client(settings: RedisSettings, decode_responses: bool = True, timeout: float | None = None) -> Any:
    """A redis-py client from the settings: short timeouts, no hidden retries."""
    import redis
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    kw: dict[str, Any] = {"socket_timeout": timeout or settings.timeout,
                          "socket_connect_timeout": timeout or settings.timeout,
                          "decode_responses": decode_responses, "health_check_interval": 0}
    if settings.username:
        kw["username"] = settings.username
    if settings.password_env:
        password = os.environ.get(settings.password_env)
        if password is None:
            raise ConfigError(f"environment variable {settings.password_env} is not set", "store.redis.password_env")
        kw["password"] = password
    tls = {"ssl_ca_certs": settings.tls_ca_file, "ssl_certfile": settings.tls_cert_file,
           "ssl_keyfile": settings.tls_key_file}
    if any(tls.values()):
        if not settings.url.startswith("rediss://"):
            raise ConfigError("TLS files need a rediss:// URL", "store.redis.url")
        kw.update({k: v for k, v in tls.items() if v})
    if settings.cluster:
        from redis.cluster import RedisCluster
        return RedisCluster.from_url(settings.url, **kw)
    return redis.Redis.from_url(settings.url, retry=Retry(NoBackoff(), 0), **kw)


def _f(x: Any) -> float:
    try:
        return float(x) if x not in (None, "") else 0.0
    except (TypeError, ValueError):
        return 0.0


def _label_args(label: ActorLabel) -> tuple[str, str, str, str]:
    return (label.ip, label.principal[:512], label.user_agent[:512], label.credential)


class RedisStateStore:
    """StateStore on Redis, with a local fallback and write-behind (see the module doc)."""

    def __init__(self, client: Any, namespace: str = "extauthz", *, retry_seconds: float = 1.0,
                 local: MemoryStateStore | None = None, flush_delay: float = FLUSH_DELAY,
                 name: str = "redis") -> None:
        self.client = client
        self.ns = namespace
        self.local = local or MemoryStateStore()
        self.breaker = CircuitBreaker(f"redis state store ({name})", retry_seconds)
        self.flush_delay = flush_delay
        self.round_trips = 0  # on the check path and behind it (for benches and metrics)
        self.dropped = 0  # queued writes lost to an outage longer than the queue
        self._shas: dict[str, str] = {}
        self._pending: deque[Op] = deque()
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._last: tuple[float, Tracking, BlockRule] | None = None  # latest now/tracking/rule seen
        try:
            self._load_scripts()
        except Exception as exc:  # start anyway: checks run on local state until Redis answers
            if not self._is_store_error(exc):
                raise
            self.breaker.failure(exc)
        self._thread = threading.Thread(target=self._background, name="extauthz-redis", daemon=True)
        self._thread.start()

    @classmethod
    def from_settings(cls, settings: RedisSettings, max_local_actors: int = 100_000) -> "RedisStateStore":
        return cls(make_client(settings), settings.namespace, retry_seconds=settings.retry_seconds,
                   local=MemoryStateStore(max_local_actors), name=settings.url.split("@")[-1])

    # ------------------------------------------------------------ plumbing

    @staticmethod
    def _is_store_error(exc: BaseException) -> bool:
        import redis
        return isinstance(exc, (redis.RedisError, OSError))

    def _load_scripts(self) -> None:
        for name, text in SCRIPTS.items():
            self._shas[name] = self.client.script_load(text)

    def _key(self, actor: str) -> str:
        return f"{self.ns}:{{{actor}}}:a"

    def _run(self, ops: list[Op]) -> list[Any]:
        """Run scripts in one round trip; reload them once if Redis lost them (a restart)."""
        import redis
        for attempt in (0, 1):
            try:
                self.round_trips += 1
                if len(ops) == 1:
                    name, keys, args = ops[0]
                    return [self.client.evalsha(self._shas[name], len(keys), *keys, *args)]
                pipe = self.client.pipeline(transaction=False)
                for name, keys, args in ops:
                    pipe.evalsha(self._shas[name], len(keys), *keys, *args)
                return pipe.execute()
            except redis.exceptions.NoScriptError:
                if attempt:
                    raise
                self._load_scripts()
        raise AssertionError("unreachable")

    def _take_pending(self) -> list[Op]:
        if not self._pending:
            return []
        with self._lock:
            ops = list(self._pending)
            self._pending.clear()
        return ops

    def _enqueue(self, ops: Iterable[Op], front: bool = False) -> None:
        with self._lock:
            for op in (reversed(list(ops)) if front else ops):
                if len(self._pending) >= MAX_PENDING:
                    if front:
                        self.dropped += 1
                        continue
                    self._pending.popleft()
                    self.dropped += 1
                if front:
                    self._pending.appendleft(op)
                else:
                    self._pending.append(op)
        self._wake.set()

    def _failed(self, exc: BaseException) -> None:
        self.breaker.failure(exc)
        self._wake.set()

    def _background(self) -> None:
        """Send queued writes a check did not carry; while the circuit is open, probe Redis."""
        while not self._stop.is_set():
            if self.breaker.is_open:
                if self._stop.wait(self.breaker.next_pause()):
                    return
                try:
                    self.client.ping()
                    self._load_scripts()
                except Exception as exc:
                    if not self._is_store_error(exc):
                        log.exception("redis probe failed unexpectedly")
                    self.breaker.errors += 1
                    continue
                self.breaker.success()
                self._reassert_blocks()
            self._wake.wait(1.0)
            self._wake.clear()
            if self._stop.is_set() or self.breaker.is_open:
                continue
            if self._pending and self.flush_delay:
                time.sleep(self.flush_delay)
            self._flush()

    def _flush(self) -> None:
        ops = self._take_pending()
        if not ops:
            return
        try:
            self._run(ops)
        except Exception as exc:
            if not self._is_store_error(exc):
                log.exception("redis write failed unexpectedly; %d writes dropped", len(ops))
                return
            self._enqueue(ops, front=True)
            self._failed(exc)

    def _reassert_blocks(self) -> None:
        """After an outage: blocks this process knows go back to Redis (which may have restarted empty)."""
        if self._last is None:
            return
        now, tracking, rule = self._last
        ops = [("set_block", (self._key(rec.id),),
                (repr(now), repr(rec.blocked_until), rec.cause, int(tracking.idle_ttl), int(rule.offence_memory),
                 "0", rec.offences, *_label_args(rec.label)))
               for rec in self.local.blocked(now)]
        if ops:
            self._enqueue(ops, front=True)

    def stats(self) -> dict[str, Any]:
        """For metrics: circuit state, outages, errors, queued and dropped writes, round trips."""
        return {"open": self.breaker.is_open, "outages": self.breaker.outages, "errors": self.breaker.errors,
                "pending": len(self._pending), "dropped": self.dropped, "round_trips": self.round_trips}

    # ------------------------------------------------------------ StateStore

    def touch(self, actor: str, now: float, path: str, tracking: Tracking) -> ActorView:
        if self.breaker.allow():
            ops = self._take_pending()
            key = self._key(actor)
            window = path_window(now, tracking.path_window)
            op: Op = ("touch", (key, f"{self.ns}:{{{actor}}}:p{window}"),
                      (repr(now), tracking.risk_half_life, tracking.rate_half_life,
                       format(zlib.crc32(path.encode("utf-8", "surrogatepass")), "x") if path else "",
                       int(tracking.path_window * 2), int(tracking.idle_ttl), INTERVAL_ALPHA))
            ops.append(op)
            try:
                res = self._run(ops)[-1]
            except Exception as exc:
                if not self._is_store_error(exc):
                    raise
                self._enqueue(ops[:-1], front=True)
                self._failed(exc)
            else:
                view = ActorView(_f(res[0]), _f(res[1]), res[2] or "", int(res[3]),
                                 _f(res[4]) * LN2 / tracking.rate_half_life, int(res[5]), _f(res[6]),
                                 _f(res[7]), int(res[8]))
                if view.blocked_until > now:  # remember it locally: it holds through an outage
                    self.local.merge_block(actor, now, view.blocked_until, view.cause, view.offences)
                else:
                    # a block this process decided a moment ago may still be on its way to Redis
                    # (the background writer): it holds here at once
                    mine = self.local.recent_block(actor, now, LOCAL_BLOCK_GRACE)
                    if mine is not None:
                        view = dataclasses.replace(view, blocked_until=mine[0], cause=mine[1], offences=mine[2])
                return view
        return self.local.touch(actor, now, path, tracking)

    def add_risk(self, actor: str, now: float, points: float, cause: str, label: ActorLabel,
                 tracking: Tracking, rule: BlockRule) -> RiskChange:
        self._last = (now, tracking, rule)
        change = self.local.add_risk(actor, now, points, cause, label, tracking, rule)
        self._enqueue([("add_risk", (self._key(actor),),
                        (repr(now), tracking.risk_half_life, repr(points), cause, rule.threshold, rule.seconds,
                         rule.repeat_factor, rule.max_seconds, rule.offence_memory, int(tracking.idle_ttl),
                         *_label_args(label)))])
        return change

    def _admin(self, ops: list[Op]) -> list[Any]:
        try:
            return self._run(ops)
        except Exception as exc:
            if not self._is_store_error(exc):
                raise
            raise StoreError(f"redis: {type(exc).__name__}: {exc}") from None

    def set_block(self, actor: str, now: float, until: float, cause: str, label: ActorLabel,
                  tracking: Tracking) -> None:
        self._admin([("set_block", (self._key(actor),),
                      (repr(now), repr(until), cause, int(tracking.idle_ttl), 0, "1", 0, *_label_args(label)))])
        self.local.set_block(actor, now, until, cause, label, tracking)

    def clear(self, actor: str, now: float) -> bool:
        found = bool(self._admin([("clear", (self._key(actor),), (repr(now),))])[0])
        return self.local.clear(actor, now) or found

    _FIELDS = ("r", "rt", "bu", "bc", "off", "lt", "ip", "pr", "ua", "cr")

    def _record(self, actor: str, v: list[Any], now: float, tracking: Tracking) -> ActorRecord:
        from extauthz.store.base import decayed
        risk = decayed(_f(v[0]), _f(v[1]), now, tracking.risk_half_life)
        label = ActorLabel(v[6] or "", v[7] or "", v[8] or "", v[9] or "")
        return ActorRecord(actor, label, risk, _f(v[2]), v[3] or "", int(_f(v[4])), _f(v[5]) or _f(v[1]))

    def get(self, actor: str, now: float, tracking: Tracking) -> ActorRecord | None:
        try:
            v = self.client.hmget(self._key(actor), *self._FIELDS)
        except Exception as exc:
            if not self._is_store_error(exc):
                raise
            raise StoreError(f"redis: {type(exc).__name__}: {exc}") from None
        return None if all(x is None for x in v) else self._record(actor, v, now, tracking)

    def blocked(self, now: float) -> list[ActorRecord]:
        """The blocks this process holds: decided here or learned from the shared store."""
        return self.local.blocked(now)

    def actors(self, now: float, tracking: Tracking, limit: int = 50) -> list[ActorRecord]:
        pattern = f"{_glob_escape(self.ns)}:{{*}}:a"
        records: list[ActorRecord] = []
        try:
            keys: list[str] = []
            for key in self.client.scan_iter(match=pattern, count=1000):
                keys.append(key)
                if len(keys) >= MAX_SCAN:
                    break
            for i in range(0, len(keys), 500):
                chunk = keys[i:i + 500]
                pipe = self.client.pipeline(transaction=False)
                for key in chunk:
                    pipe.hmget(key, *self._FIELDS)
                for key, v in zip(chunk, pipe.execute()):
                    actor = key[len(self.ns) + 2:].split("}", 1)[0]
                    rec = self._record(actor, v, now, tracking)
                    if rec.risk >= 0.01 or rec.blocked_until > now:
                        records.append(rec)
        except Exception as exc:
            if not self._is_store_error(exc):
                raise
            raise StoreError(f"redis: {type(exc).__name__}: {exc}") from None
        return rank_actors(records, now)[:limit]

    def close(self) -> None:
        """Send what is queued (briefly), stop the background thread, close connections."""
        if self.breaker.allow():
            self._flush()
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout=2)
        try:
            self.client.close()
        except Exception:
            pass


def _glob_escape(text: str) -> str:
    return "".join("\\" + c if c in "*?[]\\" else c for c in text)


class RedisProfileStore:
    """ProfileStore in one Redis hash (`<namespace>:{profiles}`): service → document."""

    def __init__(self, client: Any, namespace: str = "extauthz") -> None:
        self.client = client
        self.key = f"{namespace}:{{profiles}}"
        self.versions_key = f"{namespace}:{{profiles}}:v"  # same hash tag: one cluster slot for both

    @classmethod
    def from_settings(cls, settings: RedisSettings) -> "RedisProfileStore":
        # documents are bigger than actor state: a roomier timeout, and bytes stay bytes
        return cls(make_client(settings, decode_responses=False, timeout=max(1.0, settings.timeout)),
                   settings.namespace)

    def _call(self, fn: Any, *args: Any) -> Any:
        import redis
        try:
            return fn(*args)
        except (redis.RedisError, OSError) as exc:
            raise StoreError(f"redis profile store: {type(exc).__name__}: {exc}") from None

    def load(self, service: str) -> bytes | None:
        doc = self._call(self.client.hget, self.key, service)
        return doc.encode("utf-8", "surrogateescape") if isinstance(doc, str) else doc

    def save(self, service: str, document: bytes) -> None:
        self.update(service, lambda _old: document)

    def update(self, service: str, merge: Callable[[bytes | None], bytes], attempts: int = 50) -> bytes:
        """Atomic read-merge-write (WATCH/MULTI): another replica's update in between makes us merge again,
        after a short random pause (so that replicas flushing at once do not starve each other)."""
        import random

        import redis

        def attempt(pipe: Any) -> bytes:
            pipe.watch(self.key)
            old = pipe.hget(self.key, service)
            doc = merge(old.encode("utf-8", "surrogateescape") if isinstance(old, str) else old)
            pipe.multi()
            pipe.hset(self.key, service, doc)
            pipe.hincrby(self.versions_key, service, 1)
            pipe.execute()
            return doc

        for n in range(attempts):
            try:
                with self.client.pipeline() as pipe:
                    return attempt(pipe)
            except redis.WatchError:
                time.sleep(random.uniform(0, 0.002 * (1 + n)))
                continue
            except (redis.RedisError, OSError) as exc:
                raise StoreError(f"redis profile store: {type(exc).__name__}: {exc}") from None
        raise StoreError(f"redis profile store: {service!r} kept changing under {attempts} merges")

    def versions(self) -> dict[str, int]:
        """service -> write counter, so readers can tell which documents changed."""
        raw = self._call(self.client.hgetall, self.versions_key)
        return {(k.decode("utf-8", "replace") if isinstance(k, bytes) else k): int(v) for k, v in raw.items()}

    def services(self) -> list[str]:
        names = self._call(self.client.hkeys, self.key)
        return sorted(n.decode("utf-8", "replace") if isinstance(n, bytes) else n for n in names)

    def close(self) -> None:
        try:
            self.client.close()
        except Exception:
            pass
