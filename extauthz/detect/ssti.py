"""Server-side template injection: template syntax that reaches code.

Finding class: "ssti". Rule ids:
  ssti.object-walk     a template expression walking Python/Java/JS objects to code:
                       {{''.__class__.__mro__[1].__subclasses__()}}, {{config.items()}},
                       {{lipsum.__globals__.os.popen('id')}}, {{_self.env.registerUndefinedFilterCallback}},
                       {{#with "s" as |s|}}…constructor…, {{this.constructor.constructor(…)}}
  ssti.code-block      a template block that runs code or loads modules: {% import os %},
                       <% system('id') %>, <#assign x="freemarker.template.utility.Execute"?new()>,
                       #set($x=…), {php}, {system('id')}, Thymeleaf __${…}__::
  ssti.statement       a template control statement with its end tag ({% if x %}…{% endif %})
  ssti.probe           an arithmetic probe ({{7*7}}, ${7*7}, #{7*7}, <%= 7*7 %>), or a template
                       engine's own object asked for ({{config}}, {{self}}, {{settings.SECRET_KEY}}):
                       HIGH when it is the whole value (no other use), MEDIUM inside other text

A bare {{name}} or <%= title %>, the everyday use of templates, passes. The
expression inside a delimiter pair is read as text: object walks are dunder
attributes and well-known template globals; code is a call to a function that
executes, imports or reflects.
"""
from __future__ import annotations

from typing import Iterable

from extauthz.decode import Input
from extauthz.detect.base import Detector, register
from extauthz.detect.hits import Hit, finding, stronger
from extauthz.finding import Finding, Severity

MAX_SCAN = 16384
MAX_BLOCKS = 64
DELIMITERS = (("{{", "}}"), ("{%", "%}"), ("${", "}"), ("#{", "}"), ("*{", "}"), ("<%", "%>"), ("@(", ")"),
              ("[[", "]]"), ("{{{", "}}}"))
WALKS = ("__class__", "__mro__", "__subclasses__", "__globals__", "__builtins__", "__init__", "__import__",
         "__base__", "__bases__", "__dict__", "__getattribute__", "__reduce__", "func_globals", "f_globals",
         "_templatereference__context", "lipsum.", "cycler.", "joiner.", "namespace.", "url_for.", "get_flashed_messages",
         "request.application", "config.items", "config.__", "self.__", "_self.env", "registerundefinedfiltercallback",
         "getfilter(", "request.environ", "constructor.constructor", "this.constructor", "[\"constructor\"]",
         "['constructor']", "attr(", "|attr", "|map(", "|filter(", "|sort(", "|reduce(", "getclass()",
         "getclassloader", "forname(", "classloader", "java.lang", "new()", "?new", "?api", "class.inspect",
         "getruntime", "processbuilder", "t(java", "@java.", "object.constructor", "dump(app)", "dump(_context)",
         "getservletcontext")
CODE_CALLS = ("popen", "system", "exec", "eval", "spawn", "subprocess", "check_output", "os.", "import", "require",
              "getattr", "open(", "read()", "passthru", "shell_exec", "execute", "runtime", "file_get_contents",
              "include", "load(", "compile(", "child_process", "process.", "send(:", "instance_eval")
# Objects Jinja2/Flask, Django and Twig put in every template's namespace: printing one dumps the
# application's configuration or the template context ({{config}}, {{self}}, {{_self}}).
ENGINE_GLOBALS = frozenset({"config", "self", "_self", "settings"})
# PHP functions that run commands, named as a string callback inside a template expression.
CALLBACKS = ("system", "passthru", "exec", "shell_exec", "popen", "proc_open", "pcntl_exec", "assert")
# Implicit objects of Java EL (JSP, JSF): printing one dumps server state (${applicationScope}).
EL_GLOBALS = frozenset({"applicationscope", "sessionscope", "requestscope", "pagecontext", "facescontext"})
STATEMENT_WORDS = ("if", "for", "set", "import", "include", "extends", "block", "macro", "raw", "filter", "with",
                   "print", "from", "call", "load", "assign", "foreach", "while", "do", "debug")


def _blocks(value: str) -> Iterable[tuple[int, int, str, str]]:
    """(start, end, opener, inner) for each delimited template expression, bounded."""
    s = value[:MAX_SCAN]
    count = 0
    for opener, closer in DELIMITERS:
        at = s.find(opener)
        while at >= 0 and count < MAX_BLOCKS:
            close = s.find(closer, at + len(opener))
            if close < 0:
                break
            count += 1
            yield at, close + len(closer), opener, s[at + len(opener):close]
            at = s.find(opener, close + len(closer))


def _arithmetic_probe(inner: str) -> bool:
    """7*7, 7*'7', 1337*1337, {{7*7}}: numbers joined by an operator, nothing else."""
    t = inner.strip().replace(" ", "").strip("=")
    if not t or len(t) > 32:
        return False
    has_op = any(op in t for op in "*+-/%")
    digits = sum(c.isdigit() for c in t)
    rest = t.translate({ord(c): None for c in "0123456789*+-/%().'\""})
    return has_op and digits >= 2 and not rest


def _engine_global(inner: str, names: frozenset[str] = ENGINE_GLOBALS) -> str | None:
    """The engine global `inner` names ("config", "config.SECRET_KEY", " self "), or None."""
    parts = inner.strip().split(".")
    if parts[0].lower() not in names or len(parts) > 4:
        return None
    if not all(p and p.isascii() and (p.replace("_", "a").isalnum()) for p in parts):
        return None
    return parts[0].lower()


def _inside(opener: str, inner: str) -> Hit | None:
    low = inner.lower()
    squashed = "".join(low.split())
    for walk in WALKS:
        if walk in squashed:
            return Hit(Severity.HIGH, "ssti.object-walk", 0, 0, f"{opener}…{walk}…")
    if opener in ("${", "#{") and "(" in squashed and squashed.split(".", 1)[0] in EL_GLOBALS and "." in squashed:
        # ${facesContext.getExternalContext().redirect(…)}: a method of a server object called from EL
        return Hit(Severity.HIGH, "ssti.object-walk", 0, 0, f"{opener}…{squashed.split('.', 1)[0]} method called…")
    if opener in ("{%", "<%", "{{", "${", "#{", "*{"):
        for call in CODE_CALLS:
            k = squashed.find(call)
            if k >= 0 and ("(" in squashed[k:k + len(call) + 2] or call.endswith((".", "(")) or opener == "{%"
                           and squashed.startswith(("import", "from", "include"))):
                return Hit(Severity.HIGH, "ssti.code-block", 0, 0, f"{opener}…{call.rstrip('(.')}…")
        for name in CALLBACKS:
            if _callback(squashed, name):
                # a command function handed over by name or used as a filter: |map('system'),
                # filter(…,{'options':'system'}), registerUndefinedFilterCallback("exec"), 'id'|system
                return Hit(Severity.HIGH, "ssti.code-block", 0, 0, f"{opener}…{name} as a callback or filter…")
    return None


def _callback(squashed: str, name: str) -> bool:
    """`name` quoted as an argument (map('system'), {'options':'system'}) or applied as a filter
    (|system) in a squashed template expression ({{ 'system'|trans }} is a translation key)."""
    for q in ("'", '"'):
        at = squashed.find(f"{q}{name}{q}")
        while at > 0:
            if squashed[at - 1] in "(,:":
                return True
            at = squashed.find(f"{q}{name}{q}", at + 1)
    at = squashed.find("|" + name)
    while at >= 0:
        after = squashed[at + 1 + len(name):at + 2 + len(name)]
        if not (after.isalnum() or after == "_"):
            return True
        at = squashed.find("|" + name, at + 1)
    return False


def _special(value: str, low: str) -> Hit | None:
    """Engine-specific syntax outside the common delimiters."""
    squashed = "".join(low[:MAX_SCAN].split())
    markers = (("<#assign", "Freemarker <#assign"), ("freemarker.template.utility", "Freemarker utility class"),
               ("?new()", "Freemarker ?new()"), ("#set($", "Velocity #set"), ("#foreach($", "Velocity #foreach"),
               ("$class.inspect", "Velocity $class"), ("{php}", "Smarty {php}"),
               ("{smarty_internal", "Smarty internals"), ("{self::getstreamvariable", "Smarty getStreamVariable"),
               ("{{#with", "Handlebars #with"), ("{{#each", "Handlebars #each"),
               ("system.diagnostics.process", ".NET Process from a Razor template"))
    for marker, what in markers:
        at = squashed.find(marker)
        if at >= 0:
            if marker.startswith("{{#") and "constructor" not in squashed and "lookup" not in squashed \
                    and "__proto__" not in squashed:
                continue
            return Hit(Severity.HIGH, "ssti.code-block", 0, min(len(value), 64), what)
    at = low.find("__${")
    if at >= 0 and low.find("}__", at) > at:
        return Hit(Severity.HIGH, "ssti.code-block", at, at + 32, "Thymeleaf __${…}__ preprocessing")
    if squashed.startswith("{") and any(squashed.startswith("{" + f + "(") for f in ("system", "exec", "passthru",
                                                                                      "shell_exec", "eval")):
        return Hit(Severity.HIGH, "ssti.code-block", 0, 32, "Smarty function tag")
    return None


def _first_word(inner: str) -> str:
    words = inner.strip().lstrip("=-#").split()
    return words[0].lower() if words else ""


def _statement(blocks: list[tuple[int, int, str, str]]) -> Hit | None:
    opens = [b for b in blocks if b[2] in ("{%", "<%") and _first_word(b[3]) in STATEMENT_WORDS]
    ends = [b for b in blocks if b[2] in ("{%", "<%") and b[3].strip().lower().startswith(("end", "/"))]
    if opens and ends:
        start = opens[0][0]
        return Hit(Severity.HIGH, "ssti.statement", start, ends[-1][1], "template statement with its end tag")
    if opens:
        return Hit(Severity.MEDIUM, "ssti.statement", opens[0][0], opens[0][1], "template statement")
    return None


def _probe(opener: str, inner: str) -> tuple[str, bool] | None:
    """(what, strong) when a block asks the engine a question: an arithmetic probe (strong with
    a multiplication, in the common delimiters), an engine object printed, {% debug %}."""
    name = _engine_global(inner) if opener == "{{" else (
        _engine_global(inner, EL_GLOBALS) if opener in ("${", "#{") else None)
    if name is not None:
        return f"template engine object {name} printed", True
    if opener == "{%" and inner.strip().lower() == "debug":
        return "Django {% debug %} (dumps the template context)", True
    if _arithmetic_probe(inner):
        return f"arithmetic probe {opener}…", "*" in inner and opener not in ("@(", "[[")
    return None


def _outside(value: str, spans: list[tuple[int, int]]) -> str:
    """The text of `value` outside the given spans."""
    out, at = [], 0
    for start, end in sorted(spans):
        if start > at:
            out.append(value[at:start])
        at = max(at, end)
    out.append(value[at:])
    return "".join(out)


def _polyglot(value: str) -> Hit | None:
    """${{<%[%'"}}%\\.: the syntax of several template engines at once and next to no text, the
    fuzz string that makes whichever engine renders it fail (and name itself in the error)."""
    if len(value) > 64 or sum(c.isalpha() for c in value) > 4:
        return None
    marks = sum(1 for m in ("${", "{{", "<%", "[%", "#{", "{%", "}}", "%>", "%]") if m in value)
    return Hit(Severity.HIGH, "ssti.probe", 0, len(value), "template syntax polyglot") if marks >= 4 else None


def assess(value: str) -> Hit | None:
    low = value[:MAX_SCAN].lower()
    best = _special(value, low) or _polyglot(value)
    if best is not None:
        return best
    blocks = list(_blocks(value))
    probes: list[tuple[int, int, str, bool]] = []
    for start, end, opener, inner in blocks:
        h = _inside(opener, inner)
        if h is not None:
            return Hit(h.severity, h.rule, start, end, h.detail)
        p = _probe(opener, inner)
        if p is not None:
            probes.append((start, end, p[0], p[1]))
    if probes:
        # The value is nothing but questions to the template engine ({{7*7}}, ${{7*7}}, {{7*7}}[[5*5]]):
        # no other use; inside other text the same block may be a page's own placeholder.
        alone = not _outside(value, [(a, b) for a, b, _, _ in probes]).strip(" \t\r\n$#*@")
        start, end, what, _ = next((p for p in probes if p[3]), probes[0])
        strong = alone and any(p[3] for p in probes)
        best = Hit(Severity.HIGH if strong else Severity.MEDIUM, "ssti.probe", start, end,
                   what + (" as the whole value" if strong else ""))
    return stronger(stronger(best, _statement(blocks)), _smarty(value, low))


def _smarty(value: str, low: str) -> Hit | None:
    """{$smarty.version}: Smarty's reserved variable, asked for to learn the engine (HIGH as the whole value)."""
    at = low.find("{$smarty.")
    end = low.find("}", at) if at >= 0 else -1
    if end < 0:
        return None
    alone = not value[:at].strip() and not value[end + 1:].strip()
    return Hit(Severity.HIGH if alone else Severity.MEDIUM, "ssti.probe", at, end + 1, "Smarty {$smarty…} variable")


@register
class TemplateInjection(Detector):
    name = "ssti"
    triggers = (r"\{\{", r"\{%", r"[$#*]\{", r"<%", r"<#assign", r"#set\s*\(", r"#foreach", r"\{php\}",
                r"__\$\{", r"\{self::", r"smarty_internal", r"freemarker", r"\$class\.", r"\{(?:system|exec|passthru|eval)\(",
                r"\{\$smarty\.", r"diagnostics\.process")

    def scan_input(self, inp: Input) -> Iterable[Finding]:
        return finding("ssti", assess(inp.value), inp)
