"""Shared state behind one small interface: risk, rates, blocks, learned profiles.

Two protocols, because the two kinds of state live differently:

- StateStore: hot-path counters with expiry (actor risk, request rates, blocks).
  Called during checks; must answer in microseconds in-process and in at most
  one pipelined round trip with Redis; on a store outage, callers go on with
  local state.
- ProfileStore: learned behaviour profiles, written in the background and
  loaded at start. Embedded SQLite by default (a state directory), Redis when
  several replicas share what they learn.

Implementations: extauthz/store/memory.py (in-process, the default state store),
extauthz/store/sqlite.py (embedded profile store), extauthz/store/redis.py
(both protocols, for several workers or replicas).
"""
from __future__ import annotations

from extauthz.store.base import (ActorLabel, ActorRecord, ActorView, BlockRule, ProfileStore, RiskChange, StateStore,
                                  StoreError, Tracking)

__all__ = ["ActorLabel", "ActorRecord", "ActorView", "BlockRule", "ProfileStore", "RiskChange", "StateStore",
           "StoreError", "Tracking"]
