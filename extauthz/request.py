"""The request as the engine sees it: plain values, no protobufs, no Envoy.

The Envoy adapter (extauthz.envoy_api), the corpus reader (extauthz.corpus) and
the tests all build this same object, so the engine cannot tell them apart.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Mapping


class Hop(str, enum.Enum):
    """Where in the mesh the asking Envoy sits.

    `edge` and `gateway` see north-south traffic from outside the mesh; the
    sidecar hops see east-west, container-to-container calls. Envoy names the hop
    through `context_extensions["hop"]`; when it does not, the adapter infers it.
    """

    EDGE = "edge"
    GATEWAY = "gateway"
    SIDECAR_INBOUND = "sidecar-inbound"
    SIDECAR_OUTBOUND = "sidecar-outbound"
    UNKNOWN = "unknown"

    @property
    def direction(self) -> str:
        if self in (Hop.EDGE, Hop.GATEWAY):
            return "north-south"
        if self in (Hop.SIDECAR_INBOUND, Hop.SIDECAR_OUTBOUND):
            return "east-west"
        return "unknown"


@dataclass(frozen=True, slots=True)
class Peer:
    """One end of the connection Envoy saw: address, and mTLS identity if any."""

    address: str = ""
    port: int = 0
    principal: str = ""  # e.g. spiffe://cluster.local/ns/shop/sa/frontend
    service: str = ""
    labels: Mapping[str, str] = field(default_factory=dict)


EMPTY_PEER = Peer()

# Headers that carry trace context into the CheckRequest; kept apart so the
# telemetry stage can find them without scanning every header.
TRACE_HEADERS = ("traceparent", "tracestate", "b3", "x-b3-traceid", "x-b3-spanid",
                 "x-b3-parentspanid", "x-b3-sampled", "x-b3-flags")


@dataclass(frozen=True, slots=True)
class Request:
    """One HTTP request to decide on.

    `path` and `query` are exactly as sent on the wire (still percent-encoded);
    decoding is the decode stage's job, so that it can record what it undid.
    Header names are lower-case; every header keeps all its values in order.
    """

    method: str = "GET"
    path: str = "/"
    query: str = ""
    headers: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    body: bytes = b""
    # Envoy sent only the first max_request_bytes of the body
    # (allow_partial_message; it then sets x-envoy-auth-partial-body: true).
    body_truncated: bool = False
    # Declared length of the whole body when known (content-length), else -1.
    body_size: int = -1
    scheme: str = "http"
    authority: str = ""
    protocol: str = ""
    hop: Hop = Hop.UNKNOWN
    service: str = ""
    source: Peer = EMPTY_PEER
    destination: Peer = EMPTY_PEER
    request_id: str = ""
    context: Mapping[str, str] = field(default_factory=dict)  # context_extensions
    # Parts of the request whose bytes were not valid UTF-8 (e.g. "header:x-a",
    # "path", "body"); the text fields hold a replacement-decoded form.
    invalid_utf8: tuple[str, ...] = ()
    received_at: float = 0.0  # unix seconds, from Envoy when it says

    def header(self, name: str) -> str | None:
        """The first value of a header, or None."""
        values = self.headers.get(name)
        return values[0] if values else None

    def header_joined(self, name: str) -> str | None:
        values = self.headers.get(name)
        return ", ".join(values) if values else None

    @property
    def content_type(self) -> str:
        return (self.header("content-type") or "").strip()

    @property
    def uri(self) -> str:
        return f"{self.path}?{self.query}" if self.query else self.path

    @property
    def trace_headers(self) -> dict[str, str]:
        return {name: self.headers[name][0] for name in TRACE_HEADERS if name in self.headers}


def split_uri(uri: str) -> tuple[str, str]:
    """Split a request target into (path, raw query), dropping any fragment."""
    uri = uri.split("#", 1)[0]
    path, _, query = uri.partition("?")
    return (path or "/"), query


def decode_text(raw: bytes, part: str, bad: list[str]) -> str:
    """Bytes to text for the engine; invalid UTF-8 is replaced and recorded in `bad`."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        bad.append(part)
        return raw.decode("utf-8", "replace")
