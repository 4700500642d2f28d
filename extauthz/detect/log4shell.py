"""Log4Shell (CVE-2021-44228): a value that, logged by Log4j2, performs a JNDI lookup.

Finding class: "log4shell". Rule ids:
  log4shell.jndi-lookup   evaluating the value's lookups yields ${jndi:…}; CRITICAL
                          when the target is a remote protocol (ldap, rmi, dns,
                          iiop, corba, nds, nis, http), HIGH otherwise
  log4shell.lookup        Log4j lookup syntax that reads server data or builds
                          strings (${env:…}, ${lower:…}, ${::-x}); MEDIUM
  log4shell.jndi-text     "jndi:<protocol>" without a lookup around it; HIGH when a
                          "$" or "{" (perhaps still encoded) comes just before, else MEDIUM

Recognition is by evaluation (extauthz/lang/lookup.py), not by spelling lists:
${${lower:j}${::-n}di:…}, ${${env:X:-j}ndi:…} and ${:1337:-x$}{jndi:…} all
evaluate to a JNDI lookup. Percent, entity and \\u escapes are undone by the
decode stage before this detector sees the value.
"""
from __future__ import annotations

from typing import Iterable

from extauthz.decode import Input
from extauthz.detect.base import Detector, register
from extauthz.finding import Finding, Severity, excerpt
from extauthz.lang.lookup import DATA_LOOKUPS, evaluate

REMOTE_SCHEMES = frozenset({"ldap", "ldaps", "rmi", "dns", "iiop", "iiopname", "corba", "corbaname", "nds",
                            "nis", "http", "https"})
STRING_BUILDERS = frozenset({"lower", "upper", "date", ""})


def _span(value: str) -> tuple[int, int]:
    start = value.find("${")
    if start < 0:
        start = max(0, value.lower().find("jndi"))
    return start, min(len(value), start + 64)


@register
class Log4Shell(Detector):
    name = "log4shell"
    triggers = (r"\$\{", r"jndi\s*:")

    def scan_input(self, inp: Input) -> Iterable[Finding]:
        value = inp.value
        ev = evaluate(value)
        start, end = _span(value)
        loc = inp.location
        if ev.jndi:
            remote = next((j for j in ev.jndi if j.scheme in REMOTE_SCHEMES), None)
            j = remote or ev.jndi[0]
            how = "assembled from nested lookups" if j.nested else "plain"
            sev = Severity.CRITICAL if remote is not None else Severity.HIGH
            return (Finding("log4shell", "log4shell.jndi-lookup", sev, loc, excerpt(value, start, end, loc),
                            inp.chain, detail=f"JNDI lookup to {j.scheme or 'an unknown scheme'} ({how})"),)
        used = [p for p in ev.prefixes if p in DATA_LOOKUPS or p in STRING_BUILDERS]
        if used:
            return (Finding("log4shell", "log4shell.lookup", Severity.MEDIUM, loc, excerpt(value, start, end, loc),
                            inp.chain, detail="Log4j lookup ${" + used[0] + ":…}"),)
        low = value.lower()
        at = low.find("jndi")
        while 0 <= at < len(low):
            rest = low[at + 4:at + 24].lstrip()
            if rest.startswith(":"):
                scheme = rest[1:].lstrip().split(":", 1)[0]
                if scheme in REMOTE_SCHEMES:
                    # "$" or "{" just before: a lookup whose braces are still encoded ($&lbrace;jndi:)
                    before = low[max(0, at - 20):at]
                    opened = "$" in before or "{" in before or "%24" in before or "&#36" in before
                    sev = Severity.HIGH if opened else Severity.MEDIUM
                    return (Finding("log4shell", "log4shell.jndi-text", sev, loc,
                                    excerpt(value, at, at + 40, loc), inp.chain,
                                    detail="jndi:" + scheme + (" after an encoded lookup opening" if opened
                                                               else " outside a lookup")),)
            at = low.find("jndi", at + 4)
        return ()
