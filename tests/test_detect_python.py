"""Python code injection: imports, os/subprocess calls, object walks and pickles block; prose passes."""
from __future__ import annotations

import base64
import pickle

import pytest

from extauthz.detect.prefilter import Prefilter
from extauthz.detect.python import PythonInjection, assess
from extauthz.finding import Severity

PREFILTER = Prefilter([PythonInjection()])


def hit(value: str):
    return assess(value) if PREFILTER.candidates(value) else None


class _Payload:
    def __reduce__(self):
        return (len, ("id",))  # stand-in callable; the pickle bytes are renamed below


def _pickle(protocol: int) -> bytes:
    return pickle.dumps(_Payload(), protocol=protocol).replace(b"builtins", b"posix").replace(b"len", b"system")


@pytest.mark.parametrize("value,rule", [
    ("__import__('os').system('id')", "python.import"), ("importlib.import_module('os').popen('id')", "python.import"),
    ("subprocess.check_output(['id'])", "python.os-command"), ("os . popen ( 'id' ).read()", "python.os-command"),
    ("1;os.system('sleep 5')", "python.os-command"), ("pty.spawn('/bin/sh')", "python.os-command"),
    ("().__class__.__bases__[0].__subclasses__()", "python.object-walk"), ("f.__globals__['os']", "python.object-walk"),
    (_pickle(0).decode("latin-1"), "python.pickle"), (base64.b64encode(_pickle(4)).decode(), "python.pickle"),
    ("x=" + base64.b64encode(_pickle(2)).decode(), "python.pickle"),
])
def test_attacks_block(value, rule):
    h = hit(value)
    assert h is not None and h.rule == rule and h.severity >= Severity.HIGH, (value, h)


@pytest.mark.parametrize("value", [
    "How do I capture output? I tried subprocess.run(['ls']) but it prints nothing at all here",
    "chaos.system(1)", "the os module", "import statement", "Gandalf12345678", "gAN", "cost\nsystem",
    "Please leave the parcel at the back door", "kubectl get pods",
])
def test_benign_passes(value):
    h = hit(value)
    assert h is None or h.severity < Severity.HIGH, (value, h)


@pytest.mark.parametrize("value", [
    "test\"+eval(compile('for x in range(1):\\n import time\\n time.sleep(12)','a','single'))+\"",
    "eval(compile('import time\\ntime.sleep(5)','x','exec'))", "exec ( compile ( src , 'f' , 'exec' ) )",
])
def test_code_compiled_from_a_string_and_run_blocks(value):
    h = hit(value)
    assert h is not None and (h.rule, h.severity) == ("python.dynamic-code", Severity.HIGH), (value, h)


@pytest.mark.parametrize("value", ["compile(pattern)", "re.compile('a+')", "myeval(compile(x))", "eval(x)"])
def test_compile_alone_or_inside_other_names_passes(value):
    h = hit(value)
    assert h is None or h.rule != "python.dynamic-code", (value, h)
