"""The process runtime: long-lived state that outlives a config reload.

Built once per process by `build_runtime` (the server, eval, benches and tests
all call it); every Engine built from a config (at start and on each reload)
receives it. It holds the stores: the actor state store (risk, rates, blocks)
and, when the behaviour profile is on, the profile store. A reload keeps the
runtime: changing `store:` takes a restart (the server logs that).
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
    profiles: Any = None
    # An endpoint's learned per-client request rate (extauthz.risk.signals.RateBaseline),
    # set by the behaviour profile when it runs; actor risk falls back to a configured rate.
    rate_baseline: Any = None
    extras: dict[str, Any] = field(default_factory=dict)  # other long-lived parts, by name

    def close(self) -> None:
        for part in (self.state, self.profile_store, *self.extras.values()):
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


def build_runtime(config: Config, *, state_dir: str | None = None, actor_state: bool = True) -> ProcessRuntime:
    """The runtime for this process.

    actor_state=False leaves actor tracking out: a replay of labelled corpora
    from one address must judge each request alone (`extauthz eval`).
    state_dir: where embedded stores (the profile store) keep their files.
    """
    state = build_state_store(config.store) if actor_state else None
    rt = ProcessRuntime(config.store, state=state)
    if state is not None:  # the admin API's views (extauthz.admin.providers)
        from extauthz.risk.admin import AdminActors, RiskAdmin
        from extauthz.risk.runtime_lists import RuntimeLists
        rt.actors = AdminActors(RiskAdmin(config, state))
        rt.lists = RuntimeLists(config)
    return rt
