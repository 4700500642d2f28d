"""The store protocols. See extauthz/store/__init__.py for why there are two.

The state store speaks in actors, not in generic keys: one check needs an
actor's block, risk, rate, timing and distinct paths together, and the only way
to get all that in one Redis round trip (one script) and in a few microseconds
in-process (one dict lookup) is to ask for them together.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Protocol

LN2 = math.log(2)


class StoreError(RuntimeError):
    """The store cannot be used (unreachable, corrupt, newer format); the message says which."""


@dataclass(frozen=True, slots=True)
class Tracking:
    """How actor state evolves over time (from the `risk:` config)."""

    risk_half_life: float = 300.0
    rate_half_life: float = 10.0
    path_window: float = 60.0

    @property
    def idle_ttl(self) -> float:
        """An idle actor's state is dropped once its risk has decayed below 1/256 of itself."""
        return 8 * max(self.risk_half_life, self.rate_half_life, self.path_window)


@dataclass(frozen=True, slots=True)
class BlockRule:
    """When risk blocks an actor, and for how long (repeat offenders longer)."""

    threshold: float = 30.0
    seconds: float = 600.0
    repeat_factor: float = 2.0
    max_seconds: float = 86400.0
    offence_memory: float = 86400.0

    def duration(self, offences: int) -> float:
        """Block length for the n-th offence (1 = first)."""
        n = min(max(0, offences - 1), 64)  # 64 doublings exceed any sane maximum; no float overflow
        return min(self.max_seconds, self.seconds * self.repeat_factor ** n)


@dataclass(frozen=True, slots=True)
class ActorLabel:
    """What an operator sees of an actor. Credentials appear only as hashes."""

    ip: str = ""
    principal: str = ""
    user_agent: str = ""
    credential: str = ""  # "api_key:<hash>" or "jwt:<hash of subject>"

    def as_dict(self) -> dict:
        return {"ip": self.ip, "principal": self.principal, "user_agent": self.user_agent,
                "credential": self.credential}


@dataclass(frozen=True, slots=True)
class ActorView:
    """An actor's state as one check sees it (after counting this request)."""

    risk: float = 0.0
    blocked_until: float = 0.0
    cause: str = ""  # finding class that caused the block (or "manual")
    offences: int = 0  # blocks so far (within offence memory), this one included
    rate: float = 0.0  # requests per second, exponentially averaged
    samples: int = 0  # intervals between requests seen
    interval_mean: float = 0.0  # seconds, exponentially averaged
    interval_dev: float = 0.0  # mean absolute deviation of the intervals
    distinct_paths: int = 0  # in the current path window

    def blocked(self, now: float) -> bool:
        return self.blocked_until > now


@dataclass(frozen=True, slots=True)
class RiskChange:
    risk: float  # after the change
    blocked_until: float  # 0 when not blocked
    offences: int
    newly_blocked: bool


@dataclass(frozen=True, slots=True)
class ActorRecord:
    """One actor for `extauthz actors` and the admin API."""

    id: str
    label: ActorLabel
    risk: float
    blocked_until: float
    cause: str
    offences: int
    last_seen: float

    def as_dict(self, now: float) -> dict:
        return {"id": self.id, **self.label.as_dict(), "risk": round(self.risk, 2),
                "blocked": self.blocked_until > now,
                "blocked_until": self.blocked_until if self.blocked_until > now else None,
                "block_remaining_s": round(max(0.0, self.blocked_until - now), 1),
                "cause": self.cause, "offences": self.offences, "last_seen": self.last_seen}


def decayed(value: float, since: float, now: float, half_life: float) -> float:
    if now <= since or not value:
        return value
    return value * 2.0 ** (-(now - since) / half_life)


class StateStore(Protocol):
    """Actor state with expiry: risk, block, request rate, timing, distinct paths.

    `touch` is the one call on every check (one round trip); `add_risk` follows
    a verdict with findings. Implementations: MemoryStateStore (per process),
    RedisStateStore (shared; goes on with local state during an outage).
    """

    def touch(self, actor: str, now: float, path: str, tracking: Tracking) -> ActorView:
        """Count one request by `actor` to `path` and return its state."""
        ...

    def add_risk(self, actor: str, now: float, points: float, cause: str, label: ActorLabel,
                 tracking: Tracking, rule: BlockRule) -> RiskChange:
        """Add risk points; block the actor when its risk reaches the rule's threshold."""
        ...

    def set_block(self, actor: str, now: float, until: float, cause: str, label: ActorLabel,
                  tracking: Tracking) -> None:
        """Block by hand (admin API); counts as an offence."""
        ...

    def clear(self, actor: str, now: float) -> bool:
        """Unblock and forget the actor's risk (offences are kept); False if unknown."""
        ...

    def get(self, actor: str, now: float, tracking: Tracking) -> ActorRecord | None: ...

    def actors(self, now: float, tracking: Tracking, limit: int = 50) -> list[ActorRecord]:
        """The riskiest actors first (blocked ones before all others), bounded."""
        ...

    def close(self) -> None: ...


class ProfileStore(Protocol):
    """Learned profiles, one opaque versioned document per service."""

    def load(self, service: str) -> bytes | None: ...

    def save(self, service: str, document: bytes) -> None: ...

    def update(self, service: str, merge: Callable[[bytes | None], bytes]) -> bytes:
        """Atomically replace the document with merge(current document or None); return the new one.

        How several workers and replicas add up what each learned: read, merge
        and write must not interleave with another update of the same service
        (SQLite: BEGIN IMMEDIATE; Redis: WATCH/MULTI with retry). `merge` may
        run more than once when a store retries.
        """
        ...

    def services(self) -> list[str]: ...

    def close(self) -> None: ...
