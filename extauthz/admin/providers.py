"""What the admin API needs from the parts that own actors, lists and profiles.

The admin API finds these on the engine's Runtime (extauthz.engine.Runtime) as
attributes `actors`, `lists` and `profiles`; while a part is missing, its
endpoints answer 501 with a message saying so. Implementations return plain
JSON-able values (dicts, lists, str, numbers).
"""
from __future__ import annotations

from typing import Any, Protocol


class AdminError(Exception):
    """A request the admin API refuses; becomes a JSON error with this status."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class ActorAdmin(Protocol):
    """Actor risk (issue 5): who is risky, who is blocked."""

    def list_actors(self, limit: int, blocked_only: bool) -> list[dict[str, Any]]:
        """Actors by descending risk: {"actor", "risk", "blocked_until" (unix time or null), ...}."""
        ...

    def block(self, actor: str, seconds: float, reason: str) -> dict[str, Any]:
        """Block until now + seconds; returns the actor's entry."""
        ...

    def unblock(self, actor: str) -> bool:
        """True when the actor was blocked."""
        ...


class ListAdmin(Protocol):
    """Allow/deny lists (issue 5). Names: "allow", "deny"."""

    def get_lists(self) -> dict[str, list[dict[str, Any]]]: ...

    def add_entries(self, name: str, entries: list[str], reason: str, seconds: float | None) -> list[dict[str, Any]]:
        """Entries are actors, CIDRs or principals (the lists' owner validates; ValueError = bad entry)."""
        ...

    def remove_entries(self, name: str, entries: list[str]) -> int:
        """How many were removed."""
        ...


class ProfileAdmin(Protocol):
    """Learned behaviour profiles per service (issue 4)."""

    def profile_services(self) -> list[str]: ...

    def profile(self, service: str) -> dict[str, Any] | None: ...
