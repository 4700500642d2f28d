"""Node.js / JavaScript code injection and prototype pollution.

Finding class: "rce". Rule ids:
  node.serialized-function  node-serialize's _$$ND_FUNC$$_ / funcster's __js_function markers
  node.child-process        child_process reached (require("child_process"), process.binding(…),
                            mainModule.require, spawn/exec through require.main)
  node.process              process.env, process.mainModule, process[…] and friends
  node.constructor          the Function constructor reached through constructor.constructor
                            (also React flight "$1:constructor:constructor" paths), new Function(…)
  node.eval                 eval(String.fromCharCode(…)) and other decoded-eval chains
  node.code                 a value that is nothing but a JavaScript call on a global
                            object (console.info(1)) or a function definition (MEDIUM in prose)
  js.infinite-loop          while(<constant truthy>) / for(;;): denial of service in a JS sandbox
  js.busy-wait              a loop waiting on the clock (do{b=new Date()}while(b-a<20000)): the
                            blind time-delay probe of server-side JavaScript injection
  proto.pollution           __proto__ or constructor.prototype / constructor[prototype] as a
                            property path (parameter names, JSON keys, values)

Everything is read on the lower-cased value with plain string scanning; the
`while` condition is evaluated by a tiny truthiness reader over literals.
"""
from __future__ import annotations

from typing import Iterable

from extauthz.decode import Input
from extauthz.detect.base import Detector, register
from extauthz.detect.hits import Hit, finding, stronger
from extauthz.finding import Finding, Severity

MAX_SCAN = 16384
DANGEROUS_MODULES = ("child_process", "fs", "net", "vm", "os", "worker_threads", "cluster", "dgram", "http", "module")
PROCESS_MEMBERS = ("process.env", "process.mainmodule", "process.binding", "process.kill", "process.exit",
                   "process.dlopen", "process.chdir", "process.setuid", "process[", "process.stdout.write")
GLOBAL_OBJECTS = ("console.", "process.", "require(", "global.", "globalthis.", "module.", "buffer.")
_FALSY = frozenset({"false", "0", "-0", "+0", "null", "undefined", "nan", '""', "''", "``", ""})
_TRUTHY_ATOMS = frozenset({"true", "1", "-1", "+1", "infinity", "-infinity", "+infinity", "{}", "[]", "this",
                           "string", "object", "number", "newdate", "new date", "date", "math", "window", "global"})


def _squash(text: str) -> str:
    return "".join(text.split())


def _serialized(low: str) -> Hit | None:
    for marker in ("_$$nd_func$$_", "__js_function"):
        at = low.find(marker)
        if at >= 0:
            return Hit(Severity.HIGH, "node.serialized-function", at, at + len(marker), f"serialized function {marker}")
    return None


def _child_process(low: str, squashed: str) -> Hit | None:
    at = low.find("child_process")
    if at >= 0:
        alone = low.strip(" \t'\"`") == "child_process"  # the name handed to a require(input)
        sev = Severity.HIGH if alone or _in_code(low, at, at + 13) else Severity.MEDIUM
        return Hit(sev, "node.child-process", at, at + 13, "child_process module")
    # require.main reaches the loader through its own require/constructor/_load, not .filename;
    # Module._load( is the loader, utf8_load( a C function named in text
    for marker in ("require.main.require", "require.main.constructor", "require.main._", "mainmodule.require", "process.binding(", "._load(", "module._compile",
                   "require.cache"):
        at = squashed.find(marker)
        if at >= 0:
            return Hit(Severity.HIGH, "node.child-process", 0, len(marker), f"module loader {marker.rstrip('(')}")
    for mod in DANGEROUS_MODULES:
        for q in ("'", '"', "`"):
            needle = f"require({q}{mod}{q})"
            if needle in squashed:
                return Hit(Severity.HIGH, "node.child-process", 0, len(needle), f"require of {mod}")
    at = squashed.find("require[")
    if at >= 0:
        return Hit(Severity.HIGH, "node.child-process", 0, 8, "require through a computed member")
    return None


# a page named after a module (Node's own docs: child_process.html, child_process.md)
_PAGE_SUFFIXES = tuple(f".{ext}{end}" for ext in ("html", "htm", "md", "markdown", "rst", "txt")
                       for end in ('"', "'", "#", ")", " ", "\n", "<", ">", "?"))
_CODE_BEFORE = frozenset("([{,=:+;")
_CODE_AFTER = frozenset(".)[]},;:")


def _in_code(low: str, start: int, end: int) -> bool:
    """Whether a module name is used by code (require('child_process'), import … from
    "child_process", child_process.exec, node:child_process) rather than named in text
    ("a better `child_process`"): code sits next to brackets, dots or operators once quotes
    and spaces are skipped."""
    i = start - 1
    while i >= 0 and low[i] in " \t'\"`":
        i -= 1
    j = end
    while j < len(low) and low[j] in " \t'\"`":
        j += 1
    word_before = low[max(0, i - 5):i + 1]
    if low.startswith(_PAGE_SUFFIXES, end):
        return False  # `href="child_process.html"`: the documentation page about the module
    return (i >= 0 and low[i] in _CODE_BEFORE or word_before.endswith((" from", "import", "node")) 
            or j < len(low) and low[j] in _CODE_AFTER)


def _process(low: str, squashed: str) -> Hit | None:
    for member in PROCESS_MEMBERS:
        at = squashed.find(member)
        if at >= 0 and (at == 0 or not squashed[at - 1].isalnum()):
            return Hit(Severity.HIGH, "node.process", 0, len(member) + 8, f"{member.rstrip('[')} reached")
    return None


def _constructor(low: str, squashed: str) -> Hit | None:
    for marker in ("constructor.constructor", "constructor:constructor", "constructor'].constructor",
                   'constructor"].constructor', "constructor)(", "module:prototype", "prototype:_compile",
                   "newfunction(", "function.prototype.constructor"):
        at = squashed.find(marker)
        if at >= 0:
            return Hit(Severity.HIGH, "node.constructor", 0, len(marker), f"Function constructor via {marker}")
    return None


def _eval(squashed: str) -> Hit | None:
    for marker in ("eval(string.fromcharcode", "eval(atob(", "eval(buffer.from(", "eval(unescape(",
                   "settimeout(string.fromcharcode", "function(string.fromcharcode"):
        at = squashed.find(marker)
        if at >= 0:
            return Hit(Severity.HIGH, "node.eval", 0, len(marker), f"{marker}…")
    return None


def _prototype_pollution(low: str, squashed: str) -> Hit | None:
    at = low.find("__proto__")
    if at >= 0:
        return Hit(Severity.HIGH, "proto.pollution", at, at + 9, "__proto__ property path")
    for marker in ("constructor.prototype", "constructor[prototype]", "constructor][prototype]",
                   "constructor['prototype']", 'constructor["prototype"]', "constructor.prototype.",
                   '"constructor":{"prototype"'):  # the same path as a JSON document in a string
        k = squashed.find(marker)
        if k >= 0:
            return Hit(Severity.HIGH, "proto.pollution", 0, len(marker), "constructor.prototype property path")
    return None


def _truthy(condition: str) -> bool | None:
    """Truthiness of a constant JS condition (!false, !!{}, Infinity, new Date); None if not constant."""
    c = condition.strip()
    while c.startswith("(") and c.endswith(")") and len(c) >= 2:
        c = c[1:-1].strip()
    negations = 0
    while c.startswith("!"):
        negations += 1
        c = c[1:].strip()
    atom = c.replace(" ", "") if c.startswith("new") is False else c
    if atom in _FALSY:
        value = False
    elif atom in _TRUTHY_ATOMS or atom.replace(" ", "") in _TRUTHY_ATOMS:
        value = True
    elif atom.lstrip("+-").isascii() and atom.lstrip("+-").isdigit():
        value = atom.lstrip("+-").strip("0") != ""  # a number is truthy unless zero (no int(): "²", 5000 digits)
    else:
        return None
    return value if negations % 2 == 0 else not value


def _group(text: str, open_at: int) -> str | None:
    """The text inside the parentheses opening at `open_at` (at most 60 characters), or None."""
    depth = 0
    for k in range(open_at, min(len(text), open_at + 62)):
        depth += text[k] == "("
        depth -= text[k] == ")"
        if depth == 0:
            return text[open_at + 1:k]
    return None


def _busy_wait(squashed: str) -> Hit | None:
    """while(<clock difference> < <milliseconds>) in a value that reads the clock."""
    if "newdate" not in squashed and "date.now(" not in squashed:
        return None
    at = squashed.find("while(")
    loops = 0
    while 0 <= at < MAX_SCAN and loops < 64:
        loops += 1
        cond = _group(squashed, at + 5)
        if cond is not None and "-" in cond and "<" in cond:
            limit = cond.rsplit("<", 1)[1].lstrip("=")
            if limit.isascii() and limit.isdigit() and len(limit) >= 3:
                return Hit(Severity.HIGH, "js.busy-wait", 0, 64, f"loop until {limit} ms have passed")
        at = squashed.find("while(", at + 6)
    return None


def _infinite_loop(low: str) -> Hit | None:
    at = low.find("while")
    while 0 <= at < MAX_SCAN:
        rest = low[at + 5:at + 64].lstrip()
        if rest.startswith("(") and (at == 0 or not low[at - 1].isalnum()):
            depth, end = 0, -1
            for k, ch in enumerate(rest[:60]):
                depth += ch == "("
                depth -= ch == ")"
                if depth == 0:
                    end = k
                    break
            if end > 0 and _truthy(rest[1:end]) is True:
                return Hit(Severity.HIGH, "js.infinite-loop", at, at + end + 7, "while on a constant truthy condition")
        at = low.find("while", at + 5)
    if "for(;;)" in _squash(low[:MAX_SCAN]):
        return Hit(Severity.HIGH, "js.infinite-loop", 0, 8, "for(;;)")
    return None


def _code(value: str, low: str, squashed: str) -> Hit | None:
    """A value that is itself a JavaScript call on a global, or a function definition."""
    stripped = squashed.rstrip(";")
    for obj in GLOBAL_OBJECTS:
        head = obj.rstrip(".(")
        if stripped.startswith(head) and stripped[len(head):len(head) + 1] in ".[(" and stripped.endswith(")"):
            return Hit(Severity.HIGH, "node.code", 0, len(value), f"JavaScript call on {obj.rstrip('.(')}")
        at = squashed.find(obj)
        if at >= 0 and obj != "require(" and (squashed.find('"](', at) > 0 or squashed.find("'](", at) > 0
                                             or ".call(this" in squashed[at:]):
            return Hit(Severity.HIGH, "node.code", 0, len(value), f"computed call on {obj.rstrip('.')}")
    for marker in ("module.exports=", "function(){", "=>{"):
        at = squashed.find(marker)
        if at >= 0:
            sev = Severity.HIGH if marker == "module.exports=" else Severity.MEDIUM
            return Hit(sev, "node.code", 0, len(value), "JavaScript " + marker)
    return None


def assess(value: str) -> Hit | None:
    low = value[:MAX_SCAN].lower()
    squashed = _squash(low)
    best: Hit | None = None
    for h in (_serialized(low), _child_process(low, squashed), _constructor(low, squashed), _eval(squashed),
              _prototype_pollution(low, squashed), _process(low, squashed), _infinite_loop(low), _busy_wait(squashed),
              _code(value, low, squashed)):
        best = stronger(best, h)
        if best is not None and best.severity >= Severity.HIGH:
            return best
    return best


@register
class NodeInjection(Detector):
    name = "node"
    triggers = (
        r"_\$\$nd_func\$\$_", r"__js_function", r"child_process", r"require\s*[.(\[]", r"mainmodule",
        r"process\s*[.\[]", r"constructor", r"__proto__", r"new\s+function", r"eval\s*\(", r"while\s*\(",
        r"for\s*\(\s*;\s*;", r"console\s*[.\[]", r"module\s*[.:]", r"function\s*\(\s*\)\s*\{", r"=>\s*\{",
        r"_load\s*\(", r"(?:global|globalthis|buffer)\s*\.",
        r"^prototype$",  # a key on its own (see _prototype_key)
    )

    def scan_input(self, inp: Input) -> Iterable[Finding]:
        if inp.role == "key" and inp.value.lower() == "prototype":
            return finding("rce", _prototype_key(inp.name), inp)
        return finding("rce", assess(inp.value), inp)


def _prototype_key(name: str) -> Hit | None:
    """A "prototype" key under a "constructor" key ({"constructor":{"prototype":{…}}}): decoded JSON
    and nested parameters name each key on its own, so the path is read from the input's name."""
    path = name.lower().replace("\"", "'")
    if path.endswith(("constructor.prototype", "constructor']['prototype']", "constructor][prototype]",
                      "constructor.prototype]")):
        return Hit(Severity.HIGH, "proto.pollution", 0, 9, "constructor.prototype key path")
    return None
