"""The Python API over actor state and lists: the `actors` command and the admin API use it.

    admin = RiskAdmin(config, runtime.state)      # in the server: the running runtime's store
    admin.top(limit=20)                           # riskiest actors, blocked first
    admin.block(actor_id, seconds=3600)           # by hand (counts as an offence)
    admin.block_identity(ip="203.0.113.9")        # the actor those keys name under risk.actor_keys
    admin.unblock(actor_id)                       # unblock and forget its risk
    admin.lists()                                 # the configured allow/deny lists

With the in-process store each serving process (each --workers process) has
its own actors, so only that process's admin API can show or change them; with
Redis any process, and the `actors` command, sees and changes the shared state.
Times come from the clock given (the engine's clock), so tests can control them.
"""
from __future__ import annotations

import dataclasses
import time
from typing import Callable

from extauthz.config import Config
from extauthz.request import Hop, Peer, Request
from extauthz.risk.identity import ActorIdentifier
from extauthz.risk.stage import tracking_of
from extauthz.store.base import ActorLabel, ActorRecord, StateStore


class RiskAdmin:
    def __init__(self, config: Config, store: StateStore, clock: Callable[[], float] = time.time) -> None:
        self.config = config
        self.store = store
        self.clock = clock
        self.tracking = tracking_of(config)
        self.identifier = ActorIdentifier(config.risk)

    def top(self, limit: int = 20) -> list[ActorRecord]:
        return self.store.actors(self.clock(), self.tracking, limit)

    def get(self, actor_id: str) -> ActorRecord | None:
        return self.store.get(actor_id, self.clock(), self.tracking)

    def actor_id(self, ip: str = "", principal: str = "", user_agent: str = "", api_key: str = "",
                 jwt_subject: str = "") -> str:
        """The id of the actor these values name, under the configured actor keys."""
        headers: dict[str, tuple[str, ...]] = {}
        if user_agent:
            headers["user-agent"] = (user_agent,)
        if api_key and self.config.risk.api_key_headers:
            headers[self.config.risk.api_key_headers[0].lower()] = (api_key,)
        ident = self.identifier
        if jwt_subject:  # the subject itself, as identify() would hash it from a token
            ident = _SubjectIdentifier(self.config, jwt_subject)
        request = Request(headers=headers, hop=Hop.EDGE, source=Peer(ip, 0, principal))
        return ident.identify(request).id

    def block(self, actor_id: str, seconds: float | None = None, label: ActorLabel = ActorLabel()) -> ActorRecord:
        now = self.clock()
        until = now + (seconds if seconds is not None else self.config.risk.block_seconds)
        self.store.set_block(actor_id, now, until, "manual", label, self.tracking)
        rec = self.get(actor_id)
        assert rec is not None
        return rec

    def block_identity(self, seconds: float | None = None, **keys: str) -> ActorRecord:
        label = ActorLabel(keys.get("ip", ""), keys.get("principal", ""), keys.get("user_agent", ""))
        return self.block(self.actor_id(**keys), seconds, label)

    def unblock(self, actor_id: str) -> bool:
        return self.store.clear(actor_id, self.clock())

    def lists(self) -> dict:
        return dataclasses.asdict(self.config.lists)

    def as_json(self, records: list[ActorRecord]) -> list[dict]:
        now = self.clock()
        return [r.as_dict(now) for r in records]


class _SubjectIdentifier(ActorIdentifier):
    def __init__(self, config: Config, subject: str) -> None:
        super().__init__(config.risk)
        self.subject = subject

    def credential(self, request: Request) -> str:
        from extauthz.risk.identity import credential_hash
        return credential_hash("jwt", self.subject) if self.use_jwt else super().credential(request)


class AdminActors:
    """The admin API's ActorAdmin (extauthz.admin.providers) over RiskAdmin.

    An `actor` is an actor id (as listed), a client address, or a principal;
    addresses and principals name the actor they identify under risk.actor_keys.
    """

    def __init__(self, admin: RiskAdmin) -> None:
        self.admin = admin

    def _id(self, actor: str) -> tuple[str, ActorLabel]:
        from extauthz.risk.identity import normalize_ip
        actor = actor.strip()
        if len(actor) == 20 and all(c in "0123456789abcdef" for c in actor):
            return actor, ActorLabel()
        ip = normalize_ip(actor)
        if ip:
            return self.admin.actor_id(ip=ip), ActorLabel(ip=ip)
        if "://" in actor or "/" in actor:
            return self.admin.actor_id(principal=actor), ActorLabel(principal=actor)
        raise ValueError(f"{actor!r}: not an actor id, a client address or a principal")

    def _entry(self, rec: ActorRecord) -> dict:
        return {"actor": rec.id, **rec.as_dict(self.admin.clock())}

    def blocked_count(self) -> int:
        """Actors this process holds as blocked, from the store's index of blocks (no pass over all actors)."""
        return len(self.admin.store.blocked(self.admin.clock()))

    def list_actors(self, limit: int, blocked_only: bool) -> list[dict]:
        records = self.admin.top(max(limit, 1000) if blocked_only else limit)
        now = self.admin.clock()
        if blocked_only:
            records = [r for r in records if r.blocked_until > now]
        return [self._entry(r) for r in records[:limit]]

    def block(self, actor: str, seconds: float, reason: str) -> dict:
        actor_id, label = self._id(actor)
        return self._entry(self.admin.block(actor_id, seconds, label))

    def unblock(self, actor: str) -> bool:
        try:
            actor_id, _ = self._id(actor)
        except ValueError:
            return False
        rec = self.admin.get(actor_id)
        if rec is None or rec.blocked_until <= self.admin.clock():
            return False
        return self.admin.unblock(actor_id)
