"""The store protocols. See extauthz/store/__init__.py for why there are two."""
from __future__ import annotations

from typing import Iterable, Protocol


class StoreError(RuntimeError):
    """The store cannot be used (unreachable, corrupt, newer format); the message says which."""


class StateStore(Protocol):
    """Counters and flags with expiry, keyed by plain strings (already namespaced by the caller)."""

    def add_decaying(self, key: str, points: float, now: float, half_life: float) -> float:
        """Add points to a value that halves every `half_life` seconds; return the new value."""
        ...

    def get_decaying(self, key: str, now: float, half_life: float) -> float: ...

    def hit(self, key: str, now: float, window: float) -> int:
        """Count one event in a sliding window of `window` seconds; return the count in the window."""
        ...

    def set_until(self, key: str, until: float, value: str = "1") -> None:
        """A flag (e.g. a block) that holds until the unix time `until`."""
        ...

    def get_until(self, key: str, now: float) -> tuple[float, str] | None:
        """(until, value) while the flag holds, else None."""
        ...

    def delete(self, key: str) -> None: ...

    def scan(self, prefix: str, limit: int = 1000) -> Iterable[str]:
        """Keys under a prefix (for `extauthz actors` and the admin API), bounded."""
        ...

    def close(self) -> None: ...


class ProfileStore(Protocol):
    """Learned profiles, one opaque versioned document per service."""

    def load(self, service: str) -> bytes | None: ...

    def save(self, service: str, document: bytes) -> None: ...

    def services(self) -> list[str]: ...

    def close(self) -> None: ...
