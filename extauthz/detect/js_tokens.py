"""JsTokenizer and a shallow reader of what a JavaScript fragment does.

Used by the XSS detector for code that reaches a JavaScript context: a value
that closes a JS string (`';alert(1)//`), a `javascript:` URL body, an event
handler, a `{{ }}` template expression. The reader answers two questions:

- does the fragment call or reach something that executes or leaks
  (alert/eval/Function/setTimeout, document.cookie, location=, constructor
  chains, String.fromCharCode ...)? and
- is the token sequence up to that point plausible JavaScript? Two operands
  in a row without an operator ("it's alert(1)" after the quote: `s alert`)
  is not, which keeps prose out.

Identifiers are read with \\u escapes decoded (`\\u0061lert`), strings and
template literals whole; comments (`//`, `/* */`, `<!--`) are kept as tokens
so a trailing `//` can end a break-out. Bounded by a token cap.
"""
from __future__ import annotations

from typing import NamedTuple

from extauthz.rules import rule_words

MAX_TOKENS = 512

IDENT = "i"
NUMBER = "1"
STRING = "s"
TEMPLATE = "t"
REGEX = "r"  # /body/flags; text: the body
PUNCT = "p"
COMMENT = "c"
OTHER = "?"

SINKS = rule_words("xss.yaml", "js_sinks")
# Calls that execute code or pop up by themselves (the last name of the callee).
EXEC_CALLS = frozenset({"alert", "prompt", "confirm", "eval", "function", "settimeout", "setinterval",
                        "setimmediate", "execscript", "msgbox", "fromcharcode", "atob", "import",
                        "fetch", "write", "writeln", "open", "getscript", "globaleval", "importscripts",
                        "constructor", "createelement", "appendchild", "insertadjacenthtml", "sendbeacon",
                        "execcommand", "print", "defineproperty", "apply", "call", "assign", "replace",
                        "navigate", "activexobject", "navigateandfind"})
# Properties whose read or write leaks data or navigates.
DANGER_PROPS = frozenset({"cookie", "domain", "location", "innerhtml", "outerhtml", "src", "href",
                          "srcdoc", "constructor", "__proto__", "prototype", "opener", "localstorage",
                          "sessionstorage", "hash", "referrer", "action", "onerror", "onload",
                          "onclick", "textcontent", "body", "documentelement", "frames", "name"})
GLOBALS = frozenset({"window", "document", "top", "parent", "self", "this", "globalthis", "frames",
                     "location", "content", "opener", "navigator", "history", "localstorage"})
KEYWORDS_VALUE = frozenset({"this", "null", "true", "false", "undefined", "nan", "infinity", "super"})
FUNCTION_KEYWORD = "function:keyword"
KEYWORDS_PREFIX = frozenset({"typeof", "void", "new", "delete", "return", "throw", "case", "in",
                             "instanceof", "of", "else", "do", "yield", "await", "var", "let",
                             "const", FUNCTION_KEYWORD, "if", "for", "while", "switch", "catch", "try",
                             "finally", "with", "class", "extends", "async", "default", "break",
                             "continue", "export", "import"})

_IDENT_START = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_$")
_IDENT_PART = _IDENT_START | frozenset("0123456789")
_DIGITS = frozenset("0123456789")
_PUNCT_4 = (">>>=",)
_PUNCT_3 = ("===", "!==", "**=", "<<=", ">>=", ">>>", "...", "&&=", "||=", "??=")
_PUNCT_2 = ("=>", "==", "!=", "<=", ">=", "&&", "||", "??", "?.", "++", "--", "+=", "-=", "*=",
            "/=", "%=", "&=", "|=", "^=", "**", "<<", ">>")


class JsToken(NamedTuple):
    kind: str
    text: str  # identifiers decoded and lower-cased; strings: content
    start: int
    end: int
    newline_before: bool


def _unicode_escape(s: str, i: int) -> tuple[str, int]:
    """Decode \\uXXXX or \\u{X..} at i; returns (char or '', next index)."""
    n = len(s)
    if i + 1 < n and s[i + 1] == "u":
        if i + 2 < n and s[i + 2] == "{":
            close = s.find("}", i + 3, i + 12)
            if close > 0:
                try:
                    return chr(int(s[i + 3:close], 16)), close + 1
                except ValueError:
                    return "", i + 1
        else:
            h = s[i + 2:i + 6]
            if len(h) == 4:
                try:
                    return chr(int(h, 16)), i + 6
                except ValueError:
                    pass
    return "", i + 1


# After these a "/" starts a regular expression literal, not a division.
_REGEX_AFTER_PUNCT = frozenset({"(", ",", "=", ":", "[", "!", "&", "|", "?", "{", "}", ";", "+", "-", "*",
                                "%", "~", "^", "&&", "||", "??", "==", "===", "!=", "!==", "+=", "-=",
                                "=>", "*=", "||=", "&&=", "??="})
_REGEX_AFTER_WORDS = frozenset({"return", "typeof", "case", "do", "else", "in", "instanceof", "new",
                                "delete", "void", "throw", "yield", "await", "of"})
MAX_REGEX = 256


def _regex_end(s: str, i: int) -> int:
    """End index (after the flags) of a regex literal starting at s[i] == "/", or -1.

    Bodies with "<" or ">" are not read as regexes: in markup-shaped text
    ("</script>") the slash belongs to a tag."""
    n = min(len(s), i + MAX_REGEX)
    j = i + 1
    in_class = False
    while j < n:
        d = s[j]
        if d in "\n\r\u2028\u2029<>":
            return -1
        if d == "\\":
            j += 2
            continue
        if d == "[":
            in_class = True
        elif d == "]":
            in_class = False
        elif d == "/" and not in_class:
            if j == i + 1:
                return -1
            j += 1
            while j < len(s) and s[j] in "dgimsuyv":
                j += 1
            return j
        j += 1
    return -1


def _regex_may_start(prev: JsToken | None) -> bool:
    if prev is None:
        return True
    if prev.kind == PUNCT:
        return prev.text in _REGEX_AFTER_PUNCT
    return prev.kind == IDENT and prev.text in _REGEX_AFTER_WORDS


def _line_end(s: str, i: int) -> int:
    """Index of the line terminator ending a // comment (\n, \r, U+2028, U+2029 all end one).

    The rarer terminators are looked for only before the first \n: a text without them is not
    searched to its end once per comment."""
    end = s.find("\n", i)
    if end < 0:
        end = len(s)
    for terminator in ("\r", "\u2028", "\u2029"):
        k = s.find(terminator, i, end)
        if k >= 0:
            end = k
    return end


_MULTI_PUNCT_START = frozenset(p[0] for p in _PUNCT_4 + _PUNCT_3 + _PUNCT_2)
_MULTI_PUNCT_SECOND = frozenset(p[1] for p in _PUNCT_4 + _PUNCT_3 + _PUNCT_2)


def _identifier(s: str, i: int) -> tuple[str, int]:
    """The identifier at s[i] with \\u escapes decoded and non-ASCII letters kept, and its end
    ('' when s[i] starts none)."""
    n = len(s)
    j = i
    chars: list[str] = []
    while j < n:
        d = s[j]
        if d in _IDENT_PART or (d > "\x7f" and d.isalnum()):
            chars.append(d)
            j += 1
        elif d == "\\":
            ch, k = _unicode_escape(s, j)
            if not ch:
                break
            chars.append(ch)
            j = k
        else:
            break
    return "".join(chars), j


def _string_end(s: str, i: int) -> int:
    """Index of the quote closing the string opened at s[i] (len(s) when unclosed); a backslash
    escapes the character after it. Searched with str.find, not character by character: prose
    read after an apostrophe is one long string."""
    quote = s[i]
    j = i + 1
    close = s.find(quote, j)
    while close >= 0:
        escape = s.find("\\", j, close)
        if escape < 0:
            return close
        j = escape + 2
        if j > close:  # the quote was escaped: the next one (each part of s is searched once)
            close = s.find(quote, j)
    return len(s)


# JsToken(...) without the NamedTuple's Python-level __new__: the tokenizer's hot loop makes one per token
_new = tuple.__new__


def tokenize_js(s: str, start: int = 0, limit: int = MAX_TOKENS, after: JsToken | None = None) -> list[JsToken]:
    """The tokens of s from `start`, at most `limit`.

    `after` continues a stream: the token that ended at `start`. The tokenizer's only state is
    its last token (regex or division after it, `-->` at a stream's start, a comment keeps the
    newline before it), so tokenize_js(s, t.end, k, t) for a token t of a stream gives exactly
    the tokens the stream would have read next."""
    out: list[JsToken] = []
    add = out.append
    n = len(s)
    i = start
    newline = after is not None and after.kind == COMMENT and after.newline_before
    while i < n and len(out) < limit:
        c = s[i]
        if c == " " or c in " \t\x0b\x0c\xa0\ufeff":
            i += 1
            continue
        if c in "\n\r\u2028\u2029":
            newline = True
            i += 1
            continue
        if c > "\x7f" and c.isspace():  # Unicode space separators (U+1680, U+2000..U+200A, U+3000)
            i += 1
            continue
        if c in _IDENT_START or c == "\\" or (c > "\x7f" and c.isalpha()):
            j = i
            while j < n and s[j] in _IDENT_PART:
                j += 1
            if j < n and (s[j] == "\\" or s[j] > "\x7f"):
                word, j = _identifier(s, i)  # escapes or non-ASCII letters: the careful reading
            else:
                word = s[i:j]
            if j == i:
                add(_new(JsToken, (OTHER, c, i, i + 1, newline)))
                i += 1
            else:
                # JavaScript is case-sensitive: "function (x)" declares a function, "Function(x)"
                # builds one from a string. The keyword gets its own text.
                text = FUNCTION_KEYWORD if word == "function" else word.lower()
                add(_new(JsToken, (IDENT, text, i, j, newline)))
                i = j
            newline = False
            continue
        if c in _DIGITS or (c == "." and i + 1 < n and s[i + 1] in _DIGITS):
            j = i + 1
            dot = c == "."
            while j < n:
                d = s[j]
                if d == ".":
                    if not dot and s[j + 1:j + 2] == ".":  # 8680439..toString(30): the number is "8680439."
                        j += 1
                        break
                    if dot or s[j + 1:j + 2] not in _DIGITS:
                        break  # "5.replace": the dot starts a member access
                    dot = True
                elif d not in _IDENT_PART:
                    break
                j += 1
            add(_new(JsToken, (NUMBER, s[i:j], i, j, newline)))
            i = j
            newline = False
            continue
        if c in "'\"`":
            j = _string_end(s, i)
            end = min(j + 1, n)
            add(_new(JsToken, (TEMPLATE if c == "`" else STRING, s[i + 1:j], i, end, newline)))
            i = end
            newline = False
            continue
        if c == "/" and s.startswith("/*@", i):
            # JScript conditional compilation: /*@cc_on @if(1) alert(1) @end @*/ runs in old IE.
            i += 8 if s[i + 3:i + 8].lower() == "cc_on" else 3
            continue
        if c == "@" and s.startswith("@*/", i):
            i += 3
            continue
        if c == "/" and i + 1 < n and s[i + 1] in "/*":
            if s[i + 1] == "/":
                j = _line_end(s, i)
            else:
                j = s.find("*/", i + 2)
                j = n if j < 0 else j + 2
            add(_new(JsToken, (COMMENT, s[i:i + 2], i, j, newline)))
            i = j
            continue
        if c == "/" and _regex_may_start(out[-1] if out else after):
            j = _regex_end(s, i)
            if j > 0:
                add(_new(JsToken, (REGEX, s[i + 1:s.rfind("/", i, j)], i, j, newline)))
                i = j
                newline = False
                continue
        if c == "<" and s.startswith("<!--", i) or (c == "-" and s.startswith("-->", i) and (
                newline or not out and after is None)):
            j = _line_end(s, i)
            add(_new(JsToken, (COMMENT, "<!--", i, j, newline)))
            i = j
            continue
        if c in _MULTI_PUNCT_START and s[i + 1:i + 2] in _MULTI_PUNCT_SECOND:
            for table in (_PUNCT_4, _PUNCT_3, _PUNCT_2):
                size = len(table[0])
                if s[i:i + size] in table:
                    add(_new(JsToken, (PUNCT, s[i:i + size], i, i + size, newline)))
                    i += size
                    break
            else:
                add(_new(JsToken, (PUNCT, c, i, i + 1, newline)))
                i += 1
        else:
            add(_new(JsToken, (PUNCT if c in "{}()[];,<>+-*/%&|^!~?:=.@#" else OTHER, c, i, i + 1, newline)))
            i += 1
        newline = False
    return out


class JsReading(NamedTuple):
    """What a JavaScript fragment reaches, and whether it reads as code up to there."""

    sink: str  # e.g. "alert()", "document.cookie", "location="; "" when none
    sink_index: int  # token index of the sink (-1 when none)
    valid_until: int  # index of the first token that cannot follow its predecessor (len when all fit)
    first: JsToken | None  # first code token


_OPERAND_END = frozenset({IDENT, NUMBER, STRING, TEMPLATE, REGEX})


def read_js(tokens: list[JsToken], start: int = 0) -> JsReading:
    """Scan tokens[start:] for sinks and for the first place the sequence stops being JS."""
    sink = ""
    sink_index = -1
    valid_until = len(tokens)
    prev: JsToken | None = None
    # Comments are blanks between code tokens ("document/**/.cookie"); indexes reported
    # refer to `tokens`.
    where = [k for k in range(start, len(tokens)) if tokens[k].kind != COMMENT]
    toks = [tokens[k] for k in where]
    n = len(toks)
    first = toks[0] if toks else None
    parens: list[bool] = []  # for each open "(": did if/while/for/with/catch/switch open it?
    control_close = False
    for i, t in enumerate(toks):
        if valid_until == len(tokens) and prev is not None and not _may_follow(prev, t, control_close) and not (
                t.text == "{" and i >= 2 and toks[i - 2].text in ("class", "extends")):  # class x extends y {
            valid_until = where[i]
        if t.kind == PUNCT and t.text == "(":
            parens.append(prev is not None and prev.kind == IDENT and prev.text in _CONTROL)
        control_close = t.kind == PUNCT and t.text == ")" and bool(parens) and parens.pop()
        if not sink and t.kind == IDENT and (t.text in _SINK_HEADS or i + 1 < n and (
                toks[i + 1].text in _SINK_FOLLOWERS or toks[i + 1].kind == TEMPLATE)):
            found = _sink_at(toks, i)
            if found:
                sink, sink_index = found, where[i]
        if not sink and t.kind == TEMPLATE and "${" in t.text:
            inner = read_js(tokenize_js(t.text.replace("${", "(", 1), 0, 128))
            tagged = prev is not None and (prev.kind == IDENT or prev.text in (")", "]"))
            if inner.sink and (inner.sink.endswith("()") or tagged):
                # `${alert(1)}`, or a tagged template handing over a runner: [].sort.call`${alert}1`
                sink, sink_index = "${" + inner.sink.rstrip("()") + "}()", where[i]
        prev = t
    return JsReading(sink, sink_index, valid_until, first)


_CONTROL = frozenset({"if", "while", "for", "with", "catch", "switch"})


def _may_follow(prev: JsToken, t: JsToken, control_close: bool = False) -> bool:
    """Can token t follow prev in JavaScript (ignoring automatic semicolons on new lines)?"""
    if t.newline_before:
        return True
    if (control_close or (prev.kind == PUNCT and prev.text == "}")) and t.kind in (IDENT, PUNCT, STRING, NUMBER):
        return True  # "if(x) alert(1)", "{...} alert(1)": a statement follows
    pk, tk = prev.kind, t.kind
    prev_operand = pk in _OPERAND_END and not (pk == IDENT and prev.text in KEYWORDS_PREFIX) or (
        pk == PUNCT and prev.text in (")", "]", "}"))
    if not prev_operand:
        return tk != OTHER
    if tk == PUNCT:
        return t.text != "{" or prev.text == ")" or prev.text == "=>"
    if tk == TEMPLATE:
        return True  # tagged template: alert`1`
    if tk == IDENT and (t.text in KEYWORDS_PREFIX and t.text in ("in", "instanceof", "of", "else", "catch",
                                                               "finally", "while", "extends")):
        return True
    return False


# _sink_at finds nothing at a name outside _SINK_HEADS that none of these follows (no member
# path, call or assignment starts there): read_js skips it, most names of text read as code.
_SINK_FOLLOWERS = frozenset({".", "?.", "[", "(", "=", "+="})


def _sink_at(toks: list[JsToken], i: int) -> str:
    """The sink named by the member path starting at toks[i], if any."""
    path = [toks[i].text]
    j = i + 1
    n = len(toks)
    if 0 < i and j < n and toks[i - 1].text == "(" and toks[j].text == ")" and toks[i].text in GLOBALS:
        j += 1  # (document)["cookie"]: a parenthesised head
    while j + 1 < n and len(path) < 8:
        t = toks[j]
        if t.kind == PUNCT and t.text in (".", "?.") and toks[j + 1].kind == IDENT:
            path.append(toks[j + 1].text)
            j += 2
        elif t.kind == PUNCT and t.text == "[":
            folded = fold_constant(toks, j + 1, "]")
            if folded is None:
                break
            path.append(folded[0].lower())  # top['al'+'ert'], top[/al/.source+/ert/.source], x['EvAL'.toLowerCase()]
            j = folded[2] + 1
        else:
            break
    nxt = toks[j] if j < n else None
    if i > 0 and toks[i - 1].kind == PUNCT and toks[i - 1].text in (".", "?."):
        # The middle of a path ("[].constructor.constructor(...)", "x.fromCharCode(...)"):
        # judged from its head, except for calls that reach code by themselves.
        if nxt is not None and (nxt.text == "(" or nxt.kind == TEMPLATE) and (
                "constructor" in path or path[-1] in ("fromcharcode", "eval", "settimeout", "setinterval")):
            return ".".join(path) + "()"
        return ""
    called = nxt is not None and (nxt.text == "(" or nxt.kind == TEMPLATE)
    assigned = nxt is not None and nxt.kind == PUNCT and nxt.text in ("=", "+=")
    leaf = path[-1]
    joined = ".".join(path)
    if called and path[0] in _CODE_RUNNERS and leaf in ("call", "apply", "bind"):
        return path[0] + "()"  # eval.call(this, ...), alert.apply(...)
    if not called and len(path) == 1 and leaf in _CODE_RUNNERS and i > 0 and toks[i - 1].text in ("=", ":", ",", "(") \
            and (nxt is None or nxt.text in (";", ",", "}", ")") or nxt.kind == NUMBER):
        return leaf  # handed over as a value: a=eval; {valueOf:alert}; onerror=eval; .replace(x,eval)
    if called and (leaf in EXEC_CALLS or joined in SINKS and leaf not in GLOBALS):
        if leaf in ("open", "write", "writeln", "print", "replace", "assign", "call", "apply", "navigate") \
                and len(path) == 1 and leaf not in ("print",):
            return ""  # a bare open()/write() is too common a name to mean anything
        return joined + "()"
    if len(path) > 1 and (leaf in DANGER_PROPS or path[-2] == "constructor") and (path[0] in GLOBALS or assigned
                                                                                   or leaf in ("cookie", "constructor", "domain")):
        return joined + ("=" if assigned else "")
    if assigned and leaf in ("location", "href", "src", "innerhtml", "outerhtml", "onerror", "onload", "srcdoc"):
        return joined + "="
    if path[0] in ("window", "self", "top", "parent", "this", "globalthis", "frames") and nxt is not None \
            and nxt.text == "[" and len(path) == 1:
        close = _matching(toks, j, "[", "]")
        if close > j + 2 and close + 1 < n and toks[close + 1].text == "(" and any(
                tk.text == "+" or tk.text == "[" for tk in toks[j + 1:close]):
            return path[0] + "[...]()"  # window["ale"+(!![]+[])[+!+[]]+...](1): a name assembled, then called
        return path[0] + "[]"
    if path[0] in GLOBALS and len(path) > 1 and called and i + 2 < n and toks[i + 1].text == "[":
        return path[0] + "[...]()"  # top['al\x65rt'](1): a global looked up by a computed name
    if leaf == "function" and not called and i > 0 and toks[i - 1].text == "extends":
        return "function()"  # class extends Function{}('alert(1)'): a subclass of the code runner
    return ""


def _matching(toks: list[JsToken], j: int, open_: str, close: str, limit: int = 128) -> int:
    """Index of the token closing the bracket at toks[j] (-1 when it is not closed nearby)."""
    depth = 0
    for k in range(j, min(len(toks), j + limit)):
        text = toks[k].text
        if toks[k].kind == PUNCT:
            if text == open_:
                depth += 1
            elif text == close:
                depth -= 1
                if depth == 0:
                    return k
    return -1


_CASE_METHODS = frozenset({"tolowercase", "touppercase", "tolocalelowercase", "tolocaleuppercase", "trim",
                           "tostring", "valueof"})
_DIGITS36 = "0123456789abcdefghijklmnopqrstuvwxyz"


def to_radix(number: int, radix: int) -> str:
    """Number.prototype.toString(radix) for non-negative integers."""
    if number == 0:
        return "0"
    out = []
    while number and len(out) < 64:
        number, d = divmod(number, radix)
        out.append(_DIGITS36[d])
    return "".join(reversed(out))


def _piece(toks: list[JsToken], j: int) -> tuple[str, int] | None:
    """One constant string piece at toks[j]: (text, index after it), with .source, .toString(radix) and
    case methods applied; None when toks[j] starts no constant."""
    n = len(toks)
    t = toks[j]
    if t.kind in (STRING, TEMPLATE) and not (t.kind == TEMPLATE and "${" in t.text):
        text, k = js_string_value(t.text), j + 1
    elif t.kind == REGEX and j + 2 < n and toks[j + 1].text == "." and toks[j + 2].text == "source":
        text, k = t.text, j + 3
    elif t.kind == NUMBER and j + 5 < n and toks[j + 1].text == "." and toks[j + 2].text == "tostring" \
            and toks[j + 3].text == "(" and toks[j + 4].kind == NUMBER and toks[j + 5].text == ")":
        try:
            number, radix = int(float(t.text.rstrip("."))), int(toks[j + 4].text)
        except ValueError:
            return None
        if not 2 <= radix <= 36 or number < 0 or number > 1 << 64:
            return None
        text, k = to_radix(number, radix), j + 6
    else:
        return None
    while k + 3 < n + 1 and k + 2 < n and toks[k].text == "." and toks[k + 1].text in _CASE_METHODS \
            and toks[k + 2].text == "(" and k + 3 < n and toks[k + 3].text == ")":
        k += 4
    return text, k


def fold_constant(toks: list[JsToken], j: int, stop: str) -> tuple[str, int, int] | None:
    """A constant string expression at toks[j:] ending at a token `stop` ("]", ")"):
    pieces joined by "+" ('al'+'ert', /al/.source+/ert/.source, 8680439..toString(30)).
    Returns (text, number of pieces, index of the stop token), or None."""
    parts: list[str] = []
    n = len(toks)
    while j < n and len(parts) < 32:
        got = _piece(toks, j)
        if got is None:
            return None
        parts.append(got[0])
        j = got[1]
        if j < n and toks[j].text == stop:
            return "".join(parts), len(parts), j
        if j >= n or toks[j].text != "+":
            return None
        j += 1
    return None


_CODE_RUNNERS = frozenset({"eval", "alert", "prompt", "confirm", "function", "settimeout", "setinterval",
                           "execscript"})
_SINK_HEADS = GLOBALS | _CODE_RUNNERS | frozenset(
    {"location", "href", "src", "innerhtml", "outerhtml", "onerror", "onload", "srcdoc", "function"})


def js_string_value(text: str) -> str:
    """A JS string literal's content with \\x, \\u and octal escapes decoded (bounded)."""
    if "\\" not in text:
        return text
    out: list[str] = []
    i, n = 0, min(len(text), 1024)
    while i < n:
        c = text[i]
        if c != "\\" or i + 1 >= n:
            out.append(c)
            i += 1
            continue
        d = text[i + 1]
        if d == "x" and i + 3 < n + 1:
            try:
                out.append(chr(int(text[i + 2:i + 4], 16)))
                i += 4
                continue
            except ValueError:
                pass
        if d == "u":
            ch, k = _unicode_escape(text, i)
            if ch:
                out.append(ch)
                i = k
                continue
        if d in "01234567":
            j = i + 1
            while j < n and j - i <= 3 and text[j] in "01234567":
                j += 1
            out.append(chr(int(text[i + 1:j], 8)))
            i = j
            continue
        out.append(d)
        i += 2
    return "".join(out)
