"""Shellshock (CVE-2014-6271 and relatives): a bash function definition in a value.

Finding class: "shellshock". Rule id:
  shellshock.function-definition   a value (or an assignment or quoted string
      inside it) starts with "() {": bash imports it from the environment as a
      function, and vulnerable versions run what follows the closing brace.
      CRITICAL when a command follows the definition ("() { :;}; /bin/id"),
      HIGH for the bare prefix.

Headers are the classic carrier (CGI copies them into the environment), but
parameter values, names and JSON keys are checked too. A method definition in
code ("render() {") is not a match: the parentheses must open the value, an
assignment (x='() {') or a quoted string.
"""
from __future__ import annotations

from typing import Iterable

from extauthz.decode import Input
from extauthz.detect.base import Detector, register
from extauthz.finding import Finding, Severity, excerpt

_OPENERS = "'\"=:"


def _skip_space(value: str, i: int) -> int:
    n = len(value)
    while i < n and value[i] in " \t\r\n":
        i += 1
    return i


def find_definition(value: str, limit: int = 4096) -> tuple[int, int, bool] | None:
    """(start, end, command follows) of the first "() {" that opens a value, else None."""
    at = value.find("(", 0, limit)
    while 0 <= at < limit:
        before = value[:at].rstrip()
        if not before or before[-1] in _OPENERS:
            j = _skip_space(value, at + 1)
            if value.startswith(")", j):
                k = _skip_space(value, j + 1)
                if value.startswith("{", k):
                    close = value.find("}", k + 1, k + 512)
                    follows = False
                    if close > 0:
                        rest = value[close + 1:close + 64].lstrip()
                        follows = bool(rest.strip(" ;'\"\n\r\t"))
                    return at, (close + 1 if close > 0 else k + 1), follows
        at = value.find("(", at + 1, limit)
    return None


@register
class Shellshock(Detector):
    name = "shellshock"
    triggers = (r"\(\s*\)\s*\{",)

    def scan_input(self, inp: Input) -> Iterable[Finding]:
        found = find_definition(inp.value)
        if found is None:
            return ()
        start, end, follows = found
        sev = Severity.CRITICAL if follows else Severity.HIGH
        detail = "bash function definition followed by a command" if follows else "bash function definition"
        return (Finding("shellshock", "shellshock.function-definition", sev, inp.location,
                        excerpt(inp.value, start, end + 40, inp.location), inp.chain, detail=detail),)
