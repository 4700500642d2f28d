"""ORM lookup injection: Django-style field lookups in parameter names.

Finding class: "other" (data exposure through the query layer, not code).
Rule id: orm.lookup-injection.

Frameworks that turn request parameters into ORM filters accept names like
`price__gte`; an attacker uses the same syntax to filter on fields the API never
meant to expose and leak them one character at a time
(`password__startswith=a`), or to traverse relations
(`created_by__user__email__iendswith=…`). HIGH when the lookup reaches a
secret-looking field or crosses two or more relations; MEDIUM for a single
field lookup, which some APIs offer on purpose.

Names are read where they are: plain parameter and member names are not
Inputs of their own (decode keeps only unusual ones), so the names of the
Inputs are read, and a JSON body's member names (a member whose value is
`true` or a number yields no Input at all) by a small scan of the body. All
of this only when the raw query or body holds a lookup suffix at all.
"""
from __future__ import annotations

from typing import Iterable, Iterator, Sequence

from extauthz.decode import Input
from extauthz.detect.base import Detector, register
from extauthz.detect.hits import Hit, finding
from extauthz.detect.java import member_name
from extauthz.detect.prefilter import Prefilter
from extauthz.detect.raw_markers import MAX_TARGET, screened
from extauthz.finding import Finding, Severity
from extauthz.request import Request

LOOKUPS = frozenset({"exact", "iexact", "contains", "icontains", "in", "gt", "gte", "lt", "lte", "startswith",
                     "istartswith", "endswith", "iendswith", "range", "date", "year", "month", "day", "week",
                     "week_day", "quarter", "time", "hour", "minute", "second", "isnull", "regex", "iregex",
                     "has_key", "has_keys", "has_any_keys", "contained_by", "overlap", "search", "trigram_similar",
                     "unaccent", "len", "keys", "values"})
MAX_INPUTS = 512
MAX_BODY_SCAN = 65536
MAX_BODY_NAMES = 64
NAME_KINDS = frozenset({"query", "form", "json", "cookie", "multipart"})
SECRET_WORDS = ("password", "passwd", "secret", "token", "hash", "salt", "api_key", "apikey", "is_admin", "is_staff",
                "is_superuser", "private", "otp", "session")


def assess(name: str, value: str = "") -> Hit | None:
    parts = [p for p in name.split("__")]
    if len(parts) < 2 or not all(p and (p.replace("_", "").isalnum()) for p in parts) or len(parts) > 12:
        return None
    if parts[-1].lower() not in LOOKUPS:
        return None
    fields = parts[:-1]
    low = (name + " " + value).lower()
    secret = any(w in low for w in SECRET_WORDS)
    sev = Severity.HIGH if secret or len(fields) >= 2 else Severity.MEDIUM
    return Hit(sev, "orm.lookup-injection", 0, len(name), f"ORM lookup {parts[-1]} on {'__'.join(fields)[:40]}")


def json_member_names(body: str) -> Iterator[str]:
    """Quoted names followed by `:` that contain `__` (a JSON object's member names), bounded."""
    text = body[:MAX_BODY_SCAN]
    at = text.find("__")
    found = 0
    while at >= 0 and found < MAX_BODY_NAMES:
        open_q = text.rfind('"', max(0, at - 128), at)
        close_q = text.find('"', at, at + 128)
        if open_q >= 0 and close_q > 0 and text[close_q + 1:close_q + 8].lstrip().startswith(":"):
            found += 1
            yield text[open_q + 1:close_q]
        at = text.find("__", close_q + 1 if close_q > 0 else at + 2)


class _LookupScreen:
    """Trigger-shaped holder of the raw-text screen: a lookup suffix after `__` (or `%5F%5F`)."""

    def __init__(self) -> None:
        alternation = "|".join(sorted(LOOKUPS, key=lambda n: (-len(n), n)))
        self.triggers = (rf"(?:__|%5f%5f)(?:{alternation})(?:[^a-z0-9_]|$)",)


def _candidates(request: Request | None, inputs: Sequence[Input]) -> Iterator[tuple[str, str, Input]]:
    for inp in inputs:
        if inp.kind not in NAME_KINDS:
            continue
        if inp.role == "key":
            if "__" in inp.value:
                yield inp.value.rsplit(".", 1)[-1], "", inp
        elif "__" in inp.name:
            yield member_name(inp), inp.value, inp
    if request is not None and request.body.find(b"__", 0, MAX_BODY_SCAN) >= 0 \
            and "json" in request.content_type.lower():
        body = request.body[:MAX_BODY_SCAN].decode("utf-8", "replace")
        for name in json_member_names(body):
            yield name, "", Input("json", f"$.{name}", name, (), name, "key")


@register
class OrmLookupInjection(Detector):
    name = "orm"
    triggers = ("__",)  # only names are read, in scan_request; scan_input finds nothing
    kinds = frozenset({"query", "form", "json", "cookie", "multipart"})

    def __init__(self) -> None:
        # A lookup name must appear in the raw query or body: one Hyperscan pass over
        # each (compiled with the engine) spares the walk over the Inputs on almost
        # every request; a plain 2-byte str.find runs at ~2.5 ns a byte, this at <0.1.
        self._screen = Prefilter([_LookupScreen()])  # type: ignore[list-item]

    def _may_hold_lookups(self, request: Request) -> bool:
        q, body = request.query, request.body
        if q and (len(q) > MAX_TARGET or "__" in q or "%5F" in q or "%5f" in q) and any(
                self._screen.occurs_in(piece) for piece in screened(q)):
            return True
        return bool(body) and self._screen.occurs_in(body if len(body) <= MAX_BODY_SCAN else body[:MAX_BODY_SCAN])

    def scan_request(self, request: Request | None, inputs: Sequence[Input]) -> Iterable[Finding]:
        if request is not None and not self._may_hold_lookups(request):
            return ()
        best: tuple[Hit, Input] | None = None
        for name, value, inp in _candidates(request, inputs[:MAX_INPUTS]):
            hit = assess(name, value[:64])
            if hit is not None and (best is None or hit.severity > best[0].severity):
                best = (hit, Input(inp.kind, inp.name, name, inp.chain, name, "key"))
                if hit.severity >= Severity.HIGH:
                    break
        return finding("other", best[0], best[1]) if best is not None else ()
