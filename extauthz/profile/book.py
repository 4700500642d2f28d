"""ProfileBook: the learned profiles of one process, and their way to and from the store.

Checks read *live* profiles: immutable ServiceProfile objects, replaced whole,
so reading needs no lock. Learning writes into a small per-service *delta*
under a lock. A background thread (every `flush_seconds`, and on close)
merges each delta into the stored document with one atomic read-merge-write
(ProfileStore.update), and publishes the merged result as the new live
profile. Several worker processes (or replicas on a shared Redis store) thus
each learn locally and add up through the store: the documents are mergeable
summaries (extauthz.profile.model), so no worker's learning overwrites
another's. A store that can list document versions (SQLite can) also lets a
worker pick up what the others merged without learning anything itself.

One book lives in the Runtime (extauthz.runtime), so it survives config
reloads: a reload builds a new Engine and a new ProfileStage over the same book.
"""
from __future__ import annotations

import logging
import threading
import time
import zlib
from typing import Callable

from extauthz.config import Config, ProfilePolicy
from extauthz.profile.document import DocumentError, decode, encode
from extauthz.profile.examine import Observation
from extauthz.profile.model import EndpointStats, LearnLimits, ParamStats, ServiceProfile, _add_bounded
from extauthz.profile.rates import RateBaseline, RateTracker
from extauthz.request import Request
from extauthz.risk.identity import client_ip
from extauthz.store.base import ProfileStore, StoreError

log = logging.getLogger("extauthz.profile")
MATURE = 1000  # requests learned by an endpoint before its ordinary requests are sampled
SAMPLE_EVERY = 4


def open_profiles(runtime, config: Config, state_dir: str, learning: bool) -> None:
    """Put the process's ProfileBook into the runtime (`runtime.profiles`).

    The store: Redis when `store.backend` is redis (shared by replicas), else
    SQLite in the state directory, else none (memory only). A stored profile
    that cannot be read stops the start (StoreError); a Redis that cannot be
    reached does not: the book starts empty and adds up with the store once it
    is back (merges never overwrite what is stored).
    """
    if all(pol.profile.mode == "off" for pol in (config.defaults, *config.services.values())):
        return
    s = config.profiles
    limits = LearnLimits(max_endpoints=s.max_endpoints, max_params=s.max_params, max_headers=s.max_headers,
                         max_literals=s.max_literals)
    store: ProfileStore | None = None
    if config.store.backend == "redis":
        from extauthz.store.redis import RedisProfileStore
        store = RedisProfileStore.from_settings(config.store.redis)
        where = f"redis profile store ({config.store.redis.namespace})"
    elif state_dir:
        from extauthz.store.sqlite import SqliteProfileStore
        store = SqliteProfileStore.in_dir(state_dir, read_only=not learning)
        where = str(store.path)
    else:
        where = "memory"
        if learning:
            log.warning("state.dir is not set: learned profiles live in memory and are lost at restart")
    book = ProfileBook(store, limits, learning=learning, flush_seconds=config.state.flush_seconds,
                       max_services=s.max_services, client_share=s.client_share, where=where)
    try:
        book.load()
    except StoreError as exc:
        if config.store.backend != "redis" or isinstance(exc, UnreadableProfile):
            if store is not None:
                store.close()
            raise
        log.error("profiles could not be loaded from %s (%s); starting without them until it answers", where, exc)
    runtime.profile_store = store
    runtime.profiles = book  # also the risk stage's learned rate baseline (book.rate_baseline)


class UnreadableProfile(StoreError):
    """A stored profile that does not decode (corrupt, or from a newer extauthz): never overwritten."""


def client_of(request: Request, caller: str = "", trusted_hops: int = 0) -> int | None:
    """A stable, non-reversible id of the client: the calling workload (its service or mTLS
    principal, the same on its outbound and the callee's inbound hop), else its address: the
    same address actor risk uses (`risk.xff_trusted_hops`), so that behind trusted proxies
    every client is not the proxy, as one client that could never confirm a new endpoint."""
    who = caller or request.source.principal or client_ip(request, trusted_hops)
    return zlib.crc32(who.encode("utf-8", "replace")) if who else None


class ProfileBook:
    def __init__(self, store: ProfileStore | None = None, limits: LearnLimits = LearnLimits(), *,
                 learning: bool = True, flush_seconds: float = 10.0, max_services: int = 1000,
                 client_share: float = 0.1, client_floor: int = 20, where: str = "",
                 clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self.limits = limits
        self.learning = learning
        self.flush_seconds = flush_seconds
        self.max_services = max_services
        self.client_share = client_share
        self.client_floor = client_floor
        self.where = where or "in memory"
        self.clock = clock
        self._live: dict[str, ServiceProfile] = {}
        self._deltas: dict[str, ServiceProfile] = {}
        self._rates: dict[tuple[str, str, str], RateTracker] = {}
        self._versions: dict[str, int] = {}
        self._gate: dict[tuple[str, str, str], int] = {}  # flagged new endpoint -> first client
        # new endpoints two clients confirmed, until the next flush brings them into the live profile
        self._confirmed: set[tuple[str, str, str]] = set()
        self._ticks: dict[tuple[str, str, str], int] = {}  # ordinary requests per mature endpoint
        self._lock = threading.Lock()
        self._flush_lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._closed = False
        # `extauthz learn` turns both off: a corpus is learned whole, and merged once at the end
        self.sampling = True
        self.background = True
        # the current config's view (ProfileStage.follow): policy per service, alias -> service
        self.policy_of: Callable[[str], ProfilePolicy] = lambda service: ProfilePolicy()
        self.aliases: dict[str, str] = {}
        self.dropped_services = 0  # requests of services beyond max_services
        self.learned = 0  # requests learned since start
        self.flush_errors = 0

    # ------------------------------------------------------------ reading

    def live(self, service: str) -> ServiceProfile | None:
        return self._live.get(service)

    def services(self) -> list[str]:
        return sorted(self._live)

    def follow(self, config: Config, aliases: dict[str, str]) -> None:
        """Take the policies and aliases of a (re)loaded config (the book itself outlives configs)."""
        self.policy_of = lambda service: config.services.get(service, config.defaults).profile
        self.aliases = aliases

    # ------------------------------------------------------------ the admin API (ProfileAdmin)

    def profile_services(self) -> list[str]:
        return self.services()

    def profile(self, service: str) -> dict | None:
        """What `extauthz profile show SERVICE --json` prints, under the latest config's policy."""
        from extauthz.profile.report import describe

        live = self._live.get(service)
        return describe(live, self.policy_of(service)) if live is not None else None

    def rate_baseline(self, service: str, method: str, path: str) -> RateBaseline | None:
        """The learned per-client and total request rate of the endpoint a request goes to.

        For the risk stage (extauthz.risk.signals.LearnedBaseline):
        `book.rate_baseline(req.service, req.method, req.path)`; the service may
        be any alias of a configured one. None when the endpoint has no rate history yet.
        """
        live = self._live.get(self.aliases.get(service, service))
        if live is None:
            return None
        rate = live.rates.get((method, live.template_of(path)))
        return RateBaseline(*rate) if rate is not None else None

    # ------------------------------------------------------------ loading

    def load(self) -> None:
        """Read every stored profile; a corrupt or newer document stops the start (StoreError)."""
        if self.store is None:
            return
        for service in self.store.services():
            doc = self.store.load(service)
            if doc is None:
                continue
            try:
                self._live[service] = decode(doc, service)
            except DocumentError as exc:
                raise UnreadableProfile(f"{self.where}: {exc}. The document is kept as it is; move the state "
                                        f"aside to start without learned profiles.") from None
        self._versions = self._store_versions() or {}

    def _store_versions(self) -> dict[str, int] | None:
        versions = getattr(self.store, "versions", None)
        return versions() if versions is not None else None

    # ------------------------------------------------------------ learning (hot path)

    def learn(self, obs: Observation, now: float) -> bool:
        """Add one clean request to the service's delta. False when caps or the client's share refused it."""
        if not self.learning:
            return False
        if self._thread is None and self.background:
            self.start()
        limits = self.limits
        service = obs.service
        with self._lock:
            delta = self._deltas.get(service)
            live = self._live.get(service)
            if delta is None:
                if live is None and len(self._live) + len(self._deltas) >= self.max_services:
                    self.dropped_services += 1
                    return False
                delta = self._deltas[service] = ServiceProfile(service)
            key = (obs.method, obs.template)
            live_ep = live.endpoints.get(key) if live is not None else None
            ep = delta.endpoints.get(key)
            if obs.gated and ep is None and not self._through_gate(obs):
                return False
            if ep is None:
                if live_ep is None and (len(live.endpoints) if live else 0) + len(delta.endpoints) \
                        >= limits.max_endpoints:
                    delta.endpoint_overflow += 1
                    return False
                ep = delta.endpoints[key] = EndpointStats()
            tracker = self._rates.get((service, obs.method, obs.template))
            if tracker is None:
                tracker = self._rates[(service, obs.method, obs.template)] = RateTracker()
            tracker.hit(obs.client, now)  # rates count every clean request, over its share or not
            if not obs.sampled and not obs.anomalous:
                return False
            confirm = self._admit(obs.client, ep, live_ep)
            if confirm is False:
                ep.refused += 1
                return False
            delta.n += 1
            ep.n += 1
            if live_ep is None and ep.n == 1:
                delta.new_endpoint_at = delta.n
            grew, dropped = self._learn_values(ep.params, live_ep.params if live_ep else None, obs.params,
                                               confirm, limits.max_params, count_presence=True)
            ep.param_overflow += dropped
            if grew:
                ep.changed = ep.n
            if ep.ctypes is not None and obs.ctype not in ep.ctypes:
                if live_ep is None or live_ep.ctypes is None or obs.ctype not in live_ep.ctypes:
                    ep.changed = ep.n
                ep.ctypes = _add_bounded(ep.ctypes, obs.ctype, 1, limits.max_ctypes)
            elif ep.ctypes is not None:
                ep.ctypes[obs.ctype] += 1
            if obs.body_size < ep.bmin:
                ep.bmin = obs.body_size
            if obs.body_size > ep.bmax:
                ep.bmax = obs.body_size
            caller = obs.caller
            if caller:
                if ep.callers is not None and caller not in ep.callers and (
                        live_ep is None or live_ep.callers is None or caller not in live_ep.callers):
                    ep.changed = ep.n
                ep.callers = _add_bounded(ep.callers, caller, 1, limits.max_callers)
                if delta.callers is not None and caller not in delta.callers and not obs.caller_known:
                    delta.new_caller_at = delta.n
                delta.callers = _add_bounded(delta.callers, caller, 1, 2 * limits.max_callers)
            _, dropped = self._learn_values(delta.headers, live.headers if live else None, obs.headers, confirm,
                                            limits.max_headers, count_presence=False)
            delta.header_overflow += dropped
            self.learned += 1
        return True

    def sample(self, service: str, method: str, tpl: str, ep: EndpointStats) -> bool:
        """Learn this ordinary request? Every one until an endpoint has MATURE requests learned,
        then 1 in SAMPLE_EVERY: its model no longer moves with them, and learning is most of
        the per-request cost. A request that shows anything new is learned regardless."""
        if ep.n < MATURE or not self.sampling:
            return True
        key = (service, method, tpl)
        tick = self._ticks.get(key, 0) + 1
        if len(self._ticks) >= 8192:
            self._ticks.clear()
        self._ticks[key] = tick
        return tick % SAMPLE_EVERY == 0

    def _through_gate(self, obs: Observation) -> bool:
        """A flagged new endpoint is learned once a second client has used it cleanly."""
        if obs.client is None:
            return True
        key = (obs.service, obs.method, obs.template)
        first = self._gate.get(key)
        if first is None:
            if len(self._gate) < 4096:
                self._gate[key] = obs.client
            return False
        if first == obs.client:
            return False
        del self._gate[key]
        if len(self._confirmed) < 4096:
            self._confirmed.add(key)
        return True

    def confirmed(self, service: str, method: str, template: str) -> bool:
        """A new endpoint (or method) two clients used cleanly: not flagged while it waits for the
        next flush to join the live profile (else its users would be denied until then)."""
        return (service, method, template) in self._confirmed

    def _admit(self, client: int | None, ep: EndpointStats, live_ep: EndpointStats | None) -> int | None | bool:
        """The training share cap. False: refused; else the client to confirm new features with (or None)."""
        if client is None:
            return None
        own = ep.clients.get(client, 0)
        total = ep.n
        distinct = len(ep.clients)
        if live_ep is not None:
            own += live_ep.clients.get(client, 0)
            total += live_ep.n
            distinct = max(distinct, len(live_ep.clients))  # heavy-hitter tables: an estimate
        if not own:
            distinct += 1
        share = max(self.client_share, 1.0 / distinct)
        if own >= self.client_floor and own >= share * (total + 1):
            return False
        ep.count_client(client, self.limits)
        return client if distinct >= 2 else None

    def _learn_values(self, table: dict[str, ParamStats], live_table: dict[str, ParamStats] | None,
                      items: list, confirm: int | None, cap: int, count_presence: bool) -> tuple[bool, int]:
        """Learn observed values into a delta table: (the model grew, values dropped by the cap)."""
        limits = self.limits
        grew = False
        dropped = 0
        seen: set[str] = set()
        for key, _loc, value, feats, shp, enc in items:
            p = table.get(key)
            live_p = live_table.get(key) if live_table is not None else None
            if p is None:
                if len(table) >= cap:
                    dropped += 1
                    continue
                p = table[key] = ParamStats()
                if live_p is None:
                    grew = True
                else:
                    if live_p.values is None:
                        p.values = None
                    if live_p.shapes is None:
                        p.shapes = None
            if p.learn(value, feats, shp, enc, confirm, limits, live_p):
                grew = True
            if count_presence and key not in seen:
                seen.add(key)
                p.present += 1
        return grew, dropped

    # ------------------------------------------------------------ merging (background)

    def flush(self) -> int:
        """Merge every delta into the store and the live profiles; returns how many services changed."""
        with self._flush_lock:
            now = self.clock()
            with self._lock:
                deltas, self._deltas = self._deltas, {}
                for (service, method, tpl), tracker in self._rates.items():
                    window = tracker.take_window(now)
                    if window is not None:
                        delta = deltas.get(service)
                        if delta is None:
                            delta = deltas[service] = ServiceProfile(service)
                        delta.rates[(method, tpl)] = window
                self._rates = {k: t for k, t in self._rates.items() if t.minute >= int(now // 60) - 1}
            changed = 0
            for service, delta in deltas.items():
                delta.updated = now
                try:
                    self._live[service] = self._merged(service, delta)
                    changed += 1
                except (StoreError, DocumentError, OSError) as exc:
                    self.flush_errors += 1
                    log.error("profile of %r not saved (%s): %s; what it learned since the last flush is lost",
                              service, self.where, exc)
            with self._lock:  # confirmed endpoints now in the live profile need no more exception
                self._confirmed = {k for k in self._confirmed
                                   if k[0] not in self._live or (k[1], k[2]) not in self._live[k[0]].endpoints}
            self._refresh(set(deltas))
            return changed

    def _merged(self, service: str, delta: ServiceProfile) -> ServiceProfile:
        limits = self.limits
        if self.store is None:
            live = self._live.get(service)
            base = decode(encode(live)) if live is not None else ServiceProfile(service)
            base.merge(delta, limits)
            return base

        def combine(old: bytes | None) -> bytes:
            base = decode(old, service) if old else ServiceProfile(service)
            base.merge(delta, limits)
            return encode(base)

        return decode(self.store.update(service, combine), service)

    def _refresh(self, just_written: set[str]) -> None:
        """Pick up documents other workers merged since we last looked (stores that list versions)."""
        versions = self._store_versions() if self.store is not None else None
        if versions is None:
            return
        for service, version in versions.items():
            if self._versions.get(service) != version and service not in just_written:
                doc = self.store.load(service)
                if doc is not None:
                    try:
                        self._live[service] = decode(doc, service)
                    except DocumentError as exc:
                        log.error("profile of %r in %s not reloaded: %s", service, self.where, exc)
        self._versions = versions

    # ------------------------------------------------------------ lifecycle

    def start(self) -> None:
        if self._thread is None and self.learning and self.background and not self._stop.is_set():
            self._thread = threading.Thread(target=self._run, name="profile-flush", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.flush_seconds):
            try:
                self.flush()
            except Exception:  # the flusher must outlive any one bad flush
                log.exception("profile flush failed")

    def close(self) -> None:
        """Stop the flusher and write what was learned (the runtime closes the store after this)."""
        self._stop.set()
        thread, self._thread = self._thread, None
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=30)
        if self.learning and not self._closed:
            self._closed = True
            self.flush()

