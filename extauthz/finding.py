"""Finding: the one currency between the engine's stages.

Detectors, the behaviour profile and actor risk all report Findings; scoring
only adds them up. A Finding must explain itself to an analyst (class, rule,
where, through which decodings, a short excerpt) without leaking a secret.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass


class Severity(enum.IntEnum):
    """How much a finding counts towards the request score.

    The values are points. The default threshold (see extauthz.config) is chosen
    so that one HIGH or CRITICAL finding blocks on its own while MEDIUM and LOW
    signals only block in company.
    """

    INFO = 0
    LOW = 2
    MEDIUM = 4
    HIGH = 8
    CRITICAL = 10

    @classmethod
    def parse(cls, name: str) -> "Severity":
        return cls[name.upper()]


class Source(str, enum.Enum):
    DETECTOR = "detector"
    DECODER = "decoder"  # a decoder limit hit or an encoding anomaly
    PROFILE = "profile"
    RISK = "risk"
    POLICY = "policy"  # allow/deny lists, failures


@dataclass(frozen=True, slots=True)
class Finding:
    cls: str  # attack class: sqli, xss, rce, lfi, ... (the corpus categories)
    rule: str  # stable rule id, e.g. "sqli.quote-break.tautology"
    severity: Severity
    location: str = ""  # e.g. "query:id", "json:$.items[2].name", "header:user-agent"
    excerpt: str = ""  # short and redacted
    chain: tuple[str, ...] = ()  # decode layers undone before the match, outermost first
    source: Source = Source.DETECTOR
    detail: str = ""  # one human sentence, optional

    def as_dict(self) -> dict:
        out = {
            "class": self.cls,
            "rule": self.rule,
            "severity": self.severity.name.lower(),
            "points": int(self.severity),
            "location": self.location,
            "source": self.source.value,
        }
        if self.excerpt:
            out["excerpt"] = self.excerpt
        if self.chain:
            out["chain"] = list(self.chain)
        if self.detail:
            out["detail"] = self.detail
        return out

    def writable(self) -> "Finding":
        """This finding with every text field writable as UTF-8 (see `writable`); itself when it already is."""
        loc, exc, det = writable(self.location), writable(self.excerpt), writable(self.detail)
        if loc is self.location and exc is self.excerpt and det is self.detail:
            return self
        return Finding(self.cls, self.rule, self.severity, loc, exc, self.chain, self.source, det)


def writable(text: str) -> str:
    """`text` with any lone surrogate written as a `\\udcXX` escape; `text` itself when it has none.

    Decoders undo escapes the attacker chose, and a JSON or JavaScript escape
    may spell half a surrogate pair (`\\udcff`), which no UTF-8 writer accepts:
    a log line, span or API answer carrying one fails as a whole. Text that goes
    to a sink passes through here. ASCII (nearly everything) costs one C call.
    """
    if text.isascii():
        return text
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text


EXCERPT_MAX = 64
REDACTED = "[redacted]"

# Locations whose values are secrets by nature: an excerpt from them is never shown.
_SECRET_NAMES = frozenset({
    "authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key",
    "api-key", "apikey", "api_key", "password", "passwd", "pwd", "pass", "secret",
    "token", "access_token", "refresh_token", "id_token", "client_secret", "session",
    "sessionid", "jsessionid", "phpsessid", "x-auth-token", "x-csrf-token", "csrf_token",
})


# More secret names from the config (`events.redact_keys`); set at load and on reload.
_configured_names: frozenset[str] = frozenset()


def set_secret_names(names: "frozenset[str] | set[str] | tuple[str, ...]") -> None:
    """Add configured names to the built-in secret names (replacing the previous additions)."""
    global _configured_names
    _configured_names = frozenset(n.strip().lower() for n in names if n.strip())


def is_secret_location(location: str, extra: frozenset[str] = frozenset()) -> bool:
    """True when a location names a secret (header, cookie or parameter)."""
    kind, _, name = location.partition(":")
    if kind == "cookie":
        return True
    leaf = name.rsplit(".", 1)[-1].rsplit("/", 1)[-1].strip("$[]'\"").lower()
    lowered = name.lower()
    return (leaf in _SECRET_NAMES or leaf in extra or lowered in _SECRET_NAMES
            or leaf in _configured_names or lowered in _configured_names)


def excerpt(value: str, start: int = 0, end: int | None = None, location: str = "") -> str:
    """A short window of `value` around [start, end), safe to log.

    Secrets are replaced whole; control characters are escaped so that an
    excerpt cannot forge log lines.
    """
    if location and is_secret_location(location):
        return REDACTED
    if end is None:
        end = len(value)
    start = max(0, min(start, len(value)))
    end = max(start, min(end, len(value)))
    if end - start > EXCERPT_MAX:
        end = start + EXCERPT_MAX
    pad = max(0, (EXCERPT_MAX - (end - start)) // 2)
    lo, hi = max(0, start - pad), min(len(value), end + pad)
    text = value[lo:hi]
    text = text.encode("unicode_escape", "backslashreplace").decode("ascii") if not text.isprintable() else text
    if len(text) > EXCERPT_MAX * 2:
        text = text[: EXCERPT_MAX * 2]
    return ("…" if lo > 0 else "") + text + ("…" if hi < len(value) else "")
