"""Generated passwords: symbol soup in a password field is not code.

A password manager's password (`k7#Q$e9!pL&2`, `R`1e8|rC;P]mE]6W`) is 8 to 64
characters of every class, punctuation included, with no words in it. Read as
SQL, shell or PHP, one in sixty such passwords happens to hold a shape the
detectors count as an attack (`'` ... `#` is a comment after a quote, `;x&`
chains a command, `$(` substitutes one), and the user cannot log in.

What an injection in a password field looks like is different: it has words
(`' or '1'='1`, `admin'--`, `|id`, `;sleep 5`, `$(curl x)`), or spaces. So a
value is *soup* when it sits in a parameter named like a secret, has no blank,
mixes at least three character classes, and none of its letter runs is a word
an attack needs (SQL keywords, shell commands, code functions: the rule files'
own lists). In soup, a HIGH finding is one step weaker (MEDIUM: it needs
company); CRITICAL findings and findings elsewhere in the request are kept.
"""
from __future__ import annotations

from dataclasses import replace
from functools import lru_cache
from typing import Sequence

from extauthz.decode import Input
from extauthz.decode.inputs import leaf_name
from extauthz.finding import Finding, Severity
from extauthz.rules import rule_lines, rule_yaml

MIN_LENGTH = 8
MAX_LENGTH = 128
# Parameter names (lower-case, `-`/`_`/`.` removed) that hold a secret the user typed or
# generated; matched on the last part of a location (`form:password`, `json:$.user.pwd`).
_NAMES = frozenset({"password", "passwd", "pass", "pwd", "pw", "passphrase", "passcode", "secret",
                    "newpassword", "oldpassword", "currentpassword", "confirmpassword", "passwordconfirmation",
                    "password1", "password2", "repeatpassword", "userpassword", "loginpassword",
                    "clientsecret", "adminpassword", "rootpassword", "dbpassword"})
_NAME_ENDINGS = ("password", "passwd", "passphrase", "pwd")
_SQL_SHORT = frozenset({"or", "in", "is", "by", "as", "if", "on", "to"})
_EXTRA_WORDS = ("or", "and", "xor", "not", "like", "rlike", "regexp", "union", "select", "sleep", "benchmark",
                "waitfor", "delay", "script", "alert", "prompt", "confirm", "onerror", "onload", "javascript",
                "eval", "exec", "system", "passthru", "popen", "jndi", "ldap", "admin", "null", "true", "false")


def is_secret_name(name: str) -> bool:
    leaf = "".join(c for c in leaf_name(name) if c.isalnum())
    return leaf in _NAMES or leaf.endswith(_NAME_ENDINGS)


@lru_cache(maxsize=1)
def attack_words() -> frozenset[str]:
    """Words an injection needs: shell commands, SQL words, dangerous code functions."""
    words = {line.split()[0].lower() for line in rule_lines("shell_commands.txt")}
    words.update(w.lower() for w in rule_lines("php_dangerous.txt") if w.isidentifier())
    words.update(_sql_words(rule_yaml("sql.yaml")))
    words.update(_EXTRA_WORDS)
    return frozenset(w for w in words if len(w) >= 2)


def _sql_words(data: object) -> set[str]:
    out: set[str] = set()
    if isinstance(data, dict):
        for v in data.values():
            out |= _sql_words(v)
    elif isinstance(data, list):
        for v in data:
            out |= _sql_words(v)
    elif isinstance(data, str):
        out.update(w.lower() for w in data.replace("_", " ").split() if w.isalpha())
    return out


def is_soup(value: str) -> bool:
    """A generated-password-like value: no blank, three character classes, no attack word."""
    if not MIN_LENGTH <= len(value) <= MAX_LENGTH or not value.isascii() or not value.isprintable():
        return False
    if any(c.isspace() for c in value):
        return False
    classes = (any(c.islower() for c in value) + any(c.isupper() for c in value)
               + any(c.isdigit() for c in value) + any(not c.isalnum() for c in value))
    if classes < 3:
        return False
    words = attack_words()
    start = 0
    for i, c in enumerate(value + " "):
        if c.isalpha():
            continue
        if i - start >= 2 and _is_attack_word(value, start, i, words):
            return False
        start = i + 1
    return True


# A two-letter command counts only where a shell would run it: at the start or after what
# ends a command or opens one (`;id`, `|ls`, `$(id)`, `{id,}`, `/bin/id`, `\id`, `"id"`), and
# followed by the end or what ends a word (`id;`, `id|`, `id)`, `id>`, `id$IFS`, `id''`, `id#`).
# `&dd(` (a syntax error), `rm+` (the word is `rm+`), `)su` are letters of a password.
_BEFORE_COMMAND = frozenset(";&|(`\n'\"/{\\")
_AFTER_COMMAND = frozenset(";&|)<>`'\"$\\ \t\n#")  # `id#`: not a comment to a shell, but what attackers type


def _is_attack_word(value: str, start: int, end: int, words: frozenset[str]) -> bool:
    """Is value[start:end], a run of letters, a word an attack needs? Two-letter commands (`id`,
    `ls`, PowerShell's `ni`) count as typed, in lower case (a shell is case-sensitive, and `sC`
    or `IP` in a password is chance) and where a shell reads a command; SQL's short words
    (`OR`, `IN`) in any case, and longer words in any case."""
    run = value[start:end]
    low = run.lower()
    if low not in words:
        return False
    if len(run) > 2 or low in _SQL_SHORT:
        return True
    return run.islower() and (start == 0 or value[start - 1] in _BEFORE_COMMAND) \
        and (end == len(value) or value[end] in _AFTER_COMMAND)


def generated_secrets(inputs: Sequence[Input]) -> set[str]:
    """Locations of secret-named parameters whose every Input is soup (a generated password):
    HIGH findings there are made MEDIUM (relax_generated_secrets)."""
    verdicts: dict[str, bool] = {}  # location -> every Input read there is soup (base64 of a payload is not)
    for inp in inputs:
        if inp.role == "value" and is_secret_name(inp.name):
            loc = inp.location
            verdicts[loc] = verdicts.get(loc, True) and is_soup(inp.value)
    return {loc for loc, ok in verdicts.items() if ok}


def relax_generated_secrets(findings: list[Finding], inputs: Sequence[Input]) -> list[Finding]:
    """`findings` with HIGH findings located in a soup value of a secret-named parameter made MEDIUM."""
    if not any(f.severity is Severity.HIGH for f in findings):
        return findings
    soup = generated_secrets(inputs)
    if not soup:
        return findings
    return [replace(f, severity=Severity.MEDIUM, detail=f"{f.detail} (in a generated-password-like value)")
            if f.severity is Severity.HIGH and f.location in soup else f for f in findings]
