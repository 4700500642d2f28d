"""PHP code injection: PHP tags, calls, dynamic calls, wrappers, serialized objects.

Finding class: "rce" (code execution). Rule ids:
  php.open-tag            <?php, <?=, "<? code", <?xml followed by code, {php} and [php] blocks
  php.function-call       a PHP function called: dangerous ones (system, eval,
                          base64_decode …) with any call syntax; other PHP
                          functions when written as a call (name(…), comments or
                          newlines between name and "(") — everyday words
                          (date, max, round) need PHP-looking arguments
  php.dynamic-call        a call through a variable ($f(…), $_[@-_](…), $o->$m()),
                          a string ("\\x73ystem"(…)) or an expression ((sy.st.em)(…))
  php.concatenated-name   string literals joined into a dangerous function name ('sys'.'tem')
  php.superglobal         $_GET, $_POST, $_SERVER, $GLOBALS … in a value
  php.variable-variable   ${'name'}, $ {…}: PHP's variable-variable syntax
  php.object-injection    a serialized PHP object (O:8:"stdClass":1:{…})
  php.wrapper             php://filter, phar://, zip://, expect://, compress.*://, data://…
  php.ini-directive       a php.ini line (allow_url_include=On, opcache.x=…)

The value is tokenised as PHP (extauthz/lang/php.py) so evasions between a name
and its parenthesis are seen; function vocabularies live in
extauthz/rules/php_*.txt.
"""
from __future__ import annotations

from functools import lru_cache
from typing import Iterable

from extauthz.decode import Input
from extauthz.detect.base import Detector, register
from extauthz.detect.hits import Hit, finding
from extauthz.finding import Finding, Severity
from extauthz.lang.php import Token, matching, matching_back, next_solid, prev_solid, tokenize
from extauthz.rules import rule_lines

SUPERGLOBALS = frozenset({"_GET", "_POST", "_COOKIE", "_REQUEST", "_SERVER", "_FILES", "_ENV", "_SESSION",
                          "GLOBALS", "HTTP_GET_VARS", "HTTP_POST_VARS", "HTTP_COOKIE_VARS", "HTTP_SERVER_VARS",
                          "HTTP_ENV_VARS", "HTTP_POST_FILES", "HTTP_RAW_POST_DATA"})
WRAPPERS_HIGH = ("php://filter", "php://input", "php://stdin", "php://fd", "php://memory", "php://temp",
                 "php://output", "php://stdout", "php://stderr", "expect://", "phar://", "zip://", "rar://",
                 "compress.zlib://", "compress.bzip2://", "glob://", "ogg://", "ssh2.shell://", "ssh2.exec://",
                 "ssh2.tunnel://", "ssh2.sftp://", "ssh2.scp://", "zlib://", "bzip2://")
PLURAL_ARGS = frozenset({"s", "es", "ies", "S", "ES"})



class Vocabulary:
    def __init__(self) -> None:
        self.functions = frozenset(n.lower() for n in rule_lines("php_functions.txt"))
        self.dangerous = frozenset(n.lower() for n in rule_lines("php_dangerous.txt"))
        self.common = frozenset(n.lower() for n in rule_lines("php_common.txt"))
        self.prefixes = tuple(n.lower() for n in rule_lines("php_prefixes.txt"))
        self.ini = frozenset(n.lower() for n in rule_lines("php_ini.txt"))
        self.english = frozenset(n.lower() for n in rule_lines("php_english.txt"))
        self.long_dangerous = tuple(sorted((n for n in self.dangerous if len(n) >= 8), key=len, reverse=True))

    def tier(self, name: str) -> str:
        """"danger", "php", "common" or "" for an identifier."""
        low = name.lower()
        if low in self.common:
            return "common"
        if low in self.dangerous:
            return "danger"
        if low in self.functions or any(low.startswith(p) and len(low) > len(p) + 1 for p in self.prefixes):
            return "php"
        for d in self.long_dangerous:  # FOOcall_user_func(: glued to junk, still the dangerous name
            if low.endswith(d):
                return "danger"
        return ""


@lru_cache(maxsize=1)
def vocabulary() -> Vocabulary:
    return Vocabulary()


# ---------------------------------------------------------------- text-level checks


def _open_tag(value: str) -> Hit | None:
    low = value.lower()
    at = low.find("<?")
    while at >= 0:
        rest = low[at + 2:at + 40]
        if rest.startswith("php") and (len(rest) == 3 or not rest[3].isalnum()):
            return Hit(Severity.HIGH, "php.open-tag", at, at + 5, "<?php")
        if rest.startswith("="):
            return Hit(Severity.HIGH, "php.open-tag", at, at + 3, "<?=")
        stripped = rest.lstrip()
        if rest[:1] in (" ", "\t", "\n", "\r") and stripped:
            if stripped.startswith("php") or stripped[0] in "$@(" or stripped[0].isalpha() or stripped[0] == "_":
                return Hit(Severity.HIGH, "php.open-tag", at, at + 8, "<? followed by code")
        if rest.startswith("xml") and rest[3:4] in (" ", "\t", "\n", ":") :
            after = rest[3:].lstrip()
            # <?xml version="1.0"…?> is XML; "<?xml :echo 1;" is a short tag followed by code
            if after and not after[0].isalpha() and not after.startswith("?>"):
                return Hit(Severity.HIGH, "php.open-tag", at, at + 10, "<? short tag followed by code")
        at = low.find("<?", at + 2)
    for tag in ("{php}", "{/php}", "[php]", "[/php]", "[\\php]"):
        at = low.find(tag)
        if at >= 0:
            return Hit(Severity.HIGH, "php.open-tag", at, at + len(tag), tag + " block")
    return None


def _serialized_object(value: str) -> Hit | None:
    at = value.find(':"')
    while 0 <= at < 65536:
        k = at - 1
        while k >= 0 and value[k].isdigit():
            k -= 1
        if k >= 1 and value[k] == ":" and value[k - 1] in "OC" and k < at - 1:
            declared = int(value[k + 1:at])
            name_end = at + 2 + declared
            if value[name_end:name_end + 2] == '":' and declared <= 256:
                name = value[at + 2:name_end]
                j = name_end + 2
                while j < len(value) and value[j].isdigit():
                    j += 1
                if name and value[j:j + 2] == ":{" and j > name_end + 2:
                    return Hit(Severity.HIGH, "php.object-injection", k - 1, j + 2, f"serialized object of class {name[:40]}")
        at = value.find(':"', at + 2)
    return None


def _wrapper(value: str) -> Hit | None:
    low = value.lower()
    for w in WRAPPERS_HIGH:
        at = low.find(w)
        if at >= 0 and (at == 0 or not low[at - 1].isalnum()):
            return Hit(Severity.HIGH, "php.wrapper", at, at + len(w) + 16, f"PHP stream wrapper {w}")
    at = low.find("data:")
    while 0 <= at < 4096:
        if at == 0 or not low[at - 1].isalnum():
            rest = low[at + 5:at + 256].lstrip("/")
            mime = rest.split(";", 1)[0].split(",", 1)[0]
            # data:image/png;base64 is an ordinary inline image; text and code are what gets included
            if "/" in mime and mime.split("/", 1)[0] in ("text", "application"):
                whole = at == 0 or not low[:at].strip(" \"'{:")  # the value is the data URI
                sev = Severity.HIGH if ("base64," in rest or "<" in rest or low[at + 5:at + 7] == "//" or whole) \
                    else Severity.MEDIUM
                return Hit(sev, "php.wrapper", at, at + 32, f"data: stream ({mime[:30]})")
        at = low.find("data:", at + 5)
    return None


def _ini_directive(value: str) -> Hit | None:
    vocab = vocabulary()
    for line_start, line in _lines(value):
        name, eq, _ = line.partition("=")
        name = name.strip().lower()
        if eq and name in vocab.ini:
            return Hit(Severity.HIGH, "php.ini-directive", line_start, line_start + len(line), f"php.ini directive {name}")
    return None


def _lines(value: str) -> Iterable[tuple[int, str]]:
    pos = 0
    for k, line in enumerate(value[:4096].split("\n")):
        if k >= 32:
            break
        yield pos, line
        pos += len(line) + 1


# ---------------------------------------------------------------- token-level checks


def _args_kind(tokens: list[Token], open_i: int) -> str:
    """'empty', 'php' ($var, string, nested call), 'plural' ((s)), 'words' or 'open'."""
    close = matching(tokens, open_i)
    if close < 0:
        inner = [t for t in tokens[open_i + 1:open_i + 24] if not t.blank]
        return "php" if any(t.kind in ("var", "string") for t in inner) else "open"
    inner = [t for t in tokens[open_i + 1:close] if not t.blank]
    if not inner:
        return "empty"
    if len(inner) == 1 and inner[0].kind == "ident" and inner[0].text in PLURAL_ARGS:
        return "plural"
    if any(t.kind in ("var", "string", "backtick") for t in inner):
        return "php"
    for k in range(len(inner) - 1):
        if inner[k].kind == "ident" and inner[k + 1].text == "(" and vocabulary().tier(inner[k].text):
            return "php"
    return "words"


def _calls(tokens: list[Token]) -> Hit | None:
    vocab = vocabulary()
    best: Hit | None = None
    for i, t in enumerate(tokens):
        if t.kind != "ident":
            continue
        j = next_solid(tokens, i + 1)
        if j >= len(tokens) or tokens[j].text != "(":
            continue
        tier = vocab.tier(t.text)
        if not tier:
            continue
        gap = tokens[i + 1:j]
        # comments, line breaks, tabs or runs of spaces between name and "(" are evasion, not prose
        obfuscated = any(g.kind == "comment" or g.text != " " for g in gap)
        adjacent = not gap
        p = prev_solid(tokens, i - 1)
        if p >= 0 and tokens[p].kind == "punct" and tokens[p].text in ("->", "::"):
            continue  # a method named like a function ($obj->date()) is not this
        args = _args_kind(tokens, j)
        if args == "plural":
            continue
        low = t.text.lower()
        code_args = args in ("php", "empty")
        sev = Severity.MEDIUM
        if obfuscated:
            sev = Severity.HIGH
        elif tier == "common":
            if code_args and args != "empty" or (adjacent and args == "empty" and len(low) > 2):
                sev = Severity.HIGH
            elif not adjacent:
                continue
        elif adjacent or code_args:
            sev = Severity.HIGH
        elif "_" in low or (args in ("open", "words") and _single_word_args(tokens, j) and low not in vocab.english):
            sev = Severity.HIGH  # pg_enter_pipeline_mode (…, exec  (blah)
        hit = Hit(sev, "php.function-call", t.start, tokens[j].end,
                  f"{t.text.lower()}() called" + (" with comments before (" if obfuscated else ""))
        if best is None or hit.severity > best.severity:
            best = hit
            if sev >= Severity.HIGH:
                return best
    return best


def _single_word_args(tokens: list[Token], open_i: int) -> bool:
    close = matching(tokens, open_i)
    if close < 0:
        return True
    return sum(1 for t in tokens[open_i + 1:close] if not t.blank) <= 1


def _reduce_name(tokens: list[Token], lo: int, hi: int) -> str:
    """The identifier an expression between tokens[lo:hi] spells ((sy.(st).em), ['system'][0])."""
    parts: list[str] = []
    k = lo
    while k < hi:
        t = tokens[k]
        if t.kind == "punct" and t.text == "[" and k + 2 < hi and tokens[k + 1].kind == "number" \
                and tokens[k + 2].text == "]":
            k += 3  # an index [0]
            continue
        if t.kind in ("ident", "string"):
            if t.kind == "ident" and t.text.lower() == "string":
                k += 1
                continue  # a (string) cast
            parts.append(t.text)
        k += 1
    return "".join(parts).replace(" ", "").lower()


def _dynamic_calls(tokens: list[Token]) -> Hit | None:
    vocab = vocabulary()
    for i, t in enumerate(tokens):
        if t.kind != "punct" or t.text != "(":
            continue
        p = prev_solid(tokens, i - 1)
        if p < 0:
            continue
        prev = tokens[p]
        if prev.kind == "string":
            name = prev.text.strip().lower()
            if vocab.tier(name) in ("danger", "php"):
                return Hit(Severity.HIGH, "php.dynamic-call", prev.start, t.end, f"call through the string {name!r}")
            continue
        if prev.kind == "var":
            # $f(…), but not the $ of a template ${x}(…) handled below
            return Hit(Severity.HIGH, "php.dynamic-call", prev.start, t.end, f"call through ${prev.text}")
        if prev.kind == "punct" and prev.text in (")", "]", "}"):
            o = matching_back(tokens, p)
            if o < 0:
                continue
            # walk back over chained brackets: $__[@o](…), ${'a'}(…), [system][0](…)
            head = o
            while True:
                q = prev_solid(tokens, head - 1)
                if q >= 0 and tokens[q].kind == "punct" and tokens[q].text in ("]", "}", ")"):
                    o2 = matching_back(tokens, q)
                    if o2 < 0:
                        break
                    head = o2
                    continue
                break
            q = prev_solid(tokens, head - 1)
            if q >= 0 and tokens[q].kind == "var" and tokens[o].text in ("[", "{") and o - head >= 0 \
                    and _non_empty(tokens, o, p):
                return Hit(Severity.HIGH, "php.dynamic-call", tokens[q].start, t.end,
                           f"call through ${tokens[q].text}[…]")
            if q >= 0 and tokens[q].kind == "punct" and tokens[q].text == "$" and tokens[head].text == "{" \
                    and _non_empty(tokens, head, matching(tokens, head)):
                return Hit(Severity.HIGH, "php.dynamic-call", tokens[q].start, t.end, "call through ${…}")
            if tokens[head].text == "[" and not any(x.kind in ("string", "number") for x in tokens[head:p + 1]):
                continue  # [text](url): a Markdown link, not an array callable
            name = _reduce_name(tokens, head, p + 1)
            if name and vocab.tier(name) in ("danger", "php") and len(name) >= 3:
                return Hit(Severity.HIGH, "php.dynamic-call", tokens[head].start, t.end, f"call through ({name})")
    for i, t in enumerate(tokens):  # $obj->$method(), Foo::$method()
        if t.kind == "punct" and t.text in ("->", "::"):
            j = next_solid(tokens, i + 1)
            if j < len(tokens) and tokens[j].kind == "var":
                k = next_solid(tokens, j + 1)
                if k < len(tokens) and tokens[k].text == "(":
                    return Hit(Severity.HIGH, "php.dynamic-call", t.start, tokens[k].end, "method called through a variable")
    return None


def _non_empty(tokens: list[Token], lo: int, hi: int) -> bool:
    return hi > lo and any(not t.blank for t in tokens[lo + 1:hi])


def _concatenation(tokens: list[Token]) -> Hit | None:
    vocab = vocabulary()
    i = 0
    while i < len(tokens):
        if tokens[i].kind != "string":
            i += 1
            continue
        parts = [tokens[i].text]
        start = tokens[i].start
        j = i
        while True:
            d = next_solid(tokens, j + 1)
            if d < len(tokens) and tokens[d].text == ".":
                s = next_solid(tokens, d + 1)
                if s < len(tokens) and tokens[s].kind == "string":
                    parts.append(tokens[s].text)
                    j = s
                    continue
            break
        if len(parts) >= 2:
            name = "".join(parts).strip().lower()
            if vocab.tier(name) == "danger":
                return Hit(Severity.HIGH, "php.concatenated-name", start, tokens[j].end, f"'{name}' assembled from pieces")
        i = j + 1
    return None


def _variables(tokens: list[Token]) -> Hit | None:
    for i, t in enumerate(tokens):
        if t.kind == "var" and t.text in SUPERGLOBALS:
            return Hit(Severity.HIGH, "php.superglobal", t.start, t.end, f"${t.text}")
        if t.kind == "punct" and t.text == "$":
            j = next_solid(tokens, i + 1)
            if j < len(tokens) and tokens[j].text == "{":
                close = matching(tokens, j)
                inner = [x for x in tokens[j + 1:close if close > 0 else j + 8] if not x.blank]
                spaced = j > i + 1
                if inner and (spaced or inner[0].kind in ("string", "var") or inner[0].text in ("$", "@")):
                    return Hit(Severity.HIGH, "php.variable-variable", t.start, tokens[j].end, "PHP ${…} variable-variable")
    return None


def assess(value: str, code: bool = True) -> Hit | None:
    """The strongest PHP-injection reading of `value`, or None.

    `code=False` (URL paths) looks only for tags, wrappers and serialized objects.
    """
    best: Hit | None = None
    for check in (_open_tag, _serialized_object, _wrapper, _ini_directive):
        h = check(value)
        if h is not None and (best is None or h.severity > best.severity):
            best = h
    if best is not None and best.severity >= Severity.HIGH:
        return best
    tokens = tokenize(value)
    for tcheck in ((_calls, _dynamic_calls, _concatenation, _variables) if code else (_calls,)):
        h = tcheck(tokens)
        if h is not None and (best is None or h.severity > best.severity):
            best = h
            if best.severity >= Severity.HIGH:
                break
    return best


def _trigger_patterns() -> tuple[str, ...]:
    return (
        r"[a-z_][a-z0-9_]*[ \t\r\n\x0b]*\(", r"[a-z0-9_][ \t]*/\*[^*]{0,200}\*/", r"[a-z0-9_][ \t]*(?:#|//)[^\n]{0,200}\n",
        r"<\?", r"[\[{][/\\]?php[\]}]", r"[oc]:\d+:\"", r"(?:php|phar|zip|rar|expect|glob|ogg|data|zlib|bzip2)://",
        r"data:", r"compress\.[a-z0-9]+://", r"ssh2\.[a-z]+://", r"\$[a-z_][a-z0-9_]*[ \t\r\n]*[\[{(]",
        r"\$[ \t]*\{", r"\$\$", r"['\"][ \t]*\(", r"[)\]}][ \t]*(?:/\*[^*]*\*/[ \t]*)?\(", r"\$_[a-z]", r"\$globals",
        r"\$http_[a-z]+_vars", r"->[ \t]*\$", r"::[ \t]*\$", r"['\"][ \t]*\.[ \t]*['\"]",
        r"^[ \t]*[a-z0-9_.]{3,60}[ \t]*=",
    )


@register
class PhpInjection(Detector):
    name = "php"
    triggers = _trigger_patterns()

    def __init__(self) -> None:
        vocabulary()  # load the rule files with the engine, not on the first request

    def scan_input(self, inp: Input) -> Iterable[Finding]:
        return finding("rce", assess(inp.value, code=inp.kind != "path"), inp)
