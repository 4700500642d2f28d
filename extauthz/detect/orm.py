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
"""
from __future__ import annotations

from typing import Iterable

from extauthz.decode import Input
from extauthz.detect.base import Detector, register
from extauthz.detect.hits import Hit, finding
from extauthz.finding import Finding, Severity

LOOKUPS = frozenset({"exact", "iexact", "contains", "icontains", "in", "gt", "gte", "lt", "lte", "startswith",
                     "istartswith", "endswith", "iendswith", "range", "date", "year", "month", "day", "week",
                     "week_day", "quarter", "time", "hour", "minute", "second", "isnull", "regex", "iregex",
                     "has_key", "has_keys", "has_any_keys", "contained_by", "overlap", "search", "trigram_similar",
                     "unaccent", "len", "keys", "values"})
MAX_INPUTS = 512
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


@register
class OrmLookupInjection(Detector):
    name = "orm"
    triggers = ("__",)  # only names are read, in scan_request; scan_input finds nothing
    kinds = frozenset({"query", "form", "json", "cookie", "multipart"})

    def scan_request(self, request, inputs: Iterable[Input]) -> Iterable[Finding]:
        inputs = list(inputs)[:MAX_INPUTS]
        for inp in inputs:
            if inp.role != "key" or "__" not in inp.value:
                continue
            name = inp.value.rsplit(".", 1)[-1]
            value = next((i.value for i in inputs if i.role == "value" and i.name.endswith(name)), "")
            hit = assess(name, value[:64])
            if hit is not None:
                return finding("other", hit, inp)
        return ()
