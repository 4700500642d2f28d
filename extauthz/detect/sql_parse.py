"""SqlContextParser: what a value does to the query it is pasted into.

A value becomes SQL injection when, read in the context the application puts
it in (bare number or name, inside '...', inside "...", inside `...`), it
leaves that context and continues as SQL: closes parentheses, adds operators,
clauses, a second statement, and ends where the query can still be valid (end
of value, a comment that swallows the rest, or an open quote the
application's own closing quote completes).

The parser is a small, forgiving recursive-descent reader over SqlTokens
(expressions with precedence, SELECT with its clauses, other statements
loosely). It does not build a tree; it records *facts* (constructs seen after
the break-out point, as bit flags) and how far the structure held. The
detector grades those facts; prose fails the structure early and records
nothing of weight.

Bounded: a step budget and a nesting limit stop pathological input; a
stopped parse keeps the facts seen so far.
"""
from __future__ import annotations

from typing import Callable, NamedTuple, TypeVar

from extauthz.detect import sql_tokens as T
from extauthz.detect.sql_tokens import VOCAB, SqlToken
from extauthz.rules import rule_words

# ----------------------------------------------------------------- facts

UNION = 1 << 0  # UNION [ALL] SELECT / VALUES
STACKED = 1 << 1  # ; followed by a statement
TIME_FN = 1 << 2  # sleep(), benchmark(), pg_sleep(), waitfor delay
ERROR_FN = 1 << 3  # extractvalue(), updatexml(), xp_cmdshell, load_file() ...
INFO_FN = 1 << 4  # version(), database(), @@version ...
SYSTEM_OBJECT = 1 << 5  # information_schema, sysobjects, pg_catalog ...
SUBQUERY = 1 << 6  # ( SELECT ... )
LOGIC = 1 << 7  # AND / OR / XOR / && / || joining the break-out to more SQL
LOGIC_STRONG = 1 << 8  # ... whose right side is a constant, a constant comparison, a call or a subquery
CONST_COMPARE = 1 << 9  # 1=1, 'a'='a', 3>2, 'x' like 'x'
COMPARE = 1 << 10  # any comparison after the break-out
CLAUSE = 1 << 11  # ORDER BY / GROUP BY / HAVING / LIMIT / PROCEDURE / INTO after the break-out
WHERE = 1 << 12  # [AS alias] WHERE after the break-out
STATEMENT = 1 << 13  # the value starts with a whole statement (bare context)
CALL = 1 << 14  # any function call
STRING_FN = 1 << 15  # char(), concat(), hex() ... (quote-free string building)
CONCAT = 1 << 16  # string concatenation / arithmetic with the break-out
VERSIONED = 1 << 17  # MySQL /*! ... */ code
INLINE_COMMENT = 1 << 18  # /**/ between code tokens (space evasion)
CLOSE_PAREN = 1 << 19  # ) right after the break-out
ALIAS = 1 << 20
CASE = 1 << 21
ODBC = 1 << 22  # { ... } escapes
HEX = 1 << 23  # 0x.., x'..' literals
CAST = 1 << 24  # ::type or CAST(.. AS ..)
COLLATE = 1 << 25
OPERATOR = 1 << 26  # some operator follows the break-out
JSON_OP = 1 << 27  # PostgreSQL/MySQL JSON operators (->, @>, ?|, #> ...)
EXPR_STMT = 1 << 28  # IF / SELECT expression statement starting the value
UNSEPARATED = 1 << 29  # a second statement without ";" (T-SQL)
NUMERIC_OPERAND = 1 << 30  # bare context: the value starts with a plain number
LEADING_LOGIC = 1 << 31  # bare context: the value starts with AND/OR (a continuation fragment)
SELECT_QUERY = 1 << 32  # a SELECT that queries something (see _select_like)
CAST_ERROR = 1 << 33  # call(...)::int, '...'::int (PostgreSQL error-based extraction)
CLAUSE_CHAIN = 1 << 34  # bare value that is two or more clauses: "from t where ...", "group by x having ..."
LOGIC_BOOL = 1 << 35  # AND/OR with a bare TRUE/FALSE/NULL (strong only where prose cannot be)
LOGIC_TEXT = 1 << 36  # AND/OR with a quoted word ("'x' or 'y'"): strong only after a quote break-out
CONDITIONAL = 1 << 37  # a conditional function deciding on a constant comparison
STATEMENT_END = 1 << 38  # the value ends the statement with ";" (drivers that run one statement ignore the rest)
BREAKOUT_COMPARE = 1 << 39  # the literal broken out of is compared with a constant right away
LOGIC_NUMBER = 1 << 40  # AND/OR with a plain number on the right
NEGATIVE_OPERAND = 1 << 41  # bare context: the value starts with a negative number or zero
AS_ALIAS = 1 << 42  # an explicit "AS name" after the break-out
SYMBOLIC_LOGIC = 1 << 43  # || or && (prose writes "or"/"and")
LOGIC_CALL = 1 << 44  # AND/OR with a call of a known SQL function on the right
OPEN_STRING = 1 << 45  # the value ends inside a literal (the application's quote would close it)
DELAY_LITERAL = 1 << 47  # WAITFOR DELAY '0:0:5' anywhere in the value (T-SQL only; appended to a header by tools)
BOOLEAN_NUMBER = 1 << 48  # (8362=9139)*9139: a constant comparison used as a number (boolean blind)
BREAKOUT_ARITHMETIC = 1 << 50  # the literal broken out of is concatenated or computed with right away ("x'+'")
STRING_OPERAND = 1 << 49  # bare context: the value starts with a complete single-quoted literal ('a' || 'b')
DANGLING_OPERATOR = 1 << 56  # the read stopped at an operator with nothing readable after it ("x' or 1<")
TEXT_MEASURE = 1 << 54  # len(), length(), ascii(), ord() ... called: a text measured as a number
NUMBER_WITH_MEASURE = 1 << 55  # bare: a number computed with a text measure ("123+len(1234)-len(123)")
LOGIC_SELECT = 1 << 53  # the break-out is joined by AND/OR to a bare SELECT ("' or select * from ...")
STACKED_SELECT = 1 << 52  # the break-out is followed at once by ";" and a SELECT that parses ("x'; select name from t")
LEADING_XOR = 1 << 51  # bare context: the value starts with XOR (no prose or query string opens with it)
DEEP_NESTING = 1 << 46  # the structure nests deeper than MAX_DEPTH (subqueries in subqueries ...): the read stopped there
UNCLOSED_GROUP = 1 << 58  # the value ends inside a "(" it opened ("and uid!=("): the application's text goes on in it
LOGIC_GROUP = 1 << 59  # after the quote: AND/OR, then a group that opens with SELECT or a comparison word, then a comment
SAME_COMPARE = 1 << 60  # a comparison of the same tokens on both sides: 1=1, '1'='1', a.b=a.b
OPEN_PHRASE = 1 << 61  # the open literal at the end holds a phrase of 3+ words ('"-" means the file is stdin.')
CASE_TAIL = 1 << 57  # the break-out goes on as the branches of a CASE: ") when 234 then", "' when 1 then sleep(5) end"

FACT_NAMES = {
    UNION: "union", STACKED: "stacked", TIME_FN: "time", ERROR_FN: "error-fn",
    INFO_FN: "info-fn", SYSTEM_OBJECT: "system-object", SUBQUERY: "subquery",
    LOGIC: "logic", LOGIC_STRONG: "logic-strong", CONST_COMPARE: "const-compare",
    COMPARE: "compare", CLAUSE: "clause", WHERE: "where", STATEMENT: "statement",
    CALL: "call", STRING_FN: "string-fn", CONCAT: "concat", VERSIONED: "versioned",
    INLINE_COMMENT: "inline-comment", CLOSE_PAREN: "close-paren", ALIAS: "alias",
    CASE: "case", ODBC: "odbc", HEX: "hex", CAST: "cast", COLLATE: "collate",
    OPERATOR: "operator", JSON_OP: "json-op", EXPR_STMT: "expr-statement",
    UNSEPARATED: "unseparated-statement", NUMERIC_OPERAND: "numeric-operand",
    LEADING_LOGIC: "leading-logic", SELECT_QUERY: "select-query", CAST_ERROR: "cast-error",
    CLAUSE_CHAIN: "clause-chain", LOGIC_BOOL: "logic-bool", LOGIC_TEXT: "logic-text",
    CONDITIONAL: "conditional", STATEMENT_END: "statement-end", BREAKOUT_COMPARE: "breakout-compare",
    LOGIC_NUMBER: "logic-number", NEGATIVE_OPERAND: "negative-operand", AS_ALIAS: "as-alias",
    SYMBOLIC_LOGIC: "symbolic-logic", LOGIC_CALL: "logic-call", OPEN_STRING: "open-string",
    DEEP_NESTING: "deep-nesting", DELAY_LITERAL: "delay-literal", BOOLEAN_NUMBER: "boolean-number",
    STRING_OPERAND: "string-operand", BREAKOUT_ARITHMETIC: "breakout-arithmetic", LEADING_XOR: "leading-xor",
    STACKED_SELECT: "stacked-select", LOGIC_SELECT: "logic-select", TEXT_MEASURE: "text-measure",
    NUMBER_WITH_MEASURE: "number-with-measure", DANGLING_OPERATOR: "dangling-operator", CASE_TAIL: "case-tail",
    UNCLOSED_GROUP: "unclosed-group", LOGIC_GROUP: "logic-group", SAME_COMPARE: "same-compare", OPEN_PHRASE: "open-phrase",
}


def fact_names(facts: int) -> list[str]:
    return [name for bit, name in FACT_NAMES.items() if facts & bit]


# How the value ends, for the context it is read in.
END_CLEAN = "end"  # all tokens placed
END_COMMENT = "comment"  # a comment (or NUL) swallows the rest of the query
END_OPEN_STRING = "open-string"  # ends inside a literal the application's quote closes
END_JUNK = "junk"  # tokens the structure cannot place

# ----------------------------------------------------------------- vocabulary


def _names(section: str) -> frozenset[str]:
    return rule_words("sql.yaml", section)


TIME_FUNCTIONS = _names("time_functions")
ERROR_FUNCTIONS = _names("error_functions")
ERROR_FUNCTIONS_WITH_SUBQUERY = _names("error_functions_with_subquery")
INFO_FUNCTIONS = _names("info_functions")
STRING_FUNCTIONS = _names("string_functions")
SYSTEM_OBJECTS = _names("system_objects")
SYSTEM_SCHEMAS = _names("system_schemas")
STATEMENT_OBJECTS: dict[str, frozenset[str]] = {
    k: frozenset(str(w).lower() for w in v) for k, v in VOCAB["statement_objects"].items()}
TYPES = _names("types")

_COMPARISON = frozenset({"=", "==", "<>", "!=", "<", ">", "<=", ">=", "<=>", "!<", "!>",
                         "like", "rlike", "regexp", "glob", "ilike", "similar", "sounds",
                         "between", "in", "is", "match", "member", "overlaps", "~", "!~",
                         "~*", "!~*", "notnull", "isnull", "escape", "@@"})
# Keywords that stand for server facts (PostgreSQL: no parentheses), leaked by a failing cast.
_SESSION_LITERALS = frozenset({"current_user", "session_user", "system_user", "current_role", "current_catalog",
                               "current_schema"})
_JSON_OPS = frozenset({"->", "->>", "@>", "<@", "#>", "#>>", "#-", "?", "?|", "?&", "@?", "@@"})
# JSON operators that answer true/false: on two constants, a tautology ('{"a":1}'::jsonb @> '{}')
_JSON_TESTS = frozenset({"@>", "<@", "?", "?|", "?&", "@?", "@@"})
# Binding power of binary operators (higher binds tighter).
_PRECEDENCE: dict[str, int] = {
    "or": 1, "||": 1, "xor": 2, "and": 3, "&&": 3,
    "=": 5, "==": 5, "<>": 5, "!=": 5, "<": 5, ">": 5, "<=": 5, ">=": 5, "<=>": 5,
    "!<": 5, "!>": 5, "like": 5, "rlike": 5, "regexp": 5, "glob": 5, "ilike": 5,
    "similar": 5, "sounds": 5, "between": 5, "in": 5, "is": 5, "match": 5, "member": 5,
    "overlaps": 5, "~": 5, "!~": 5, "~*": 5, "!~*": 5, "escape": 5, "@@": 5,
    "->": 9, "->>": 9, "@>": 5, "<@": 5, "#>": 9, "#>>": 9, "#-": 7, "?": 5, "?|": 5, "?&": 5, "@?": 5,
    "|": 6, "&": 6, "<<": 6, ">>": 6, "^": 8,
    "+": 7, "-": 7, "*": 8, "/": 8, "%": 8, "div": 8, "mod": 8,
    ":=": 0, "collate": 10, "::": 11,
}
_LOGIC_WORDS = frozenset({"or", "and", "xor", "||", "&&"})
_EQUALITY = frozenset({"=", "==", "<=>", ">=", "<=", "like", "glob", "is"})
# Types a text fails to convert to, so that the error message shows the text (PostgreSQL error-based).
_FAILING_CASTS = (TYPES - frozenset({"char", "nchar", "varchar", "nvarchar", "varchar2", "nvarchar2", "text", "ntext",
                                     "clob", "character"})) | frozenset({"int2", "int4", "int8", "float4", "float8",
                                                                         "uuid", "inet", "regproc", "money"})
# System schemas whose names are also ordinary words, directories or file names.
_WORD_SCHEMAS = frozenset({"sys", "mysql", "master", "msdb", "tempdb", "dbo"})
# Comparison words that open a group in payloads that test for them ("or(glob 1)", "and(regexp 1)").
_GROUP_WORDS = frozenset({"glob", "like", "rlike", "regexp", "match", "similar", "ilike"})
# Words that keep structural meaning before "(" (not function calls).
_NOT_CALLS = frozenset({"in", "exists", "select", "values", "union", "from", "where", "on",
                        "using", "as", "into", "and", "or", "xor", "not", "when", "then",
                        "else", "is", "between", "over", "with", "all", "any",
                        "some", "table", "by", "having", "limit", "join", "case", "intersect",
                        "except", "minus", "set", "distinct"})
_SELECT_MODIFIERS = frozenset({"all", "distinct", "distinctrow", "high_priority", "straight_join",
                               "sql_small_result", "sql_big_result", "sql_buffer_result",
                               "sql_no_cache", "sql_cache", "sql_calc_found_rows", "unique"})
_JOIN_WORDS = frozenset({"join", "inner", "outer", "left", "right", "cross", "natural", "full",
                         "straight_join", "lateral"})
_CLAUSE_STARTS = frozenset({"where", "group", "order", "having", "limit", "offset", "procedure",
                            "into", "for", "union", "intersect", "except", "minus", "fetch",
                            "window", "lock", "returning", "connect", "start", "from"})

# Functions that measure text as a number: arithmetic with them is SQL, not a calculator.
_TEXT_MEASURES = frozenset({"len", "length", "char_length", "character_length", "datalength", "octet_length",
                            "bit_length", "ascii", "ord", "unicode"})
# What WAITFOR DELAY|TIME takes: a 'hh:mm:ss' literal or a variable holding one (any other word is prose).
_DELAY_ARGUMENTS = frozenset({T.STRING, T.VARIABLE})
# Statements T-SQL accepts without a ";" before them.
_UNSEPARATED = frozenset({"waitfor", "exec", "execute", "declare", "drop", "insert", "delete",
                          "update", "shutdown", "create", "alter", "truncate", "select"})

MAX_STEPS = 4000
_R = TypeVar("_R")
MAX_DEPTH = 40


class _Stop(Exception):
    """Budget or nesting limit reached: keep the facts found so far.

    Every method that can lead back to itself (expressions, groups, SELECTs,
    statements, CASE, ODBC escapes) counts itself in `depth`, so no input
    reaches Python's recursion limit; a set-operation chain (`select .. union
    select .. union ..`) is read in a loop, not nested.
    """


def _nested(method: Callable[..., _R]) -> Callable[..., _R]:
    """A parser method that may lead back to itself: one nesting level (see _Stop)."""
    def nested(self: "SqlContextParser", *args: object, **kwargs: object) -> _R:
        self._descend()
        try:
            return method(self, *args, **kwargs)
        finally:
            self.depth -= 1
    nested.__name__ = method.__name__
    nested.__doc__ = method.__doc__
    return nested


# A value that ends with one of these sits inside a concatenation or sum the application's query completes.
_CONCAT_TAIL = frozenset({"+", "||", "-"})


class ContextReading(NamedTuple):
    """The result of reading one value in one context."""

    context: str  # "bare", "'", '"', "`"
    facts: int
    end: str  # END_* above
    breakout: int  # character offset where the value leaves its context
    stop: int  # character offset where the structure stopped holding
    placed: int  # code tokens placed after the break-out (bare: after the leading operand)
    functions: tuple[str, ...] = ()  # notable function names called

    @property
    def names(self) -> list[str]:
        return fact_names(self.facts)


# Operand summaries returned by the expression reader.
CONST = 1  # literal, or expression of literals only
NAMEISH = 2  # column / identifier
CALLED = 4  # function call (or contains one)
SUBQ = 8  # contains a subquery
NULLISH = 16  # NULL / TRUE / FALSE
KNOWN_CALL = 32  # a call of a function SQL engines know (not any name followed by "(")


class SqlContextParser:
    """Reads code tokens of one context; see module docstring."""

    def __init__(self, tokens: list[SqlToken]) -> None:
        code: list[SqlToken] = []
        facts = 0
        self.trailing_comment = False
        prev_code = False
        last = len(tokens) - 1
        for k, t in enumerate(tokens):
            if t.kind == T.COMMENT:
                if t.flags & T.F_LINE_COMMENT or t.flags & T.F_UNTERMINATED:
                    self.trailing_comment = True  # provisional: only if no code follows
                elif prev_code:
                    facts |= INLINE_COMMENT
                continue
            if t.kind == T.NUL:
                self.trailing_comment = True
                break
            if self.trailing_comment and k == last and t.kind == T.NAME and t.text.isalnum() and len(t.text) <= 16:
                break  # "7--\naPIP": a tool's "-- <random word>" whose blank became a line break: still its comment
            if self.trailing_comment:
                self.trailing_comment = False  # code after a line comment (newline): obfuscation
                facts |= INLINE_COMMENT
            if t.flags & T.F_VERSIONED:
                facts |= VERSIONED
            code.append(t)
            prev_code = True
        self.toks = code
        self.n = len(code)
        self.p = 0
        self.facts = facts
        self.steps = 0
        self.depth = 0
        self.depth_hit = False
        self.selects_open = 0  # SELECTs being read (a depth limit hit inside one is a subquery)
        self.functions: list[str] = []
        self._weak_select = False

    # ------------------------------------------------------------ helpers

    def _peek(self, k: int = 0) -> SqlToken | None:
        j = self.p + k
        return self.toks[j] if j < self.n else None

    def _tick(self) -> None:
        self.steps += 1
        if self.steps > MAX_STEPS:
            raise _Stop

    def _descend(self) -> None:
        """One nesting level deeper; the caller undoes it (depth -= 1) in a finally."""
        self.depth += 1
        if self.depth > MAX_DEPTH:
            self.depth_hit = True
            if self.selects_open:
                self.facts |= SUBQUERY  # the limit was hit inside a SELECT: subqueries in subqueries
            raise _Stop

    def _is(self, kind: str, text: str | None = None, k: int = 0) -> bool:
        t = self._peek(k)
        return t is not None and t.kind == kind and (text is None or t.text == text)

    def _word(self, k: int = 0) -> str | None:
        """Lower-case text of a word token (any word kind) at offset k."""
        t = self._peek(k)
        if t is None or t.kind not in _WORD_KINDS:
            return None
        return t.text

    def _accept_word(self, *words: str) -> bool:
        w = self._word()
        if w is not None and w in words:
            self.p += 1
            return True
        return False

    # ------------------------------------------------------------ contexts

    def read(self, context: str, start: int = 0) -> ContextReading:
        """Read from token `start` (the first token after the context literal)."""
        self.p = start
        self._breakout_index = start
        end = END_JUNK
        operand_end = start
        try:
            if context == "bare":
                self._bare_start()
                operand_end = self.p if not self.facts & STATEMENT else start
            self._continuation(context != "bare")
        except _Stop:
            if self.depth_hit:
                self.facts |= DEEP_NESTING
        self.reads_on = False  # would tokens after the stop point change the reading?
        if self.p < self.n and self.p > start and (context != "bare" or self.facts & (CLOSE_PAREN | LOGIC | OPERATOR)
                                                   or self.toks[self.p - 1].kind == T.SEMICOLON):
            self._residual_calls()
            self.reads_on = True
        if context != "bare" and self.trailing_comment and start <= self.p < self.n \
                and self.toks[start].kind == T.LOGIC and self._keyword_group(start + 1):
            self.facts |= LOGIC_GROUP
        if self.p < self.n and self.toks[self.p].kind == T.OPERATOR:
            self.facts |= DANGLING_OPERATOR  # "test' or 123<": cut off after an operator
        elif self.facts & LEADING_XOR and self.p < self.n:
            self.facts &= ~LEADING_XOR  # "xor 5 bits": words go on where a dangling operator would ("xor 2 <")
        if context == "bare" and self.n and self.toks[0].kind == T.KEYWORD and self._clause_count(0) >= 2:
            self.facts |= CLAUSE_CHAIN
        if context == "bare" and not self.facts & TIME_FN and self._delay_literal():
            self.facts |= DELAY_LITERAL | TIME_FN
            self.functions.append("waitfor")
        if self.p >= self.n:
            end = END_COMMENT if self.trailing_comment else END_CLEAN
        elif getattr(self, "_open_string_end", False):
            end = END_OPEN_STRING
        elif self.p == self.n - 1 and self.p > start and self.toks[self.p].text in _CONCAT_TAIL \
                and self.toks[self.p].kind in (T.OPERATOR, T.LOGIC) and not self.trailing_comment:
            end = END_CLEAN  # "x+(SELECT ...)+": the application's expression goes on after the value's operator
        breakout = self.toks[start].start if start < self.n else (self.toks[-1].end if self.toks else 0)
        stop = self.toks[self.p].start if self.p < self.n else (self.toks[-1].end if self.toks else 0)
        return ContextReading(context, self.facts, end, breakout, stop, self.p - operand_end,
                              tuple(self.functions[:8]))

    def _keyword_group(self, j: int) -> bool:
        """A balanced group within the next few tokens that opens with SELECT or a comparison word:
        "' or(glob 1)--", "x' and email ! all (select email)--". The structure between the connective
        and the group did not parse, but no text puts "(select" or "(glob" between "' or" and "--"."""
        toks, n = self.toks, self.n
        end = min(n, j + 64)
        for k in range(j, end - 1):
            if toks[k].kind != T.LPAREN:
                continue
            head = toks[k + 1]
            operand = toks[k + 2] if k + 2 < end else None
            if not (head.kind == T.STATEMENT and head.text == "select" or head.kind == T.OPERATOR and head.text in _GROUP_WORDS
                    and operand is not None and operand.kind in (T.NUMBER, T.STRING, T.LPAREN)):
                continue  # ("or (like dogs) --" is prose: the word compares a constant in payloads, "(glob 1)")
            depth = 0
            for m in range(k, end):
                kind = toks[m].kind
                depth += 1 if kind == T.LPAREN else -1 if kind == T.RPAREN else 0
                if depth == 0:
                    return True
            return False
        return False

    def _delay_literal(self) -> bool:
        """A delay no prose writes, anywhere: WAITFOR DELAY|TIME '<h:m:s>', or a package-qualified
        sleep with an argument (dbms_lock.sleep(5), dbms_pipe.receive_message(..))."""
        toks = self.toks
        j = 0
        while j < self.n - 2:
            t = toks[j]
            if t.kind == T.STATEMENT and t.text == "waitfor" and toks[j + 1].text in ("delay", "time"):
                lit = toks[j + 2]
                text = lit.text.strip()
                if lit.kind == T.STRING and ":" in text and all(c in "0123456789:." for c in text):
                    return True
            elif t.kind == T.NAME and "." in t.text and toks[j + 1].kind == T.LPAREN and toks[j + 2].kind != T.RPAREN \
                    and (t.text in TIME_FUNCTIONS or t.text.endswith("_lock.sleep")):
                return True
            j += 1
        return False

    def _residual_calls(self) -> None:
        """After the structure broke down: delay and out-of-band calls further on still count.

        Only used once the value has left its context with SQL syntax, so a
        sentence that merely mentions sleep(8h) is not read this way.
        """
        toks = self.toks
        for j in range(self.p, self.n - 1):
            t = toks[j]
            if t.kind == T.SETOP:
                k = j + 1
                if toks[k].text in ("all", "distinct", "distinctrow") and k + 1 < self.n:
                    k += 1
                if toks[k].text == "select":
                    self.facts |= UNION
            elif t.text == "waitfor" and toks[j + 1].text in ("delay", "time") and j + 2 < self.n \
                    and toks[j + 2].kind in _DELAY_ARGUMENTS:
                self.facts |= TIME_FN
                self.functions.append("waitfor")
            elif t.kind in _WORD_KINDS and toks[j + 1].kind == T.LPAREN and j + 2 < self.n \
                    and toks[j + 2].kind != T.RPAREN:  # with an argument: "use Sleep() in windows" is prose
                if t.text in TIME_FUNCTIONS:
                    self.facts |= TIME_FN
                    self.functions.append(t.text)
                elif t.text in ERROR_FUNCTIONS:
                    self.facts |= ERROR_FN
                    self.functions.append(t.text)

    def _bare_start(self) -> None:
        """Bare context: a whole statement, or the application's operand then more."""
        t = self._peek()
        if t is None:
            return
        if_call = t.text == "if" and self._is(T.LPAREN, None, 1)  # if(cond, a, b): an expression
        if t.kind == T.NAME and t.text == "print" and self._statement(top=True):
            self.facts |= STATEMENT
            return
        if (t.kind == T.STATEMENT and not if_call) or t.kind == T.SETOP:
            before = self.facts
            if t.kind == T.STATEMENT and t.text not in ("values", "table", "with") and self._statement(top=True) and (
                    t.text != "select" or self.facts & ~before & SELECT_QUERY) and (
                    t.text != "if" or self.facts & ~before & (SUBQUERY | TIME_FN | ERROR_FN | CONDITIONAL)):
                self.facts |= STATEMENT
            return
        if t.kind in (T.LOGIC, T.RPAREN, T.SEMICOLON, T.COMMA) or (t.kind == T.KEYWORD and t.text in _CLAUSE_STARTS):
            if t.kind == T.LOGIC:
                self.facts |= LEADING_LOGIC | (LEADING_XOR if t.text == "xor" else 0)
            return  # the value starts right at the break-out
        if t.kind == T.OPERATOR and t.text not in ("-", "+", "~", "!", "@", "*", "?"):  # "?": a placeholder left in
            return
        save = self.p
        before = self.facts
        r = self._expr(4)  # the operand: stop before AND/OR so the tail records them
        if r and t.kind == T.NUMBER and r & CALLED and r & CONST and self.facts & ~before & TEXT_MEASURE:
            # "123+len(1234)-len(123)": the number the application expects, computed by the
            # server from text lengths (a blind probe: equal when the expression was run)
            self.facts |= NUMBER_WITH_MEASURE
        if not r:
            self.p = save
        elif r & CONST and self.p == save + 1 and t.kind == T.NUMBER:
            self.facts |= NUMERIC_OPERAND
        elif r & CONST and self.p == save + 2 and t.text == "-" and self.toks[save + 1].kind == T.NUMBER:
            self.facts |= NUMERIC_OPERAND | NEGATIVE_OPERAND  # "-93 or 1": sqlmap's negated original value
        elif t.kind == T.STRING and not t.flags & (T.F_UNTERMINATED | T.F_DOUBLE_QUOTED) and r & CONST:
            # "'a' || 'b'", "'a'<>'b'": the value is written as SQL literals ("new york" || "boston"
            # is a search phrase in Lucene syntax)
            self.facts |= STRING_OPERAND
        elif t.kind == T.LPAREN and self.facts & SUBQUERY and not before & SUBQUERY:
            self.facts |= STATEMENT  # the whole value is "(select ...)"

    # ------------------------------------------------------------ continuation

    def _continuation(self, quoted: bool) -> None:
        """What may follow the operand the value broke out of."""
        aliased = False
        start = self.p
        while self.p < self.n:
            self._tick()
            t = self.toks[self.p]
            k = t.kind
            if k == T.RPAREN:
                self.facts |= CLOSE_PAREN
                self.p += 1
                continue
            if k == T.STRING and t.flags & T.F_UNTERMINATED and self.p == self.n - 1 and quoted:
                if not self._feet_mark(t):
                    self._open_string_end = True
                return
            if k in (T.LOGIC, T.OPERATOR, T.NOT) or (k == T.KEYWORD and t.text in ("collate",)):
                if not self._binary_tail():
                    return
                continue
            if k == T.COMMA:
                self.p += 1
                if self._is(T.STRING) and self._peek().flags & T.F_UNTERMINATED and quoted and self.p == self.n - 1:
                    self._open_string_end = True
                    return
                if not self._expr(0):
                    return
                continue
            if k == T.SEMICOLON:
                self.p += 1
                while self._is(T.SEMICOLON):
                    self.p += 1
                if self.p >= self.n:
                    self.facts |= STATEMENT_END  # "admin';": the rest of the query is cut off
                    return
                self._weak_select = False
                if not self._statement(top=False):
                    if self._weak_select and t.start == self.toks[self._breakout_index].start:
                        self.facts |= STACKED_SELECT  # "x'; select name from users": prose puts no ";" right after a quote
                    return
                self.facts |= STACKED
                continue
            if k == T.SETOP:
                if not self._set_operation():
                    return
                continue
            if k == T.KEYWORD and t.text == "when" and (quoted or self.facts & CLOSE_PAREN):
                if not self._case_tail():
                    return
                continue
            if k == T.KEYWORD:
                w = t.text
                if w == "as" or (w not in _CLAUSE_STARTS and w not in ("by",) and False):
                    self.p += 1
                    if self._alias_name():
                        self.facts |= ALIAS | AS_ALIAS
                        aliased = True
                        continue
                    return
                if w in _CLAUSE_STARTS:
                    if not self._clauses():
                        return
                    continue
                return
            if k == T.NAME and not aliased and self.p > 0 and self._alias_ok():
                self.p += 1
                self.facts |= ALIAS
                aliased = True
                continue
            if k == T.KEYWORD and t.text == "else" and self.facts & CONDITIONAL and self._is(T.STATEMENT, None, 1):
                # T-SQL "IF(7423=7424) SELECT 7423 ELSE DROP FUNCTION x": the other branch
                self.p += 1
                if not self._statement(top=False):
                    return
                continue
            if k == T.STATEMENT and t.text in _UNSEPARATED and (self.p > 0 or quoted):
                # T-SQL needs no ";" between statements: "1 waitfor delay '0:0:5'", "' exec xp_..."
                # (after an IF on a constant comparison any statement is its branch)
                save = self.p
                if self._statement(top=False) and (quoted or t.text != "select" or self.facts & CONDITIONAL) and (
                        t.text != "select" or self.facts & (CALL | SYSTEM_OBJECT | SUBQUERY)):
                    self.facts |= UNSEPARATED
                    continue
                self.p = save
                return
            if quoted and self.p == start and k in _WORD_KINDS and self._peek(1) is not None \
                    and self._peek(1).kind == T.LPAREN and _notable_function(t.text):
                # A call pasted right after the quote: "' sleep(5) '", "' if(2=2,1,sleep(5))--"
                if self._primary() is None:
                    return
                self.facts |= OPERATOR
                continue
            if k == T.LPAREN:
                # A group glued to the operand: only a subquery makes it worth reading on
                # ("1' (select ... from ...)" as generated by injection tools).
                save = self.p
                r = self._paren()
                if r is None or not r & SUBQ:
                    self.p = save
                    return
                continue
            return

    def _case_tail(self) -> bool:
        """WHEN expr THEN expr ... [ELSE expr] [END] after the break-out: the value closed the CASE
        operand the application opened and writes its branches. The value may stop after a THEN
        (cut off) but each WHEN needs its THEN."""
        save = self.p
        branches = 0
        while self._word() == "when":
            self.p += 1
            if self._expr(0) is None or not self._accept_word("then"):
                self.p = save
                return False
            branches += 1
            if self.p >= self.n:
                break
            if self._expr(0) is None:
                self.p = save
                return False
        if self._accept_word("else") and self._expr(0) is None:
            self.p = save
            return False
        self._accept_word("end")
        self.facts |= CASE | CASE_TAIL
        return branches > 0

    def _feet_mark(self, t: SqlToken) -> bool:
        """The last, open literal glued to the number before it: "12' or 24'", "a 12' or 24' ladder"
        measure feet. With the application's quote that is 24'' or 24' ladder' (a number then a
        literal: no WHERE clause reads that); an injection's last literal follows an operator or a
        blank ("' or 24='24", "' or 1 or '")."""
        prev = self.toks[self.p - 1] if self.p > 0 else None
        return prev is not None and prev.kind == T.NUMBER and prev.end == t.start

    def _alias_ok(self) -> bool:
        """A bare name right after an operand is an alias only if a clause or end follows."""
        nxt = self._peek(1)
        if nxt is None:
            return False
        if nxt.kind in (T.SEMICOLON, T.RPAREN, T.COMMA, T.SETOP):
            return True
        return nxt.kind == T.KEYWORD and nxt.text in _CLAUSE_STARTS

    def _alias_name(self) -> bool:
        t = self._peek()
        if t is not None and t.kind in (T.NAME, T.STRING, T.KEYWORD, T.TYPE, T.LITERAL, T.STATEMENT):
            self.p += 1
            return True
        return False

    def _binary_tail(self) -> bool:
        """Operator right after an operand: the value extends the expression."""
        save = self.p
        op = self._binary_operator()
        if op is None:
            self.p = save
            return False
        self.facts |= OPERATOR
        kind = self._operand_after(op, at_breakout=save == self._breakout_index)
        if kind is None:
            self.p = save
            return False
        return True

    def _operand_after(self, op: str, at_breakout: bool = False) -> int | None:
        """Read the right side of `op` (already consumed) and record facts."""
        prec = _PRECEDENCE.get(op, 5)
        if op in _LOGIC_WORDS:
            rhs_start = self.p
            if self._is(T.OPERATOR, "*"):
                return None  # "and *other*": emphasis in text; SQL has no "*" operand after a connective
            rhs = self._expr(prec + 1, track=True)
            if rhs is None:
                if at_breakout and self._word() == "select" and self._peek().kind == T.STATEMENT and (
                        self._is(T.OPERATOR, "*", 1) or any(t.text == "from" and t.kind == T.KEYWORD
                                                            for t in self.toks[self.p + 2:self.p + 12])):
                    # "' or select *", "x' and select pass from users": a payload list's unparenthesised
                    # subquery ("students' or select few" has neither the "*" nor a FROM)
                    self.facts |= LOGIC_SELECT
                return None
            self.facts |= LOGIC | (SYMBOLIC_LOGIC if op in ("||", "&&") else 0)
            plain_number = self.p - rhs_start == 1 and self.toks[rhs_start].kind == T.NUMBER
            if plain_number and not self._last_compare_const:
                self.facts |= LOGIC_NUMBER  # "x or 1": strong after a quote, a probe after a number
            elif rhs & KNOWN_CALL and not self._last_compare_const and not rhs & SUBQ:
                self.facts |= LOGIC_CALL  # "' or json(id)--": strong after a quote only
            elif self._last_compare_const or rhs & SUBQ or (
                    rhs & CONST and not self._plain_text_literal(rhs_start)):
                self.facts |= LOGIC_STRONG
            elif rhs & NULLISH:
                self.facts |= LOGIC_BOOL
            elif rhs & CONST and not any(c.isspace() for c in self.toks[rhs_start].text):
                self.facts |= LOGIC_TEXT  # 'a' or 'b'; a quoted phrase ("Host unreachable") is prose
            return rhs
        rhs = self._special_operand(op)
        if rhs is None and op not in ("in", "between"):
            rhs = self._expr(prec + 1)
        if rhs is None:
            return None
        if op in _COMPARISON and (op != "is" or rhs & NULLISH):
            self.facts |= COMPARE
            if at_breakout and rhs & (CONST | NULLISH | KNOWN_CALL | SUBQ):
                self.facts |= BREAKOUT_COMPARE  # "x'='", "x' like 'a", "x' = sleep(5)": the literal compared
        elif op in _JSON_OPS:
            self.facts |= JSON_OP
        elif op == "::":
            self.facts |= CAST
        elif op in ("+", "||", "|", "-", "*", "/", "&", "^", "%", "div", "mod"):
            if rhs & (CALLED | SUBQ):
                self.facts |= CONCAT
            elif at_breakout:
                self.facts |= BREAKOUT_ARITHMETIC  # "x'+'": the literal broken out of joined to another
        return rhs

    def _binary_operator(self) -> str | None:
        """Consume a (possibly multi-word) binary operator; return its canonical text."""
        t = self._peek()
        if t is None:
            return None
        w = t.text
        if t.kind == T.NOT:
            nxt = self._word(1)
            if nxt in ("like", "in", "between", "regexp", "rlike", "glob", "ilike", "similar", "exists"):
                self.p += 2
                if nxt == "similar":
                    self._accept_word("to")
                return nxt
            return None
        if t.kind == T.LOGIC:
            self.p += 1
            return w
        if t.kind == T.OPERATOR:
            self.p += 1
            if w == "is":
                self._accept_word("not")
                if self._is(T.NOT):
                    self.p += 1
                if self._accept_word("distinct"):
                    self._accept_word("from")
                return "is"
            if w == "sounds":
                self._accept_word("like")
            elif w == "similar":
                self._accept_word("to")
            elif w in ("notnull", "isnull"):
                return w
            elif w in ("unlikely", "likely", "likelihood", "against"):
                return None
            if w == "!":
                return None
            return w
        if t.kind == T.KEYWORD and w == "collate":
            self.p += 1
            return "collate"
        return None

    def _special_operand(self, op: str) -> int | None:
        """Right sides that are not plain expressions: IN (...), BETWEEN a AND b, IS NULL, ::type."""
        if op == "in":
            if self._is(T.LPAREN):
                return self._paren(in_list=True)
            if self._word() in ("boolean", "natural") and self._word(1) in ("mode", "language"):
                # MATCH ... AGAINST ('x' IN BOOLEAN MODE / IN NATURAL LANGUAGE MODE)
                self.p += 2
                self._accept_word("mode")
                return CONST
            return None
        if op == "between":
            lo = self._expr(6)
            if lo is None or not self._accept_word("and"):
                return None
            hi = self._expr(6)
            return None if hi is None else (lo & hi) | ((lo | hi) & (CALLED | SUBQ | KNOWN_CALL))
        if op == "is":
            t = self._peek()
            if t is not None and t.kind in (T.LITERAL, T.NAME) and t.text in ("null", "true", "false", "unknown"):
                self.p += 1
                self._last_compare_const = True
                return NULLISH
            return None
        if op in ("notnull", "isnull"):
            return NULLISH
        if op == "::" or op == "collate":
            t = self._peek()
            if t is not None and t.kind in _WORD_KINDS | {T.STRING}:
                self.p += 1
                if self._accept_word("precision"):
                    pass
                if self._is(T.LPAREN):  # varchar(10)
                    self._skip_group()
                return CONST
            return None
        return None

    # ------------------------------------------------------------ expressions

    _last_compare_const = False
    _open_string_end = False
    _breakout_index = -1
    _select_constants = False

    def _expr(self, min_prec: int, track: bool = False) -> int | None:
        """An expression; returns an operand summary (bit set) or None if none starts here."""
        self._tick()
        self._descend()
        try:
            if track:
                self._last_compare_const = False
            lhs_start = self.p
            lhs = self._unary()
            if lhs is None:
                return None
            lhs_end = self.p
            while self.p < self.n:
                t = self.toks[self.p]
                if t.kind == T.NOT:
                    w = self._word(1)
                    if w not in ("like", "in", "between", "regexp", "rlike", "glob", "ilike", "similar"):
                        break
                    op, prec = w, 5
                elif t.kind in (T.OPERATOR, T.LOGIC) or (t.kind == T.KEYWORD and t.text == "collate"):
                    op = t.text
                    prec = _PRECEDENCE.get(op)
                    if prec is None:
                        break
                else:
                    break
                if prec < min_prec:
                    break
                save = self.p
                op = self._binary_operator()
                if op is None:
                    self.p = save
                    break
                if op in _LOGIC_WORDS:
                    rhs = self._expr(prec + 1)
                    if rhs is None:
                        self.p = save
                        break
                    lhs = (lhs & rhs & CONST) | ((lhs | rhs) & (CALLED | SUBQ | KNOWN_CALL))
                    lhs_end = self.p
                    continue
                rhs_start = self.p
                rhs = self._special_operand(op)
                if rhs is None and op not in ("in", "between"):
                    rhs = self._expr(prec + 1)
                if rhs is None:
                    self.p = save
                    break
                if op in _COMPARISON:
                    self.facts |= COMPARE
                    same = self._same(lhs_start, lhs_end, rhs_start, self.p)
                    if lhs & (CONST | NULLISH) and rhs & (CONST | NULLISH) or same:
                        self.facts |= CONST_COMPARE | (SAME_COMPARE if same and op in _EQUALITY else 0)
                        self._last_compare_const = True
                    elif (lhs | rhs) & (CALLED | SUBQ) and (lhs | rhs) & CONST:
                        self._last_compare_const = True
                elif op in _JSON_OPS:
                    self.facts |= JSON_OP
                    if op in _JSON_TESTS and lhs & rhs & CONST and not (lhs | rhs) & (NAMEISH | CALLED) \
                            and self.toks[lhs_start].kind == T.STRING:  # a JSON document literal tested
                        self.facts |= CONST_COMPARE | COMPARE
                        self._last_compare_const = True
                elif op == "::":
                    self.facts |= CAST
                    last = self.toks[lhs_end - 1]
                    to = self.toks[rhs_start].text
                    if (lhs & (CALLED | SUBQ) or last.kind == T.RPAREN) and (to in TYPES or to in _FAILING_CASTS) or (
                            last.kind == T.STRING or last.kind == T.LITERAL and last.text in _SESSION_LITERALS) \
                            and to in _FAILING_CASTS:
                        # current_user::int: the error message names the user ("'main.c'::this_version_id"
                        # is a debugger's scope operator, not a cast that fails)
                        self.facts |= CAST_ERROR
                elif op in ("*", "+", "-", "/", "div") and (
                        self._compare_group(lhs_start, lhs_end) or self._compare_group(rhs_start, self.p)):
                    self.facts |= BOOLEAN_NUMBER
                lhs = (lhs & rhs & CONST) | ((lhs | rhs) & (CALLED | SUBQ | NAMEISH | KNOWN_CALL))
                if not lhs & (NAMEISH | CALLED | SUBQ):
                    lhs |= CONST
                lhs_end = self.p
            return lhs
        finally:
            self.depth -= 1

    def _compare_group(self, a: int, b: int) -> bool:
        """Tokens a..b are "( number <comparison> number )", or "( number [NOT] BETWEEN number AND number )"
        (sqlmap's between tamper writes "(1274=1274)*106" so)."""
        t = self.toks
        if b - a < 5 or b - a > 8 or t[a].kind != T.LPAREN or t[b - 1].kind != T.RPAREN or t[a + 1].kind != T.NUMBER:
            return False
        if b - a == 5:
            return t[a + 3].kind == T.NUMBER and t[a + 2].kind == T.OPERATOR and t[a + 2].text in _COMPARISON
        k = a + 2 + (b - a - 7)  # BETWEEN, after an optional NOT
        return (b - a in (7, 8) and (b - a == 7 or t[a + 2].kind == T.NOT) and t[k].text == "between"
                and t[k + 1].kind == T.NUMBER and t[k + 2].text == "and" and t[k + 3].kind == T.NUMBER)

    def _plain_text_literal(self, start: int) -> bool:
        """The operand at `start`..p is one quoted word or phrase: "deep learning" is not a truth value."""
        if self.p - start != 1:
            return False
        t = self.toks[start]
        return t.kind == T.STRING and not t.text.strip().lstrip("-+").replace(".", "", 1).isdigit()

    def _same(self, a0: int, a1: int, b0: int, b1: int) -> bool:
        """Both sides of a comparison are the same tokens: `a=a`, `x.y = x.y` (a tautology)."""
        if a1 - a0 != b1 - b0 or a1 <= a0 or a1 - a0 > 8:
            return False
        toks = self.toks
        return all(toks[a0 + i].kind == toks[b0 + i].kind and toks[a0 + i].text == toks[b0 + i].text
                   for i in range(a1 - a0))

    def _unary(self) -> int | None:
        """Prefix operators (-, +, ~, !, NOT, BINARY), read in a loop: "++++...1" has no depth."""
        start = self.p
        while True:
            t = self._peek()
            if t is None:
                self.p = start
                return None
            if t.kind == T.NOT or (t.kind == T.OPERATOR and t.text in ("-", "+", "~", "!")) or (
                    t.kind == T.KEYWORD and t.text == "binary" and self._peek(1) is not None):
                self._tick()
                self.p += 1
                continue
            break
        r = self._primary()
        if r is None:
            self.p = start
        return r

    def _primary(self) -> int | None:
        t = self._peek()
        if t is None:
            return None
        k = t.kind
        if k == T.NUMBER:
            self.p += 1
            if t.flags & T.F_HEXLIKE:
                self.facts |= HEX
            return CONST
        if k == T.STRING:
            if t.flags & T.F_UNTERMINATED:
                # An open literal at the end: the application's quote closes it.
                if self.p == self.n - 1:
                    self._open_string_end = True
                    self.facts |= OPEN_STRING | (OPEN_PHRASE if len(t.text.split(None, 2)) > 2 else 0)
                    self.p += 1
                    return CONST
                return None
            self.p += 1
            if t.flags & T.F_HEXLIKE:
                self.facts |= HEX
            return CONST
        if k == T.VARIABLE:
            self.p += 1
            if t.text.startswith("@@"):
                self.facts |= INFO_FN
            return NAMEISH
        if k == T.LITERAL:
            self.p += 1
            if self._is(T.LPAREN):  # current_user(), user()
                return self._call(t)
            if t.text in ("current_user", "session_user", "system_user"):
                self.facts |= INFO_FN
            return NULLISH if t.text in ("null", "true", "false", "unknown") else CONST
        if k == T.LPAREN:
            return self._paren()
        if k == T.LBRACE:
            return self._odbc()
        if k == T.OPERATOR and t.text in ("?", "*"):
            self.p += 1
            return CONST
        if k in _WORD_KINDS:
            w = t.text
            nxt = self._peek(1)
            if nxt is not None and nxt.kind == T.LPAREN and w not in _NOT_CALLS and (w[:1].isalpha() or w[:1] == "_"):
                self.p += 1
                return self._call(t)
            if w == "case":
                return self._case()
            if w == "exists" and nxt is not None and nxt.kind == T.LPAREN:
                self.p += 1
                return self._paren()
            if w in ("all", "any", "some") and nxt is not None and nxt.kind == T.LPAREN:
                # x = ALL (SELECT ...), x ~ ALL(ARRAY[...]): a quantified comparison
                self.p += 1
                r = self._paren()
                return None if r is None else r | CALLED
            if w == "array" and nxt is not None and nxt.start == t.end and (
                    nxt.kind == T.LBRACKET or nxt.flags & T.F_QUOTED_NAME):
                # PostgreSQL ARRAY[...] (the tokenizer reads "[x]" as a quoted name)
                self.p += 1
                if self._is(T.LBRACKET):
                    self._skip_group(T.LBRACKET, T.RBRACKET)
                else:
                    self.p += 1
                return CONST
            if w == "interval":
                self.p += 1
                r = self._expr(9)
                if r is None:
                    self.p -= 1
                    return None
                self._accept_word("second", "minute", "hour", "day", "week", "month", "year",
                                  "microsecond", "quarter")
                return r
            if w == "select" and k == T.STATEMENT:
                # A scalar SELECT without parentheses (MSSQL "1;select ...", "1 and select" is invalid)
                return None
            if k in (T.NAME, T.TYPE) or (k == T.KEYWORD and (w in _NAME_LIKE_KEYWORDS or (
                    nxt is not None and nxt.kind == T.OPERATOR and nxt.text in _COMPARISON))) or (
                    k == T.STATEMENT and w in ("set", "do", "use", "show", "table", "values", "if")
                    and (nxt is None or nxt.kind != T.LPAREN)):
                self.p += 1
                if w in SYSTEM_OBJECTS or _qualified_system(w):
                    self.facts |= SYSTEM_OBJECT
                if "." in w and (w in ERROR_FUNCTIONS or w in TIME_FUNCTIONS) and self.p >= 2 \
                        and self.toks[self.p - 2].kind in (T.LOGIC, T.OPERATOR):
                    # "'||utl_http.request": an Oracle package procedure joined to the break-out,
                    # its argument list cut off; the qualified name exists only as that procedure
                    self.facts |= TIME_FN if w in TIME_FUNCTIONS else ERROR_FN
                    self.functions.append(w)
                if self._is(T.LBRACKET):  # array[...] / arr[1]
                    self._skip_group(T.LBRACKET, T.RBRACKET)
                return NAMEISH
            return None
        return None

    def _call(self, name_tok: SqlToken) -> int:
        """`name(` has been read up to the name; read the argument list."""
        name = name_tok.text
        self.facts |= CALL
        self.functions.append(name)
        leaf = name.rsplit(".", 1)[-1]
        arg = self._peek(1) if self._is(T.LPAREN) else None
        if name in TIME_FUNCTIONS or leaf == "sleep":  # dbms_lock.sleep, user_lock.sleep ...
            if arg is not None and arg.kind not in (T.RPAREN, T.COMMA):
                self.facts |= TIME_FN
        elif name in ERROR_FUNCTIONS or leaf in ("xp_cmdshell", "sp_executesql", "xp_dirtree"):
            if arg is not None and arg.kind != T.RPAREN:
                self.facts |= ERROR_FN
        elif name in INFO_FUNCTIONS:
            self.facts |= INFO_FN
        if leaf in STRING_FUNCTIONS:
            self.facts |= STRING_FN
        if leaf in _TEXT_MEASURES:
            self.facts |= TEXT_MEASURE
        if leaf in ("cast", "convert"):
            self.facts |= CAST
        if leaf in ("if", "iif", "elt", "make_set", "decode", "choose", "field"):
            conditional = True
        else:
            conditional = False
        if name in SYSTEM_OBJECTS or _qualified_system(name):
            self.facts |= SYSTEM_OBJECT
        before = self.facts
        known = (name in TIME_FUNCTIONS or name in ERROR_FUNCTIONS or name in INFO_FUNCTIONS
                 or leaf in STRING_FUNCTIONS or leaf in ERROR_FUNCTIONS_WITH_SUBQUERY or conditional)
        r = self._paren(call=True)
        gained = self.facts & ~before
        if conditional and (gained & CONST_COMPARE or gained & COMPARE and gained & HEX):
            self.facts |= CONDITIONAL  # if(1=1,...), elt(5=5,...), make_set(3=7,...): boolean probing
        if leaf in ERROR_FUNCTIONS_WITH_SUBQUERY and r is not None and r & SUBQ:
            self.facts |= ERROR_FN  # exp(~(select ...)), polygon((select ...))
            self.functions.append(leaf)
        flags = CALLED | (KNOWN_CALL if known else 0)
        if known and r is not None and r & CONST and not r & (NAMEISH | SUBQ) and not self.facts & ~before & (TIME_FN | ERROR_FN):
            flags |= CONST  # md5('a'), char(65), ascii('x'): a constant the query computes
        return flags | (r & SUBQ) if r is not None else flags

    def _paren(self, call: bool = False, in_list: bool = False) -> int | None:
        """( expr-list ) or ( subquery ); an unclosed group at the end is accepted."""
        assert self._is(T.LPAREN)
        self.p += 1
        self._descend()
        try:
            result = 0
            if self._is(T.RPAREN):
                self.p += 1
                return CONST if call else None if not in_list else CONST
            w = self._word()
            if w in ("select", "with", "values", "table") and self._peek().kind in (T.STATEMENT, T.KEYWORD):
                if not self._select_like():
                    return None
                self.facts |= SUBQUERY
                result = SUBQ
            else:
                if call:
                    self._accept_word("distinct", "all")
                first = True
                while True:
                    self._tick()
                    if self.p >= self.n:
                        self.facts |= UNCLOSED_GROUP
                        return result or CONST
                    if call and self._is(T.OPERATOR, "*"):
                        self.p += 1
                        r = CONST
                    else:
                        r = self._expr(0)
                    if r is None:
                        if first and self._is(T.RPAREN):
                            break
                        return None
                    result = r if first else (result & r & CONST) | ((result | r) & (CALLED | SUBQ | NAMEISH | KNOWN_CALL))
                    first = False
                    # In-call keyword separators: CAST(x AS t), CONVERT(x USING u),
                    # SUBSTRING(x FROM 1 FOR 2), GROUP_CONCAT(x SEPARATOR ','), OVERLAY(x PLACING y FROM 1).
                    while call and self._word() in ("as", "using", "from", "for", "separator", "placing",
                                                    "in", "order", "by", "asc", "desc", "then"):
                        kw = self._word()
                        self.p += 1
                        if kw in ("as", "using"):
                            self.facts |= CAST
                            if self._alias_name():
                                self._accept_word("precision")
                                if self._is(T.LPAREN):
                                    self._skip_group()
                            continue
                        if kw in ("asc", "desc", "by"):
                            continue
                        if self._expr(0) is None and kw not in ("order",):
                            return None
                    if self._is(T.COMMA):
                        self.p += 1
                        continue
                    break
            if self.p >= self.n:
                self.facts |= UNCLOSED_GROUP
                return result or CONST  # unclosed: the application's text closes it
            if self._is(T.RPAREN):
                self.p += 1
                return result
            return None
        finally:
            self.depth -= 1

    def _skip_group(self, opening: str = T.LPAREN, closing: str = T.RPAREN) -> None:
        """Skip a balanced (...) or [...] group starting at the current token."""
        depth = 0
        while self.p < self.n:
            self._tick()
            k = self.toks[self.p].kind
            self.p += 1
            if k == opening:
                depth += 1
            elif k == closing:
                depth -= 1
                if depth <= 0:
                    return

    @_nested
    def _case(self) -> int | None:
        """CASE ... END read loosely: the words and expressions in between."""
        self.p += 1
        if self.p >= self.n:
            return CALLED | CONST  # "... select (case" cut off at the end of the value
        if self._word() != "when":
            if self._expr(0) is None:
                return None
        if self._word() != "when":
            return None
        self.facts |= CASE
        while self.p < self.n:
            self._tick()
            w = self._word()
            if w == "end":
                self.p += 1
                return CALLED | CONST
            if w in ("when", "then", "else"):
                self.p += 1
                if self._expr(0) is None:
                    return None
                continue
            return None
        return CALLED | CONST

    @_nested
    def _odbc(self) -> int | None:
        """{fn ...}, {d '...'}, MySQL {if ...} / {x expr}: the body is an expression."""
        self.p += 1
        self.facts |= ODBC
        w = self._word()
        if w is not None and self._peek(1) is not None and self._peek(1).kind != T.LPAREN:
            self.p += 1
        r = self._expr(0)
        if r is None:
            return None
        if self._is(T.RBRACE):
            self.p += 1
        return r

    # ------------------------------------------------------------ statements

    @_nested
    def _statement(self, top: bool) -> bool:
        """A statement after ';' (or a whole value). True if it looked like SQL."""
        t = self._peek()
        if t is None:
            return False
        w = t.text
        if t.kind not in (T.STATEMENT, T.KEYWORD, T.NAME, T.LPAREN):
            return False
        nxt = self._peek(1)
        if w == "print" and nxt is not None and nxt.kind == T.VARIABLE and nxt.text.startswith("@@"):
            # T-SQL PRINT @@version: the server describes itself in the response
            self.p += 2
            self.facts |= INFO_FN
            return True
        if w == "print" and not top and nxt is not None and nxt.kind in (T.STRING, T.VARIABLE) and (
                self.p + 2 >= self.n or self.toks[self.p + 2].kind == T.SEMICOLON) and self.p >= 2 \
                and self.toks[self.p - 2].kind in (T.STRING, T.NUMBER):  # after a literal, not "Remember;"
            self.p += 2  # "';print 'x'", "; print @v;": a whole T-SQL statement after the break-out's ";"
            return True  # ("; print 'yes' on the form" goes on as prose)
        if nxt is not None and nxt.kind == T.LPAREN and t.kind != T.LPAREN and (
                w in TIME_FUNCTIONS or w in ERROR_FUNCTIONS or w in INFO_FUNCTIONS or w in ("iif", "if", "elt")):
            # An expression statement: ";iif(1=1,1,1/0)", ";sleep(5)", ";if(...)"
            if self._expr(0) is None:
                return False
            self.facts |= EXPR_STMT
            return True
        if w in ("select", "with", "values", "table") or t.kind == T.LPAREN:
            if t.kind == T.LPAREN:
                if not (self._word(1) in ("select", "with")):
                    return False
                return self._paren() is not None
            before = self.facts
            self._select_constants = True
            if not self._select_like():
                return False
            # "; select the best one" is prose: a stacked SELECT queries something or selects constants.
            if bool(self.facts & ~before & SELECT_QUERY) or self._select_constants or w != "select":
                return True
            self._weak_select = True  # a SELECT of names: SQL right after a quote's break-out, prose after a sentence
            return False
        objects = STATEMENT_OBJECTS.get(w)
        nxt = self._peek(1)
        if objects is not None:
            if nxt is None:
                return not top and w in ("shutdown",)
            nw = nxt.text if nxt.kind in _WORD_KINDS else None
            if w == "drop" and nxt.kind == T.NAME and self.p + 2 == self.n - 1 and self._is(T.SEMICOLON, None, 2) \
                    and self.trailing_comment:
                self.p += 3  # "DROP sampletable;--": the object type left out, the statement ended and the rest cut
                return True
            if w == "waitfor":
                if nw in ("delay", "time"):
                    arg = self._peek(2)
                    if arg is None or arg.kind not in _DELAY_ARGUMENTS:
                        return False  # "please waitfor delay time": T-SQL waits for a '0:0:5' literal or an @variable
                    self.p += 2
                    if self._expr(0) is None:
                        return False
                    self.facts |= TIME_FN
                    self.functions.append("waitfor")
                    return True
                return False
            if (nw not in objects or w in ("grant", "revoke")) and not self._statement_shape(w, top):
                return False
            if w == "shutdown" and nw not in ("with", "nowait"):
                return False
            if w == "drop" and self._prose_tail(self.p + 2):
                return False  # "drop table reservations by noon"
            named = self._peek(2)
            if w in ("drop", "create", "alter", "rename", "truncate") and named is not None and (
                    named.kind == T.KEYWORD and named.text in _CLAUSE_STARTS or named.kind in (T.LOGIC, T.SETOP)):
                return False  # "Prevent CREATE SCHEMA from defeating changes": FROM names no object
            if w in ("drop", "create", "alter", "truncate", "rename") and self._is(T.NUMBER, None, 2):
                return False  # "drop table 5 from the reservation": an object is named, not numbered
            if w == "delete" and not self._delete_shape():
                return False
            if w in ("insert", "replace") and not self._insert_shape():
                return False
            self.p += 2
            self._loose_statement()
            return True
        if t.kind == T.STATEMENT:
            if w in ("exec", "execute", "call"):
                if nxt is None or nxt.kind not in (T.NAME, T.VARIABLE, T.LPAREN, T.STATEMENT, T.KEYWORD):
                    return False
                name = nxt.text
                system_proc = name.rsplit(".", 1)[-1].startswith(("xp_", "sp_")) or name.startswith("master.")
                called = self._is(T.LPAREN, None, 2) and (name in TIME_FUNCTIONS or name in ERROR_FUNCTIONS
                                                          or name in STRING_FUNCTIONS or "." in name)
                if not (system_proc or nxt.kind == T.VARIABLE or name == "immediate" or called or (
                        nxt.kind == T.LPAREN and self._peek(2) is not None and self._peek(2).kind in (T.VARIABLE, T.STRING))):
                    return False  # "exec summary", "call me later": words, not a procedure call
                if system_proc:
                    self.facts |= ERROR_FN
                    self.functions.append(name.rsplit(".", 1)[-1])
                self.p += 2
                self._loose_statement()
                return True
            if w == "declare":
                if nxt is None or nxt.kind != T.VARIABLE:
                    return False
                self.p += 2
                self._loose_statement()
                return True
            if w == "set":
                if nxt is None or nxt.kind not in ((T.VARIABLE,) if top else (T.VARIABLE, T.NAME)):
                    return False  # a whole value "Set ABI to 1", "Set x = 5" is English; "SET @x=" or "; set x=" is SQL
                self.p += 2
                if not (self._is(T.OPERATOR, "=") or self._is(T.OPERATOR, ":=") or self._word() in ("to",)):
                    return False
                self.p += 1
                return self._expr(0) is not None
            if w == "update":
                if nxt is None or nxt.kind != T.NAME or self._word(2) != "set" or not (
                        self._peek(3) is not None and self._peek(4) is not None and self._peek(4).text in ("=", ":=")):
                    return False
                self.p += 3
                self._loose_statement()
                return True
            if w == "if":
                if not top and not self._is(T.LPAREN, None, 1):
                    return False  # "; if you reply yes": T-SQL IF conditions in injections are parenthesised
                self.p += 1
                if self._expr(0) is None:
                    self.p -= 1
                    return False
                self.facts |= EXPR_STMT
                self._accept_word("then")
                if self.p < self.n and self._peek().kind in (T.STATEMENT,):
                    self._statement(top=False)
                elif self._is(T.LPAREN, None, 1) and self._peek().kind in _WORD_KINDS:
                    self._expr(0)  # IF (...) BENCHMARK(...): T-SQL runs the call as the statement
                return True
            if w == "begin":
                # "begin dbms_lock.sleep(5); end": a block that runs something, not "; begin with ..."
                if nxt is None or not (nxt.kind == T.STATEMENT or "." in nxt.text or self._is(T.LPAREN, None, 2)):
                    return False
                self.p += 1
                before = self.facts
                self._loose_statement()
                return not top and bool(self.facts & ~before & (TIME_FN | ERROR_FN) or nxt.kind == T.STATEMENT)
            if w in ("shutdown",):
                self.p += 1
                return True
            if (self._command_shape(w) if not top else self._backup_shape(w)):
                self.p += 1
                self._loose_statement()
                return True
        return False

    # The word that must follow a command for it to be SQL rather than English after a ";".
    _COMMAND_NEXT = {
        "prepare": ("from",), "deallocate": ("prepare",), "handler": ("open", "read", "close"),
        "attach": ("database",), "lock": ("tables", "table"), "kill": ("query", "connection"),
        "backup": ("database", "log"), "restore": ("database", "log"), "merge": ("into",),
        "upsert": ("into",), "explain": ("select", "analyze", "update", "delete", "insert"),
        "show": ("databases", "tables", "columns", "grants", "variables", "processlist", "create",
                 "schemas", "status", "users"),
    }

    def _backup_shape(self, w: str) -> bool:
        """BACKUP DATABASE master TO DISK='//host/share/x' (the data written elsewhere), as a whole value:
        the device and its quoted path, not "backup database daily to the cloud"."""
        return w in ("backup", "restore") and self._word(1) in ("database", "log") \
            and self._word(3) in ("to", "from") and self._is(T.OPERATOR, "=", 5) and self._is(T.STRING, None, 6)

    def _command_shape(self, w: str) -> bool:
        nxt = self._peek(1)
        if w in self._COMMAND_NEXT:
            if w == "prepare":
                return self._word(2) == "from"
            if w == "kill" and nxt is not None and nxt.kind == T.NUMBER:
                return True
            return nxt is not None and nxt.text in self._COMMAND_NEXT[w]
        if w in ("use", "describe", "vacuum", "commit", "rollback", "pragma", "analyze"):
            # a bare command or one name, then the end: "; use master --", "; commit"
            end = self.p + (1 if w in ("vacuum", "commit", "rollback") else 2)
            return end >= self.n or self.toks[end].kind == T.SEMICOLON or (
                w == "pragma" and self.toks[end].text in ("=", "("))
        if w == "dbcc":
            return nxt is not None and self._is(T.LPAREN, None, 2)
        return False

    def _prose_tail(self, j: int) -> bool:
        """Three plain names in a row before any SQL punctuation: "drop function based directive"."""
        words = 0
        while j < self.n and j < self.p + 40:
            t = self.toks[j]
            if t.kind == T.NAME and not t.flags & T.F_QUOTED_NAME and "." not in t.text:
                words += 1
                if words > 2:
                    return True
            elif t.kind not in _WORD_KINDS:
                return False
            j += 1
        return False

    def _delete_shape(self) -> bool:
        """DELETE FROM t [WHERE ...|LIMIT|;|end]."""
        if self._word(1) not in ("from", "low_priority", "quick", "ignore"):
            return False
        j = self.p + 2
        while j < self.n and self.toks[j].text in ("low_priority", "quick", "ignore", "from"):
            j += 1
        if j >= self.n or self.toks[j].kind not in (T.NAME, T.KEYWORD):
            return False
        j += 1
        return j >= self.n or self.toks[j].kind == T.SEMICOLON or self.toks[j].text in ("where", "limit", "using", "as")

    def _insert_shape(self) -> bool:
        """INSERT INTO t (...) VALUES / SELECT / SET."""
        j = self.p + 1
        while j < self.n and self.toks[j].text in ("into", "ignore", "low_priority", "delayed", "high_priority",
                                                     "overwrite", "table") and j + 1 < self.n \
                and self.toks[j + 1].kind in _WORD_KINDS:
            j += 1
        if j >= self.n or self.toks[j].kind not in _WORD_KINDS:
            return False
        j += 1
        if j < self.n and self.toks[j].kind == T.LPAREN:
            return True
        return j >= self.n or self.toks[j].text in ("values", "value", "select", "set", "default")

    def _statement_shape(self, w: str, top: bool = True) -> bool:
        """GRANT x TO y / GRANT x ON y, COPY t FROM 'file' / COPY t TO ...: the words after the object."""
        if w in ("grant", "revoke"):
            # GRANT <privileges> TO/ON ...: every word before TO/ON is a privilege
            privileges = STATEMENT_OBJECTS[w]
            for k in range(1, 8):
                word = self._word(k)
                if word in ("to", "on", "from"):
                    return k > 1
                t = self._peek(k)
                if t is None or (word not in privileges and t.kind != T.COMMA):
                    return False
            return False
        if w == "copy":
            j = self.p + 2
            if self._is(T.LPAREN, None, 1):  # COPY (SELECT ...) TO PROGRAM '...': the query's output, anywhere
                if self._word(2) not in ("select", "with", "values", "table"):
                    return False
                depth, j = 0, self.p + 1
                while j < self.n and j < self.p + 200:
                    k = self.toks[j].kind
                    depth += 1 if k == T.LPAREN else -1 if k == T.RPAREN else 0
                    j += 1
                    if depth == 0:
                        break
                if depth:
                    return False
            # COPY t TO|FROM 'file' | STDIN | STDOUT | PROGRAM 'cmd': "copy websites to your computer" is prose.
            # After a query and ";" payload lists also write the file unquoted ("select ...; copy t to /tmp/x").
            if not (j + 1 < self.n and self.toks[j].kind in _WORD_KINDS and self.toks[j].text in ("from", "to")):
                return False
            target = self.toks[j + 1]
            return target.kind == T.STRING or target.text in ("stdin", "stdout", "program") or (
                not top and self.facts & SELECT_QUERY and target.kind == T.OPERATOR and target.text == "/")
        return False

    def _loose_statement(self) -> None:
        """Skip the rest of a statement we do not model, up to ';' or the end."""
        depth = 0
        while self.p < self.n:
            self._tick()
            t = self.toks[self.p]
            if t.kind == T.SEMICOLON and depth <= 0:
                return
            if t.kind == T.LPAREN:
                depth += 1
            elif t.kind == T.RPAREN:
                depth -= 1
                if depth < 0:
                    return
            elif t.kind in _WORD_KINDS:
                w = t.text
                if w in SYSTEM_OBJECTS or _qualified_system(w):
                    self.facts |= SYSTEM_OBJECT
                if w in TIME_FUNCTIONS or w in ERROR_FUNCTIONS or w.endswith(".sleep"):
                    nxt = self._peek(1)
                    if nxt is not None and nxt.kind == T.LPAREN:
                        self.facts |= TIME_FN if w in TIME_FUNCTIONS or w.endswith(".sleep") else ERROR_FN
                        self.functions.append(w)
            self.p += 1

    def _select_like(self, set_operand: bool = False) -> bool:
        """SELECT ... / VALUES (...) / WITH ... SELECT, with its clauses.

        `set_operand`: the SELECT follows UNION/INTERSECT/...; its clauses stop at
        the next set operator, which the caller's loop reads (chains stay flat).
        """
        self._descend()
        self.selects_open += 1
        try:
            return self._select_like_nested(set_operand)
        finally:
            self.depth -= 1
            self.selects_open -= 1

    def _select_like_nested(self, set_operand: bool) -> bool:
        w = self._word()
        if w == "with":
            self.p += 1
            self._accept_word("recursive")
            while self._word() is not None and self._word(1) == "as":
                self.p += 2
                if not self._is(T.LPAREN) or self._paren() is None:
                    return False
                if not self._is(T.COMMA):
                    break
                self.p += 1
            w = self._word()
        if w == "values":
            self.p += 1
            while self._is(T.LPAREN):
                if self._paren() is None:
                    return False
                if not self._is(T.COMMA):
                    break
                self.p += 1
            return True
        if w == "table":
            self.p += 1
            return self._alias_name()
        if w != "select":
            return False
        self.p += 1
        while self._word() in _SELECT_MODIFIERS:
            self.p += 1
        if self._accept_word("top"):
            if self._expr(9) is None:
                return False
            self._accept_word("percent")
        for _ in range(3):  # row limits before the list: Firebird/Informix FIRST 1 SKIP 0, HSQLDB LIMIT 0 1
            if self._word() not in ("first", "skip", "limit") or not self._is(T.NUMBER, k=1):
                break
            self.p += 3 if self._word() == "limit" and self._is(T.NUMBER, k=2) else 2
        while self._word() in _SELECT_MODIFIERS:
            self.p += 1
        # select list
        n_items = 0
        before = self.facts
        star = False
        list_start = self.p
        while True:
            self._tick()
            if self._is(T.OPERATOR, "*"):
                self.p += 1
                star = True
            else:
                r = self._expr(0)
                if r is None:
                    if n_items == 0 and self.p >= self.n:
                        self._select_constants = False
                        return True  # "select" at the very end: truncated
                    if n_items == 0:
                        return False
                    break
                if r & NAMEISH or not r & (CONST | NULLISH | CALLED):
                    self._select_constants = False
                if self._accept_word("as"):
                    if not self._alias_name():
                        return False
                elif self._is(T.NAME) or (self._is(T.STRING) and not self._peek().flags & T.F_UNTERMINATED):
                    self.p += 1  # alias without AS
            n_items += 1
            if self._is(T.COMMA):
                self.p += 1
                continue
            break
        list_facts = self.facts
        has_from = self._word() == "from"
        clause_start = self.p
        self._clauses(in_select=True, stop_at_set_operator=set_operand)
        # A SELECT that queries something, not "Select one" / "select all from the list":
        # it calls functions, reads catalogues or variables, or selects * / with clauses from a source.
        if (list_facts & ~before & (CALL | SUBQUERY | INFO_FN | SYSTEM_OBJECT | CASE | HEX)) or (
                has_from and (star or self.facts & ~before & (SYSTEM_OBJECT | CALL | SUBQUERY)
                              or self.facts & (INLINE_COMMENT | VERSIONED))  # SELECT/**/x/**/FROM/**/t
                or self._clause_count(clause_start) > 1):
            self.facts |= SELECT_QUERY
        return True

    def _clause_count(self, start: int) -> int:
        """Distinct clause keywords between start and the current token."""
        seen = {t.text for t in self.toks[start:self.p]
                if t.kind == T.KEYWORD and t.text in ("from", "where", "group", "order", "having", "limit", "into")}
        return len(seen)

    def _clauses(self, in_select: bool = False, stop_at_set_operator: bool = False) -> bool:
        """FROM / WHERE / GROUP BY / HAVING / ORDER BY / LIMIT / INTO / PROCEDURE / UNION ..."""
        any_clause = False
        while self.p < self.n:
            self._tick()
            w = self._word()
            if w is None:
                break
            save = self.p
            if w == "from":
                self.p += 1
                if not self._table_refs():
                    self.p = save
                    break
                if not in_select and (self.facts & CLOSE_PAREN and self.facts & ALIAS or self.facts & AS_ALIAS):
                    self.facts |= CLAUSE  # ") AS x FROM ...": a select list the value completes
            elif w == "where":
                self.p += 1
                before = self.facts
                if self._expr(0) is None:
                    self.p = save
                    break
                if not in_select and self.facts & ~before & (COMPARE | LOGIC | CALL | SUBQUERY) or (
                        not in_select and self._last_compare_const):
                    self.facts |= WHERE  # "where 1=1", not "that's where it"
            elif w in ("group", "order") and self._word(1) == "by":
                self.p += 2
                if not self._expr_list(order=True):
                    self.p = save
                    break
                if w == "group" and self._accept_word("with"):
                    self._accept_word("rollup", "cube")
                if not in_select:
                    self.facts |= CLAUSE
            elif w == "having":
                self.p += 1
                if self._expr(0) is None:
                    self.p = save
                    break
                if not in_select:
                    self.facts |= CLAUSE
            elif w in ("limit", "offset", "fetch"):
                self.p += 1
                if w == "fetch":
                    self._accept_word("first", "next")
                if self.p >= self.n:
                    break  # "... limit" cut off at the end of the value
                arg = self._peek()
                if arg.kind not in (T.NUMBER, T.VARIABLE, T.LPAREN, T.OPERATOR) and arg.text != "all" \
                        or arg.kind == T.OPERATOR and arg.text not in ("?", "-", "+", "~"):
                    self.p = save  # LIMIT takes a number, a placeholder, a variable or a group; "limit handling" is English
                    break
                if self._expr(0) is None:
                    self.p = save
                    break
                if self._is(T.COMMA) or self._word() == "offset":
                    self.p += 1
                    self._expr(0)
                self._accept_word("rows", "row")
                self._accept_word("only")
                if not in_select:
                    self.facts |= CLAUSE
            elif w == "procedure":
                self.p += 1
                t = self._peek()
                if t is None or t.kind not in _WORD_KINDS:
                    self.p = save
                    break
                if t.text not in ("analyse", "analyze"):
                    self.p = save  # "the procedure of registering ..."
                    break
                self.p += 1
                if self._is(T.LPAREN):
                    self._paren(call=True)
                self.facts |= CLAUSE | ERROR_FN
                self.functions.append("procedure " + t.text)
            elif w == "into":
                self.p += 1
                if self._accept_word("outfile", "dumpfile"):
                    if not self._is(T.STRING):
                        self.p = save
                        break
                    self.p += 1
                    self.facts |= ERROR_FN | CLAUSE
                    self.functions.append("into outfile")
                elif self._is(T.VARIABLE) or self._is(T.NAME):
                    self.p += 1
                    while self._is(T.COMMA) and self._peek(1) is not None and self._peek(1).kind in (T.VARIABLE, T.NAME):
                        self.p += 2
                else:
                    self.p = save
                    break
            elif w == "for":
                self.p += 1
                if not self._accept_word("update", "share", "xml", "json", "browse"):
                    self.p = save
                    break
                self._accept_word("nowait", "raw", "auto", "path")
            elif w in ("union", "intersect", "except", "minus"):
                if stop_at_set_operator or not self._set_operation():
                    break
            elif w == "lock" and self._word(1) == "in":
                self.p += 2
                while self._word() in ("share", "mode"):
                    self.p += 1
            else:
                break
            any_clause = True
        return any_clause

    def _set_operation(self) -> bool:
        """UNION [ALL] SELECT ... up to the next set operator or clause, which the caller's loop reads."""
        self.p += 1
        self._accept_word("all", "distinct", "distinctrow")
        if self._is(T.LPAREN) and self._word(1) in ("select", "values"):
            if self._paren() is None:
                return False
            self.facts |= UNION
            return True
        w = self._word()
        if w in ("select", "values", "table", "with"):
            if w == "select":
                self.facts |= UNION  # "union select" is never prose, whatever follows
            if not self._select_like(set_operand=True):
                return False
            self.facts |= UNION
            return True
        return False

    def _table_refs(self) -> bool:
        n = 0
        while True:
            self._tick()
            t = self._peek()
            if t is None:
                return n > 0 or True  # "from" at the end: truncated, still a clause
            if t.kind == T.LPAREN:
                if self._paren() is None:
                    return False
            elif t.kind in (T.NAME, T.KEYWORD, T.TYPE, T.LITERAL, T.STATEMENT, T.VARIABLE) and t.text not in _CLAUSE_STARTS:
                self.p += 1
                w = t.text
                if w in SYSTEM_OBJECTS or _qualified_system(w) or w == "dual":
                    self.facts |= SYSTEM_OBJECT
                if self._is(T.LPAREN):  # table function: generate_series(...), unnest(...)
                    self.p -= 1
                    self.p += 1
                    self._call(t)
            else:
                return n > 0
            n += 1
            # alias
            if self._accept_word("as"):
                self._alias_name()
            elif self._is(T.NAME) or (self._is(T.STRING) and not self._peek().flags & T.F_UNTERMINATED):
                self.p += 1
            if self._is(T.LPAREN) and n:  # alias column list: s(token)
                self._skip_group()
            if self._is(T.COMMA):
                self.p += 1
                continue
            if self._word() in _JOIN_WORDS:
                while self._word() in _JOIN_WORDS:
                    self.p += 1
                if self._accept_word("on"):
                    pass
                continue
            if self._accept_word("on"):
                if self._expr(0) is None:
                    return False
                if self._word() in _JOIN_WORDS:
                    while self._word() in _JOIN_WORDS:
                        self.p += 1
                    continue
            if self._accept_word("using"):
                if self._is(T.LPAREN):
                    self._skip_group()
            return True

    def _expr_list(self, order: bool = False) -> bool:
        while True:
            if self._expr(0) is None:
                return False
            if order:
                self._accept_word("asc", "desc")
            if self._is(T.COMMA):
                self.p += 1
                continue
            return True


_WORD_KINDS = frozenset({T.NAME, T.KEYWORD, T.STATEMENT, T.LITERAL, T.TYPE, T.OPERATOR, T.LOGIC, T.SETOP, T.NOT})
# Keywords that name things often enough to be read as names in expressions.
_NAME_LIKE_KEYWORDS = frozenset({"user", "database", "schema", "password", "key", "row", "rows",
                                 "time", "tables", "columns", "index", "view", "trigger", "function",
                                 "echo", "delay", "left", "right", "full", "character", "charset",
                                 "top", "outfile", "returns", "return", "each", "unique", "primary",
                                 "cascade", "partition", "window", "lateral", "references", "natural",
                                 "cross", "inner", "outer", "identified", "replicate", "rollup",
                                 "cube", "desc", "asc", "cast", "convert"})


def _notable_function(name: str) -> bool:
    return name in TIME_FUNCTIONS or name in ERROR_FUNCTIONS or name in INFO_FUNCTIONS or name in (
        "if", "iif", "elt", "char", "chr", "concat", "ascii", "substring", "substr", "mid")


def _qualified_system(name: str) -> bool:
    """information_schema.tables, master..sysdatabases, sys.objects, mysql.user ..."""
    if "." not in name:
        return False
    parts = [p for p in name.split(".") if p]
    if len(parts) < 2:
        return False
    if ".".join(parts[-2:]) in SYSTEM_OBJECTS or parts[-1] in SYSTEM_OBJECTS:
        return True
    # A schema that is also a word or a directory ("sys", "mysql", "master", "dbo") qualifies a system
    # object only; the others (information_schema, pg_catalog ...) qualify anything they hold.
    # "kernel/sys.c", "mysql.h", "master.zip" are files.
    return any(p in SYSTEM_OBJECTS or p in SYSTEM_SCHEMAS and p not in _WORD_SCHEMAS for p in parts[:-1])
