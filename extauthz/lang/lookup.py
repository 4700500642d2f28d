"""A small evaluator of Log4j2's lookup language (${prefix:key}, nested, with defaults).

Log4Shell payloads hide `${jndi:ldap://…}` behind lookups that compute the
letters: ${${lower:J}${::-n}di:…}, ${${env:X:-j}ndi:…}, ${date:'j'}. Instead of
listing spellings, this module evaluates the lookups the way Log4j's
substitutor would (innermost first, results substituted again) and records
every lookup it meets, so the detector can ask "does this value, evaluated,
perform a JNDI lookup?".

Only what attackers use to build strings is modelled: lower, upper, date
literals, base64, defaults (`:-`), and empty results for environment/system lookups.
Everything is bounded: input size, nesting depth, number of lookups, output
size and re-evaluation rounds; the evaluator never raises.
"""
from __future__ import annotations

import binascii
from dataclasses import dataclass, field

MAX_INPUT = 8192
MAX_DEPTH = 16
MAX_LOOKUPS = 512
MAX_OUTPUT = 16384
MAX_ROUNDS = 4

# Lookups whose value an attacker cannot choose: they evaluate to "" here
# (unknown on the server), but using them is itself a signal (data exfiltration).
DATA_LOOKUPS = frozenset({"env", "sys", "java", "main", "ctx", "bundle", "docker", "k8s", "kubernetes",
                          "log4j", "web", "spring", "jvmrunargs", "marker", "map", "sd", "event", "hostname",
                          "base64", "date"})


@dataclass(slots=True)
class JndiLookup:
    target: str  # what follows "jndi:", evaluated (ldap://host/a)
    nested: bool  # the word "jndi" or its target was assembled from other lookups

    @property
    def scheme(self) -> str:
        head, sep, _ = self.target.partition(":")
        return head.strip().lower() if sep else ""


@dataclass(slots=True)
class Evaluation:
    result: str = ""
    jndi: list[JndiLookup] = field(default_factory=list)
    prefixes: list[str] = field(default_factory=list)  # lookup prefixes seen (lower, env, …)
    lookups: int = 0
    truncated: bool = False


class _Limit(Exception):
    pass


class _Evaluator:
    def __init__(self) -> None:
        self.ev = Evaluation()

    def run(self, text: str, depth: int) -> str:
        out: list[str] = []
        size = 0
        i = 0
        n = len(text)
        while i < n:
            j = text.find("${", i)
            if j < 0:
                out.append(text[i:])
                break
            out.append(text[i:j])
            end = _matching_brace(text, j + 2)
            if end < 0:  # unterminated: the rest is literal
                out.append(text[j:])
                break
            inner = text[j + 2:end]
            self.ev.lookups += 1
            if self.ev.lookups > MAX_LOOKUPS:
                raise _Limit
            if depth >= MAX_DEPTH:
                raise _Limit
            nested = "${" in inner
            name = self.run(inner, depth + 1) if nested else inner
            if nested and "${" in name:
                # a lookup produced lookup syntax (${${base64:JHtqbmRp…}}): Log4j substitutes the
                # variable name again before resolving it
                found = len(self.ev.jndi)
                name = self.run(name, depth + 1)
                for built in self.ev.jndi[found:]:
                    built.nested = True
            value = self.resolve(name, nested)
            out.append(value)
            size += len(value) + (j - i)
            if size > MAX_OUTPUT:
                raise _Limit
            i = end + 1
        return "".join(out)

    def resolve(self, content: str, nested: bool) -> str:
        prefix, sep, rest = content.partition(":")
        low = prefix.strip().lower()
        if sep:
            self.ev.prefixes.append(low[:32])
        if low == "jndi" and sep:
            self.ev.jndi.append(JndiLookup(rest[:256], nested))
            return ""
        if ":-" in content:
            return content.split(":-", 1)[1]  # ${env:X:-j}, ${::-j}: the default
        if not sep:
            return ""  # a plain key (${user}): unknown here
        if low == "lower":
            return rest.lower()
        if low == "upper":
            return rest.upper()
        if low == "date":
            return _date_literals(rest)
        if low == "base64":
            return _base64(rest)
        return ""


def _matching_brace(text: str, i: int) -> int:
    """Index of the "}" closing a lookup whose content starts at i, or -1."""
    level = 0
    n = len(text)
    while i < n:
        c = text[i]
        if c == "{":
            level += 1
        elif c == "}":
            if level == 0:
                return i
            level -= 1
        i += 1
    return -1


def _base64(text: str) -> str:
    """${base64:…} decodes its key (Base64StrLookup); the result is substituted again like any other."""
    data = "".join(text[:4096].split())
    try:
        return binascii.a2b_base64(data + "=" * (-len(data) % 4)).decode("utf-8", "replace")
    except (binascii.Error, ValueError):
        return ""


def _date_literals(pattern: str) -> str:
    """The quoted literal parts of a SimpleDateFormat pattern: ${date:'j'} is "j"."""
    out: list[str] = []
    quoted = False
    for c in pattern[:256]:
        if c == "'":
            quoted = not quoted
        elif quoted:
            out.append(c)
    return "".join(out)


def evaluate(text: str) -> Evaluation:
    """Evaluate every lookup in `text`, re-substituting results, within the limits."""
    ev_ = _Evaluator()
    current = text[:MAX_INPUT]
    ev_.ev.truncated = len(text) > MAX_INPUT
    try:
        for _ in range(MAX_ROUNDS):
            nxt = ev_.run(current, 0)
            if nxt == current or "${" not in nxt:
                current = nxt
                break
            current = nxt
    except (_Limit, RecursionError):
        ev_.ev.truncated = True
    ev_.ev.result = current[:MAX_OUTPUT]
    return ev_.ev
