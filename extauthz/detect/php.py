"""PHP code injection: PHP tags, calls, dynamic calls, wrappers, serialized objects.

Finding class: "rce" (code execution). Rule ids:
  php.open-tag            <?php, <?=, "<? code", <?xml followed by code, {php} and [php] blocks
  php.function-call       a PHP function called: dangerous ones (system, eval,
                          base64_decode …) with any call syntax; other PHP
                          functions when written as a call (name(…), comments or
                          newlines between name and "(") — everyday words
                          (date, max, round) need PHP-looking arguments; a call
                          written between bare words of text ("Printing System(tm)",
                          "BSD mail(1)") is one step weaker (MEDIUM), unless it hands
                          code to a dangerous function (system('id'))
  php.dynamic-call        a call through a variable ($f(…), $_[@-_](…), $o->$m()),
                          a string ("\\x73ystem"(…)) or an expression ((sy.st.em)(…))
  php.concatenated-name   string literals joined into a dangerous function name ('sys'.'tem')
  php.superglobal         $_GET, $_POST, $_SERVER, $GLOBALS … in a value
  php.variable-variable   ${'name'}, $ {…}: PHP's variable-variable syntax
  php.object-injection    a serialized PHP object (O:8:"stdClass":1:{…})
  php.wrapper             php://filter, phar://, zip://, expect://, compress.*://, data://…
  php.ini-directive       a php.ini line (allow_url_include=On, opcache.x=…)
  php.callback-parameter  a parameter that names the function to call (function, callback, …) set to
                          a PHP-only code-running function (?function=call_user_func_array&vars[0]=system),
                          or ThinkPHP's controller route to a framework class (s=/index/\\think\\app/invokefunction)

The value is tokenised as PHP (extauthz/lang/php.py) so evasions between a name
and its parenthesis are seen; function vocabularies live in
extauthz/rules/php_*.txt.
"""
from __future__ import annotations

from functools import cached_property, lru_cache
from itertools import accumulate
from typing import Iterable, Sequence

from extauthz.decode import Input
from extauthz.detect.base import Detector, register
from extauthz.detect.hits import Hit, finding
from extauthz.detect.prefilter import Prefilter
from extauthz.detect.raw_markers import screened
from extauthz.finding import Finding, Severity
from extauthz.lang.markup import is_document
from extauthz.lang.php import Token, bracket_partners, prev_solid, tokenize
from extauthz.request import Request
from extauthz.rules import rule_lines

SUPERGLOBALS = frozenset({"_GET", "_POST", "_COOKIE", "_REQUEST", "_SERVER", "_FILES", "_ENV", "_SESSION",
                          "GLOBALS", "HTTP_GET_VARS", "HTTP_POST_VARS", "HTTP_COOKIE_VARS", "HTTP_SERVER_VARS",
                          "HTTP_ENV_VARS", "HTTP_POST_FILES", "HTTP_RAW_POST_DATA"})
WRAPPERS_HIGH = ("php://filter", "php://input", "php://stdin", "php://fd", "php://memory", "php://temp",
                 "php://output", "php://stdout", "php://stderr", "expect://", "phar://", "zip://", "rar://",
                 "compress.zlib://", "compress.bzip2://", "glob://", "ogg://", "ssh2.shell://", "ssh2.exec://",
                 "ssh2.tunnel://", "ssh2.sftp://", "ssh2.scp://", "zlib://", "bzip2://")
ASCII_DIGITS = frozenset("0123456789")
PLURAL_ARGS = frozenset({"s", "es", "ies", "S", "ES"})
TIER_CACHE = 4096  # identifiers whose tier is remembered (process-wide)
PROSE_WORDS = 3  # more plain words than this around an empty call make the value text
MAX_CANDIDATES = 512  # calls / dynamic calls examined per reading of a value
MAX_CHAIN_HOPS = 4  # bracket groups walked back from a "(" ($a[1]{2}(…), ['x'][0](…))
BREAKOUT_WINDOW = 1024  # characters re-read as code after a breakout quote
MAX_NAMES = 128  # expressions read as a function name per reading of a value
MAX_NAME_SPAN = 32  # tokens an expression spelling a function name may span ((sy.(st).em)(…))



class Vocabulary:
    def __init__(self) -> None:
        self.functions = frozenset(n.lower() for n in rule_lines("php_functions.txt"))
        self.dangerous = frozenset(n.lower() for n in rule_lines("php_dangerous.txt"))
        self.common = frozenset(n.lower() for n in rule_lines("php_common.txt"))
        self.prefixes = tuple(n.lower() for n in rule_lines("php_prefixes.txt"))
        self.ini = frozenset(n.lower() for n in rule_lines("php_ini.txt"))
        self.english = frozenset(n.lower() for n in rule_lines("php_english.txt"))
        self.keywords = frozenset(n.lower() for n in rule_lines("php_keywords.txt"))
        self.long_dangerous = tuple(sorted((n for n in self.dangerous if len(n) >= 8), key=len, reverse=True))
        self._tiers: dict[str, str] = {}

    def tier(self, name: str) -> str:
        """"danger", "php", "common" or "" for an identifier (memoised: values repeat names)."""
        low = name.lower()
        known = self._tiers.get(low)
        if known is None:
            known = self._tier(low)
            if len(self._tiers) >= TIER_CACHE:
                self._tiers.clear()
            self._tiers[low] = known
        return known

    def _tier(self, low: str) -> str:
        if low in self.common:
            return "common"
        if low in self.dangerous:
            return "danger"
        if low in self.functions:
            return "php"
        # str.startswith/endswith with a tuple screen in C; the loops only run on a match
        if low.startswith(self.prefixes) and any(low.startswith(p) and len(low) > len(p) + 1 for p in self.prefixes):
            return "php"
        if low.endswith(self.long_dangerous):  # FOOcall_user_func(: glued to junk, still the dangerous name
            return "danger"
        return ""


@lru_cache(maxsize=1)
def vocabulary() -> Vocabulary:
    return Vocabulary()


# ---------------------------------------------------------------- text-level checks


def _open_tag(value: str) -> Hit | None:
    low = value.lower()
    bare: Hit | None = None
    at = low.find("<?")
    while at >= 0:
        rest = low[at + 2:at + 40]
        if rest.startswith("php") and (len(rest) == 3 or not rest[3].isalnum()):
            if low[at + 5:].strip():
                return Hit(Severity.HIGH, "php.open-tag", at, at + 5, "<?php")
            # `<?php` and nothing after it (a cookie or a parameter name that is just the tag): no
            # code to run; suggestive, not an attack on its own
            bare = Hit(Severity.MEDIUM, "php.open-tag", at, at + 5, "<?php with no code after it")
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
    return bare


def _serialized_object(value: str) -> Hit | None:
    at = value.find(':"')
    while 0 <= at < 65536:
        k = at - 1
        while k >= 0 and value[k] in ASCII_DIGITS:
            k -= 1
        digits = value[k + 1:at]
        if k >= 0 and value[k] == "+":  # O:+8:"…": unserialize() takes the sign, /O:\d+:/ filters miss it
            k -= 1
        # a class name length of at most 6 digits (int() of thousands of digits raises, and is slow)
        if k >= 1 and value[k] == ":" and value[k - 1] in "OC" and 0 < len(digits) <= 6:
            declared = int(digits)
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


_BLANK = frozenset({"ws", "comment"})
_CODE = frozenset({"var", "string", "backtick"})
_LITERAL = frozenset({"string", "number"})
_WORD = frozenset({"ident", "string"})


class _Code:
    """A value read as PHP: its tokens, bracket pairs and running counts.

    Everything a check asks about a span of tokens (is it empty, does it hold a
    variable or a string, a call of a known function) is a difference of two
    running counts, and every bracket's partner is known from one pass: the
    checks cost the same per candidate whatever the value's length, so the
    whole reading is linear (a value of 8 KiB of `)(` or `select(` included).
    """

    document = False  # the value is a document (extauthz.lang.markup.is_document)

    def __init__(self, tokens: list[Token]) -> None:
        n = len(tokens)
        self.tokens = tokens
        self.partner = bracket_partners(tokens)
        self._blank = [t.kind in _BLANK for t in tokens]
        # next[i]: the first solid (not blank) token at or after i, or n
        nxt = [n] * (n + 1)
        for i in range(n - 1, -1, -1):
            nxt[i] = nxt[i + 1] if self._blank[i] else i
        self.next = nxt

    # running counts, each built on first use (most values never need most of them)
    @cached_property
    def _solid(self) -> list[int]:
        return list(accumulate((not b for b in self._blank), initial=0))

    @cached_property
    def _code(self) -> list[int]:
        return list(accumulate((t.kind in _CODE for t in self.tokens), initial=0))

    @cached_property
    def _literal(self) -> list[int]:
        return list(accumulate((t.kind in _LITERAL for t in self.tokens), initial=0))

    @cached_property
    def _word(self) -> list[int]:
        return list(accumulate((t.kind in _WORD for t in self.tokens), initial=0))

    @cached_property
    def prose_words(self) -> int:
        """Plain words (identifiers of letters only, not called) in the value: many of them make it text."""
        tokens, nxt, n = self.tokens, self.next, len(self.tokens)
        return sum(1 for i, t in enumerate(tokens) if t.kind == "ident" and len(t.text) >= 2 and t.text.isalpha()
                   and (nxt[i + 1] >= n or tokens[nxt[i + 1]].text != "("))

    @cached_property
    def _known_call(self) -> list[int]:
        vocab, tokens, nxt, n = vocabulary(), self.tokens, self.next, len(self.tokens)
        return list(accumulate(
            (t.kind == "ident" and nxt[i + 1] < n and tokens[nxt[i + 1]].text == "(" and bool(vocab.tier(t.text))
             for i, t in enumerate(tokens)), initial=0))

    def solid(self, lo: int, hi: int) -> int:
        """Solid tokens in tokens[lo:hi]."""
        return self._span(self._solid, lo, hi)

    def has_code(self, lo: int, hi: int) -> bool:
        """A $variable, string or backtick string in tokens[lo:hi]."""
        return self._span(self._code, lo, hi) > 0

    def has_literal(self, lo: int, hi: int) -> bool:
        return self._span(self._literal, lo, hi) > 0

    def has_word(self, lo: int, hi: int) -> bool:
        """An identifier or a string (what a function name is spelled from) in tokens[lo:hi]."""
        return self._span(self._word, lo, hi) > 0

    def has_known_call(self, lo: int, hi: int) -> bool:
        """A known PHP function called (name followed by "(") in tokens[lo:hi]."""
        return self._span(self._known_call, lo, hi) > 0

    def _span(self, running: list[int], lo: int, hi: int) -> int:
        hi = min(hi, len(self.tokens))
        return running[hi] - running[lo] if hi > lo else 0


def _args_kind(code: _Code, open_i: int) -> str:
    """'empty', 'php' ($var, string, nested call), 'plural' ((s)), 'section' (a manual section: (5),
    (3p)), 'words' or 'open'."""
    tokens = code.tokens
    close = code.partner[open_i]
    if close < 0:
        lo, hi = open_i + 1, open_i + 24
        return "php" if code.has_code(lo, hi) and _has_var_or_string(tokens, lo, hi) else "open"
    lo = open_i + 1
    count = code.solid(lo, close)
    if count == 0:
        return "empty"
    first = code.next[lo]
    if count == 1 and tokens[first].kind == "ident" and tokens[first].text in PLURAL_ARGS:
        return "plural"
    if count == 1 and _man_section(tokens[first]):
        return "section"
    if count >= 3 and _opens_with_words(code, first, close):
        return "words"  # "a file (in that case to "foo")": an aside in text, whatever it quotes
    if code.has_code(lo, close) or code.has_known_call(lo, close):
        return "php"
    return "words"


def _opens_with_words(code: _Code, k: int, close: int) -> bool:
    """The two solid tokens from k are words and neither a PHP keyword: PHP never writes two
    names side by side (`new Foo`, `instanceof`, `as` are keywords), so such arguments are no call's."""
    tokens, keywords = code.tokens, vocabulary().keywords
    for _ in range(2):
        if k >= close or tokens[k].kind != "ident" or not tokens[k].text.isalpha() \
                or tokens[k].text.lower() in keywords:
            return False
        k = code.next[k + 1]
    return True


# Functions a number is all a probe hands (`;sleep(5);`): their section-like argument is the payload.
_DELAYS = frozenset({"sleep", "usleep", "time_nanosleep", "time_sleep_until", "set_time_limit"})


def _man_section(t: Token) -> bool:
    """A manual section number (`5`, `3p`, `3ssl`): no call runs anything with that alone."""
    return t.kind == "number" and len(t.text) <= 6 and t.text[0] in "123456789" and \
        (len(t.text) == 1 or t.text[1:].isalpha())


def _has_var_or_string(tokens: list[Token], lo: int, hi: int) -> bool:
    return any(t.kind in ("var", "string") for t in tokens[lo:hi])


def _calls(code: _Code) -> Hit | None:
    vocab = vocabulary()
    tokens = code.tokens
    best: Hit | None = None
    seen = 0
    for i, t in enumerate(tokens):
        if t.kind != "ident":
            continue
        j = code.next[i + 1]
        if j >= len(tokens) or tokens[j].text != "(":
            continue
        tier = vocab.tier(t.text)
        if not tier:
            continue
        seen += 1
        if seen > MAX_CANDIDATES:
            break
        gap = tokens[i + 1:j]
        # comments, line breaks, tabs or runs of spaces between name and "(" are evasion, not prose
        obfuscated = any(g.kind == "comment" or g.text != " " for g in gap)
        adjacent = not gap
        p = prev_solid(tokens, i - 1)
        if p >= 0 and tokens[p].kind == "punct" and tokens[p].text in ("->", "::"):
            continue  # a method named like a function ($obj->date()) is not this
        if p > 0 and tier != "danger" and tokens[p].kind == "punct" and tokens[p].text == ".":
            q = prev_solid(tokens, p - 1)
            if q >= 0 and tokens[q].kind == "ident":
                # console.log("x"), str.format("a"), Math.log(2): a method call in JavaScript, Python,
                # Java ...; PHP would read a bare constant glued by "." (PHP 8 stops there)
                continue
        if t.text == "require" and _node_require(code, p, j):
            continue  # const fs = require('node:fs'): Node's module loader, not PHP's include
        if p >= 0 and tokens[p].text == "@" and _named_first_argument(code, j):
            continue  # @include(if: $x), @skip(if: …): a GraphQL directive (PHP's constructs take no named arguments)
        args = _args_kind(code, j)
        if args == "plural":
            continue
        low = t.text.lower()
        if args == "section":
            if low not in _DELAYS:
                continue  # systemd.exec(5), system(3), crontab(5), ssl(3ssl): a manual page named in text
            args = "words"  # sleep(5): the number is the probe
        code_args = args in ("php", "empty")
        sev = Severity.MEDIUM
        if obfuscated:
            sev = Severity.HIGH
        elif tier == "common":
            if code_args and args != "empty" and not _one_literal(code, j) or (
                    adjacent and args == "empty" and len(low) > 2
                                                 and code.prose_words <= PROSE_WORDS):
                sev = Severity.HIGH
            elif not adjacent:
                continue
        elif args == "empty" and code.prose_words > PROSE_WORDS:
            sev = Severity.MEDIUM  # "the print() function is deprecated": a function named in text
        elif adjacent or code_args:
            sev = Severity.HIGH
        elif "_" in low or (args in ("open", "words") and _single_word_args(code, j) and low not in vocab.english):
            sev = Severity.HIGH  # pg_enter_pipeline_mode (…, exec  (blah)
        # a comment between name and "(" is deliberate; a line break may be text's own wrap
        text = not any(g.kind == "comment" for g in gap) and _in_text(code, p, j, args, tier)
        if text:  # one step down: HIGH needs company, and a spaced "word (words)" aside is barely a hint
            sev = Severity.MEDIUM if sev >= Severity.HIGH or adjacent or args in ("php", "empty") else Severity.LOW
        hit = Hit(sev, "php.function-call", t.start, tokens[j].end,
                  f"{t.text.lower()}() called" + (" with comments before (" if obfuscated else "")
                  + (" between words of text" if text else ""))
        if code.document and tier != "danger" and hit.severity > Severity.MEDIUM:
            # `print(match.encoding)`, `sizeof(int)`, `strcmp(argv[1], "-x")`: a code example of a
            # document (Python, C); a dangerous function (system, eval, ...) keeps its weight
            hit = Hit(Severity.MEDIUM, hit.rule, hit.start, hit.end, hit.detail + " in a document's code example")
        if best is None or hit.severity > best.severity:
            best = hit
            if hit.severity >= Severity.HIGH:
                return best
    return best


def _named_first_argument(code: _Code, open_i: int) -> bool:
    """The call's first argument is written `name:` (GraphQL's, and PHP 8's named arguments)."""
    tokens = code.tokens
    a = code.next[open_i + 1]
    if a >= len(tokens) or tokens[a].kind != "ident":
        return False
    b = code.next[a + 1]
    return b < len(tokens) and tokens[b].text == ":"


def _in_text(code: _Code, p: int, open_i: int, args: str, tier: str) -> bool:
    """Whether a call is written in text, not code: PHP has no `word name(` (a bare word
    before a function's name: "Common UNIX Printing System(tm)", "BSD mail(1)", "helper to
    require() directories") and no bare word right after a call's ")" ("unpack (almost)
    everything"), unless the word is a PHP keyword (echo system(…), …) or die()).
    A dangerous function given code (system('id')) stays a call wherever it is written;
    the word after counts only for arguments of words."""
    if args == "php" and tier == "danger":
        return False
    tokens, keywords = code.tokens, vocabulary().keywords
    if p >= 0 and tokens[p].kind == "ident" and tokens[p].text.lower() not in keywords:
        return True
    close = code.partner[open_i]
    if args not in ("words", "open") or close < 0:
        return False
    k = code.next[close + 1]
    return k < len(tokens) and tokens[k].kind == "ident" and tokens[k].text.lower() not in keywords


MAX_ASIDE = 24  # tokens in a parenthetical aside read after a variable


def _aside_of_words(code: _Code, open_i: int) -> bool:
    """A short "(…)" of plain words and punctuation (no variable, string or call): an aside in
    text ("$HOME (Closes: #940578)"), read token by token over at most MAX_ASIDE tokens."""
    close = code.partner[open_i]
    hi = close if close > open_i else min(len(code.tokens), open_i + 1 + MAX_ASIDE)
    if hi - open_i > MAX_ASIDE + 1:
        return False
    inner = code.tokens[open_i + 1:hi]
    return any(t.kind == "ident" and t.text.isalpha() for t in inner) \
        and not any(t.kind in _CODE or t.text == "(" for t in inner)


_JS_DECLARATIONS = frozenset({"const", "let", "var"})


def _node_require(code: _Code, before: int, open_i: int) -> bool:
    """`require('node:fs')`, `const { Buffer } = require('buffer')`: Node's loader. Its one
    argument is a string naming a Node built-in (`node:` prefix), or the call is the value of
    a JavaScript declaration (`const|let|var NAME =`, a destructuring `{ a, b }` as NAME),
    which PHP cannot parse. PHP's include of a URL, a wrapper or a path (`require($_GET[f])`,
    `require('http://evil/x.txt')`, `$m = require('/etc/passwd')`) stays a call."""
    tokens = code.tokens
    close = code.partner[open_i]
    if close < 0 or code.solid(open_i + 1, close) != 1:
        return False
    arg = tokens[code.next[open_i + 1]]
    if arg.kind != "string" or ":" in arg.text and not arg.text.startswith("node:"):
        return False
    if arg.text.startswith("node:"):
        return True
    if before < 0 or tokens[before].text != "=":
        return False
    k = prev_solid(tokens, before - 1)
    if k >= 0 and tokens[k].text == "}" and code.partner[k] >= 0:
        k = code.partner[k]  # a destructuring pattern
    elif k < 0 or tokens[k].kind != "ident":
        return False
    d = prev_solid(tokens, k - 1)
    return d >= 0 and tokens[d].kind == "ident" and tokens[d].text in _JS_DECLARATIONS


def _one_literal(code: _Code, open_i: int) -> bool:
    """The call's only argument is one string (print("hello"), in a post about Python as
    much as in PHP): an output of that constant is harmless; probes print something
    computed (print(md5(...))) or a marker number (print(1337))."""
    close = code.partner[open_i]
    if close < 0 or code.solid(open_i + 1, close) != 1:
        return False
    return code.tokens[code.next[open_i + 1]].kind == "string"


def _single_word_args(code: _Code, open_i: int) -> bool:
    close = code.partner[open_i]
    return close < 0 or code.solid(open_i + 1, close) <= 1


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


def _chain_heads(code: _Code, p: int) -> tuple[int, int]:
    """Openers of the chain of bracket groups ending at closer p: (whole chain, last two groups).

    The whole chain ($__[@o][1](…), ${'a'}(…)) is walked back at most
    MAX_CHAIN_HOPS groups: a callee is a short expression, and a value of `)(`
    repeated must not be walked back to its start from every "(". A name is
    spelled by at most two groups ([system][0], (['system'])[0], (sy.(st).em)).
    """
    tokens, partner = code.tokens, code.partner
    head = named = partner[p]
    for hop in range(MAX_CHAIN_HOPS):
        q = prev_solid(tokens, head - 1)
        if q >= 0 and tokens[q].kind == "punct" and tokens[q].text in ("]", "}", ")") and partner[q] >= 0:
            head = partner[q]
            if hop == 0:
                named = head
            continue
        break
    return head, named


def _dynamic_calls(code: _Code) -> Hit | None:
    vocab = vocabulary()
    tokens, partner = code.tokens, code.partner
    seen = names = 0
    aside: Hit | None = None
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
            if p + 2 == i and tokens[p + 1].text == " " and _aside_of_words(code, i):
                # "below $HOME (Closes: #940578)": a variable named in text, one space, an aside of
                # words ($f (16), $f\n(23) are calls)
                aside = aside or Hit(Severity.MEDIUM, "php.dynamic-call", prev.start, t.end,
                                     f"${prev.text} before an aside of words")
                continue
            # $f(…), but not the $ of a template ${x}(…) handled below
            return Hit(Severity.HIGH, "php.dynamic-call", prev.start, t.end, f"call through ${prev.text}")
        if prev.kind == "punct" and prev.text in (")", "]", "}"):
            o = partner[p]
            if o < 0:
                continue
            seen += 1
            if seen > MAX_CANDIDATES:
                break
            head, named = _chain_heads(code, p)
            q = prev_solid(tokens, head - 1)
            if q >= 0 and tokens[q].kind == "var" and tokens[o].text in ("[", "{") and code.solid(o + 1, p) > 0:
                return Hit(Severity.HIGH, "php.dynamic-call", tokens[q].start, t.end,
                           f"call through ${tokens[q].text}[…]")
            if q >= 0 and tokens[q].kind == "punct" and tokens[q].text == "$" and tokens[head].text == "{" \
                    and partner[head] > head and code.solid(head + 1, partner[head]) > 0:
                return Hit(Severity.HIGH, "php.dynamic-call", tokens[q].start, t.end, "call through ${…}")
            if tokens[named].text == "[" and not code.has_literal(named, p + 1):
                continue  # [text](url): a Markdown link, not an array callable
            if p + 1 - named > MAX_NAME_SPAN or not code.has_word(named, p + 1) or names >= MAX_NAMES:
                continue
            names += 1
            name = _reduce_name(tokens, named, p + 1)
            if name and vocab.tier(name) in ("danger", "php") and len(name) >= 3:
                return Hit(Severity.HIGH, "php.dynamic-call", tokens[named].start, t.end, f"call through ({name})")
    for i, t in enumerate(tokens):  # $obj->$method(), Foo::$method()
        if t.kind == "punct" and t.text in ("->", "::"):
            j = code.next[i + 1]
            if j < len(tokens) and tokens[j].kind == "var":
                k = code.next[j + 1]
                if k < len(tokens) and tokens[k].text == "(":
                    return Hit(Severity.HIGH, "php.dynamic-call", t.start, tokens[k].end, "method called through a variable")
    return aside


def _concatenation(code: _Code) -> Hit | None:
    vocab = vocabulary()
    tokens = code.tokens
    i = 0
    while i < len(tokens):
        if tokens[i].kind != "string":
            i += 1
            continue
        parts = [tokens[i].text]
        start = tokens[i].start
        j = i
        while len(parts) < 64:
            d = code.next[j + 1]
            if d < len(tokens) and tokens[d].text == ".":
                s = code.next[d + 1]
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


def _variables(code: _Code) -> Hit | None:
    tokens = code.tokens
    for i, t in enumerate(tokens):
        if t.kind == "var" and t.text in SUPERGLOBALS:
            return Hit(Severity.HIGH, "php.superglobal", t.start, t.end, f"${t.text}")
        if t.kind == "punct" and t.text == "$":
            j = code.next[i + 1]
            if j < len(tokens) and tokens[j].text == "{":
                close = code.partner[j]
                end = close if close > 0 else j + 8
                first = code.next[j + 1]
                if first >= min(end, len(tokens)):
                    continue
                spaced = j > i + 1
                inner0 = tokens[first]
                if spaced or inner0.kind in ("string", "var") or inner0.text in ("$", "@"):
                    return Hit(Severity.HIGH, "php.variable-variable", t.start, tokens[j].end, "PHP ${…} variable-variable")
                before = prev_solid(tokens, i - 1)
                after = code.next[first + 1]
                if inner0.kind == "ident" and before >= 0 and tokens[before].text == "{" and after < len(tokens) \
                        and tokens[after].text == "(":
                    # "{${sleep(12)}}": PHP's complex interpolation calls the function while a
                    # double-quoted string (eval'd, or a template) is built
                    return Hit(Severity.HIGH, "php.variable-variable", tokens[before].start, tokens[j].end,
                               "call inside PHP {${…}} interpolation")
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
    document = code and is_document(value)
    for prefix, upto in (("", len(value)), *(_breakouts(value) if code else ())):
        reading = _Code(tokenize(prefix + value[:upto]) if prefix else tokenize(value))
        reading.document = document
        for tcheck in ((_calls, _dynamic_calls, _concatenation, _variables) if code else (_calls,)):
            h = tcheck(reading)
            if h is not None and prefix:  # offsets back into the value
                h = Hit(h.severity, h.rule, max(0, h.start - 1), max(0, h.end - 1), h.detail + " after a quote breakout")
            if h is not None and (best is None or h.severity > best.severity):
                best = h
                if best.severity >= Severity.HIGH:
                    return best
    return best


def _breakouts(value: str) -> tuple[tuple[str, int], ...]:
    """Quotes the value breaks out of: `';system('id');//`, `".passthru("id")."`.

    Code injected into a PHP string literal (eval("…'$input'…")) starts by
    closing it; read that way, the value's first quote closes a string opened
    before it. Only when that quote is followed by a statement or expression
    separator (after optional `)`), so quoted words in prose are not re-read.
    Each is (quote, end): the injected code follows its breakout, so the
    re-reading stops BREAKOUT_WINDOW characters after the quote (a long value of
    quotes is not tokenised three times over).
    """
    out = []
    for q in ("'", '"'):
        at = value.find(q)
        if at < 0:
            continue
        rest = value[at + 1:at + 12].lstrip(" \t)")
        if rest[:1] in (";", ".", ",", "|", "&", "^", "+") or rest.startswith(("or ", "and ", "xor ")):
            out.append((q, at + 1 + BREAKOUT_WINDOW))
    return tuple(out)


@lru_cache(maxsize=1)
def _callbacks() -> frozenset[str]:
    return frozenset(n.lower() for n in rule_lines("php_callbacks.txt"))


def _trigger_patterns() -> tuple[str, ...]:
    return (
        r"[a-z_][a-z0-9_]*[ \t\r\n\x0b]*\(", r"[a-z0-9_][ \t]*/\*[^*]{0,200}\*/", r"[a-z0-9_][ \t]*(?:#|//)[^\n]{0,200}\n",
        r"<\?", r"[\[{][/\\]?php[\]}]", r"[oc]:\+?\d+:\"", r"(?:php|phar|zip|rar|expect|glob|ogg|data|zlib|bzip2)://",
        r"data:", r"compress\.[a-z0-9]+://", r"ssh2\.[a-z]+://", r"\$[a-z_][a-z0-9_]*[ \t\r\n]*[\[{(]",
        r"\$[ \t]*\{", r"\$\$", r"['\"][ \t]*\(", r"[)\]}][ \t]*(?:/\*[^*]*\*/[ \t]*)?\(", r"\$_[a-z]", r"\$globals",
        r"\$http_[a-z]+_vars", r"->[ \t]*\$", r"::[ \t]*\$", r"['\"][ \t]*\.[ \t]*['\"]",
        r"^[ \t]*[a-z0-9_.]{3,60}[ \t]*=",
        r"^\s*(?:" + "|".join(sorted(_callbacks())) + r")\s*$",  # the whole value: see _callback_parameter
        r"\\think\\",
    )


@register
class PhpInjection(Detector):
    name = "php"
    triggers = _trigger_patterns()

    def __init__(self) -> None:
        vocabulary()  # load the rule files with the engine, not on the first request
        self._screen = Prefilter([_RenderKeyScreen()])  # type: ignore[list-item]

    def scan_input(self, inp: Input) -> Iterable[Finding]:
        return finding("rce", _callback_parameter(inp) or assess(inp.value, code=inp.kind != "path"), inp)

    def scan_request(self, request: Request, inputs: Sequence[Input]) -> Iterable[Finding]:
        """A render-callback key set to a command function: Drupal's #post_render (Drupalgeddon 2,
        mail[#post_render][]=passthru) and htmLawed's hhook. The value alone ("exec") is a word and
        the key alone a name, so the pair is read here; a substring screen on the raw query and
        body spares the walk over the Inputs on almost every request."""
        q, body = request.query, request.body
        if not (q and any(self._screen.occurs_in(piece) for piece in screened(q))
                or body and self._screen.occurs_in(body if len(body) <= MAX_BODY_SCAN else body[:MAX_BODY_SCAN])):
            return ()
        vocab = vocabulary()
        for inp in inputs[:MAX_INPUTS]:
            if inp.role != "value":
                continue
            key = _render_callback_key(inp.name)
            fn = inp.value.strip().lower()
            if key and len(fn) <= 40 and (vocab.tier(fn) == "danger" or fn in _callbacks()):
                return finding("rce", Hit(Severity.HIGH, "php.callback-parameter", 0, len(inp.value),
                                          f"{fn} as the {key} callback"), inp)
        return ()


# Keys whose value a framework calls as a function whatever it is (render arrays, sanitiser hooks).
RENDER_CALLBACK_KEYS = ("#post_render", "#pre_render", "#lazy_builder", "#access_callback", "#value_callback", "hhook")
MAX_BODY_SCAN = 65536
MAX_INPUTS = 512


class _RenderKeyScreen:
    """Trigger-shaped holder of the raw query/body screen for RENDER_CALLBACK_KEYS (still encoded)."""

    triggers = (r"(?:#|%23)(?:post_render|pre_render|lazy_builder|access_callback|value_callback)|(?:^|[&?;\"])hhook",)


def _last_segment(name: str) -> str:
    """"function" for function, $.a.function, a[function][] (the key a value was given under)."""
    parts = name.lower().replace("[", ".").replace("]", ".").replace("$", ".").split(".")
    return next((p for p in reversed(parts) if p), "")


def _render_callback_key(name: str) -> str:
    low = name.lower()
    if "#" not in low and "hhook" not in low:
        return ""
    return next((k for k in RENDER_CALLBACK_KEYS if k in low and (k != "hhook" or _last_segment(low) == k)), "")


# Parameter names a dispatcher reads the function to call from.
CALLBACK_PARAMETERS = frozenset({"function", "func", "fn", "callback", "cb", "call", "invoke", "call_func"})


def _callback_parameter(inp: Input) -> Hit | None:
    value = inp.value.strip()
    low = value.lower()
    if len(low) <= 40 and low in _callbacks():
        if _last_segment(inp.name) in CALLBACK_PARAMETERS:
            return Hit(Severity.HIGH, "php.callback-parameter", 0, len(value), f"{low} named as the function to call")
    at = low.find("\\think\\")
    if at >= 0:
        route = low[at + 7:at + 64]
        slash = route.find("/")
        if slash > 0 and route[slash + 1:].split("/", 1)[0].split("&", 1)[0] in THINKPHP_METHODS:
            return Hit(Severity.HIGH, "php.callback-parameter", at, at + 40, "ThinkPHP route to a framework method")
    return None


# Framework methods ThinkPHP's router reaches through a "\think\<class>/<method>" controller name.
THINKPHP_METHODS = frozenset({"invokefunction", "invokemethod", "invokeclass", "input", "write", "display", "load",
                              "filter", "get", "__construct"})
