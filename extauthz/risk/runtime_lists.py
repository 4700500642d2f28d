"""Allow/deny entries added at run time (the admin API), on top of the configured lists.

Entries are client addresses or CIDRs, principals (exact, or `prefix*`), or
actor ids (as `extauthz actors` shows them), optionally expiring. They live in
this process (each --workers process has its own, like the in-process store);
entries that must last belong in the config's `lists:`. Checked after the
configured lists; deny wins over allow.
"""
from __future__ import annotations

import ipaddress
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable

from extauthz.config import Config
from extauthz.risk.lists import ListHit
from extauthz.store.base import ActorLabel

MAX_ENTRIES = 10_000


@dataclass(frozen=True, slots=True)
class Entry:
    text: str
    kind: str  # cidr | principal | actor
    reason: str
    added: float
    expires: float | None
    net: Any = None

    def matches(self, label: ActorLabel, actor_id: str, ip: Any) -> bool:
        if self.kind == "cidr":
            return ip is not None and ip.version == self.net.version and ip in self.net
        if self.kind == "actor":
            return actor_id == self.text
        if self.text.endswith("*"):
            return bool(label.principal) and label.principal.startswith(self.text[:-1])
        return label.principal == self.text

    def as_dict(self) -> dict:
        return {"entry": self.text, "kind": self.kind, "reason": self.reason, "added": self.added,
                "expires": self.expires, "source": "admin"}


def parse_entry(text: str, reason: str, now: float, seconds: float | None) -> Entry:
    expires = now + seconds if seconds else None
    try:
        return Entry(text, "cidr", reason, now, expires, ipaddress.ip_network(text, strict=False))
    except ValueError:
        pass
    if len(text) == 20 and all(c in "0123456789abcdef" for c in text):
        return Entry(text, "actor", reason, now, expires)
    if "://" in text or "/" in text or text.endswith("*"):
        return Entry(text, "principal", reason, now, expires)
    raise ValueError(f"{text!r}: not an IP address or CIDR, a principal (spiffe://...), or an actor id")


class RuntimeLists:
    """The admin API's ListAdmin (extauthz.admin.providers), also consulted by the risk stage."""

    def __init__(self, config: Config, clock: Callable[[], float] = time.time) -> None:
        self.config = config
        self.clock = clock
        self._entries: dict[str, dict[str, Entry]] = {"allow": {}, "deny": {}}
        self._lock = threading.Lock()
        self.empty = True

    def lookup(self, label: ActorLabel, actor_id: str, now: float) -> ListHit | None:
        if self.empty:
            return None
        try:
            ip = ipaddress.ip_address(label.ip) if label.ip else None
        except ValueError:
            ip = None
        for name in ("deny", "allow"):
            for e in list(self._entries[name].values()):
                if (e.expires is None or e.expires > now) and e.matches(label, actor_id, ip):
                    return ListHit(name, "admin API", f"{e.kind} {e.text}" + (f" ({e.reason})" if e.reason else ""))
        return None

    # ListAdmin
    def get_lists(self) -> dict[str, list[dict[str, Any]]]:
        now = self.clock()
        out: dict[str, list[dict[str, Any]]] = {}
        for name in ("allow", "deny"):
            cfg = getattr(self.config.lists, name)
            items = [{"entry": c, "kind": "cidr", "source": "config"} for c in cfg.cidrs]
            items += [{"entry": p, "kind": "principal", "source": "config"} for p in cfg.principals]
            items += [{"entry": u, "kind": "user_agent", "source": "config"} for u in cfg.user_agents]
            for svc, sl in self.config.lists.services.items():
                sub = getattr(sl, name)
                items += [{"entry": e, "kind": k, "source": "config", "service": svc}
                          for k, es in (("cidr", sub.cidrs), ("principal", sub.principals),
                                        ("user_agent", sub.user_agents)) for e in es]
            items += [e.as_dict() for e in self._entries[name].values() if e.expires is None or e.expires > now]
            out[name] = items
        return out

    def add_entries(self, name: str, entries: list[str], reason: str, seconds: float | None) -> list[dict[str, Any]]:
        now = self.clock()
        parsed = [parse_entry(t, reason, now, seconds) for t in entries]  # ValueError: nothing added
        with self._lock:
            table = self._entries[name]
            for e in parsed:
                table[e.text] = e
            if len(table) > MAX_ENTRIES:
                for key in list(table)[: len(table) - MAX_ENTRIES]:
                    del table[key]
            self.empty = not any(self._entries.values())
        return [e.as_dict() for e in parsed]

    def remove_entries(self, name: str, entries: list[str]) -> int:
        with self._lock:
            n = sum(1 for t in entries if self._entries[name].pop(t, None) is not None)
            self.empty = not any(self._entries.values())
        return n
