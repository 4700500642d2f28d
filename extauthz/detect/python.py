"""Python code injection: what a value passed to eval/exec (or unpickled) needs to run commands.

Finding class: "rce". Rule ids:
  python.import          __import__(…) or importlib.import_module(…): a module loaded from an expression
  python.os-command      os.system/popen/exec*/spawn*, subprocess.*, pty.spawn, commands.getoutput called
  python.dynamic-code    eval(compile(…)) / exec(compile(…)): source compiled and run from a string
                         (the blind time-delay probe eval(compile('…time.sleep(12)','a','single')))
  python.object-walk     dunder walks from any object to the interpreter's internals
                         (().__class__.__bases__[0].__subclasses__(), f.__globals__, __builtins__)
  python.pickle          a pickle that imports a callable (cos\\nsystem\\n…, c__builtin__\\neval) or a
                         protocol 2-5 pickle in base64 (gASV…, gAN…) next to a command module name

Calls are matched with the blanks Python allows between names, dots and
parentheses removed. HIGH when the value is essentially code; MEDIUM inside
prose (a forum post quoting subprocess.run([…]) is discussion, not a payload).
"""
from __future__ import annotations

import binascii
from typing import Iterable

from extauthz.decode import Input
from extauthz.detect.base import Detector, register
from extauthz.detect.hits import Hit, finding
from extauthz.finding import Finding, Severity

MAX_SCAN = 16384
PROSE_WORDS = 8  # this many plain words make a value text rather than code
IMPORTS = ("__import__(", "importlib.import_module(", "importlib.__import__(")
OS_CALLS = ("os.system(", "os.popen(", "os.execl", "os.execv", "os.spawn", "os.posix_spawn", "os.startfile(",
            "subprocess.popen(", "subprocess.call(", "subprocess.run(", "subprocess.check_output(",
            "subprocess.check_call(", "subprocess.getoutput(", "subprocess.getstatusoutput(", "pty.spawn(",
            "commands.getoutput(", "commands.getstatusoutput(", "platform.popen(")
DYNAMIC_CODE = ("eval(compile(", "exec(compile(")
WALKS = ("__subclasses__(", "__globals__", "__builtins__", "__bases__", "__base__.", "__mro__", "func_globals",
         "__code__.co_", "gi_frame.f_", "f_back.f_")
PICKLE_MODULES = ("os", "posix", "nt", "subprocess", "builtins", "__builtin__", "commands", "pty", "platform")
PICKLE_CALLABLES = ("system", "popen", "eval", "exec", "check_output", "call", "run", "getoutput", "spawn",
                    "__import__", "execv", "execl")
PICKLE_BASE64 = ("gASV", "gAWV", "gAN", "gAJ")  # \x80 then protocol 4, 5, 3, 2 in base64


def _squash(text: str) -> str:
    return "".join(text.split())


def _prose(value: str) -> bool:
    return sum(1 for w in value.split() if len(w) >= 2 and w.isalpha()) >= PROSE_WORDS


def _calls(squashed: str) -> Hit | None:
    for marker in IMPORTS:
        at = squashed.find(marker)
        if at >= 0:
            return Hit(Severity.HIGH, "python.import", at, at + len(marker), f"{marker.rstrip('(')}() called")
    for marker in OS_CALLS:
        at = squashed.find(marker)
        while at >= 0:
            if at == 0 or not (squashed[at - 1].isalnum() or squashed[at - 1] == "_"):
                return Hit(Severity.HIGH, "python.os-command", at, at + len(marker), f"{marker.rstrip('(')} called")
            at = squashed.find(marker, at + 1)
    for marker in DYNAMIC_CODE:
        at = squashed.find(marker)
        if at >= 0 and (at == 0 or not (squashed[at - 1].isalnum() or squashed[at - 1] == "_")):
            return Hit(Severity.HIGH, "python.dynamic-code", at, at + len(marker), f"{marker.rstrip('(')}…) called")
    for marker in WALKS:
        at = squashed.find(marker)
        if at >= 0:
            return Hit(Severity.HIGH, "python.object-walk", at, at + len(marker), f"object walk through {marker}")
    return None


def _pickle(value: str) -> Hit | None:
    """Protocol 0 `c<module>\\n<name>\\n`, or a base64 pickle whose bytes name such a callable."""
    low = value[:MAX_SCAN].lower()
    at = low.find("\n")
    while 0 <= at < MAX_SCAN:
        start = low.rfind("c", max(0, at - 24), at)
        module = low[start + 1:at] if start >= 0 else ""
        name = low[at + 1:at + 24].split("\n", 1)[0]
        if module in PICKLE_MODULES and name in PICKLE_CALLABLES:
            return Hit(Severity.HIGH, "python.pickle", start, at + 1 + len(name), f"pickle importing {module}.{name}")
        at = low.find("\n", at + 1)
    for magic in PICKLE_BASE64:
        k = value.find(magic)
        if k < 0 or (k > 0 and value[k - 1].isalnum()):
            continue
        run = value[k:k + 4096]
        end = next((i for i, ch in enumerate(run) if not (ch.isalnum() or ch in "+/=")), len(run))
        try:
            raw = binascii.a2b_base64(run[:end - end % 4])
        except (binascii.Error, ValueError):
            continue
        words = _words(raw.decode("latin-1").lower())
        if any(w in PICKLE_MODULES or w[:1] == "c" and w[1:] in PICKLE_MODULES for w in words) \
                and any(w in PICKLE_CALLABLES for w in words):
            return Hit(Severity.HIGH, "python.pickle", k, k + end, "base64 pickle importing a command callable")
    return None


def _words(text: str) -> list[str]:
    """Runs of identifier characters (a pickle's module and attribute names sit between opcodes)."""
    out: list[str] = []
    start = -1
    for i, ch in enumerate(text):
        if ch.isascii() and (ch.isalnum() or ch == "_"):
            if start < 0:
                start = i
        elif start >= 0:
            out.append(text[start:i])
            start = -1
    if start >= 0:
        out.append(text[start:])
    return out


def assess(value: str) -> Hit | None:
    squashed = _squash(value[:MAX_SCAN].lower())
    hit = _calls(squashed)
    if hit is not None:
        if _prose(value):
            return Hit(Severity.MEDIUM, hit.rule, 0, min(len(value), 64), hit.detail + " in text")
        return Hit(hit.severity, hit.rule, 0, min(len(value), 64), hit.detail)
    return _pickle(value)


@register
class PythonInjection(Detector):
    name = "python"
    triggers = (r"__import__", r"importlib", r"subprocess\s*\.", r"(?:^|[^a-z0-9_])os\s*\.\s*(?:system|popen|exec|spawn|posix_spawn"
                r"|startfile)", r"pty\s*\.\s*spawn", r"commands\s*\.\s*getoutput", r"platform\s*\.\s*popen",
                r"(?:eval|exec)\s*\(\s*compile\s*\(",
                r"__(?:subclasses|globals|builtins|bases?|mro|code)__", r"func_globals", r"gi_frame", r"f_back",
                r"(?:^|\n|\()c(?:os|posix|nt|subprocess|builtins|__builtin__|commands|pty|platform)\n",
                r"(?-i:gASV|gAWV|gAN|gAJ)[A-Za-z0-9+/]{8}")

    def scan_input(self, inp: Input) -> Iterable[Finding]:
        return finding("rce", assess(inp.value), inp)
