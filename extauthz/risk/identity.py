"""Who is asking: an actor's identity from the request, by configurable keys.

The client address comes from the connection's source address, or from
X-Forwarded-For only through a configured number of trusted hops (the entries
a client writes itself are never believed). Credentials (an API key, a JWT's
subject) are hashed at once and never kept raw. The actor id is a hash of the
chosen keys, so the store never holds raw identities as keys either.
"""
from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import ipaddress
import json
from dataclasses import dataclass

from extauthz.config import RiskSettings
from extauthz.request import Request
from extauthz.store.base import ActorLabel

MAX_XFF = 2048  # characters of X-Forwarded-For looked at
MAX_XFF_ENTRIES = 64
MAX_JWT = 8192
MAX_UA = 512  # characters of User-Agent used for identity and shown


def _canonical_ipv4(text: str) -> bool:
    """Whether `text` is already an IPv4 address as str(ip_address()) writes it (no leading zeros)."""
    parts = text.split(".")
    if len(parts) != 4:
        return False
    for p in parts:
        if not (p.isdigit() and p.isascii() and len(p) <= 3 and (p[0] != "0" or p == "0") and int(p) <= 255):
            return False
    return True


@functools.lru_cache(maxsize=8192)
def normalize_ip(text: str) -> str:
    """Canonical text of an IP address ('::ffff:1.2.3.4' → '1.2.3.4'); '' if it is none."""
    if _canonical_ipv4(text):  # the common case, without the ipaddress module's object
        return text
    text = text.strip()
    if not text:
        return ""
    if text.startswith("["):  # [v6]:port
        text = text[1:].split("]", 1)[0]
    elif text.count(":") == 1:  # v4:port
        text = text.split(":", 1)[0]
    try:
        addr = ipaddress.ip_address(text)
    except ValueError:
        return ""
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        addr = addr.ipv4_mapped
    return str(addr)


def client_ip(request: Request, trusted_hops: int) -> str:
    """The client address: the source address, or the N-th X-Forwarded-For entry from the right."""
    if trusted_hops <= 0:
        return normalize_ip(request.source.address)
    values = request.headers.get("x-forwarded-for")
    if values:
        joined = ",".join(values)[-MAX_XFF:]  # the right end is what trusted proxies wrote
        entries = joined.split(",")[-MAX_XFF_ENTRIES:]
        if len(entries) >= trusted_hops:
            ip = normalize_ip(entries[-trusted_hops])
            if ip:
                return ip
    # Fewer entries than trusted proxies: the request did not come through them all.
    return normalize_ip(request.source.address)


def credential_hash(kind: str, value: str) -> str:
    digest = hashlib.blake2b(value.encode("utf-8", "surrogatepass"), digest_size=8,
                             person=b"extauthz-cred").hexdigest()
    return f"{kind}:{digest}"


def jwt_subject(authorization: str) -> str:
    """The `sub` claim of a bearer JWT (not verified: identity only, never trust)."""
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not token or len(token) > MAX_JWT:
        return ""
    parts = token.strip().split(".")
    if len(parts) != 3:
        return ""
    payload = parts[1]
    try:
        raw = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
        claims = json.loads(raw)
    except (binascii.Error, ValueError, UnicodeDecodeError, RecursionError):
        return ""
    sub = claims.get("sub") if isinstance(claims, dict) else None
    return sub[:256] if isinstance(sub, str) else ""


@dataclass(frozen=True, slots=True)
class Actor:
    id: str  # hash of the identifying keys; "" when the request names no actor
    label: ActorLabel


NO_ACTOR = Actor("", ActorLabel())


class ActorIdentifier:
    """Builds an Actor from a request according to `risk.actor_keys`."""

    def __init__(self, settings: RiskSettings) -> None:
        keys = settings.actor_keys
        self.use_ip = "ip" in keys
        self.use_principal = "principal" in keys
        self.use_ua = "user_agent" in keys
        self.use_api_key = "api_key" in keys
        self.use_jwt = "jwt_subject" in keys
        self.trusted_hops = settings.xff_trusted_hops
        self.api_key_headers = tuple(h.lower() for h in settings.api_key_headers)

    def credential(self, request: Request) -> str:
        if self.use_api_key:
            for name in self.api_key_headers:
                value = request.header(name)
                if value:
                    return credential_hash("api_key", value)
        if self.use_jwt:
            auth = request.header("authorization")
            if auth:
                sub = jwt_subject(auth)
                if sub:
                    return credential_hash("jwt", sub)
        return ""

    def identify(self, request: Request) -> Actor:
        ip = client_ip(request, self.trusted_hops)
        principal = request.source.principal
        ua = (request.header("user-agent") or "")[:MAX_UA]
        cred = self.credential(request) if (self.use_api_key or self.use_jwt) else ""
        parts = (ip if self.use_ip else "", principal if self.use_principal else "",
                 ua if self.use_ua else "", cred)
        if not any(parts):
            return Actor("", ActorLabel(ip, principal, ua, cred))
        key = "\x1f".join(parts).encode("utf-8", "surrogatepass")
        return Actor(hashlib.blake2b(key, digest_size=10, person=b"extauthz-actor").hexdigest(),
                     ActorLabel(ip, principal, ua, cred))
