"""The process runtime: long-lived state that outlives a config reload.

Built once per process by `build_runtime` (the server, eval, benches and tests
all call it); every Engine built from a config (at start and on each reload)
receives it. It holds the stores: the actor state store (risk, rates, blocks)
and, when the behaviour profile is on, the profile store and the profiles
learned over it. A reload keeps the runtime: changing `store:`, `state:` or
`profiles:` takes a restart (the server logs that).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from extauthz.config import Config, StoreSettings
from extauthz.store.base import ProfileStore, StateStore

log = logging.getLogger("extauthz.runtime")


@dataclass
class ProcessRuntime:
    store_settings: StoreSettings
    state: StateStore | None = None  # None: this process tracks no actor state (eval, check)
    profile_store: ProfileStore | None = None
    # The admin API (extauthz.admin.providers) looks for `actors`, `lists` and `profiles` here.
    actors: Any = None
    lists: Any = None
    profiles: Any = None  # extauthz.profile.book.ProfileBook: the learned profiles (None: profiles off)
    # An endpoint's learned per-client request rate (extauthz.risk.signals.RateBaseline),
    # set by the behaviour profile when it runs; actor risk falls back to a configured rate.
    rate_baseline: Any = None
    extras: dict[str, Any] = field(default_factory=dict)  # other long-lived parts, by name

    def close(self) -> None:
        # profiles first: closing them writes what was learned, into the profile store
        for part in (self.profiles, self.state, self.profile_store, *self.extras.values()):
            close = getattr(part, "close", None)
            if close is not None:
                try:
                    close()
                except Exception:  # closing must not stop the others from closing
                    log.exception("closing %r failed", part)


def build_state_store(settings: StoreSettings) -> StateStore:
    if settings.backend == "redis":
        from extauthz.store.redis import RedisStateStore
        return RedisStateStore.from_settings(settings.redis, max_local_actors=settings.max_actors)
    from extauthz.store.memory import MemoryStateStore
    return MemoryStateStore(settings.max_actors)


def build_runtime(config: Config, *, state_dir: str | None = None, actor_state: bool = True,
                  learning: bool = True) -> ProcessRuntime:
    """The runtime for this process.

    actor_state=False leaves actor tracking out: a replay of labelled corpora
    from one address must judge each request alone (`extauthz eval`).
    state_dir: where embedded stores (the profile store) keep their files;
    default `state.dir`. learning=False opens learned profiles read-only
    (`eval` and `check` must not change what they measure with).
    """
    rt = ProcessRuntime(config.store)
    if actor_state:
        rt.state = build_state_store(config.store)
        rt.actors, rt.lists = risk_admin_views(config, rt.state)
    from extauthz.profile.book import open_profiles
    open_profiles(rt, config, config.state.dir if state_dir is None else state_dir, learning)
    return rt


def risk_admin_views(config: Config, state: StateStore) -> tuple[Any, Any]:
    """The admin API's views of actor risk (extauthz.admin.providers): actors, run-time lists."""
    from extauthz.risk.admin import AdminActors, RiskAdmin
    from extauthz.risk.runtime_lists import RuntimeLists
    return AdminActors(RiskAdmin(config, state)), RuntimeLists(config)


def attach_risk_parts(runtime: Any, config: Config) -> tuple[StateStore, Any]:
    """For a runtime with named parts (`runtime.part(name, build)`): the state store and the
    admin views as its parts `state`, `actors` and `lists`, built once per process."""
    state = runtime.part("state", lambda rt: build_state_store(config.store))
    views = runtime.part("_risk_views", lambda rt: risk_admin_views(config, state))
    runtime.part("actors", lambda rt: views[0])
    lists = runtime.part("lists", lambda rt: views[1])
    return state, lists
