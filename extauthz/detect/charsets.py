"""What declaring a character set can do (rules/charsets.yaml).

A request that declares a charset asks the application to decode its bytes
that way. Where ASCII bytes stop meaning ASCII characters (UTF-7, EBCDIC,
UTF-16/32), a WAF that reads the bytes as ASCII/UTF-8 and an application that
honours the declaration see two different requests: the classic charset
bypass. Names nobody decodes are probes for such disagreements.
"""
from __future__ import annotations

from extauthz.finding import Severity
from extauthz.rules import rule_yaml

MAX_NAME = 64


def normalise_charset(name: str) -> str:
    """`"UTF_8"` → `utf8`: lower-case, unquoted, without `-`, `_`, spaces."""
    n = name[:MAX_NAME].strip().strip("\"'").strip().lower()
    return n.replace("-", "").replace("_", "").replace(" ", "")


_DATA = rule_yaml("charsets.yaml")


def _names(key: str) -> frozenset[str]:
    return frozenset(normalise_charset(str(n)) for n in _DATA[key])


_DANGEROUS, _DOUBLE_BYTE, _KNOWN = _names("dangerous"), _names("double-byte"), _names("known")
_KNOWN_PREFIXES = tuple(normalise_charset(str(p)) for p in _DATA["known_prefixes"])


def charset_risk(name: str) -> tuple[Severity, str] | None:
    """(severity, why) for a declared charset, or None when it is an ordinary one."""
    n = normalise_charset(name)
    if not n or n == "*" or n in _KNOWN:
        return None
    if n in _DANGEROUS:
        return Severity.HIGH, "a charset in which ASCII bytes are not ASCII text (decoder bypass)"
    if n in _DOUBLE_BYTE:
        return Severity.MEDIUM, "a double-byte charset whose second bytes can be `\\` or `'`"
    if n.startswith(_KNOWN_PREFIXES):
        return None
    return Severity.HIGH, "not a character set servers decode (decoder probe)"
