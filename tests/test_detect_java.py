"""Java injection: class references, gadgets, reflection, EL/OGNL, deserialization."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from extauthz.decode import Input
from extauthz.detect.java import JavaInjection, assess, dotted_names
from extauthz.detect.prefilter import Prefilter
from extauthz.finding import Severity

DETECTOR = JavaInjection()
PREFILTER = Prefilter([DETECTOR])


def hit(value: str):
    if not PREFILTER.candidates(value):
        return None
    return assess(value)


@pytest.mark.parametrize("value,rule", [
    ("java.lang.Runtime", "java.class-reference"), ("java.ProcessBuilder", "java.class-reference"),
    ("java.evil.runtime", "java.class-reference"), ("javax.script.ScriptEngineManager", "java.class-reference"),
    ("java.lang.String", "java.class-reference"), ("com.opensymphony.xwork2", "java.class-reference"),
    ("ProcessBuilder.evil.invokertransformer", "java.gadget"), ("runtime.whileclosure", "java.gadget"),
    ("org.apache.commons.collections.functors.InvokerTransformer", "java.gadget"),
    ('Runtime.getRuntime().exec("id")', "java.runtime-exec"), ("new ProcessBuilder(cmd).start()", "java.runtime-exec"),
    ('Class.forName("x").getMethod("exec").invoke(null)', "java.reflection"),
    ("${T(java.lang.Runtime).getRuntime().exec('id')}", "java.expression"),
    ("#{''.getClass().forName('java.lang.Runtime')}", "java.expression"),
    ("%{(#_memberAccess['allowStaticMethodAccess']=true)}", "java.expression"),
    ("@java.lang.Runtime@getRuntime().exec('id')", "java.expression"),
    ("class.module.classLoader.resources.context.parent.pipeline.first.pattern", "java.spring4shell"),
    ("rO0ABXNyABdqYXZhLnV0aWwuUHJpb3JpdHlRdWV1ZQ", "java.deserialization"), ("KztAAU", "java.deserialization"),
    ("aced00057372", "java.deserialization"), ("cnVudGltZQ", "java.base64-class"),
    ("BpbnZva2VydHJhbnNmb3JtZXI", "java.base64-class"),
])
def test_attacks(value, rule):
    h = hit(value)
    assert h is not None and h.rule == rule and h.severity >= Severity.HIGH, (value, h)


@pytest.mark.parametrize("value", [
    "runtime error in the app", "I like Java and coffee", "see example.com.au for details", "v1.2.3",
    "at java.lang.Thread.run(Thread.java:750)", "ProcessBuilder is a class", "www.java.com",
    "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
    "8f14e45fceea167a5a36dedd4bea2543", "Exception in thread main java.lang.NullPointerException",
])
def test_benign(value):
    h = hit(value)
    assert h is None or h.severity < Severity.HIGH, (value, h)


def test_class_name_in_prose_is_medium():
    h = hit("We read the file with java.io.BufferedReader and then close it properly afterwards")
    assert h is not None and h.severity == Severity.MEDIUM


def test_dotted_names():
    assert [n.parts for n in dotted_names("x java.lang.Runtime y")][1] == ("java", "lang", "runtime")


@given(st.text(alphabet=st.sampled_from(list("javlngRuticme.$#{}()@%'\"rO0ABKz=/+ ")), max_size=300))
@settings(max_examples=300, deadline=None)
def test_property_never_raises(value):
    assess(value)
    DETECTOR.scan_input(Input("query", "q", value))


@pytest.mark.parametrize("value", ['println "id".execute().text', "['bash','-c','id'].execute()",
                                   'def p = "cat /etc/passwd".execute()', "'whoami' . execute ( )"])
def test_groovy_execute_on_strings_and_lists_blocks(value):
    h = assess(value)
    assert h is not None and (h.rule, h.severity) == ("java.runtime-exec", Severity.HIGH), (value, h)


@pytest.mark.parametrize("value", ["db.execute('select 1')", 'cursor.execute("SELECT 1")', "handlers[i].execute(args)",
                                   "x = 'a'.execute", "plan.execute()"])
def test_execute_methods_on_other_objects_pass(value):
    h = assess(value)
    assert h is None or h.rule != "java.runtime-exec", (value, h)


@pytest.mark.parametrize("value", ["Geometry graphical toolkit (runtime files)", "OCaml bindings for libvirt (runtime)",
                                   "Text Engine for Qwt (runtime, qt5)", "library for Lwt (runtime)"])
def test_a_word_ending_in_t_before_a_parenthesis_is_not_the_type_operator(value):
    assert hit(value) is None, value


@pytest.mark.parametrize("value", ["T(Runtime).getRuntime()", "${T (java.lang.Runtime)}", "x=t(runtime)",
                                   "#{T(java.lang.Runtime).getRuntime().exec('id')}", "(T(java.lang.System))"])
def test_the_type_operator_still_blocks(value):
    h = hit(value)
    assert h is not None and h.severity >= Severity.HIGH, (value, h)


@pytest.mark.parametrize("value", ["libpam-runtime.postrm: Remove session", "see lib/runtime.js for details"])
def test_file_names_containing_runtime_pass(value):
    h = hit(value)
    assert h is None or h.severity < Severity.HIGH, (value, h)
