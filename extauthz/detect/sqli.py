"""SQL injection: a value that leaves its SQL context and continues as SQL.

Each candidate value is read by SqlContextParser in the contexts it could be
pasted into: bare (a number or a name), after a single quote, after a double
quote, after a back tick. A context only counts when the value actually
leaves it (a quote context needs the closing quote in the value). The facts
the parser records after that point are graded here:

- CRITICAL: UNION SELECT, a stacked statement, a time-delay function;
- HIGH: error/out-of-band functions, subqueries and system catalogues after a
  break-out, boolean tautologies (`' or 1=1`, `1 and 2>1`), a quote closed
  and the rest commented away (`admin'--`), clauses appended after a quote
  (`' order by 3--`), whole statements (`select * from users`), concatenation
  probes (`x'||'y`, `x'+'y`, a value that is only SQL literals: `'a' || 'b'`,
  `'aaa'<>'bbb'`), an injection tool's error probe (`1"'(.,(.)`);
- HIGH: SQL structure nested past the parser's depth limit (subqueries in
  subqueries ...; MEDIUM for bare parentheses): the limit is a finding, never an error;
- MEDIUM/LOW: shapes that are SQL but also occur in ordinary text.

Prose such as "union was a great select", O'Brien, "rock 'n' roll" does not
read as SQL past its first word or quote, so it never reaches the graded facts.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Iterable

import re2

from extauthz.budget import check_spent
from extauthz.decode import Input
from extauthz.detect import sql_parse as P
from extauthz.detect.base import Detector, register
from extauthz.detect.pieces import changed_pieces
from extauthz.detect.recent import RecentResults
from extauthz.detect.sql_parse import ContextReading, SqlContextParser
from extauthz.detect import sql_tokens as T
from extauthz.detect.sql_tokens import SINGLE_QUOTES, F_UNTERMINATED, SqlToken, tokenize
from extauthz.finding import Finding, Severity, excerpt
from extauthz.rules import rule_lines, rule_words

# Quote contexts and the characters that open/close them.
_CONTEXTS: tuple[tuple[str, frozenset[str]], ...] = (
    ("'", SINGLE_QUOTES),
    ('"', frozenset('"\u201c\u201d')),
    ("`", frozenset("`")),
    ("[", frozenset("]")),  # SQL Server / Access [bracketed name]
)


@dataclass(frozen=True, slots=True)
class SqliVerdict:
    severity: Severity
    rule: str
    reading: ContextReading
    form: str  # the text read (the value, or a variant of it; offsets in `reading` refer to it)


def read_contexts(value: str) -> list[tuple[ContextReading, bool, bool]]:
    """The value read in every SQL context it can break out of, with `opening` and `token_data` (see grade)."""
    readings: list[tuple[ContextReading, bool, bool]] = [(SqlContextParser(tokenize(value)).read("bare"), False, True)]
    for quote, chars in _CONTEXTS:
        if chars.isdisjoint(value):
            continue
        check_spent()  # each reading of a long value costs up to a few ms
        toks = tokenize(_mask_contractions(value) if quote == "'" else value, quote)
        if not toks or toks[0].flags & F_UNTERMINATED:
            continue  # never leaves the literal
        data = toks[0].text
        if quote == "[" and ("[" in data or len(data.split()) > 1):
            continue  # "see [docs] or ...", "a note] then": brackets in text, not one [name] closed early
        if not data and len(toks) == 2 and toks[1].kind == T.COMMENT and _sentence(value[toks[1].start:toks[1].end]):
            continue  # '"# of frames" cannot be negative', '" -- " is omitted when ...': a quoted comment marker in prose
        opening = bool(data.strip()) and data[-1:].isspace()
        token_data = len(data.split()) <= 1  # no blank inside (C speed: the data may be 8 KiB)
        readings.append((SqlContextParser(toks).read(quote, start=1), opening, token_data))
    return readings


def _sentence(text: str) -> bool:
    """Three or more words of letters: the text after a comment marker is prose, not a tool's "-- -" or "#x"."""
    words = 0
    for w in text[:200].split():
        if w.strip("\"'`.,;:()").isalpha():
            words += 1
            if words >= 3:
                return True
    return False


_QUOTE_CHARS = frozenset().union(*(chars for quote, chars in _CONTEXTS if quote != "["))
_CONTRACTIONS = ("s", "t", "d", "m", "ll", "re", "ve")
def _mask_contractions(value: str) -> str:
    """The value with the apostrophes of English contractions and possessives ("user's", "don’t",
    "we'll") written as "_", the same length: they join a word, they do not close a literal
    ("user's order by date" is a search, not a quote break-out then ORDER BY). An injection's
    quote is followed by a blank, an operator, ")" or ";" or a keyword ("'or 1=1"), never by "s"."""
    low = value.lower()
    if not any(q + suffix in low for q in SINGLE_QUOTES if q in value for suffix in _CONTRACTIONS):
        return value  # (str.find speed: the walk below runs only where a contraction may be)
    out: list[str] | None = None
    n = len(value)
    for i in range(1, n - 1):
        if value[i] in SINGLE_QUOTES and value[i - 1].isalpha():
            for suffix in _CONTRACTIONS:
                end = i + 1 + len(suffix)
                if value[i + 1:end].lower() == suffix and (end >= n or not (value[end].isalnum() or value[end] == "_")):
                    if out is None:
                        out = list(value)
                    out[i] = "_"
                    break
    return value if out is None else "".join(out)


def _readings(form: str) -> list[tuple[ContextReading, bool, bool]]:
    """read_contexts, and where the value opens with a quote glued to a word or number
    ("'1 or 1=1--"), the rest read bare too: the quote was the attacker's, the rest the code
    (the quote-context reading sees "''1 or ...", which no engine parses)."""
    readings = read_contexts(form)
    if len(form) > 2 and form[0] in _QUOTE_CHARS and form[1].isalnum():
        readings.append((SqlContextParser(tokenize(form[1:])).read("bare"), False, True))
    return readings


def grade(r: ContextReading, opening: bool = False, token_data: bool = True) -> tuple[Severity, str] | None:
    """Severity and rule name for one context reading, or None.

    `opening`: the quote the value leaves through follows a blank, as an opening
    quotation mark in prose does ('he said "#include" ...'); an injected value
    closes the literal it sits in right after its data (admin'--). Such readings
    only count for constructs prose does not produce. `token_data`: the data before that
    quote is one word (admin, an e-mail, a number), not a sentence that happens to
    contain a closing quote ('... has been modified.";').
    """
    f = r.facts
    quoted = r.context != "bare"
    clean = r.end != P.END_JUNK
    after = r.placed > 0  # the value continues after its operand
    if f & P.UNION:
        return Severity.CRITICAL, "union"
    if f & P.DEEP_NESTING:
        # Nested past the parser's depth limit: no application sends 40 levels of SQL
        # structure in a value; with subqueries or calls in it, it is an attack on the parser.
        return (Severity.HIGH if f & (P.SUBQUERY | P.CALL | P.SELECT_QUERY | P.STATEMENT) else Severity.MEDIUM,
                "nesting-limit")
    if f & P.STACKED:
        return Severity.CRITICAL, "stacked-query"
    if f & P.TIME_FN and (after or quoted or clean or f & P.DELAY_LITERAL):
        return Severity.CRITICAL, "time-delay"
    if f & P.ERROR_FN and (after or clean):
        return Severity.HIGH, "error-or-oob-function"
    if f & P.STATEMENT and (f & (P.SYSTEM_OBJECT | P.SUBQUERY | P.CALL | P.WHERE) or clean):
        return Severity.HIGH, "statement"
    if f & P.SUBQUERY and (quoted or after or clean):
        return Severity.HIGH, "subquery"
    if f & P.SUBQUERY and f & P.SELECT_QUERY and f & (P.HEX | P.INFO_FN | P.SYSTEM_OBJECT):
        # a subquery that reads server facts, catalogues or builds text from hex, in a value cut off
        # before it ends ("from(select count(*),concat((select ... 0x7c ..."): no text reads like that
        return Severity.HIGH, "subquery"
    if f & P.SYSTEM_OBJECT and (quoted or after and (clean or f & (P.LOGIC | P.COMPARE | P.CLOSE_PAREN | P.CALL))):
        # (bare: the name goes on as SQL; "sysusers: split up systemd.conf" is a changelog line)
        return Severity.HIGH, "system-catalog"
    if f & P.UNSEPARATED:
        return Severity.HIGH, "stacked-query"
    if f & P.LOGIC_STRONG and (quoted or clean or f & P.CONST_COMPARE):
        return Severity.HIGH, "tautology"
    if not opening and (quoted or clean) and (
            f & P.LOGIC_BOOL and (quoted and (token_data or r.end != P.END_JUNK) or r.end == P.END_COMMENT
                                  or f & P.NUMERIC_OPERAND)
            or f & P.LOGIC_TEXT and quoted and clean
            or f & P.LOGIC_CALL and (quoted and token_data or r.end == P.END_COMMENT
                                     or f & P.LEADING_LOGIC and f & P.SYMBOLIC_LOGIC)
            or f & P.LOGIC_NUMBER and (quoted and (clean or f & P.DANGLING_OPERATOR) or r.end == P.END_COMMENT or f & P.NEGATIVE_OPERAND
                                       or f & P.SYMBOLIC_LOGIC and f & P.LEADING_LOGIC)):
        return Severity.HIGH, "tautology"
    if f & P.LOGIC and f & P.COMPARE and f & P.HEX:
        return Severity.HIGH, "tautology"
    if f & P.BOOLEAN_NUMBER and (clean or r.end == P.END_COMMENT):
        return Severity.HIGH, "boolean"  # (8362=9139)*9139
    if f & P.JSON_OP and f & P.CONST_COMPARE and (clean or r.end == P.END_COMMENT):
        return Severity.HIGH, "tautology"  # '{"a":1}'::jsonb @> '{}': a JSON test on constants
    if not quoted and clean and f & P.INFO_FN and f & P.CALL and f & (P.HEX | P.STRING_FN):
        return Severity.HIGH, "fingerprinting"  # concat(0x7e,version()), 1+len(@@servername): server facts computed
    if f & P.CASE and (f & P.CONST_COMPARE and (quoted or after) or f & P.COMPARE and clean) or (
            f & P.CONDITIONAL and (clean or quoted or after)):
        return Severity.HIGH, "conditional"
    if f & P.CASE_TAIL and clean and (not quoted or token_data and not opening):
        return Severity.HIGH, "conditional"  # ") when 234 then", "x' when 1 then sleep(5) end--"
    if not quoted and clean and f & P.NUMBER_WITH_MEASURE:
        return Severity.HIGH, "arithmetic-probe"
    if f & P.CAST_ERROR and clean:
        return Severity.HIGH, "cast-error"
    if f & P.CLAUSE_CHAIN and clean:
        return Severity.HIGH, "clause"
    if f & P.INFO_FN and (quoted or f & (P.CLOSE_PAREN | P.LOGIC | P.COMPARE | P.OPERATOR)) and (
            clean or f & P.COMPARE):
        return Severity.HIGH, "fingerprinting"
    if quoted and (opening or not token_data):
        return None  # the weak shapes below need the value to close its literal right after its data
    if quoted:
        if f & P.LOGIC_GROUP:
            return Severity.HIGH, "boolean"  # "'or(glob 1)--", "x' and email ! all (select email)--"
        if f & P.STACKED_SELECT and r.end != P.END_JUNK:
            return Severity.HIGH, "stacked-query"
        if f & P.LOGIC_SELECT:
            return Severity.HIGH, "boolean"
        if r.placed == 0 and r.end == P.END_COMMENT:
            return Severity.HIGH, "comment-truncation"
        if f & P.STATEMENT_END and r.end != P.END_JUNK and r.placed <= 4:
            return Severity.HIGH, "comment-truncation"  # "admin';" ends the query like "admin'--"
        if f & (P.CLAUSE | P.WHERE) and clean:
            return Severity.HIGH, "clause"
        if f & P.LOGIC and f & P.COMPARE and clean:
            return Severity.HIGH, "boolean"
        if f & P.COMPARE and r.end == P.END_COMMENT or f & P.BREAKOUT_COMPARE and clean:
            return Severity.HIGH, "comparison"
        if f & P.OPERATOR and r.end == P.END_COMMENT and r.placed >= 2:
            return Severity.HIGH, "comparison"
        if f & P.CLOSE_PAREN and r.end == P.END_COMMENT:
            return Severity.HIGH, "comment-truncation"
        if f & P.OPEN_STRING and r.end != P.END_JUNK and not f & P.OPEN_PHRASE and (
                f & P.BREAKOUT_ARITHMETIC and r.placed == 2 or f & P.CONCAT and f & P.CALL):
            # "x'+'y", "x'+char(65)+'": the literal joined to another one the application's own quote
            # closes ('x'+'y'): the concatenation probe (MSSQL "+", like "'||'" elsewhere)
            return Severity.HIGH, "concatenation"
        if f & P.LOGIC and clean:
            return Severity.MEDIUM, "boolean"
    else:
        if f & P.STRING_OPERAND and r.end in (P.END_CLEAN, P.END_COMMENT) and not f & P.OPEN_STRING:
            # The whole value is SQL literals: "'a' || 'b'" (concatenation probe), "'aaa'<>'bbb'"
            # (a comparison of constants). Prose joins quoted words with "or", not "||".
            if f & P.SYMBOLIC_LOGIC and f & (P.LOGIC_TEXT | P.LOGIC_STRONG | P.LOGIC_NUMBER):
                return Severity.HIGH, "concatenation"
            if f & P.CONST_COMPARE and r.placed == 0:
                return Severity.HIGH, "comparison"
            if f & P.SAME_COMPARE:
                return Severity.HIGH, "tautology"  # "'admin', '1'='1'": a VALUES list the value completes, a tautology in it
        if f & (P.CLAUSE | P.WHERE) and (f & (P.CLOSE_PAREN | P.CONST_COMPARE) and clean or r.end == P.END_COMMENT):
            return Severity.HIGH, "clause"
        if f & P.CLAUSE and clean and f & P.NUMERIC_OPERAND:
            return Severity.HIGH, "clause"
        if f & P.LEADING_LOGIC and f & P.COMPARE and (
                r.end == P.END_COMMENT or f & (P.CONST_COMPARE | P.SYMBOLIC_LOGIC | P.OPEN_STRING)
                or (clean and r.placed >= 3 and f & P.CLOSE_PAREN and f & P.HEX)):
            return Severity.HIGH, "boolean"
        if f & P.LEADING_LOGIC and f & P.COMPARE and clean and f & (P.CLOSE_PAREN | P.UNCLOSED_GROUP):
            # "AND deleted = 0)", "and uid!=(": a condition appended that closes the application's group
            # or opens one the application's text completes (prose neither opens with "and" nor ends so)
            return Severity.HIGH, "boolean"
        if f & P.LEADING_XOR and f & (P.LOGIC_NUMBER | P.LOGIC_TEXT | P.LOGIC_STRONG | P.LOGIC_CALL):
            return Severity.HIGH, "boolean"  # "xor 2<3", "xor 'b'>": the tail of "1 xor 2<3"; XOR opens no prose
        if f & (P.CLAUSE | P.WHERE) and clean and after:
            return Severity.MEDIUM, "clause"
        if f & P.LOGIC and f & P.COMPARE and clean:
            return Severity.MEDIUM, "boolean"
        if f & P.CONST_COMPARE and clean and f & (P.LOGIC | P.CLOSE_PAREN):
            return Severity.MEDIUM, "boolean"
        if f & P.CONST_COMPARE and clean and r.placed == 0 and not f & (P.STRING_OPERAND | P.OPEN_STRING):
            return Severity.MEDIUM, "comparison"  # "1=1", "11!=1", "1 is not 2": the value is one constant test
    return None


SQL_ONLY_FUNCTIONS = rule_words("sql.yaml", "sql_only_functions")
SQL_ONLY_NAMES = rule_words("sql.yaml", "sql_only_names")
_NAME_TOKENS = frozenset({T.NAME, T.KEYWORD, T.STATEMENT, T.LITERAL, T.TYPE})
# SQL-only functions whose names are also English words: a call only with "(" glued to the name
# ("benchmark(" is MySQL, "the benchmark (see below)" is prose).
_ENGLISH_FUNCTION_NAMES = frozenset({"benchmark"})
# Any of those names as a substring: the cheap linear gate before a form is tokenised for them.
# Bytes, so that lone surrogates (a JSON "\\ud83d" decoded alone) reach it as they are.
_SQL_ONLY_GATE = re2.compile(("(?i)(?:^|[^a-z0-9_$@])(?:" + "|".join(re2.escape(w) for w in sorted(
    SQL_ONLY_FUNCTIONS | SQL_ONLY_NAMES)) + ")(?:[^a-z0-9_$]|$)").encode())


def sql_only_name(form: str) -> SqliVerdict | None:
    """A word of the value that only SQL knows: a call of an SQL-only function
    ("extractvalue(", "GROUP_CONCAT (", even cut off before its arguments) or the name of a
    server procedure, package or catalogue ("xp_cmdshell", "--sp_password", "UTL_HTTP").

    Words, not substrings: "xp_cmdshell_docs" and a quoted 'pg_catalog' are other tokens.
    No break-out is needed: these names are not English, and no other language a client
    writes has them. A member of another object ("chart.benchmark(", "].concat_ws(") is that
    language's method, so a qualified name counts only under a system schema (master..xp_cmdshell).
    """
    if _SQL_ONLY_GATE.search(form.encode("utf-8", "surrogatepass")) is None:
        return None
    toks = [t for t in tokenize(form) if t.kind != T.COMMENT]
    for i, t in enumerate(toks):
        if t.kind not in _NAME_TOKENS and t.kind != T.VARIABLE or (i > 0 and toks[i - 1].kind == T.DOT):
            continue
        name = _system_leaf(t.text)
        if name is None:
            continue
        if name in SQL_ONLY_FUNCTIONS and i + 1 < len(toks) and toks[i + 1].kind == T.LPAREN and (
                toks[i + 1].start == t.end or name not in _ENGLISH_FUNCTION_NAMES):
            facts, rule = P.CALL, "sql-function"
        elif name in SQL_ONLY_NAMES:
            facts, rule = P.SYSTEM_OBJECT, "system-name"
        else:
            continue
        reading = ContextReading("bare", facts, P.END_CLEAN, t.start, t.end, 0, (t.text,))
        return SqliVerdict(Severity.HIGH, rule, reading, form)
    return None


# Statement and set keywords that, right after an opening quote or ";", begin a second query.
_LEADING_STATEMENTS = frozenset({"select", "union", "insert", "update", "delete", "drop", "alter", "create",
                                 "exec", "execute", "truncate", "declare", "shutdown", "waitfor", "grant"})


def statement_after_quote(value: str) -> SqliVerdict | None:
    """MEDIUM: the value opens with a quote or ";" and goes on with a statement keyword ("'union a",
    "\" ALTER A", ";drop", "; select") and no quote closes it again. An injection's first words,
    but also a stray quote before a word a user typed: suggestive, so it needs company to block."""
    head = value.lstrip()[:1]
    if head not in _QUOTE_CHARS and head != ";":
        return None
    toks = tokenize(value[:256])
    if not toks or toks[0].kind not in (T.STRING, T.SEMICOLON):
        return None
    first = toks[0]
    if first.kind == T.STRING:
        if not first.flags & F_UNTERMINATED:
            return None
        toks = tokenize(value[:256], value.lstrip()[0])  # read after the quote, as the application would
        if len(toks) < 2 or toks[0].text.strip() or toks[0].flags & F_UNTERMINATED:
            return None
    nxt = next((t for t in toks[1:] if t.kind not in (T.SEMICOLON, T.COMMENT)), None)
    if nxt is None or nxt.text not in _LEADING_STATEMENTS or nxt.kind not in (T.STATEMENT, T.SETOP):
        return None
    reading = ContextReading("bare", P.STATEMENT, P.END_CLEAN, nxt.start, nxt.end, 0, ())
    return SqliVerdict(Severity.MEDIUM, "statement-fragment", reading, value)


# An injection inside a long text (a comment, a description) begins where the payload closes the
# application's literal, which is rarely the value's start: the text before it may hold quotes of
# its own, and windows of a long value (extauthz.detect.pipeline) start mid-text, in prose the
# readings from the start stop at. So a value this long is also read from each place where SQL
# may go on from a closed literal or operand: a quote, a number or a ")" followed by ";", a set
# operation, a condition or a clause (at most EMBED_READINGS places, EMBED_SPAN characters and
# EMBED_TOKENS tokens each). Only readings that grade HIGH or above in the strict sense count: a
# quote's reading as if the quote followed a blank (see grade), a tautology only with a constant
# comparison, a call or a subquery, a stacked query only with a statement keyword after its ";"
# (_strict), and after a number or ")" anything short of CRITICAL only where the SQL ends the
# query or comments the rest away. Prose quotes a word and goes on with "and"; it does not go on
# with UNION SELECT, "or 1=1" or "; DROP TABLE".
EMBED_MIN = 128
EMBED_SPAN = 512
EMBED_TOKENS = 96
EMBED_READINGS = 64
_EMBED_QUOTES = {"'": "'", "\u2018": "'", "\u2019": "'", '"': '"'}
_SURROGATES = dict.fromkeys(range(0xD800, 0xE000), 0xFFFD)
_EMBED_STATEMENTS = "|".join(sorted(_LEADING_STATEMENTS - {"union"}))
_EMBED_GATE = re2.compile(
    # a quote, then what continues a closed literal (";" only before a statement: code ends its strings with "';")
    r"(?i)(['\"\x{2018}\x{2019}])\s*\)*\s*(?:;\s*(?:" + _EMBED_STATEMENTS + r")\b|union\b|select\b|and\b|or\b"
    r"|xor\b|having\b|order\s+by\b|group\s+by\b|procedure\b|into\b|where\b|limit\b|waitfor\b)"
    # a number (not a character reference's: "&#60;"), then a set operation, a condition or a statement
    r"|(?:^|[^a-z0-9_.$#&])([0-9]+\)*\s*(?:;\s*(?:" + _EMBED_STATEMENTS + r")|\s(?:union|and|or|xor|having|procedure"
    r"|waitfor))\b)"
    # a ")" closing an operand, then the same
    r"|(\))\s*(?:;\s*(?:" + _EMBED_STATEMENTS + r")|union|and|or|xor|having|procedure|waitfor)\b")


def _strict(rule: str, r: ContextReading, toks: list[SqlToken]) -> bool:
    """Whether an inside reading's grade stands: a tautology needs a constant comparison, a
    call or a subquery ("' or 'a'='a", not '" and not "x" as it used to be'), a stacked query
    a statement keyword right after its ";" (JavaScript ends its strings with "';" then "if (").
    """
    if rule == "tautology":
        return bool(r.facts & (P.CONST_COMPARE | P.SUBQUERY | P.CALL))
    if rule == "stacked-query":
        after = False
        for t in toks[1:]:
            if t.kind == T.SEMICOLON:
                after = True
            elif after and t.kind != T.COMMENT:
                return t.text.lower() in _LEADING_STATEMENTS
        return False
    return True


def embedded(value: str) -> SqliVerdict | None:
    """The most severe strict reading of `value` from a place inside it where an injection may
    begin (see EMBED_MIN), or None."""
    best: SqliVerdict | None = None
    try:
        places = list(itertools.islice(_EMBED_GATE.finditer(value), EMBED_READINGS))
    except UnicodeEncodeError:  # RE2 reads UTF-8: a lone surrogate (a JSON "\udcff") as U+FFFD, same offsets
        places = list(itertools.islice(_EMBED_GATE.finditer(value.translate(_SURROGATES)), EMBED_READINGS))
    for m in places:
        check_spent()
        if m.start(1) >= 0:
            at = m.start()
            quote = _EMBED_QUOTES[value[at]]
            form = value[at:at + EMBED_SPAN]
            toks = tokenize(form, quote, EMBED_TOKENS)
            if not toks or toks[0].flags & F_UNTERMINATED:
                continue
            r = SqlContextParser(toks).read(quote, start=1)
            g = grade(r, True, False)
        else:
            at = max(m.start(2), m.start(3))
            form = value[at:at + EMBED_SPAN]
            toks = tokenize(form, None, EMBED_TOKENS)
            r = SqlContextParser(toks).read("bare")
            g = grade(r)
            if g is not None and g[0] < Severity.CRITICAL and r.end == P.END_JUNK:
                continue  # "chapters 2 and 3 = 5 pages": a number's condition must end the query or comment it away
        if g is None or g[0] < Severity.HIGH or not _strict(g[1], r, toks):
            continue
        if best is None or g[0] > best.severity:
            best = SqliVerdict(g[0], g[1], r, form)
            if g[0] >= Severity.CRITICAL:
                break
    return best


# Call heads worth a MEDIUM: functions SQL engines know, less the math and aggregate names every
# language has (rand(, floor(, count(, pow(: the PHP detector already weighs those, and one piece of
# evidence must not count twice).
_CALL_HEADS = (P.STRING_FUNCTIONS | P.INFO_FUNCTIONS | P.TIME_FUNCTIONS | P.ERROR_FUNCTIONS
               | P.ERROR_FUNCTIONS_WITH_SUBQUERY | frozenset({"elt", "make_set", "choose", "database"})) \
    - frozenset(w.lower() for w in rule_lines("php_common.txt")) \
    - frozenset({"abs", "ceil", "ceiling", "floor", "round", "rand", "random", "pow", "power", "sqrt", "sin", "cos",
                 "tan", "log", "ln", "exp", "pi", "count", "sum", "min", "max", "avg", "format", "mod", "div"})


def call_head(value: str) -> SqliVerdict | None:
    """MEDIUM: the whole value is the head of a call of a function SQL engines know, with nothing
    in it ("CONCAT (", "version(", "char("): the cut-off tail of an injection or a fuzzer's word
    list, but also what a search box sends while someone types code. Needs company to block."""
    if len(value) > 40 or "(" not in value:
        return None
    toks = [t for t in tokenize(value) if t.kind != T.COMMENT]
    if len(toks) < 2 or toks[-1].kind != T.LPAREN:
        return None
    head = toks[-2]
    if any(t.kind != T.LPAREN for t in toks[:-2]) or head.text not in _CALL_HEADS:
        return None
    reading = ContextReading("bare", P.CALL, P.END_CLEAN, head.start, toks[-1].end, 0, (head.text,))
    return SqliVerdict(Severity.MEDIUM, "call-fragment", reading, value)


# Keywords only SQL has (not "if", "else", "for", "case", "return" of every C-like language).
_GLUED_KEYWORDS = frozenset({"select", "union", "from", "where", "and", "or", "xor", "insert", "update", "delete",
                             "drop", "exec", "execute", "having", "order", "group", "limit", "into", "declare",
                             "waitfor", "truncate", "alter", "create", "intersect", "except", "minus", "join",
                             "procedure", "outfile", "dumpfile", "like", "null", "not"})


# A keyword touching a comment, or a comment inside a word ("DR/**/OP"): the linear gate before the
# value is tokenised for glued keywords.
_GLUED_COMMENT_GATE = re2.compile(("(?i)(?:" + "|".join(sorted(_GLUED_KEYWORDS)) + r")/\*|\*/(?:"
                                   + "|".join(sorted(_GLUED_KEYWORDS)) + r")|[a-z]/\*[^*]{0,64}\*/[a-z]").encode())


def comment_glued_keywords(value: str) -> SqliVerdict | None:
    """SQL keywords glued to other code by /* */ comments with no blank: "nion/*x*/select/*x*/1,2",
    "1/**/or/**/1", or split by one ("DR/**/OP", "SEL/*x*/ECT": the keyword a filter that deletes
    comments puts together). The comment stands in for the blank a filter looks for; prose has no
    comments, and code that has them puts blanks around them. Two such joints are HIGH, one is MEDIUM."""
    if "/*" not in value or _GLUED_COMMENT_GATE.search(value.encode("utf-8", "surrogatepass")) is None:
        return None
    toks = tokenize(value)
    joints = 0
    first: SqlToken | None = None
    joined_at = -1  # index of the token that completes a keyword split by a comment ("OP" of "DR/**/OP")
    joined = ""
    for i in range(1, len(toks) - 1):
        c, before, after = toks[i], toks[i - 1], toks[i + 1]
        if c.kind != T.COMMENT or not c.flags & T.F_BLOCK_COMMENT or c.flags & T.F_UNTERMINATED:
            continue
        if before.end != c.start or after.start != c.end or T.COMMENT in (before.kind, after.kind):
            continue
        before_text = joined if joined_at == i - 1 else before.text
        if before.kind in _NAME_TOKENS and after.kind in _NAME_TOKENS and before_text + after.text in _GLUED_KEYWORDS:
            joined_at, joined = i + 1, before_text + after.text  # "DR/**/OP": the keyword in pieces
        elif not (before_text in _GLUED_KEYWORDS or after.text in _GLUED_KEYWORDS):
            continue
        joints += 1
        first = first or c
    if not joints or first is None:
        return None
    reading = ContextReading("bare", P.INLINE_COMMENT, P.END_CLEAN, first.start, first.end, 0, ())
    return SqliVerdict(Severity.HIGH if joints >= 2 else Severity.MEDIUM, "comment-evasion", reading, value)


def _system_leaf(name: str) -> str | None:
    """The name to look up: the word itself when it is in a list, else the last part of a name
    qualified only by system schemas ("master..xp_cmdshell", "sys.dbms_pipe"), else None."""
    if name in SQL_ONLY_FUNCTIONS or name in SQL_ONLY_NAMES:
        return name
    if "." not in name:
        return None
    parts = name.split(".")
    if all(not p or p in P.SYSTEM_SCHEMAS for p in parts[:-1]):
        return parts[-1]
    return None


def variants(value: str, stripped: str | None = None, originals: dict[str, str] | None = None) -> list[str]:
    """The value, and the forms a lenient stack may turn it into before SQL sees it
    (`stripped`: the value without its /* */ comments, when the caller has made it already).
    On a long value, "+" as a blank and comments removed are the stretches around what they
    changed (extauthz.detect.pieces), each entered in `originals` with the stretch of the value
    it stands for.

    - the values of a query string nested in the value ("name=value", a Referer URL):
      each one is a parameter the application behind may read;
    - "+" read as a blank: a form-encoded space that survived one decoding too many;
    - /* comments */ removed without a trace: filters that strip comments join
      "UN/**/ION" into UNION;
    - textual \\x27 escapes decoded, IIS's lenient percent decoding ("%U%N%I%O%N"),
      MySQL's "1.e" number glue removed, an acute accent restored from its compatibility
      form, long 0x.. literals that spell text (MSSQL's CAST(0x… AS VARCHAR) then EXEC)
      written out (see the functions below).
    """
    out = [value]
    for nested in nested_parameters(value):
        out.append(nested)
        if "+" in nested:
            out.append(nested.replace("+", " "))  # "pay=and+x+=+'": the nested form value, its blanks encoded
    if "+" in value:
        _add_form(out, value, value.replace("+", " "), originals)
    inner = _quoted_literal_content(value)
    if inner is not None:
        out.append(inner)
    if "/*" in value:
        if stripped is None:
            stripped = _strip_block_comments(value)
        if stripped != value:
            _add_form(out, value, stripped, originals)
    for decoded in (_decode_hex_escapes(value), _decode_lenient_percent(value), _drop_exponent_glue(value),
                    _undo_mojibake(value), _undo_compat_acute(value), _decode_hex_literals(value)):
        if decoded is not None and decoded != value:
            out.append(decoded)
            if "+" in decoded:
                out.append(decoded.replace("+", " "))
    return out


def _add_form(out: list[str], value: str, form: str, originals: dict[str, str] | None) -> None:
    """`form`, or on a long value the stretches of it around what it changed (extauthz.detect.pieces:
    a README's "C++" and "a + b" are not worth a second reading of the whole document)."""
    pieces = changed_pieces(value, form)
    if pieces is None:
        out.append(form)
        return
    for piece, original in pieces:
        out.append(piece)
        if originals is not None:
            originals.setdefault(piece, original)


_HEX_DIGITS = frozenset("0123456789abcdefABCDEF")


def _quoted_literal_content(value: str) -> str | None:
    """The text of a value written as one SQL literal with doubled quotes inside:
    '"a"" or 1=1--"' holds 'a" or 1=1--' (payload lists quote their entries this way).
    Only with a doubled quote inside: "'cats' or 'dogs'" is two literals, not one."""
    if len(value) < 4 or value[0] not in "'\"" or value[-1] != value[0] or value[1] == value[0]:
        return None  # a literal that opens with an escaped quote ("''''...") is no payload's wrapping
    q = value[0]
    body = value[1:-1]
    if q + q not in body:
        return None
    return body.replace(q + q, q)


def _decode_bytes(data: bytearray) -> str:
    """UTF-8 (undone once more where it was doubly encoded: "\\xc3\\xa2\\xc2\\x80\\xc2\\x98" is a quote), else latin-1."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")
    try:
        return text.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return text


def _undo_mojibake(value: str) -> str | None:
    """UTF-8 read as latin-1 by a layer before us ("â\\x80\\x98" is the quote "\\u2018")."""
    if value.isascii():
        return None
    try:
        return value.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return None


def _undo_compat_acute(value: str) -> str | None:
    """The acute accent "\u00b4" (a quote to some stacks) as it was before compatibility
    normalisation made it a blank and a combining accent (" \u0301")."""
    if " \u0301" not in value:
        return None
    return value.replace(" \u0301", "\u00b4")


_MIN_HEX_TEXT = 16  # hex digits: 8 characters of text
_MAX_HEX_LITERALS = 4


def _decode_hex_literals(value: str) -> str | None:
    """Each long 0x literal that is text (ASCII, or UTF-16LE as T-SQL's NVARCHAR) replaced by that text.

    0x77616974666F722064656C6179... is "waitfor delay ...": the statement an application
    builds with CAST(@x AS VARCHAR) and runs with EXEC. Binary (hashes, addresses) stays as it is.
    """
    at = value.find("0x")
    if at < 0:
        at = value.find("0X")
    if at < 0:
        return None
    out: list[str] = []
    last = 0
    found = 0
    while at >= 0 and found < _MAX_HEX_LITERALS:
        end = at + 2
        while end < len(value) and value[end] in _HEX_DIGITS:
            end += 1
        digits = end - at - 2
        if digits >= _MIN_HEX_TEXT and (at == 0 or not value[at - 1].isalnum()):
            text = _hex_text(value[at + 2:at + 2 + min(digits, 8192) // 2 * 2])
            if text is not None:
                out.append(value[last:at])
                out.append(text)
                last = end
                found += 1
        nxt = value.find("0x", end)
        at = nxt if nxt >= 0 else value.find("0X", end)
    if not found:
        return None
    out.append(value[last:])
    return "".join(out)


def _hex_text(digits: str) -> str | None:
    data = bytes.fromhex(digits)
    if len(data) >= 4 and not any(data[1::2]):
        data = data[0::2]  # UTF-16LE of ASCII text: every second byte is zero
    if all(32 <= b < 127 or b in (9, 10, 13) for b in data):
        return data.decode("ascii")
    return None


def _hex_pair_at(value: str, i: int) -> bool:
    return i + 1 < len(value) and value[i] in _HEX_DIGITS and value[i + 1] in _HEX_DIGITS


def _unescape(value: str, escape: str, drop_stray: bool) -> str:
    """`escape` + two hex digits as one byte (`escape` is "%" or "\\x"); with `drop_stray`, an
    escape character before anything else vanishes. Text in between is kept as UTF-8."""
    out = bytearray()
    i, n, k = 0, len(value), len(escape)
    while i < n:
        c = value[i]
        if c == escape[0] and value[i + 1:i + k].lower() == escape[1:]:
            if _hex_pair_at(value, i + k):
                out.append(int(value[i + k:i + k + 2], 16))
                i += k + 2
                continue
            if drop_stray:
                i += 1
                continue
        out.extend(c.encode("utf-8", "surrogatepass"))
        i += 1
    return _decode_bytes(out)


def _decode_hex_escapes(value: str) -> str | None:
    """Textual escapes ("\\x27\\x4F\\x52") as the bytes they spell, in UTF-8 where they are ("\\xe2\\x80\\x98" is a quote).

    Payload lists and stacks that unescape C/PHP strings turn these into SQL.
    """
    if "\\x" not in value and "\\X" not in value:
        return None
    return _unescape(value, "\\x", drop_stray=False)


def _decode_lenient_percent(value: str) -> str | None:
    """IIS/ASP decoding: %XX is a byte, a "%" before anything else vanishes ("%U%N%I%O%N" is UNION).

    Only for values with several such stray "%" (an evasion, not "100% sure").
    """
    stray = 0
    j = value.find("%")
    while j >= 0 and stray < 3:
        if not _hex_pair_at(value, j + 1):
            stray += 1
        j = value.find("%", j + 1)
    if stray < 3:
        return None
    return _unescape(value, "%", drop_stray=True)


def _drop_exponent_glue(value: str) -> str | None:
    """MySQL reads "1.e" glued to "(", ")", "," or a name as nothing: "1.e(ascii 1.e(substring(...".

    The form without them is the query the server runs.
    """
    if ".e" not in value and ".E" not in value:
        return None
    out: list[str] = []
    i, n = 0, len(value)
    last = 0
    while True:
        j = value.find(".", i)
        if j < 0:
            break
        i = j + 1
        if j + 1 < n and value[j + 1] in "eE" and (j + 2 >= n or value[j + 2] in "(),. " or value[j + 2].isalpha()):
            k = j
            while k > last and value[k - 1].isdigit():
                k -= 1
            if k < j and (k == 0 or not (value[k - 1].isalnum() or value[k - 1] == "_")):
                out.append(value[last:k])
                last = j + 2
                i = last
    if last == 0:
        return None
    out.append(value[last:])
    return "".join(out)


_KEY_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.[]@$")
_MAX_NESTED = 8


def nested_parameters(value: str) -> list[str]:
    """Values of `key=value` pairs inside a value (separated by &, ? or ;), at most a few."""
    out: list[str] = []
    budget = 2 * len(value)  # characters of nested text: "a=b;a=b;..." without "&" must not read 8 KiB eight times
    eq = value.find("=")
    if 0 < eq < 64 and _is_key(value[:eq]):
        out.append(value[eq + 1:])  # everything after "name=", & and all
        budget -= len(out[0])
    while 0 < eq and len(out) < _MAX_NESTED:
        start = max(value.rfind("&", 0, eq), value.rfind("?", 0, eq), value.rfind(";", 0, eq)) + 1
        key = value[start:eq]
        if 0 < len(key) < 64 and _is_key(key):
            end = value.find("&", eq + 1)
            part = value[eq + 1: end if end >= 0 else len(value)]
            if part and part != value and part not in out:
                if len(part) > budget:
                    break
                budget -= len(part)
                out.append(part)
        eq = value.find("=", eq + 1)
    return out


def _is_key(text: str) -> bool:
    return all(c in _KEY_CHARS for c in text)


def _strip_block_comments(value: str) -> str:
    parts: list[str] = []
    i = 0
    while True:
        j = value.find("/*", i)
        if j < 0 or value.startswith("/*!", j):
            parts.append(value[i:])
            break
        k = value.find("*/", j + 2)
        parts.append(value[i:j])
        if k < 0:
            break
        i = k + 2
    return "".join(parts)


def looks_binary(value: str) -> bool:
    """Binary data decoded as text (protobuf, images): not a place for SQL. Text whose blanks are
    control characters, one at a time between printable characters ("OR\x02(SELECT\x055557"; SQL
    Server reads \x01-\x1f as white space, sqlmap's space2mssqlblank), is text: binary data has
    runs of them (tags and lengths side by side), NULs and undecodable bytes."""
    if value.isprintable() and "\ufffd" not in value:
        return False
    controls = sum(1 for c in value[:4096] if (c < "\x20" and c not in "\t\n\r") or c == "\ufffd")
    binary = controls >= 3 and (controls > 8 or controls * 5 > len(value)) and controls * 20 > min(len(value), 4096)
    return binary and not _control_blanks(value[:4096])


def _control_blanks(value: str) -> bool:
    """Every control character stands alone between two printable ASCII characters."""
    if "\x00" in value or "\ufffd" in value:
        return False
    prev_control = True  # a control character first in the value is not between two others
    for c in value:
        control = c < "\x20" or c == "\x7f"
        if control and prev_control:
            return False
        if not control and not (" " <= c <= "~") and not c.isprintable():
            return False
        prev_control = control
    return not prev_control


_PROBE_CHARS = "\"'(),."


def heuristic_probe(value: str) -> bool:
    """An injection tool's error probe: the original value, then ~10 characters drawn only from
    quotes, parentheses, commas and dots with both quote kinds among them (sqlmap's heuristic
    check appends e.g. `.,))",'('` to see whether the database reports a syntax error)."""
    if len(value) > 48:
        return False
    run = len(value) - len(value.rstrip(_PROBE_CHARS))
    if run < 8:
        return False
    tail, head = value[-run:], value[:-run]
    return ("'" in tail and '"' in tail and sum(tail.count(c) for c in "(),.") >= 3
            and not any(c.isspace() for c in head))


def analyse(value: str) -> SqliVerdict | None:
    """The most severe SQL injection reading of `value`, or None."""
    if looks_binary(value):
        return None
    if heuristic_probe(value):
        return SqliVerdict(Severity.HIGH, "tool-probe", SqlContextParser(tokenize(value)).read("bare"), value)
    best: SqliVerdict | None = None
    stripped = _strip_block_comments(value) if "/*" in value else None
    originals: dict[str, str] = {}
    forms = variants(value, stripped, originals)
    hex_text = _decode_hex_literals(value) if "0x" in value or "0X" in value else None
    for form in forms:
        check_spent()
        plain: dict[str, int] | None = None  # a stretch's findings without the form's change (see variants)
        for r, opening, token_data in _readings(form):
            g = grade(r, opening, token_data)
            if g is None and form == hex_text and r.facts & P.STATEMENT:
                # a statement spelt in hex ("0x73656c656374..."): no one hex-encodes SQL but to run it
                # with EXEC(@x) past a filter, even when the value is cut off after it
                g = Severity.HIGH, "hex-statement"
            if g is not None and (best is None or g[0] > best.severity):
                if form in originals:
                    if plain is None:
                        plain = _grades(originals[form])
                    if plain.get(g[1], -1) >= g[0]:
                        continue  # found so without the form's change too: not what the form revealed
                best = SqliVerdict(g[0], g[1], r, form)
        if best is not None and best.severity >= Severity.HIGH:
            break
    else:
        # The value as sent, and without its comments ("xp_/**/cmdshell"): the other forms do not
        # make names appear, and reading each again would cost as much as the readings above.
        for form in (value, stripped) if stripped is not None else (value,):
            check_spent()
            named = sql_only_name(form)
            if named is not None:
                return named
        glued = comment_glued_keywords(value)
        if glued is not None and (best is None or glued.severity > best.severity):
            return glued
        if len(value) >= EMBED_MIN:
            inner = embedded(value)
            if inner is not None:
                return inner
        if best is None:
            return statement_after_quote(value) or call_head(value)
    return best


def _grades(text: str) -> dict[str, int]:
    """Each rule the readings of `text` grade, with its highest severity."""
    out: dict[str, int] = {}
    for r in _readings(text):
        g = grade(*r)
        if g is not None and g[0] > out.get(g[1], -1):
            out[g[1]] = g[0]
    return out


def _escape(word: str) -> str:
    """A rule word as a literal in a Hyperscan pattern (trusted data: the rule file)."""
    return "".join("\\" + c if not (c.isalnum() or c == "_") else c for c in word)


@register
class SqlInjectionDetector(Detector):
    name = "sqli"
    # Quote, comment and statement punctuation, and SQL words on word boundaries.
    triggers = (
        r"['\"`\x{2018}\x{2019}\x{00b4}]",
        # comments; ";" only before a statement (a User-Agent's "(X11; Linux)" is not a stacked query)
        r"--|#|(?:^|[^*])/\*",  # not "*/*" (Accept headers)
        r";\W*(?:select|insert|update|delete|replace|drop|create|alter|truncate|rename|exec|execute|declare|"
        r"set|shutdown|waitfor|begin|call|grant|revoke|if|copy|load|use|show|prepare|handler|kill|backup|"
        r"restore|merge|dbcc|pragma|attach|do|lock|with|values|table|iif|sleep|benchmark|pg_sleep|elt|$)",
        r"(?:^|\W)(?:or|and|xor|union|select|having|order\s+by|group\s+by|limit|waitfor|exec|execute|"
        r"declare|drop|insert|delete|update|create|alter|truncate|shutdown|procedure|from|where|case)(?:\W|$)",
        r"(?:^|\W)(?:sleep|benchmark|pg_sleep|extractvalue|updatexml|load_file|char|chr|concat|concat_ws|"
        r"version|database|user|current_user|db_name|ascii|ord|substring|substr|mid|hex|unhex|if|iif|elt|"
        r"make_set|field|decode|choose|cast|convert|count|len|length|randomblob|generate_series|json_\w+|jsonb_\w+|md5|"
        r"group_concat|name_const|exp|polygon|unistr|starts_with|xp_\w+|sp_\w+|dbms_\w+|utl_\w+|lo_\w+|"
        r"pg_\w+|sys\w*|information_schema\w*|\w+_schema|floor|rand|row)\s*\(",
        r"\|\||&&|::|@@|\{\s*(?:fn|if|d|ts|call)\s",
        r"[0-9)](?:or|and|xor)[0-9]",  # "1or1=1": a connective glued to numbers on both sides
        r"\(\s*[0-9]+\s*(?:=|<>|!=|<=?|>=?)\s*[0-9]+\s*\)",  # "(8362=9139)*9139": a comparison used as a number
        r"0x[0-9a-f]{16}",  # a long hex literal that may spell a statement (see _decode_hex_literals)
        r"(?:^|\W)(?:except|intersect)\W",  # set operations other than UNION ("except values(1,2)")
        r"\)\s*when\W",  # ") when 1 then": the branches of a CASE after the value closed its operand
        r"%[a-z]%[a-z]%[a-z]",  # "%S%E%L%E%C%T": IIS/ASP drop a "%" before a non-hex pair (_decode_lenient_percent)
        # SQL-only functions and server names (see sql_only_name)
        r"(?:^|\W)(?:" + "|".join(_escape(w) for w in sorted(SQL_ONLY_FUNCTIONS)) + r")\s*\(",
        r"(?:^|[^a-z0-9_$])(?:" + "|".join(_escape(w) for w in sorted(SQL_ONLY_NAMES)) + r")(?:[^a-z0-9_$]|$)",
    )

    def __init__(self) -> None:
        self._analyse = RecentResults(analyse)  # headers and cookies repeat request after request

    def scan_input(self, inp: Input) -> Iterable[Finding]:
        v = self._analyse(inp.value)
        if v is None:
            return ()
        r = v.reading
        severity = v.severity
        if v.rule in ("system-name", "system-catalog") and inp.kind == "path" and severity > Severity.MEDIUM:
            # a page or file named after a catalogue ("/wiki/Information_schema": "/" separates
            # segments, it divides nothing), not a query reaching it
            severity = Severity.MEDIUM
        if v.rule == "statement-fragment" and inp.role == "key":
            # a member or parameter name that opens with a quote or ";" then a statement ("' union/",
            # "; select"): names are the application's identifiers, never a user's stray quote
            severity = Severity.HIGH
        detail = f"{r.context} context: " + ", ".join(r.names)
        if r.functions:
            detail += "; calls " + ", ".join(r.functions[:4])
        return (Finding("sqli", f"sqli.{v.rule}", severity, inp.location,
                        excerpt(v.form, r.breakout, max(r.stop, r.breakout + 1), inp.location),
                        inp.chain, detail=detail),)
