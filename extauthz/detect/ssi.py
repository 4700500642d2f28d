"""Server-side include injection: <!--#exec cmd="…"--> and friends in a value.

Finding class: "rce". Rule ids:
  ssi.exec        <!--#exec cmd=… / cgi=…  (runs a command; CRITICAL)
  ssi.directive   another SSI directive with attribute syntax
                  (<!--#include file=…, #echo var=…, #config, #set, #printenv; HIGH)

An HTML comment becomes an SSI directive only when "#" and a directive name
follow "<!--" directly, and the directive takes name=value attributes; a
comment such as <!-- #1 best seller --> does not match.
"""
from __future__ import annotations

from typing import Iterable

from extauthz.decode import Input
from extauthz.detect.base import Detector, register
from extauthz.finding import Finding, Severity, excerpt

DIRECTIVES = frozenset({"exec", "include", "echo", "config", "set", "printenv", "fsize", "flastmod",
                        "if", "elif", "else", "endif"})
NO_ATTRIBUTES = frozenset({"printenv", "else", "endif"})


def find_directive(value: str, limit: int = 65536) -> tuple[int, str, bool] | None:
    """(start, directive, runs a command) of the first SSI directive, else None."""
    low = value[:limit].lower()
    at = low.find("<!--#")
    while at >= 0:
        i = at + 5
        j = i
        while j < len(low) and low[j].isalpha():
            j += 1
        name = low[i:j]
        if name in DIRECTIVES:
            rest = low[j:j + 64].lstrip()
            if name in NO_ATTRIBUTES or (rest[:1].isalpha() and "=" in rest.split(None, 1)[0] if rest else False):
                attr = rest.split("=", 1)[0].strip()
                return at, name, name == "exec" and attr in ("cmd", "cgi")
        at = low.find("<!--#", at + 5)
    return None


@register
class ServerSideInclude(Detector):
    name = "ssi"
    triggers = (r"<!--#[a-z]",)

    def scan_input(self, inp: Input) -> Iterable[Finding]:
        found = find_directive(inp.value)
        if found is None:
            return ()
        start, name, runs = found
        rule, sev = ("ssi.exec", Severity.CRITICAL) if runs else ("ssi.directive", Severity.HIGH)
        return (Finding("rce", rule, sev, inp.location, excerpt(inp.value, start, start + 48, inp.location),
                        inp.chain, detail=f"server-side include #{name}"),)
