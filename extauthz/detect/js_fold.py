"""JsFolder: evaluate the constant part of a JavaScript fragment, to see what obfuscated code reaches.

Filter-evading XSS hides the names a reader looks for. It assembles them
('ev'+'al', /al/.source+/ert/.source, 8680439..toString(30), 0?'x':'al',
(!![]+[])[+!+[]]), hands a code runner over instead of calling it
(a=alert,a(1); onerror=eval; {toString:alert}; [1].find(alert)), or routes a
call through a computed lookup (1[a](b), (0,eval)(x)). js_tokens reads the
direct `alert(1)`; this module evaluates what can be known without running
anything: string, number and boolean constants, variables assigned from them,
references to the global functions that run code, and text an attacker
controls (location.hash, window.name). It reports each way a runner or a
dangerous name is reached indirectly (JsTrick).

Lenient by design, like a browser's automatic semicolons: a statement that
stops parsing ends where it stopped and the rest is read as a new statement.
Only complete constructs are reported, and only constructs that ordinary text
does not form (prose never reads as `x=alert;x(1)`). Bounded by a step budget
and a nesting depth; no recursion on input length.
"""
from __future__ import annotations

from typing import Any, NamedTuple

from extauthz.detect.js_tokens import (COMMENT, IDENT, NUMBER, OTHER, PUNCT, REGEX, STRING, TEMPLATE, JsToken,
                                       js_string_value, to_radix)
from extauthz.rules import rule_yaml

MAX_STEPS = 3000
MAX_DEPTH = 32

_DANGER = rule_yaml("xss.yaml")["assembled_names"]
DANGER_EXACT = frozenset(str(w).lower() for w in _DANGER["exact"])
DANGER_PREFIX = tuple(str(w).lower() for w in _DANGER["prefix"])
DANGER_CONTAINS = tuple(str(w).lower() for w in _DANGER["contains"])
# Global functions that run code or pop up when handed anything.
RUNNERS = frozenset({"alert", "prompt", "confirm", "eval", "settimeout", "setinterval", "execscript", "msgbox",
                     "function", "importscripts"})
_GLOBAL_NAMES = frozenset({"window", "self", "top", "parent", "globalthis", "frames", "this", "content", "opener"})
_SOURCE_PROPS = {"location": frozenset({"hash", "search", "href"}),
                 "document": frozenset({"referrer", "url", "documenturi", "baseuri", "cookie"}),
                 "global": frozenset({"name"})}
_LOCATION_SINKS = frozenset({"location", "href"})
# Properties the engine calls by itself: a runner put there runs on coercion or a check.
_HOOK_KEYS = frozenset({"tostring", "valueof", "hasinstance", "toprimitive", "tojson", "handleevent"})
# Functions that install a callback the browser calls later.
_HOOK_INSTALLERS = frozenset({"definesetter", "__definesetter__", "definegetter", "__definegetter__",
                              "defineproperty", "addeventlistener", "attachevent", "requestanimationframe",
                              "queuemicrotask", "settimeout", "setinterval", "setimmediate", "then"})
_HTML_SINKS = frozenset({"innerhtml", "outerhtml", "srcdoc"})
_STATEMENT_SKIP = frozenset({"var", "let", "const", "return", "throw", "else", "do", "try", "finally"})
_STATEMENT_STOP = frozenset({"function:keyword", "class", "for", "while", "switch", "with", "import", "export",
                             "break", "continue", "catch", "case", "default"})
_BINARY = {"??": 1, "||": 1, "&&": 2, "|": 3, "^": 4, "&": 5, "==": 6, "!=": 6, "===": 6, "!==": 6,
           "<": 7, ">": 7, "<=": 7, ">=": 7, "in": 7, "instanceof": 7, "<<": 8, ">>": 8, ">>>": 8,
           "+": 9, "-": 9, "*": 10, "/": 10, "%": 10, "**": 11}
_ASSIGN = frozenset({"=", "+=", "||=", "&&=", "??="})
# Words unary() or primary() gives a meaning (a value, an operator, a refusal); any other word not
# in the environment is an unknown name.
_MEANINGFUL_WORDS = _STATEMENT_STOP | _STATEMENT_SKIP | RUNNERS | _GLOBAL_NAMES | frozenset(
    {"if", "typeof", "void", "delete", "new", "await", "true", "false", "null", "undefined", "nan", "location",
     "document", "string", "parseint", "name"})
# Tokens that neither continue an expression after a name nor join it to another.
_NOT_CONTINUING = frozenset({IDENT, NUMBER, STRING, REGEX, OTHER})
_LITERALS = frozenset({STRING, NUMBER, REGEX, TEMPLATE})
_REFUSED_WORDS = _STATEMENT_STOP | _STATEMENT_SKIP | frozenset({"if"})  # primary() raises _Junk at these
_POSTFIX_PUNCT = frozenset({".", "?.", "[", "("})  # what may continue an operand (member, index, call)
_NOT_LONE = object()
# Punctuation an expression can start with (unary operators, groups, arrays, `.x` continuing the page's).
_EXPRESSION_PUNCT = frozenset({"(", "[", ".", "!", "~", "+", "-", "++", "--"})


class JsTrick(NamedTuple):
    """One indirect way the fragment reaches code: `how` (alias-call, computed-call, paren-call,
    lookup-call, handler, coercion, callback, assembled, source-navigation, source-html) and `what`."""

    how: str
    what: str
    start: int  # character offsets in the tokenized text
    end: int


class Ref(NamedTuple):
    """A global function that runs code; `via` says how it was reached (name, member, alias,
    computed, paren, lookup)."""

    name: str
    via: str


class Text(NamedTuple):
    text: str
    pieces: int  # literal pieces joined into it; 2 or more: assembled at run time


class Rx(NamedTuple):
    source: str


class Obj(NamedTuple):
    kind: str  # "global", "location", "document", "string"


class Method(NamedTuple):
    base: Any
    name: str


class _Source:
    """Text the attacker controls (location.hash, window.name, document.referrer)."""


SOURCE = _Source()
GLOBAL = Obj("global")


class _Junk(Exception):
    """The tokens stop being JavaScript here."""


class _Spent(Exception):
    """Step budget or depth reached."""


def fold_js(tokens: list[JsToken]) -> list[JsTrick]:
    """Evaluate `tokens` leniently and return the indirect ways they reach code."""
    folder = _Folder(tokens)
    try:
        folder.run()
    except _Spent:
        pass
    return folder.found


def truthy(v: Any) -> bool | None:
    if v is None or v is SOURCE or isinstance(v, Method):
        return None
    if isinstance(v, bool):
        return v
    if isinstance(v, float):
        return v != 0 and v == v
    if isinstance(v, Text):
        return bool(v.text)
    return True


def to_text(v: Any) -> str | None:
    """JavaScript's string conversion of a known value (None when unknown)."""
    if isinstance(v, Text):
        return v.text
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        if v != v:
            return "NaN"
        return str(int(v)) if v.is_integer() and abs(v) < 1e21 else repr(v)
    if isinstance(v, list):
        parts = [to_text(e) if e is not None else "" for e in v[:64]]
        return None if any(p is None for p in parts) else ",".join(parts)  # type: ignore[arg-type]
    return None


def to_number(v: Any) -> float | None:
    if isinstance(v, bool):
        return 1.0 if v else 0.0
    if isinstance(v, float):
        return v
    if isinstance(v, Text):
        try:
            return float(v.text.strip() or "0")
        except ValueError:
            return float("nan")
    if isinstance(v, list):
        if not v:
            return 0.0
        return to_number(v[0]) if len(v) == 1 else float("nan")
    return None


def _number(text: str) -> float | None:
    t = text.rstrip(".").replace("_", "").lower()
    try:
        if t.startswith("0x"):
            return float(int(t[2:], 16))
        if t.startswith("0b"):
            return float(int(t[2:], 2))
        if t.startswith("0o"):
            return float(int(t[2:], 8))
        return float(t.rstrip("n"))
    except ValueError:
        return None


def dangerous_name(text: str) -> bool:
    low = text.strip().lower()
    return low in DANGER_EXACT or low.startswith(DANGER_PREFIX) or any(w in low for w in DANGER_CONTAINS)


class _Folder:
    def __init__(self, tokens: list[JsToken]) -> None:
        self.t = [t for t in tokens if t.kind != COMMENT]
        self.n = len(self.t)
        self.i = 0
        self.env: dict[str, Any] = {}
        self.steps = 0
        self.depth = 0
        self.found: list[JsTrick] = []
        self.pending: list[JsTrick] = []
        self.lvalue: tuple[int, int, list[str] | None] = (-1, -1, None)
        self.stmt_start = 0

    # ------------------------------------------------------------ helpers

    def tick(self) -> None:
        self.steps += 1
        if self.steps > MAX_STEPS:
            raise _Spent

    def peek(self, k: int = 0) -> JsToken | None:
        j = self.i + k
        return self.t[j] if j < self.n else None

    def punct(self, text: str, k: int = 0) -> bool:
        t = self.peek(k)
        return t is not None and t.kind == PUNCT and t.text == text

    def expect(self, text: str) -> None:
        if not self.punct(text):
            raise _Junk
        self.i += 1

    def span(self, start: int) -> tuple[int, int]:
        a = self.t[min(start, self.n - 1)].start if self.n else 0
        b = self.t[min(max(self.i - 1, start), self.n - 1)].end if self.n else 0
        return a, b

    def hit(self, how: str, what: str, start: int) -> None:
        a, b = self.span(start)
        self.pending.append(JsTrick(how, what, a, b))

    # ------------------------------------------------------------ statements

    def run(self) -> None:
        while self.i < self.n:
            self.tick()
            start = self.stmt_start = self.i
            t = self.t[self.i]
            if t.kind == IDENT and t.text in _STATEMENT_SKIP:
                self.i += 1
                continue
            if self.empty_statement(t):
                continue
            self.pending = []
            if t.kind == IDENT and t.text == "if" and self.punct("(", 1):
                self.i += 1  # if(cond) statement: the condition is an expression, then a statement
            try:
                self.seq()
                self.found.extend(self.pending)
            except _Junk:
                pass
            if self.i == start:
                self.i += 1  # nothing read: skip the token
            elif self.i < self.n and self.t[self.i].kind == PUNCT and self.t[self.i].text in (";", "}", ")", "]"):
                self.i += 1

    def empty_statement(self, t: JsToken) -> bool:
        """Step over a statement that reads nothing, exactly as seq() would (same steps, same
        state), without descending through every level of the expression grammar: a token no
        expression starts with (primary() refuses it), or an unknown name or a literal before a
        token that neither continues nor joins it (a word of prose before the next word). Prose
        read as code is mostly these, and descending for each of them was most of the cost of
        folding it."""
        i = self.i
        if t.kind == OTHER or t.kind == PUNCT and t.text not in _EXPRESSION_PUNCT or (
                t.kind == IDENT and t.text in _STATEMENT_STOP):
            self.steps += 1  # unary()'s tick; then primary() refuses the token
        elif not (i + 1 >= self.n or self.t[i + 1].kind in _NOT_CONTINUING
                  and self.t[i + 1].text not in ("in", "instanceof")):
            return False
        elif t.kind == IDENT and t.text not in _MEANINGFUL_WORDS and t.text not in self.env:
            self.steps += 2  # unary()'s and postfix()'s ticks
            self.lvalue = (i, i + 1, [t.text])
        elif t.kind in _LITERALS:
            self.steps += 2
            self.lvalue = (i, i + 1, None)
        else:
            return False
        if self.steps > MAX_STEPS:
            raise _Spent
        self.i = i + 1
        return True

    # ------------------------------------------------------------ expressions

    def seq(self) -> Any:
        v = self.assign()
        while self.punct(","):
            self.i += 1
            v = self.assign()
        return v

    def assign(self) -> Any:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise _Spent
        try:
            start = self.i
            v = self.cond()
            t = self.peek()
            if t is not None and t.kind == PUNCT and t.text in _ASSIGN:
                lstart, lend, path = self.lvalue
                if lstart != start or lend != self.i or not path:
                    raise _Junk
                self.i += 1
                rhs = self.assign()
                return self.store(path, t.text, v, rhs, start)
            return v
        finally:
            self.depth -= 1

    def store(self, path: list[str], op: str, old: Any, rhs: Any, start: int) -> Any:
        if op == "+=":
            rhs = self.plus(old, rhs, start)
        elif op == "||=":
            rhs = old if truthy(old) else rhs
        elif op == "&&=":
            rhs = rhs if truthy(old) else old
        if isinstance(rhs, Ref):
            rhs = Ref(rhs.name, "alias")
        if len(path) == 1:
            self.env[path[0]] = rhs
        leaf = path[-1]
        if isinstance(rhs, Ref) and leaf.startswith("on") and len(leaf) > 4 and leaf[2:].isalpha():
            self.hit("handler", f"{leaf}={rhs.name}", start)  # onerror=eval; throw '...'
        elif isinstance(rhs, Ref) and leaf in _HOOK_KEYS and len(path) > 1:
            self.hit("coercion", f"{leaf}={rhs.name}", start)  # Array.prototype[Symbol.hasInstance]=eval
        if leaf in _LOCATION_SINKS or path[-2:] == ["location", "href"]:
            if rhs is SOURCE or isinstance(rhs, Text) and rhs.text.strip().lower().startswith(
                    ("javascript:", "vbscript:", "data:text/html")):
                self.hit("source-navigation", ".".join(path) + "=", start)
        elif leaf in _HTML_SINKS and rhs is SOURCE:
            self.hit("source-html", ".".join(path) + "=", start)
        return rhs

    def cond(self) -> Any:
        c = self.binary(0)
        if self.punct("?"):
            self.i += 1
            a = self.assign()
            self.expect(":")
            b = self.assign()
            truth = truthy(c)
            return a if truth is True else b if truth is False else None
        return c

    def binary(self, min_prec: int) -> Any:
        start = self.i
        left = self.unary()
        while True:
            t = self.peek()
            if t is None or t.newline_before and t.kind != PUNCT:
                return left
            op = t.text if t.kind == PUNCT or (t.kind == IDENT and t.text in ("in", "instanceof")) else ""
            prec = _BINARY.get(op)
            if prec is None or prec < min_prec:
                return left
            self.i += 1
            right = self.binary(prec + 1)
            left = self.apply(op, left, right, start)
            self.lvalue = (-1, -1, None)

    def apply(self, op: str, left: Any, right: Any, start: int) -> Any:
        if op == "+":
            return self.plus(left, right, start)
        if op in ("||", "??"):
            truth = truthy(left) if op == "||" else (left is not None)
            return left if truth is True else right if truth is False else None
        if op == "&&":
            truth = truthy(left)
            return right if truth is True else left if truth is False else None
        if op in ("==", "===", "!=", "!=="):
            a, b = to_text(left), to_text(right)
            if a is None or b is None:
                return None
            return (a == b) == (op in ("==", "==="))
        if op in ("-", "*", "/", "%"):
            a, b = to_number(left), to_number(right)
            if a is None or b is None:
                return None
            try:
                return {"-": a - b, "*": a * b, "/": a / b if b else float("nan"), "%": a % b if b else float("nan")}[op]
            except (OverflowError, ValueError):
                return None
        return None

    def plus(self, left: Any, right: Any, start: int) -> Any:
        if left is SOURCE or right is SOURCE:
            return SOURCE
        if isinstance(left, Text) or isinstance(right, Text) or isinstance(left, list) or isinstance(right, list):
            a, b = to_text(left), to_text(right)
            if a is None or b is None:
                return None
            pieces = (left.pieces if isinstance(left, Text) else 1) + (right.pieces if isinstance(right, Text) else 1)
            out = Text((a + b)[:4096], pieces)
            self.assembled(out, start)
            return out
        a, b = to_number(left), to_number(right)
        return a + b if a is not None and b is not None else None

    def assembled(self, v: Text, start: int) -> None:
        if v.pieces >= 2 and dangerous_name(v.text):
            self.hit("assembled", v.text[:40], start)

    def unary(self) -> Any:
        self.tick()
        t = self.peek()
        if t is None:
            raise _Junk
        if t.kind == PUNCT and t.text in ("!", "~", "+", "-", "++", "--"):
            self.i += 1
            self.depth += 1
            if self.depth > MAX_DEPTH:
                raise _Spent
            try:
                v = self.unary()
            finally:
                self.depth -= 1
            if t.text == "!":
                truth = truthy(v)
                return None if truth is None else not truth
            if t.text in ("+", "-"):
                num = to_number(v)
                return None if num is None else (num if t.text == "+" else -num)
            return None
        if t.kind == IDENT and t.text in ("typeof", "void", "delete", "new", "await"):
            self.i += 1
            self.depth += 1
            if self.depth > MAX_DEPTH:
                raise _Spent
            try:
                self.unary()
            finally:
                self.depth -= 1
            return Text("undefined", 1) if t.text == "void" else None
        if t.kind == OTHER or t.kind == IDENT and t.text in _REFUSED_WORDS or (
                t.kind == PUNCT and t.text not in _EXPRESSION_PUNCT and not (t.text == "{" and self.i != self.stmt_start)):
            raise _Junk  # what primary() refuses, refused without descending to it
        v = self.lone_operand(t)
        return self.postfix() if v is _NOT_LONE else v

    def lone_operand(self, t: JsToken) -> Any:
        """postfix() of a name or literal that no member, index or call follows: its value, with
        postfix()'s tick and lvalue, without the two calls down to primary() (most operands of
        text read as code are these); _NOT_LONE when something may follow or the word means more."""
        nxt = self.t[self.i + 1] if self.i + 1 < self.n else None
        if nxt is not None and (nxt.kind == PUNCT and nxt.text in _POSTFIX_PUNCT
                                or nxt.kind == TEMPLATE and not nxt.newline_before):
            return _NOT_LONE
        k = t.kind
        if k == IDENT:
            if t.text in _MEANINGFUL_WORDS:
                return _NOT_LONE
            v, path = self.env.get(t.text), [t.text]
        elif k == STRING:
            v, path = Text(js_string_value(t.text)[:4096], 1), None
        elif k == TEMPLATE:
            v, path = (Text(t.text, 1) if "${" not in t.text else None), None
        elif k == REGEX:
            v, path = Rx(t.text), None
        elif k == NUMBER:
            v, path = _number(t.text), None
        else:
            return _NOT_LONE
        self.tick()
        self.lvalue = (self.i, self.i + 1, path)
        self.i += 1
        return v

    def postfix(self) -> Any:
        start = self.i
        v, path = self.primary()
        method = False
        while True:
            self.tick()
            t = self.peek()
            if t is None:
                break
            if t.kind == PUNCT and t.text in (".", "?.") and self.peek(1) is not None and self.peek(1).kind == IDENT:
                name = self.t[self.i + 1].text
                self.i += 2
                v = self.member(v, name)
                path = path + [name] if path is not None else None
                method = True
                continue
            if t.kind == PUNCT and t.text == "[":
                self.i += 1
                key = self.seq()
                self.expect("]")
                name = to_text(key) if not isinstance(key, Method) else key.name  # [Symbol.hasInstance]
                v = self.index(v, key)
                path = path + [name.lower() if name is not None else "[]"] if path is not None else None
                method = True
                continue
            if t.kind == PUNCT and t.text == "(":
                args = self.args()
                v = self.call(v, args, method, start)
                path, method = None, False
                continue
            if t.kind == TEMPLATE and not t.newline_before:
                self.i += 1
                v = self.call(v, [Text(t.text, 1)], method, start)
                path, method = None, False
                continue
            break
        self.lvalue = (start, self.i, path)
        return v

    def args(self) -> list[Any]:
        self.expect("(")
        out: list[Any] = []
        while not self.punct(")"):
            if self.punct("..."):
                self.i += 1
            out.append(self.assign())
            if self.punct(","):
                self.i += 1
                continue
            if not self.punct(")"):
                raise _Junk
        self.i += 1
        return out

    def primary(self) -> tuple[Any, list[str] | None]:
        t = self.peek()
        if t is None:
            raise _Junk
        k = t.kind
        if k == STRING:
            self.i += 1
            return Text(js_string_value(t.text)[:4096], 1), None
        if k == TEMPLATE:
            self.i += 1
            return (Text(t.text, 1) if "${" not in t.text else None), None
        if k == REGEX:
            self.i += 1
            return Rx(t.text), None
        if k == NUMBER:
            self.i += 1
            return _number(t.text), None
        if k == IDENT:
            name = t.text
            if name in _STATEMENT_STOP or name in _STATEMENT_SKIP or name == "if":
                raise _Junk
            self.i += 1
            if name in ("true", "false"):
                return name == "true", None
            if name in ("null", "undefined", "nan"):
                return None, None
            if name in self.env:
                return self.env[name], [name]
            if name in _GLOBAL_NAMES:
                return GLOBAL, [name]
            if name in ("location", "document"):
                return Obj(name), [name]
            if name == "string":
                return Obj("string"), [name]
            if name == "parseint":
                return Obj("parseint"), [name]
            if name == "name":
                return SOURCE, [name]  # window.name
            if name in RUNNERS:
                return Ref(name, "name"), [name]
            return None, [name]
        if k == PUNCT:
            if t.text == "(":
                self.i += 1
                v = self.seq()
                self.expect(")")
                return (Ref(v.name, "paren") if isinstance(v, Ref) else v), None
            if t.text == "[":
                return self.array(), None
            if t.text == "{" and self.i != self.stmt_start:
                self.obj()
                return None, None
            if t.text == "." and self.i == self.stmt_start and self.peek(1) is not None and self.peek(1).kind == IDENT:
                return None, []  # ".replace(/.+/,eval)": the value continues the page's expression
        raise _Junk

    def array(self) -> list[Any]:
        self.expect("[")
        out: list[Any] = []
        while not self.punct("]"):
            if self.punct(","):
                self.i += 1
                out.append(None)
                continue
            if self.punct("..."):
                self.i += 1
            out.append(self.assign())
            if len(out) > 256:
                raise _Junk
            if self.punct(","):
                self.i += 1
            elif not self.punct("]"):
                raise _Junk
        self.i += 1
        return out

    def obj(self) -> None:
        start = self.i
        self.expect("{")
        while not self.punct("}"):
            t = self.peek()
            if t is None or t.kind not in (IDENT, STRING, NUMBER):
                raise _Junk
            self.i += 1
            key = js_string_value(t.text).lower() if t.kind == STRING else t.text
            if self.punct(":"):
                self.i += 1
                v = self.assign()
                if isinstance(v, Ref) and key in _HOOK_KEYS:
                    self.hit("coercion", f"{key}:{v.name}", start)  # ""+{toString:alert}
            elif not (self.punct(",") or self.punct("}")):
                raise _Junk
            if self.punct(","):
                self.i += 1
            elif not self.punct("}"):
                raise _Junk
        self.i += 1

    # ------------------------------------------------------------ values

    def member(self, v: Any, name: str) -> Any:
        if isinstance(v, Rx) and name == "source":
            return Text(v.source, 1)
        if isinstance(v, Text) and name == "length":
            return float(len(v.text))
        if v is SOURCE:
            return SOURCE
        if isinstance(v, Obj):
            if v.kind == "global" and name in ("location", "document"):
                return Obj(name)
            if name in _SOURCE_PROPS.get(v.kind, ()):
                return SOURCE
            if v.kind == "document" and name == "location":
                return Obj("location")
        if name in RUNNERS:
            return Ref(name, "member")
        return Method(v, name)

    def index(self, v: Any, key: Any) -> Any:
        name = to_text(key)
        if isinstance(key, Text) and name is not None:
            low = name.lower()
            if low in RUNNERS:
                return Ref(low, "computed")  # top['al'+'ert'], 1[a] with a='eval'
            if isinstance(v, Obj):
                return self.member(v, low)
        num = to_number(key) if isinstance(key, (float, bool)) else None
        if num is not None and num == num and num >= 0:
            idx = int(num)
            if isinstance(v, Text) and idx < len(v.text):
                return Text(v.text[idx], 1)  # (!![]+[])[+!+[]] == "r"
            if isinstance(v, list) and idx < len(v):
                return v[idx]
        if v is SOURCE:
            return SOURCE
        return None

    def call(self, fn: Any, args: list[Any], method: bool, start: int) -> Any:
        if fn is SOURCE:
            return SOURCE  # location.hash.slice(1)
        runner = next((a for a in args if isinstance(a, Ref)), None)
        if isinstance(fn, Ref):
            if fn.via not in ("name", "member"):
                self.hit(fn.via + "-call", fn.name, start)  # a=alert,a(1); (alert)(1); top['ev'+'al'](...)
            elif runner is not None and fn.name in _HOOK_INSTALLERS:
                self.hit("callback", f"{fn.name}({runner.name})", start)  # setTimeout(alert)
            return None
        if runner is not None and (method and isinstance(fn, Method) and fn.name not in ("call", "apply", "bind")
                                   or self.t[start].text in _HOOK_INSTALLERS):
            self.hit("callback", f"{fn.name if isinstance(fn, Method) else self.t[start].text}({runner.name})",
                     start)  # [1].find(alert), x.replace(/./,eval), __defineSetter__('x',alert)
        if isinstance(fn, Obj) and fn.kind == "parseint":
            return self.parse_int(args, start)
        if not isinstance(fn, Method):
            return None
        base, name = fn.base, fn.name
        if base is SOURCE:
            return SOURCE
        if any(isinstance(a, Obj) for a in args):
            for a in args:
                if isinstance(a, Text) and a.text.lower() in RUNNERS:
                    return Ref(a.text.lower(), "lookup")  # Components.lookupMethod(self, 'confirm')(1)
        if isinstance(base, Obj) and base.kind == "string" and name == "fromcharcode":
            codes = [to_number(a) for a in args[:256]]
            if all(c is not None and c == c and 0 <= c < 0x110000 for c in codes):
                out = Text("".join(chr(int(c)) for c in codes), 2)  # type: ignore[arg-type]
                self.assembled(out, start)
                return out
            return None
        if isinstance(base, float) and name == "tostring" and args and isinstance(args[0], float):
            radix = int(args[0])
            if 2 <= radix <= 36 and base >= 0 and base.is_integer() and base < 2 ** 64:
                out = Text(to_radix(int(base), radix), 2)
                self.assembled(out, start)
                return out
            return None
        if isinstance(base, list):
            if name == "join":
                sep = to_text(args[0]) if args else ","
                text = to_text(base) if sep == "," else None
                if text is None and sep is not None:
                    parts = [to_text(e) if e is not None else "" for e in base[:256]]
                    text = None if any(p is None for p in parts) else sep.join(parts)  # type: ignore[arg-type]
                if text is None:
                    return None
                out = Text(text, max(2, len(base)))
                self.assembled(out, start)
                return out
            if name == "reverse":
                return list(reversed(base))
            return None
        if isinstance(base, Text):
            return self.text_method(base, name, args, start)
        return None

    def parse_int(self, args: list[Any], start: int) -> Any:
        """parseInt("alert",36): a dangerous name turned into the number that spells it in base 36,
        the other half of 8680439..toString(30) (the number is what the payload carries)."""
        if len(args) < 2 or not isinstance(args[0], Text):
            return None
        radix = to_number(args[1])
        text = args[0].text.strip().lower()
        if radix is None or radix != radix or not 2 <= radix <= 36 or not text or len(text) > 24:
            return None
        try:
            number = int(text, int(radix))
        except ValueError:
            return None
        if radix > 10 and dangerous_name(text):
            self.hit("assembled", f"{text} as a base-{int(radix)} number", start)
        return float(number)

    def text_method(self, base: Text, name: str, args: list[Any], start: int) -> Any:
        s = base.text
        if name in ("tolowercase", "tolocalelowercase"):
            out = Text(s.lower(), base.pieces)
        elif name in ("touppercase", "tolocaleuppercase"):
            out = Text(s.upper(), base.pieces)
        elif name in ("trim", "tostring", "valueof"):
            out = base
        elif name == "split":
            sep = to_text(args[0]) if args else None
            if sep is None:
                return [base]
            parts = list(s[:1024]) if sep == "" else s.split(sep, 256)
            return [Text(p, 1) for p in parts]
        elif name == "concat":
            texts = [to_text(a) for a in args]
            if any(x is None for x in texts):
                return None
            out = Text(s + "".join(texts), base.pieces + len(texts))  # type: ignore[arg-type]
        elif name in ("slice", "substring", "substr") and args:
            a = to_number(args[0])
            b = to_number(args[1]) if len(args) > 1 else None
            if a is None or a != a or (len(args) > 1 and (b is None or b != b)):
                return None
            i = int(a)
            if name == "substr":
                out = Text(s[i:] if b is None else s[i:i + int(b)], 2)
            else:
                out = Text(s[i:] if b is None else s[i:int(b)], 2)
        elif name == "replace" and len(args) == 2:
            pattern, repl = args
            new = to_text(repl)
            if new is None:
                return None
            if isinstance(pattern, Text):
                out = Text(s.replace(pattern.text, new, 1), base.pieces + 1)
            elif isinstance(pattern, Rx) and pattern.source.isalnum():
                out = Text(s.replace(pattern.source, new, 1), base.pieces + 1)
            else:
                return None
        elif name == "charat" and args:
            k = to_number(args[0])
            if k is None or k != k or not 0 <= k < len(s):
                return Text("", 1)
            return Text(s[int(k)], 1)
        else:
            return None
        self.assembled(out, start)
        return out
