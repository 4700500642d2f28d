"""Perl and Ruby code injection.

Finding class: "rce". Rule ids:
  perl.interpolation   @{[ … ]}: Perl runs the code inside when it interpolates the string
  ruby.process         Process.spawn/exec/fork, Kernel.system/exec/spawn/eval, IO.popen,
                       Open3.popen3/capture2… called, %x(…) command literals

Both constructs have no use in ordinary text, so the structure alone decides.
"""
from __future__ import annotations

from typing import Iterable

from extauthz.decode import Input
from extauthz.detect.base import Detector, register
from extauthz.detect.hits import Hit, finding
from extauthz.finding import Finding, Severity

MAX_SCAN = 16384
RUBY_CALLS = ("process.spawn", "process.exec", "process.fork", "kernel.system", "kernel.exec", "kernel.spawn",
              "kernel.eval", "kernel.open", "kernel.fork", "kernel.exit", "io.popen", "open3.popen", "open3.capture",
              "open3.pipeline", "pty.spawn", "instance_eval", "class_eval", "module_eval", "binding.eval")


def assess(value: str) -> Hit | None:
    squashed = "".join(value[:MAX_SCAN].split())
    low = squashed.lower()
    at = squashed.find("@{[")
    if at >= 0:
        return Hit(Severity.HIGH, "perl.interpolation", at, at + 3, "Perl @{[ … ]} interpolation")
    for call in RUBY_CALLS:
        k = low.find(call)
        while k >= 0:
            end = k + len(call)
            rest = low[end:end + 12]
            before_ok = k == 0 or not low[k - 1].isalnum()
            if before_ok and (rest[:1] in ("(", " ", "'", '"', ":") or rest[:1].isalpha() and call.endswith(("popen", "capture"))):
                return Hit(Severity.HIGH, "ruby.process", 0, min(len(value), 64), f"Ruby {call}")
            k = low.find(call, k + 1)
    at = low.find("%x(")
    if at >= 0 and (at == 0 or not low[at - 1].isdigit()) and low.find(")", at) > at + 3:
        return Hit(Severity.HIGH, "ruby.process", 0, min(len(value), 64), "Ruby %x() command literal")
    return None


@register
class PerlRubyInjection(Detector):
    name = "perlruby"
    triggers = (r"@\s*\{\s*\[", r"(?:process|kernel|io|open3|pty)\s*\.\s*[a-z]", r"(?:instance|class|module)_eval",
                r"binding\s*\.\s*eval", r"%x\(")

    def scan_input(self, inp: Input) -> Iterable[Finding]:
        return finding("rce", assess(inp.value), inp)
