r"""Markers in the raw request, found in one pass shared by request-level checks.

Some checks look at parameters by *name*, at every value of a request (a
session id sent as a parameter, a whole-value URL to another site), or at how
a value was *spelled* on the wire (letters percent-encoded, `%uFF0F`), which
the decoded Inputs no longer show. A loop over all Inputs costs a few µs per
request per detector, for nothing on almost every request. Instead, one
Hyperscan pass over the raw request target (path and query) and the head of
the body (still encoded) says which checks can have anything to find; a
request without a marker costs them nothing more. The answer is remembered
per thread for the request last asked about, so several detectors share the
pass.

A marker is a superset test: it may fire where the check then finds nothing,
never the other way round for the spellings listed (a percent-encoded query
parameter name counts as a session marker: the app decodes names too). Not
covered: names spelled with escapes inside a body (`%`-encoded form names,
`\u`-escaped JSON keys).
"""
from __future__ import annotations

import threading
from typing import Iterable, Mapping

import hyperscan

from extauthz.detect.literals import hyperscan_literal
from extauthz.request import Request
from extauthz.rules import rule_yaml

MAX_BODY = 65536
# Of a longer request target or query, the head and the tail this long together are
# screened (Envoy's default header limit, 60 KiB, keeps real targets under it; an
# in-process caller may pass 1 MB, and a dense one costs Hyperscan ~10 ms a MB).
MAX_TARGET = 65536


def screened(text: str, limit: int = MAX_TARGET) -> list[bytes]:
    """`text` as the bytes a raw screen reads: whole, or its head and tail (limit/2 each)."""
    if len(text) > limit:
        half = limit // 2
        return [text[:half].encode("utf-8", "surrogatepass"), text[-half:].encode("utf-8", "surrogatepass")]
    return [text.encode("utf-8", "surrogatepass")]

_FLAGS = hyperscan.HS_FLAG_CASELESS | hyperscan.HS_FLAG_SINGLEMATCH
# A letter or digit as a %XX escape: %30-%39, %41-%5A, %61-%7A.
ENCODED_ALNUM = r"(?:3[0-9]|4[1-9a-f]|5[0-9a]|6[1-9a-f]|7[0-9a])"


def _session_names() -> tuple[str, ...]:
    data = rule_yaml("session_names.yaml")
    return tuple(hyperscan_literal(n) for n in tuple(data["specific"]) + tuple(data["generic"]))


# tag -> Hyperscan expressions (caseless).
MARKERS: Mapping[str, tuple[str, ...]] = {
    # session ids by name (session_fixation)
    "session": _session_names(),
    # a scheme separator, plain, percent- or JSON-escaped (ssrf_rfi's off-site URLs)
    "url": (r"://", r"%3a", r":\\/"),
    # a letter or digit escaped where nobody needs to escape it: %61, %2561, \u0061, %5Cu0061 (protocol)
    "escaped-alnum": ("%" + ENCODED_ALNUM, r"%25" + ENCODED_ALNUM, r"\\u00[3-7][0-9a-f]", r"%5cu00[3-7][0-9a-f]"),
    # control characters other than tab, CR, LF and NUL, percent-encoded (protocol)
    "control-escape": (r"%(?:0[1-8bcef]|1[0-9a-f]|7f)",),
    # a percent-encoded NUL, also escaped again: %00, %2500 (protocol)
    "nul-escape": (r"%(?:25)*00",),
    # IIS %u escapes of fullwidth forms (best-fit mapping to ASCII) (protocol)
    "percent-u-fullwidth": (r"%uff[0-5]",),
    # something glued after an array bracket in a name: `a[1]x=` (protocol)
    "bracket-suffix": (r"\][a-z0-9_\-]",),
    # the method-override parameter (protocol)
    "method-param": (r"_method",),
}


class RawMarkers:
    def __init__(self, markers: Mapping[str, Iterable[str]] = MARKERS) -> None:
        self.tags: list[str] = []
        exprs: list[bytes] = []
        for tag, patterns in markers.items():
            for pattern in patterns:
                exprs.append(pattern.encode("utf-8"))
                self.tags.append(tag)
        self._db = hyperscan.Database()
        self._db.compile(expressions=exprs, ids=list(range(len(exprs))), elements=len(exprs),
                         flags=[_FLAGS] * len(exprs))
        self._local = threading.local()

    def of(self, request: Request) -> frozenset[str]:
        """The tags whose markers occur in the request target or the body head."""
        local = self._local
        if getattr(local, "request", None) is request:
            return local.found
        found: set[str] = set()
        tags = self.tags

        def on_match(pid: int, start: int, end: int, flags: int, ctx: None) -> None:
            found.add(tags[pid])

        scratch = getattr(local, "scratch", None)
        if scratch is None:
            scratch = local.scratch = hyperscan.Scratch(self._db)
        for piece in screened(request.uri):
            self._db.scan(piece, match_event_handler=on_match, scratch=scratch)
        if request.query and "%" in request.query and _encoded_name(request.query):
            found.add("session")  # `?PHPSESS%49D=`: the app decodes names; the loop decides
        body = request.body
        if body:
            self._db.scan(body if len(body) <= MAX_BODY else body[:MAX_BODY], match_event_handler=on_match,
                          scratch=scratch)
        result = frozenset(found)
        local.request, local.found = request, result
        return result


def _encoded_name(query: str, max_pairs: int = 64) -> bool:
    """A `%` in some parameter name of the query (bounded)."""
    for pair in query[:MAX_TARGET].split("&", max_pairs)[:max_pairs]:
        if "%" in pair.partition("=")[0]:
            return True
    return False


_SHARED: RawMarkers | None = None
_SHARED_LOCK = threading.Lock()


def raw_markers() -> RawMarkers:
    """The process-wide instance (compiled once)."""
    global _SHARED
    with _SHARED_LOCK:
        if _SHARED is None:
            _SHARED = RawMarkers()
        return _SHARED
