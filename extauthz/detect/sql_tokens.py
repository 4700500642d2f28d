"""SqlTokenizer: a value as the token sequence a SQL engine would read.

Injection is recognised by structure, not by words: the detector reads the
value as SQL in the contexts it could have been pasted into (bare, inside a
'string', inside a "string", inside a `name`) and looks at the token sequence
that follows the point where the value leaves its context. This module only
splits text into tokens; it knows the dialect quirks attackers rely on:

- comments: `-- `, `#`, `/* */`, unterminated `/*`, MySQL versioned comments
  `/*!50000 select*/` (their content is code), optimizer hints `/*+ */`;
- strings: '...', "...", doubled-quote escapes, typographic quotes used as
  quotes, x'..' / b'..' / n'..' / e'..' / _charset'..' literals, Oracle q'[..]',
  PostgreSQL $$..$$ and $tag$..$tag$;
- names: `back ticks`, [brackets], qualified a.b..c names, @vars, @@globals;
- numbers: 0x.., 0b.., 1e5, 1.e, .5; a number glued to letters (`1union`)
  splits into a number and a word, as MySQL reads it;
- operators: the longest of <=> <> != <= >= == || && << >> :: -> ->> @> <@ #> #>> ...

The loop is plain Python over the string with explicit caps (characters and
tokens), so hostile input costs time linear in its capped length. No `re`.
"""
from __future__ import annotations

from typing import NamedTuple

from extauthz.rules import rule_yaml

# Token kinds, one character each so that a token sequence prints as a short
# "shape" string (useful in tests and debugging): "s&1o1c" = string, logic
# operator, number, operator, number, comment.
STRING = "s"
NUMBER = "1"
NAME = "n"  # identifier or unknown bare word
VARIABLE = "v"
KEYWORD = "k"  # structural keyword (from, where, as, ...)
STATEMENT = "S"  # keyword that starts a statement (select, drop, ...)
SETOP = "U"  # union / intersect / except / minus
LOGIC = "&"  # and, or, xor, &&, ||
NOT = "!"  # not, ! (unary)
OPERATOR = "o"  # symbolic or word operator (=, like, between, ...)
LITERAL = "L"  # null, true, false, current_user, ...
TYPE = "t"  # int, varchar, ...
LPAREN = "("
RPAREN = ")"
COMMA = ","
SEMICOLON = ";"
DOT = "."
LBRACE = "{"
RBRACE = "}"
LBRACKET = "["
RBRACKET = "]"
COMMENT = "c"
NUL = "0"  # a NUL byte: C-based stacks stop reading there
OTHER = "?"

# Flags on tokens.
F_UNTERMINATED = 1  # string or block comment that runs to the end of the value
F_CONTEXT = 2  # the string the value started inside (quote contexts)
F_LINE_COMMENT = 4  # -- or # comment
F_BLOCK_COMMENT = 8  # /* */ comment
F_VERSIONED = 16  # code inside a MySQL /*! */ comment
F_HEXLIKE = 32  # 0x.., 0b.., x'..', b'..' literal
F_QUOTED_NAME = 64  # `name` or [name]
F_GLUED = 128  # word glued to the previous token with no space (1union, 'or')
F_DOUBLE_QUOTED = 256  # a "..." literal (a phrase to search syntaxes such as Lucene, an identifier to standard SQL)


class SqlToken(NamedTuple):
    kind: str
    text: str  # lower-cased for words; the content for strings; the operator itself
    start: int
    end: int
    flags: int = 0


VOCAB: dict = rule_yaml("sql.yaml")


def _word_kinds(vocab: dict) -> dict[str, str]:
    kinds: dict[str, str] = {}
    order = (("types", TYPE), ("clauses", KEYWORD), ("statements", STATEMENT),
             ("literals", LITERAL), ("word_operators", OPERATOR), ("logic", LOGIC))
    for section, kind in order:  # later sections win
        for w in vocab[section]:
            kinds[str(w).lower()] = kind
    for w in ("union", "intersect", "except", "minus"):
        kinds[w] = SETOP
    kinds["not"] = NOT
    return kinds


WORD_KINDS = _word_kinds(VOCAB)

MAX_CHARS = 8192
MAX_TOKENS = 1024

# Characters SQL engines skip as white space (MySQL also skips \x0b, \xa0 in
# some charsets; PostgreSQL and MSSQL skip \x0c).
# Control characters and U+FFFD (an undecodable byte, e.g. a latin-1 0xA0) separate
# tokens too: they are never part of a word, and tools use them as blanks.
_SPACE = frozenset(" \t\n\r\x0b\x0c\xa0\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009"
                   "\u200a\u200b\u3000\x85\ufffd\ufeff" + "".join(chr(c) for c in range(1, 32)) + "\x7f"
                   + "".join(chr(c) for c in range(0x80, 0xa0)))  # C1 controls: the remains of a mangled quote
_DIGITS = frozenset("0123456789")
_HEX = frozenset("0123456789abcdefABCDEF")
_ASCII_WORD = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_$")
_ASCII_LETTERS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
# Quotes some stacks fold to "'" (typographic quotes, acute accent, primes).
SINGLE_QUOTES = frozenset("'\u2018\u2019\u00b4\u02bc\u2032\u02b9\uff07")
DOUBLE_QUOTES = frozenset('"\u201c\u201d\uff02')
# String-literal prefixes: x'..' b'..' n'..' e'..' u&'..' and charset introducers.
_STRING_PREFIXES = frozenset({"x", "b", "n", "e", "u&", "r", "q"})
_OPERATORS_3 = frozenset({"<=>", "->>", "#>>", "!~*", "!=="})
_OPERATORS_2 = frozenset({"<>", "!=", "<=", ">=", "==", "||", "&&", "<<", ">>", "::", "->",
                          "@>", "<@", "#>", "#-", "~*", "!~", ":=", "+=", "-=", "*=", "/=",
                          "^=", "|=", "&=", "%=", "?|", "?&", "@@", "@?", "!<", "!>", "=="})
_OPERATORS_1 = frozenset("=<>+-*/%^|&~!?:@")
_PUNCT = {"(": LPAREN, ")": RPAREN, ",": COMMA, ";": SEMICOLON, ".": DOT,
          "{": LBRACE, "}": RBRACE, "[": LBRACKET, "]": RBRACKET}


_WORD_TABLE = {c: ("a" if chr(c) in _ASCII_WORD else " ") for c in range(128)}


def _is_word_char(c: str) -> bool:
    return c in _ASCII_WORD or (c > "\x7f" and c.isalnum())


def _glued_logic(word: str) -> str:
    """"or" / "and" / "xor" when `word` is that connective with digits glued after it ("or1"), else ""."""
    for logic in ("or", "and", "xor"):
        if word.startswith(logic) and len(word) > len(logic) and all(c in _DIGITS for c in word[len(logic):]):
            return logic
    return ""


class SqlTokenizer:
    """Splits one value into SqlTokens.

    `quote` names the context: None reads the value as bare SQL; "'", '"' or
    "`" read it as if it continued a literal opened with that quote, so the
    first token is that (context) string and the rest is what follows it.
    """

    __slots__ = ("s", "n", "i", "out", "versioned", "wordmap")

    def __init__(self, text: str) -> None:
        self.s = text[:MAX_CHARS]
        self.n = len(self.s)
        self.i = 0
        self.out: list[SqlToken] = []
        self.versioned = False
        # For ASCII text, word characters mapped to "a" and all others to " ": the end of
        # a word is then one str.find (C speed) instead of a Python loop per character.
        self.wordmap = self.s.translate(_WORD_TABLE) if self.s.isascii() else None

    # ------------------------------------------------------------------ entry

    def tokens(self, quote: str | None = None, limit: int = MAX_TOKENS) -> list[SqlToken]:
        s, n, out = self.s, self.n, self.out
        if quote is not None:
            if quote == "`":
                end, closed = self._scan_backtick(0)
                kind = NAME
            elif quote == "[":
                end, closed = self._scan_bracket(0)
                kind = NAME
            else:
                end, closed = self._scan_string(0, quote)
                kind = STRING
            flags = F_CONTEXT | (0 if closed else F_UNTERMINATED)
            out.append(SqlToken(kind, s[: end - 1 if closed else end], 0, end, flags))
            self.i = end
        limit = min(limit, MAX_TOKENS)
        while self.i < n and len(out) < limit:
            self._next()
        return out

    # ------------------------------------------------------------------ scanning

    def _next(self) -> None:
        s, n, i = self.s, self.n, self.i
        c = s[i]
        if c in _SPACE:
            i += 1
            while i < n and s[i] in _SPACE:
                i += 1
            self.i = i
            return
        if c in _DIGITS or (c == "." and i + 1 < n and s[i + 1] in _DIGITS and not self._after_word()):
            self._number()
            return
        if c in SINGLE_QUOTES or c in DOUBLE_QUOTES:
            quote = "'" if c in SINGLE_QUOTES else '"'
            end, closed = self._scan_string(i + 1, quote)
            self._emit(STRING, s[i + 1: end - 1 if closed else end], i, end,
                       (0 if closed else F_UNTERMINATED) | (F_DOUBLE_QUOTED if quote == '"' else 0))
            self.i = end
            return
        if c == "`":
            end, closed = self._scan_backtick(i + 1)
            text = s[i + 1: end - 1 if closed else end].lower()
            if closed:
                end, text = self._qualified_quoted(end, text)
            self._emit(NAME, text, i, end, F_QUOTED_NAME | (0 if closed else F_UNTERMINATED))
            self.i = end
            return
        if c == "$" and self._dollar_string():
            return
        if _is_word_char(c):
            self._word()
            return
        if c == "/" and i + 1 < n and s[i + 1] == "*":
            self._block_comment()
            return
        if c == "*" and self.versioned and i + 1 < n and s[i + 1] == "/":
            self.versioned = False  # end of a /*! ... */ section
            self.i = i + 2
            return
        if c == "-" and i + 1 < n and s[i + 1] == "-":
            if i + 2 < n and s[i + 2] in _ASCII_LETTERS and not self._random_comment(i + 2):
                # "--dry-run", "--enable-x": an option flag. Injections end with "--", "-- ",
                # "--+", "---", "--\n", or "--RandomLetters\n" (tools hiding blanks); other
                # letters glued to the dashes are text.
                self._emit(OPERATOR, "--", i, i + 2)
                self.i = i + 2
                return
            self._line_comment(i, "--")
            return
        if c == "#":
            if i + 1 < n and s[i + 1] in ">-" and self._json_hash_operator(i):
                self._operator()
                return
            if i + 1 < n and s[i + 1] in _ASCII_LETTERS and self._random_comment(i + 1):
                # "#Bltk\n" between keywords: MySQL's comment to the end of the line, used as a blank
                # (sqlmap's space2hash); a directive or tag has a blank or more text before the newline
                self._line_comment(i, "#")
                return
            if i + 1 < n and (s[i + 1] in _DIGITS or s[i + 1] in _ASCII_LETTERS or s[i + 1] in "![{"):
                # "#9788", "ITS#12", "#include", "#ifdef", "#!/bin/sh", "#![no_std]", "#[derive]",
                # "#{var}": a number sign, directive, shebang or attribute in text;
                # MySQL "#" comments in injections stand at the end or before a blank.
                self._emit(OTHER, "#", i, i + 1)
                self.i = i + 1
                return
            self._line_comment(i, "#")
            return
        if c == "@":
            self._variable()
            return
        if c == "[":
            if self._bracket_name():
                return
        if c == "\x00":
            self._emit(NUL, "\x00", i, i + 1)
            self.i = i + 1
            return
        kind = _PUNCT.get(c)
        if kind is not None:
            self._emit(kind, c, i, i + 1)
            self.i = i + 1
            return
        if c in _OPERATORS_1:
            self._operator()
            return
        self._emit(OTHER, c, i, i + 1)
        self.i = i + 1

    def _emit(self, kind: str, text: str, start: int, end: int, flags: int = 0) -> None:
        if self.versioned:
            flags |= F_VERSIONED
        self.out.append(SqlToken(kind, text, start, end, flags))

    def _after_word(self) -> bool:
        out = self.out
        return bool(out) and out[-1].end == self.i and out[-1].kind in (NAME, VARIABLE)

    def _scan_string(self, i: int, quote: str) -> tuple[int, bool]:
        """End index (after the closing quote) of a literal whose body starts at i."""
        s, n = self.s, self.n
        quotes = SINGLE_QUOTES if quote == "'" else DOUBLE_QUOTES
        while i < n:
            c = s[i]
            if c in quotes:
                if i + 1 < n and s[i + 1] == c:  # doubled quote: an escaped quote
                    i += 2
                    continue
                return i + 1, True
            i += 1
        return n, False

    def _scan_backtick(self, i: int) -> tuple[int, bool]:
        j = self.s.find("`", i)
        return (j + 1, True) if j >= 0 else (self.n, False)

    def _scan_bracket(self, i: int) -> tuple[int, bool]:
        """The end of a [name] whose body starts at i ("]]" is an escaped "]")."""
        s, n = self.s, self.n
        while True:
            j = s.find("]", i)
            if j < 0:
                return n, False
            if j + 1 < n and s[j + 1] == "]":
                i = j + 2
                continue
            return j + 1, True

    def _number(self) -> None:
        s, n, start = self.s, self.n, self.i
        i = start
        flags = 0
        if s[i] == "0" and i + 2 < n + 1 and i + 1 < n and s[i + 1] in "xXbB":
            j = i + 2
            digits = _HEX if s[i + 1] in "xX" else frozenset("01")
            while j < n and s[j] in digits:
                j += 1
            if j > i + 2:
                self._emit(NUMBER, s[i:j].lower(), i, j, F_HEXLIKE)
                self.i = j
                return
        while i < n and s[i] in _DIGITS:
            i += 1
        if i < n and s[i] == ".":
            i += 1
            while i < n and s[i] in _DIGITS:
                i += 1
        if i < n and s[i] in "eE":
            j = i + 1
            if j < n and s[j] in "+-":
                j += 1
            if j < n and s[j] in _DIGITS:
                while j < n and s[j] in _DIGITS:
                    j += 1
                i = j
            elif s[i - 1] == ".":  # MySQL reads "1.e" as a number
                i += 1
        self._emit(NUMBER, s[start:i], start, i, flags)
        self.i = i

    def _word(self) -> None:
        s, n, start = self.s, self.n, self.i
        if self.wordmap is not None:
            i = self.wordmap.find(" ", start)
            if i < 0:
                i = n
        else:
            i = start
            while i < n and _is_word_char(s[i]):
                i += 1
        low = s[start:i].lower()
        glued = bool(self.out) and self.out[-1].end == start and self.out[-1].kind in (STRING, NUMBER, RPAREN)
        if glued and low[:2] in ("or", "an", "xo"):
            logic = _glued_logic(low)
            if logic:
                # "1or1=1", "'or1=1--": no blank on either side of the connective (space-filtered
                # payloads); the digits after it are the next operand, as in "1union" above.
                self._emit(LOGIC, logic, start, start + len(logic), F_GLUED)
                self.i = start + len(logic)
                return
        # String literal with a prefix: x'41', n'abc', _utf8'abc', e'\x41', u&'..'.
        if i < n and (s[i] in SINGLE_QUOTES or (s[i] == "&" and low == "u" and i + 1 < n and s[i + 1] in SINGLE_QUOTES)):
            if low in _STRING_PREFIXES or (low.startswith("_") and len(low) > 1):
                q = i + (1 if s[i] == "&" else 0)
                if low == "q" and q + 1 < n:  # Oracle q'[ ... ]'
                    close = {"[": "]", "(": ")", "{": "}", "<": ">"}.get(s[q + 1], s[q + 1])
                    j = s.find(close + "'", q + 2)
                    end = j + 2 if j >= 0 else n
                    self._emit(STRING, s[q + 2: j if j >= 0 else n], start, end, 0 if j >= 0 else F_UNTERMINATED)
                    self.i = end
                    return
                end, closed = self._scan_string(q + 1, "'")
                flags = (F_HEXLIKE if low in ("x", "b") else 0) | (0 if closed else F_UNTERMINATED)
                self._emit(STRING, s[q + 1: end - 1 if closed else end], start, end, flags)
                self.i = end
                return
        # Informix database:table ("sysmaster:sysdual"): one name, when a name goes on after the colon.
        if i + 1 < n and s[i] == ":" and s[i + 1] in _ASCII_LETTERS and low and low[0] in _ASCII_LETTERS \
                and WORD_KINDS.get(low, NAME) == NAME:
            j = i + 1
            while j < n and _is_word_char(s[j]):
                j += 1
            i = j
        # Qualified names: a.b, a..b (MSSQL default schema), a.`b`.
        while i + 1 < n and s[i] == "." and (_is_word_char(s[i + 1]) or s[i + 1] in ".`"):
            j = i + 1
            while j < n and s[j] == ".":
                j += 1
            if j < n and s[j] == "`":
                k = s.find("`", j + 1)
                if k < 0:
                    break
                i = k + 1
                continue
            if j >= n or not _is_word_char(s[j]) or s[j] in _DIGITS and (
                    not low or WORD_KINDS.get(low) in (STATEMENT, SETOP, KEYWORD, LOGIC)):
                break  # "select.1" is SELECT .1 to MySQL
            while j < n and _is_word_char(s[j]):
                j += 1
            i = j
        if i - start > len(low):
            low = s[start:i].lower().replace("`", "")
        kind = WORD_KINDS.get(low, NAME)
        self._emit(kind, low, start, i, F_GLUED if glued else 0)
        self.i = i

    def _qualified_quoted(self, i: int, text: str) -> tuple[int, str]:
        """A quoted name continued by ".part" parts: `db`.`tbl`, `db`.tbl.`col` (MySQL reads one
        qualified name). Returns the end and the dotted text; a few parts at most."""
        s, n = self.s, self.n
        parts = 1
        while i + 1 < n and s[i] == "." and parts < 4:
            j = i + 1
            if s[j] == "`":
                k = s.find("`", j + 1)
                if k < 0:
                    break
                text += "." + s[j + 1:k].lower()
                i = k + 1
            elif _is_word_char(s[j]):
                k = j
                while k < n and _is_word_char(s[k]):
                    k += 1
                text += "." + s[j:k].lower()
                i = k
            else:
                break
            parts += 1
        return i, text

    def _variable(self) -> None:
        s, n, start = self.s, self.n, self.i
        i = start + 1
        if i < n and s[i] == "@":
            i += 1
        if i < n and (s[i] in SINGLE_QUOTES or s[i] in DOUBLE_QUOTES or s[i] == "`"):
            if s[i] == "`":
                end, _ = self._scan_backtick(i + 1)
            else:
                end, _ = self._scan_string(i + 1, "'" if s[i] in SINGLE_QUOTES else '"')
            i = end
        else:
            while i < n and (_is_word_char(s[i]) or (s[i] == "." and i + 1 < n and _is_word_char(s[i + 1]))):
                i += 1
        if i == start + 1 and i < n and s[i] in ">@?" or (
                i == start + 2 and s[start + 1] == "@" and (i >= n or s[i] in _SPACE)):
            self._operator()  # @> @@ @? operators ("@@" then a blank: the text-search / JSON-path match)
            return
        self._emit(VARIABLE, s[start:i].lower(), start, i)
        self.i = i

    def _operator(self) -> None:
        s, i = self.s, self.i
        for size, table in ((3, _OPERATORS_3), (2, _OPERATORS_2)):
            op = s[i:i + size]
            if op in table:
                kind = LOGIC if op in ("||", "&&") else OPERATOR
                self._emit(kind, op, i, i + size)
                self.i = i + size
                return
        c = s[i]
        self._emit(NOT if c == "!" else OPERATOR, c, i, i + 1)
        self.i = i + 1

    def _random_comment(self, j: int) -> bool:
        """Letters from j up to a newline: "--iXhuMCk\n" used as a blank between keywords."""
        k = self.s.find("\n", j, j + 64)
        return k > j and self.s[j:k].isalnum()

    def _line_comment(self, i: int, marker: str) -> None:
        j = self.s.find("\n", i)
        end = self.n if j < 0 else j
        self._emit(COMMENT, marker, i, end, F_LINE_COMMENT)
        self.i = end

    def _block_comment(self) -> None:
        s, n, i = self.s, self.n, self.i
        if i + 2 < n and s[i + 2] == "!":  # MySQL versioned comment: the content is code
            j = i + 3
            while j < n and j < i + 8 and s[j] in _DIGITS:  # the version is five digits; more are code
                j += 1
            self.versioned = True
            self.i = j
            return
        j = s.find("*/", i + 2)
        if j < 0:
            self._emit(COMMENT, "/*", i, n, F_BLOCK_COMMENT | F_UNTERMINATED)
            self.i = n
            return
        self._emit(COMMENT, "/*", i, j + 2, F_BLOCK_COMMENT)
        self.i = j + 2

    def _json_hash_operator(self, i: int) -> bool:
        """`#>` / `#>>` / `#-` are PostgreSQL JSON operators when a string operand follows."""
        s, n = self.s, self.n
        j = i + 2
        if j < n and s[j] == ">":
            j += 1
        while j < n and s[j] in _SPACE:
            j += 1
        return j < n and (s[j] in SINGLE_QUOTES or s[j] == "(")

    def _bracket_name(self) -> bool:
        """MSSQL [name]: a bracket pair around word characters only."""
        s, n, i = self.s, self.n, self.i
        j = i + 1
        while j < n and j - i < 130 and (_is_word_char(s[j]) or s[j] in " .-$#@"):
            j += 1
        if j < n and s[j] == "]" and j > i + 1 and not s[i + 1:j].strip().isdigit():
            self._emit(NAME, s[i + 1:j].lower(), i, j + 1, F_QUOTED_NAME)
            self.i = j + 1
            return True
        return False

    def _dollar_string(self) -> bool:
        """PostgreSQL $$body$$ or $tag$body$tag$ literals."""
        s, n, i = self.s, self.n, self.i
        j = i + 1
        while j < n and j - i < 32 and (s[j].isalnum() or s[j] == "_"):
            j += 1
        if j >= n or s[j] != "$" or (j > i + 1 and s[i + 1].isdigit()):
            return False
        tag = s[i:j + 1]
        k = s.find(tag, j + 1)
        end = n if k < 0 else k + len(tag)
        self._emit(STRING, s[j + 1: k if k >= 0 else n], i, end, 0 if k >= 0 else F_UNTERMINATED)
        self.i = end
        return True


def tokenize(text: str, quote: str | None = None, limit: int = MAX_TOKENS) -> list[SqlToken]:
    """Tokens of `text` read bare (quote=None) or as the continuation of a quoted literal.

    `limit` caps the number of tokens (the first `limit` are the same as in a full read).
    """
    return SqlTokenizer(text).tokens(quote, limit)


def shape(tokens: list[SqlToken]) -> str:
    """The kinds of `tokens` as a string, e.g. "s&1o1c"."""
    return "".join(t.kind for t in tokens)
