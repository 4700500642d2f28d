"""Session fixation (CRS 943): planting a session id the attacker knows.

- A session id (rules/session_names.yaml) sent as a URL, form or JSON
  parameter, when the request does not come from a page of this site (no
  Referer, or one from another host): the victim followed an attacker's link.
- A value that sets a cookie: `document.cookie="sessionid=...; domain=..."`,
  `.cookie;expires=`, `<meta http-equiv="Set-Cookie" ...>`.
Class `other` (the corpus has no session-fixation category).
"""
from __future__ import annotations

from typing import Iterable, Sequence

from extauthz.decode import Input
from extauthz.detect.base import Detector, register
from extauthz.detect.raw_markers import raw_markers
from extauthz.detect.urlparts import find_urls
from extauthz.finding import Finding, Severity, excerpt
from extauthz.request import Request
from extauthz.rules import rule_yaml

_NAMES = rule_yaml("session_names.yaml")
SPECIFIC_NAMES = frozenset(_NAMES["specific"])
GENERIC_NAMES = frozenset(_NAMES["generic"])
SESSION_NAMES = SPECIFIC_NAMES | GENERIC_NAMES
PARAM_KINDS = frozenset({"query", "form", "json", "multipart"})
MAX_VALUE = 8192


def _leaf(name: str) -> str:
    if name[:1] == "$":
        name = name[name.rfind(".") + 1:].strip("[]'\"")
    return name.lower()


def _host_of(url: str) -> str:
    refs = find_urls(url[:512])
    return refs[0].host if refs and refs[0].authority else ""


def cookie_setting(value: str) -> int:
    """Offset of a cookie being set from a value, or -1."""
    low = value[:MAX_VALUE].lower()
    i = low.find(".cookie")
    while i >= 0:
        window = low[i + 7:i + 200]
        semi = window.find(";")
        while semi >= 0:
            k = semi + 1
            while k < len(window) and not window[k].isalnum():
                k += 1
            if window.startswith(("expires", "domain", "path", "max-age"), k):
                return i
            semi = window.find(";", semi + 1)
        i = low.find(".cookie", i + 7)
    j = low.find("http-equiv")
    if j >= 0 and "set-cookie" in low[j:j + 40]:
        return j
    return -1


@register
class SessionFixation(Detector):
    name = "session_fixation"
    triggers = (r"\.cookie", r"http-equiv")
    kinds = None

    def scan_input(self, inp: Input) -> Iterable[Finding]:
        at = cookie_setting(inp.value)
        if at < 0:
            return ()
        return (Finding("other", "session.cookie-set", Severity.HIGH, inp.location,
                        excerpt(inp.value, at, at + 48, inp.location), inp.chain,
                        detail="a value that sets a cookie (session fixation)"),)

    def __init__(self) -> None:
        self._markers = raw_markers()

    def scan_request(self, request: Request, inputs: Sequence[Input]) -> Iterable[Finding]:
        if "session" not in self._markers.of(request):
            return
        hit = next((i for i in inputs if i.kind in PARAM_KINDS and _leaf(i.name) in SESSION_NAMES), None)
        if hit is None:
            return
        host = (request.authority or request.header("host") or "").lower().rsplit(":", 1)[0]
        referer = request.header("referer")
        if referer:
            ref_host = _host_of(referer).rsplit(":", 1)[0]
            if ref_host and (ref_host == host or ref_host.endswith("." + host)):
                return
            why = f"session id parameter {hit.name!r} with a referrer from another site"
            sev = Severity.HIGH
        else:
            why = f"session id parameter {hit.name!r} with no referrer"
            sev = Severity.HIGH if _leaf(hit.name) in SPECIFIC_NAMES else Severity.MEDIUM
        yield Finding("other", "session.fixation-param", sev, hit.location, "[redacted]", hit.chain, detail=why)
