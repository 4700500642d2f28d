"""NoSQL (MongoDB) injection: operators where the app expected a plain value.

- An operator as a parameter name part: `user[$ne]=x`, `password[$regex]=.*`
  (query/form arrays that PHP/Express turn into objects), or as a JSON key
  (`{"user": {"$gt": ""}}`).
- An operator object written into a string value: `{"$where": "..."}`,
  `{$ne: null}`.
- `$where` JavaScript breakouts: `';return true;var a='`, `' || 1==1//` after
  a `;`, and mongo shell calls (`db.users.find(`, `db.dropDatabase(`).
"""
from __future__ import annotations

from typing import Iterable

from extauthz.decode import Input
from extauthz.detect.base import Detector, from_mesh_workload, register
from extauthz.finding import Finding, Severity, excerpt

MAX_VALUE = 8192
OPERATORS = frozenset({
    "ne", "eq", "gt", "gte", "lt", "lte", "in", "nin", "regex", "where", "expr", "exists", "not", "or", "and",
    "nor", "elemmatch", "all", "size", "type", "mod", "text", "function", "accumulator", "jsonschema", "options",
    "lookup", "merge", "out", "unionwith", "search",
})
KEY_KINDS = frozenset({"query", "form", "json", "multipart", "cookie"})
_WORD = frozenset("abcdefghijklmnopqrstuvwxyz")


def _operator_at(low: str, i: int) -> str | None:
    """The operator name after `$` at low[i], if it is one."""
    j = i + 1
    while j < len(low) and j - i < 16 and low[j] in _WORD:
        j += 1
    op = low[i + 1:j]
    return op if op in OPERATORS else None


def operator_in_value(value: str) -> int:
    """Offset of `$op` used as an object key in a string (`{"$ne":1}`, `{$gt: ''}`), or -1."""
    low = value[:MAX_VALUE].lower()
    i = low.find("$")
    while i >= 0:
        op = _operator_at(low, i)
        if op is not None:
            before = low[max(0, i - 3):i].rstrip(" \"'")
            after = low[i + 1 + len(op):i + 6 + len(op)].lstrip(" \"'")
            if before.endswith(("{", ",", "[")) and after.startswith(":"):
                return i
        i = low.find("$", i + 1)
    return -1


def where_js(value: str) -> int:
    """`;return true`, `; return 1==1`, mongo shell calls; -1 if none."""
    low = value[:MAX_VALUE].lower()
    i = low.find("return")
    while i >= 0:
        head = low[max(0, i - 4):i].strip()
        tail = low[i + 6:i + 20].lstrip()
        if head.endswith(";") and tail.startswith(("true", "1", "this", "!0", "sleep(")):
            return i
        i = low.find("return", i + 6)
    j = low.find("db.")
    while j >= 0:
        if j == 0 or not low[j - 1].isalnum():
            rest = low[j + 3:j + 80]
            if rest.startswith(("getcollection(", "dropdatabase(", "eval(")) or any(
                    f".{m}(" in rest.split(")", 1)[0] + ")" for m in ("find", "drop", "remove", "insert", "update")):
                return j
        j = low.find("db.", j + 3)
    return -1


def operator_in_name(name: str) -> str | None:
    """`user[$ne]`, `$.user.$gt`, `filter[where][$regex]`: the operator, or None."""
    low = name.lower()
    i = low.find("$", 1 if low.startswith("$.") or low.startswith("$[") else 0)
    while i >= 0:
        prev = low[i - 1] if i > 0 else ""
        if prev in ("[", ".", "'", "\"", "") or i == 0:
            op = _operator_at(low, i)
            if op is not None:
                return op
        i = low.find("$", i + 1)
    return None


@register
class NoSqlInjection(Detector):
    name = "nosqli"
    triggers = (r"\$(?:" + "|".join(sorted(OPERATORS)) + ")",
                r";\s*return\s", r"(?:^|[^a-z0-9])db\.[a-z_]")
    kinds = None

    def scan_input(self, inp: Input) -> Iterable[Finding]:
        if inp.role == "key":
            return self._key(inp)
        at = operator_in_value(inp.value)
        if at >= 0:
            return (self._f(inp, "nosqli.operator-object", Severity.HIGH, at, "Mongo operator object in a value"),)
        at = where_js(inp.value)
        if at >= 0:
            return (self._f(inp, "nosqli.where-js", Severity.HIGH, at, "$where JavaScript / mongo shell"),)
        return ()

    @staticmethod
    def _key(inp: Input) -> Iterable[Finding]:
        """A parameter or member name (`user[$ne]`, JSON key `$gt`): decode hands
        non-plain names over as Inputs of role "key", and `$` is not plain."""
        if inp.kind not in KEY_KINDS:
            return ()
        op = operator_in_name(inp.value)
        if op is None:
            return ()
        detail = f"Mongo operator ${op} as a parameter key"
        if op in ("where", "function", "accumulator"):
            sev = Severity.CRITICAL  # server-side JavaScript
        elif inp.kind == "json" and from_mesh_workload():
            # a query document one service hands another (`{"total": {"$gt": 100}}`); from outside
            # (the edge judges the user's JSON) the same operator is an injection
            sev, detail = Severity.MEDIUM, detail + " (east-west call from a mesh workload)"
        else:
            sev = Severity.HIGH
        return (Finding("nosqli", "nosqli.operator-key", sev, inp.location, excerpt(inp.value, 0, 64, inp.location),
                        inp.chain, detail=detail),)

    @staticmethod
    def _f(inp: Input, rule: str, sev: Severity, at: int, detail: str) -> Finding:
        return Finding("nosqli", rule, sev, inp.location, excerpt(inp.value, at, at + 32, inp.location), inp.chain,
                       detail=detail)
