"""LDAP injection: a value that closes the filter it was put into and opens a new one.

`admin)(|(password=*`, `*)(uid=*))(|(uid=*`, `x)!(sn=*`, `bar)(&)`. The test is
structural: a `)` that closes more than the value itself opened (so it closes
the application's filter), followed by `(` and a filter component (an
operator `&|!`, or an attribute assertion `attr=`, `attr>=`, `attr~=`,
`attr:rule:=`). A whole filter passed as a parameter (`(&(a=b)(c=d))`) is
balanced and is not an injection. A value that starts with a wildcard and then
opens a composite filter (`*(|(mail=*))`, `*(&(uid=admin)(userPassword=*))`)
is one too: the application's `(mail=` + value + `)` becomes a match-all
followed by a filter of the attacker's.
"""
from __future__ import annotations

from typing import Iterable

from extauthz.decode import Input
from extauthz.detect.base import Detector, register
from extauthz.finding import Finding, Severity, excerpt

MAX_VALUE = 8192
_SPACE = " \t\r\n"
_ATTR_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.;_")


def _skip(s: str, i: int) -> int:
    while i < len(s) and s[i] in _SPACE:
        i += 1
    return i


def _component(s: str, i: int) -> bool:
    """A filter component starts at s[i] (just after `(`)."""
    i = _skip(s, i)
    if i >= len(s):
        return False
    if s[i] in "&|!":
        return True
    j = i
    while j < len(s) and j - i < 64 and s[j] in _ATTR_CHARS:
        j += 1
    if j == i or not (s[i].isalpha() or s[i].isdigit()):
        return False
    j = _skip(s, j)
    if j < len(s) and s[j] == ":":  # extensible match `attr:1.2.3:=` / `:dn:=`
        k = s.find(":=", j, j + 80)
        return k >= 0
    return s[j:j + 1] == "=" or s[j:j + 2] in ("~=", ">=", "<=")


def find_breakout(value: str) -> int:
    """Offset of an unbalanced `)` that opens a new filter component, or -1."""
    s = value[:MAX_VALUE]
    depth = 0
    for i, ch in enumerate(s):
        if ch == "(":
            depth += 1
        elif ch == ")":
            if depth > 0:
                depth -= 1
                continue
            j = _skip(s, i + 1)
            if j < len(s) and s[j] in "&|!":
                j = _skip(s, j + 1)
            if j < len(s) and s[j] == "(" and (_component(s, j + 1) or s[_skip(s, j + 1):_skip(s, j + 1) + 1] == ")"):
                return i
    return -1


def find_wildcard_composite(value: str) -> int:
    """Offset of a leading `*` followed by a composite filter `(&(…`, `(|(…`, `(!(…`, or -1."""
    s = value[:MAX_VALUE]
    i = _skip(s, 0)
    if s[i:i + 1] != "*":
        return -1
    j = _skip(s, i + 1)
    if s[j:j + 1] != "(":
        return -1
    k = _skip(s, j + 1)
    if s[k:k + 1] not in ("&", "|", "!"):
        return -1
    m = _skip(s, k + 1)
    return i if s[m:m + 1] == "(" and _component(s, m + 1) else -1


@register
class LdapInjection(Detector):
    name = "ldapi"
    triggers = (r"\)\s*[&|!]?\s*\(", r"^\s*\*\s*\(\s*[&|!]\s*\(")
    kinds = None

    def scan_input(self, inp: Input) -> Iterable[Finding]:
        at = find_breakout(inp.value)
        detail = "closes the LDAP filter and opens a new component"
        if at < 0:
            at = find_wildcard_composite(inp.value)
            detail = "a wildcard, then a composite filter of its own"
        if at < 0:
            return ()
        return (Finding("ldapi", "ldapi.filter-breakout", Severity.HIGH, inp.location,
                        excerpt(inp.value, max(0, at - 16), at + 24, inp.location), inp.chain, detail=detail),)
