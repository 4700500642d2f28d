"""The process-wide Runtime: long-lived state that outlives any one Engine.

A config reload builds a new Engine and swaps it in; what the stages learned
(profiles, risk, rates) must not go with the old Engine. So each stage keeps
that state in a named *part* of the Runtime, created on first use by the stage
factory and shared by every later Engine of the process:

    book = runtime.part("profiles", open_profile_book)

Parts are also attributes (`runtime.profiles`), which is how the admin API
finds the ones it serves (extauthz/admin/providers.py: actors, lists, profiles);
an attribute for a part not built (yet) is None.

`build_runtime` is the one place a process creates its Runtime (the server once
at start, `eval` and `check` read-only, `learn` for bootstrapping); closing it
closes every part in reverse order of creation (flushing what they hold).
Settings a part reads when it is created (state.dir, profiles.*) therefore need
a restart to change; per-service policy settings apply at the next reload.
"""
from __future__ import annotations

import threading
from typing import Any, Callable, TypeVar

from extauthz.config import Config

T = TypeVar("T")


class EngineRuntime:
    def __init__(self, config: Config, *, state_dir: str | None = None, learning: bool = True) -> None:
        self.config = config  # the config the runtime was built with (parts read it once)
        self.state_dir = config.state.dir if state_dir is None else state_dir
        self.learning = learning  # False: read learned state, never change it (eval, check)
        self._parts: dict[str, Any] = {}
        self._lock = threading.Lock()
        self._closed = False

    def part(self, name: str, build: Callable[["EngineRuntime"], T]) -> T:
        """The part called `name`, built by `build(runtime)` the first time it is asked for."""
        with self._lock:
            if name not in self._parts:
                if self._closed:
                    raise RuntimeError("runtime is closed")
                self._parts[name] = build(self)
            return self._parts[name]

    def has(self, name: str) -> bool:
        return name in self._parts

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return self.__dict__.get("_parts", {}).get(name)

    def close(self) -> None:
        with self._lock:
            parts, self._parts = list(self._parts.values()), {}
            self._closed = True
        for part in reversed(parts):
            close = getattr(part, "close", None)
            if close is not None:
                close()


def build_runtime(config: Config, *, state_dir: str | None = None, learning: bool = True) -> EngineRuntime:
    """The Runtime of a process. `state_dir` overrides `state.dir`; learning=False opens state read-only."""
    return EngineRuntime(config, state_dir=state_dir, learning=learning)
