"""Allow and deny lists: CIDRs, mTLS principals, user-agent globs; global or per service.

User-agent patterns are globs (`*` = any text), matched with plain string
searches in linear time: no regular expression ever runs on request data.
Precedence: a service's own lists before the global ones; within one level,
deny wins over allow. Every hit says which list and which entry.
"""
from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Mapping

from extauthz.config import ActorList, ConfigError, ListSettings
from extauthz.store.base import ActorLabel

MAX_UA_MATCH = 1024  # characters of User-Agent matched against patterns


@dataclass(frozen=True, slots=True)
class Glob:
    """A case-insensitive `*` glob, compiled to its literal pieces."""

    text: str
    pieces: tuple[str, ...]

    @classmethod
    def of(cls, pattern: str) -> "Glob":
        return cls(pattern, tuple(pattern.lower().split("*")))

    def matches(self, value: str) -> bool:
        v = value.lower()
        pieces = self.pieces
        if len(pieces) == 1:
            return v == pieces[0]
        first, last = pieces[0], pieces[-1]
        if len(v) < len(first) + len(last) or not v.startswith(first) or not v.endswith(last):
            return False
        pos, end = len(first), len(v) - len(last)
        for piece in pieces[1:-1]:  # leftmost match of each piece is always right for `*`-only globs
            if piece:
                found = v.find(piece, pos, end)
                if found < 0:
                    return False
                pos = found + len(piece)
        return True


@dataclass(frozen=True, slots=True)
class ListHit:
    verdict: str  # "allow" | "deny"
    where: str  # "global", "service <name>", or "admin API" (run-time entries)
    entry: str  # e.g. "cidr 203.0.113.0/24"

    @property
    def reason(self) -> str:
        return f"{self.verdict} list ({self.where}): {self.entry}"


class CompiledList:
    def __init__(self, spec: ActorList) -> None:
        self.v4: list[tuple[int, int, str]] = []
        self.v6: list[tuple[int, int, str]] = []
        for c in spec.cidrs:
            net = ipaddress.ip_network(c, strict=False)
            (self.v4 if net.version == 4 else self.v6).append(
                (int(net.network_address), int(net.netmask), str(net)))
        self.principals_exact = frozenset(p for p in spec.principals if not p.endswith("*"))
        self.principal_prefixes = tuple(p[:-1] for p in spec.principals if p.endswith("*"))
        self.user_agents = tuple(Glob.of(p) for p in spec.user_agents)
        self.empty = not (self.v4 or self.v6 or spec.principals or spec.user_agents)

    def match(self, label: ActorLabel, ip_int: tuple[int, int] | None) -> str:
        """The matching entry's description, or ''."""
        if ip_int is not None:
            version, value = ip_int
            for net, mask, text in (self.v4 if version == 4 else self.v6):
                if value & mask == net:
                    return f"cidr {text}"
        p = label.principal
        if p:
            if p in self.principals_exact:
                return f"principal {p}"
            for prefix in self.principal_prefixes:
                if p.startswith(prefix):
                    return f"principal {prefix}*"
        ua = label.user_agent[:MAX_UA_MATCH]
        if ua:
            for g in self.user_agents:
                if g.matches(ua):
                    return f"user-agent {g.text}"
        return ""


class ActorLists:
    """All lists of a configuration, compiled once per Engine."""

    def __init__(self, settings: ListSettings, services: Mapping[str, object]) -> None:
        self.levels: dict[str, tuple[CompiledList, CompiledList]] = {}
        for name in settings.services:
            if name not in services:
                known = ", ".join(sorted(services)) or "none"
                raise ConfigError(f"no service named {name!r} (services: {known})", f"lists.services.{name}")
        for name, sl in settings.services.items():
            self.levels[name] = (CompiledList(sl.deny), CompiledList(sl.allow))
        self.global_ = (CompiledList(settings.deny), CompiledList(settings.allow))
        self.empty = all(d.empty and a.empty for d, a in [self.global_, *self.levels.values()])

    def lookup(self, policy: str, label: ActorLabel) -> ListHit | None:
        if self.empty:
            return None
        ip_int = _ip_int(label.ip)
        for where, pair in ((f"service {policy}", self.levels.get(policy)), ("global", self.global_)):
            if pair is None:
                continue
            for verdict, lst in zip(("deny", "allow"), pair):
                if not lst.empty:
                    entry = lst.match(label, ip_int)
                    if entry:
                        return ListHit(verdict, where, entry)
        return None


def _ip_int(ip: str) -> tuple[int, int] | None:
    if not ip:
        return None
    try:
        addr = ipaddress.ip_address(ip)
    except ValueError:
        return None
    return addr.version, int(addr)
