"""XPath injection: a value that leaves the predicate it was put into.

An app that builds `//user[name/text()='` + input + `']` is attacked the way
SQL is, but with XPath's own vocabulary, which is what this detector reads:

- a union: the value closes the string and predicate and adds a node set
  (`')] | //* | /a[('`, `"] | //user/*`): HIGH;
- a blind probe: a quote breakout followed by XPath-only syntax
  (`' and count(/*)=1 and '1'='1`, `' or string-length(name(/*[1]))=4 or '`): HIGH;
- an XPath expression on its own (`count(/child::node())`, `//user[position()=1]`):
  MEDIUM (some XML APIs do take expressions as parameters).

XPath-only syntax: axes (`child::`), node tests (`node()`, `text()`), location
paths starting with `/` or `//` inside a function or after a union, and
predicates with position()/last(). A plain tautology (`' or '1'='1`) reads
the same in SQL and XPath; it is left to the sqli detector, so one payload is
not counted twice. Class `other` (the corpora have no XPath category).
"""
from __future__ import annotations

from typing import Iterable

from extauthz.decode import Input
from extauthz.detect.base import Detector, register
from extauthz.detect.literals import hyperscan_literal
from extauthz.finding import Finding, Severity, excerpt

MAX_VALUE = 8192
AXES = ("ancestor-or-self::", "ancestor::", "attribute::", "child::", "descendant-or-self::", "descendant::",
        "following-sibling::", "following::", "namespace::", "parent::", "preceding-sibling::", "preceding::",
        "self::")
NODE_TESTS = ("node()", "text()", "comment()", "processing-instruction(", "position()", "last()")
# functions that take a node set: applied to an absolute path they read the document itself
PATH_FUNCTIONS = ("count(", "name(", "local-name(", "namespace-uri(", "string-length(", "string(", "sum(",
                  "substring(", "starts-with(", "contains(", "normalize-space(", "boolean(", "number(",
                  "doc(", "document(", "unparsed-text(", "exists(", "data(")
_SPACE = " \t\r\n"
_QUOTES = "'\""


def _skip(s: str, i: int) -> int:
    n = len(s)
    while i < n and s[i] in _SPACE:
        i += 1
    return i


def _word_start(low: str, at: int) -> bool:
    """`at` starts a name: `text()` is a node test, `gettext()` a function of some language."""
    return at == 0 or not (low[at - 1].isalnum() or low[at - 1] in "_-.$")


def _xpath_only(low: str) -> int:
    """Offset of the first XPath-only construct, or -1."""
    best = -1
    for needle in AXES + NODE_TESTS:
        at = low.find(needle)
        while at >= 0 and not _word_start(low, at):
            at = low.find(needle, at + 1)
        if at >= 0 and (best < 0 or at < best):
            best = at
    for fn in PATH_FUNCTIONS:
        at = low.find(fn)
        while at >= 0:
            if _word_start(low, at) and \
                    low[_skip(low, at + len(fn)):_skip(low, at + len(fn)) + 1] == "/":
                if best < 0 or at < best:
                    best = at
                break
            at = low.find(fn, at + 1)
    for path in ("//*", "/*["):
        at = low.find(path)
        if at >= 0 and (best < 0 or at < best):
            best = at
    return best


def _union(low: str) -> int:
    """Offset of `]`/`)`/quote closing a predicate, then `|` and a location path, or -1."""
    at = low.find("|")
    while at >= 0:
        k = at - 1
        while k >= 0 and low[k] in _SPACE:
            k -= 1
        j = _skip(low, at + 1)
        if k >= 0 and low[j:j + 1] == "/":
            m = k
            while m >= 0 and low[m] in ")]" and k - m < 8:
                m -= 1
            # a quote, or a `]` among the closers: the value ends a string or a predicate
            if m >= 0 and (low[m] in _QUOTES or "]" in low[m + 1:k + 1]):
                return m
        at = low.find("|", at + 1)
    return -1


BREAKOUT_REACH = 256  # a probe's quote breakout and its XPath-only syntax are one short payload


def _breakout(low: str, before: int) -> int:
    """A quote followed by `and`/`or`/`]`/`)` at most BREAKOUT_REACH before offset `before`, or -1
    (in a long text, `('gdbm')` a page before `node()` is no probe)."""
    for q in _QUOTES:
        at = low.find(q, max(0, before - BREAKOUT_REACH))
        while 0 <= at < before:
            j = _skip(low, at + 1)
            nxt = low[j:j + 1]
            word = "and" if low.startswith("and", j) else "or" if low.startswith("or", j) else ""
            if (nxt and nxt in "])") or (word and not low[j + len(word):j + len(word) + 1].isalnum()):
                return at
            at = low.find(q, at + 1)
    return -1


def judge_xpath(value: str) -> tuple[str, Severity, int, str] | None:
    """(rule, severity, offset, detail) for the strongest XPath injection sign, or None."""
    low = value[:MAX_VALUE].lower()
    at = _union(low)
    if at >= 0:
        return "xpath.union", Severity.HIGH, at, "closes the predicate and adds a node set (`| //...`)"
    only = _xpath_only(low)
    if only < 0:
        return None
    quote = _breakout(low, only)
    if quote >= 0:
        return "xpath.blind", Severity.HIGH, quote, "quote breakout followed by XPath-only syntax"
    return "xpath.expression", Severity.MEDIUM, only, "an XPath expression (axes, node tests, document paths)"


@register
class XPathInjection(Detector):
    name = "xpath"
    # literals only (cheap in the shared prefilter); judge_xpath reads the structure
    triggers = tuple(hyperscan_literal(t) for t in ("::", "()", "|/", "| /", "(/", "( /", "//*", "/*["))
    kinds = frozenset({"query", "form", "json", "xml", "multipart", "cookie", "path", "graphql", "body"})

    def scan_input(self, inp: Input) -> Iterable[Finding]:
        found = judge_xpath(inp.value)
        if found is None:
            return ()
        rule, sev, at, detail = found
        return (Finding("other", rule, sev, inp.location, excerpt(inp.value, at, at + 40, inp.location), inp.chain,
                        detail=detail),)
