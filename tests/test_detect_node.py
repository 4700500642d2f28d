"""Node.js injection, prototype pollution, JS infinite loops; Perl and Ruby code."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from extauthz.detect.node import NodeInjection, assess
from extauthz.detect.perlruby import PerlRubyInjection
from extauthz.detect.perlruby import assess as assess_perlruby
from extauthz.detect.prefilter import Prefilter
from extauthz.finding import Severity

NODE = Prefilter([NodeInjection()])
PERLRUBY = Prefilter([PerlRubyInjection()])


def node(value: str):
    return assess(value) if NODE.candidates(value) else None


def perlruby(value: str):
    return assess_perlruby(value) if PERLRUBY.candidates(value) else None


@pytest.mark.parametrize("value,rule", [
    ("_$$ND_FUNC$$_function(){require('child_process').exec('id')}()", "node.serialized-function"),
    ("require(\"child_process\").exec('whoami')", "node.child-process"),
    ("#{require.main.constructor._load('fs').readdirSync('.')}", "node.child-process"),
    ("this.constructor.constructor('return process')()", "node.constructor"),
    ('{"then":"$1:__proto__:then"}', "proto.pollution"), ("__proto__[isAdmin]", "proto.pollution"),
    ("constructor[prototype][onerror]", "proto.pollution"), ("process.env", "node.process"),
    ("process[mainModule", "node.process"), ("eval(String.fromCharCode(97))", "node.eval"),
    ("console.info(1)", "node.code"), ('console["info"](1)', "node.code"), ("while(!false);", "js.infinite-loop"),
    ("while(new Date)", "js.infinite-loop"), ("for(;;){}", "js.infinite-loop"), ("module.exports=function(){}", "node.code"),
])
def test_node_attacks(value, rule):
    h = node(value)
    assert h is not None and h.rule == rule and h.severity >= Severity.HIGH, (value, h)


@pytest.mark.parametrize("value", [
    "process.", "console.", "while (foo) is bar.", "while(!true);", "proto", "the constructor of the house",
    "our process: apply, interview, hire", "Use console.log(x) to debug your code in the browser",
])
def test_node_benign(value):
    h = node(value)
    assert h is None or h.severity < Severity.HIGH, (value, h)


@pytest.mark.parametrize("value", ["@{[system 'id']}", "@{   [   uc   'hello'   ]   }", 'Process.spawn("id")',
                                   "IO.popen('id').read", "Kernel.exec('id')", "%x(id)"])
def test_perl_ruby_attacks(value):
    h = perlruby(value)
    assert h is not None and h.severity >= Severity.HIGH, value


@pytest.mark.parametrize("value", ['{"array":[1,2,3]}', "user@example.com", "$hash{key}=[1,2,3]",
                                   "the process spawned new ideas", "io.github.project", "50%x(2)"])
def test_perl_ruby_benign(value):
    assert perlruby(value) is None, value


@given(st.text(alphabet=st.sampled_from(list("while(!)[]{};.processconstructor_$\"'@%x ")), max_size=200))
@settings(max_examples=300, deadline=None)
def test_property_never_raises(value):
    assess(value)
    assess_perlruby(value)


@pytest.mark.parametrize("value", ["while(\u00b2){}", "while(\u0663){}", "while(" + "1" * 5000 + "){}"])
def test_odd_numeric_conditions_do_not_raise(value):
    assess(value)


@pytest.mark.parametrize("value,looping", [("while(1){}", True), ("while(007){}", True), ("while(00){}", False)])
def test_numeric_loop_conditions(value, looping):
    h = assess(value)
    assert (h is not None and h.rule == "js.infinite-loop") == looping, h


@pytest.mark.parametrize("value", [
    "x' (function(){if(typeof foo===\"undefined\"){var a=new Date();do{var b=new Date();}while(b-a<20000);foo=1;}}()) '",
    "test\"+(function(){var a=new Date();do{var b=new Date();}while(b-a<5000);}())+\"",
    "var s=Date.now();while(Date.now()-s<3000){}", "do { x = new Date() } while (x - start < 10000);",
])
def test_clock_busy_wait_blocks(value):
    h = node(value)
    assert h is not None and (h.rule, h.severity) == ("js.busy-wait", Severity.HIGH), (value, h)


@pytest.mark.parametrize("value", ["while(i<10){i++} new Date()", "new Date(); while(a-b<5){}",
                                   "while(Date.now()-s<ms)", "the date: while (x - y < 1000) holds"])
def test_loops_that_do_not_wait_on_the_clock_pass(value):
    h = node(value)
    assert h is None or h.rule != "js.busy-wait", (value, h)


@pytest.mark.parametrize("body", ['{"constructor":{"prototype":{"isAdmin":true}}}',
                                  '{"a":[{"constructor":{"prototype":{"polluted":1}}}]}'])
def test_constructor_prototype_keys_in_a_json_body_block(body):
    from detect_helpers import findings, request
    got = findings(NodeInjection(), request("/api", "POST", {"content-type": "application/json"}, body))
    assert [(f.rule, f.severity) for f in got] == [("proto.pollution", Severity.HIGH)], got


@pytest.mark.parametrize("body", ['{"prototype":1}', '{"constructor":"x","prototype":2}',
                                  '{"product":{"prototype":"v2"}}', '{"constructor":{"name":"Acme"}}'])
def test_prototype_keys_elsewhere_pass(body):
    from detect_helpers import findings, request
    assert findings(NodeInjection(), request("/api", "POST", {"content-type": "application/json"}, body)) == []


def test_constructor_prototype_as_json_text_blocks():
    h = node('{"constructor":{"prototype":{"isAdmin":true}}}')
    assert h is not None and (h.rule, h.severity) == ("proto.pollution", Severity.HIGH), h


@pytest.mark.parametrize("value", ["better `child_process`", "use child_process to spawn workers",
                                   "shim for require.main.filename() that works", "a child_process wrapper",
                                   # the documentation page about the module, linked from a nav list
                                   '<li><a href="child_process.html" class="nav-child_process">Child processes</a>',
                                   "see [Child processes](child_process.md#spawn) for details"])
def test_module_names_in_text_pass(value):
    h = node(value)
    assert h is None or h.severity < Severity.HIGH, (value, h)


@pytest.mark.parametrize("value", [
    "child_process", "'child_process'", "import { exec } from \"child_process\"", "child_process.exec('id')",
    "import('node:child_process')", "require(`child_process`).execSync('id')", "x=[child_process]",
    "require.main.require('child_process')", "global.process.mainModule.require('child_process')",
    "child_process.exec('cat child_process.html')", "require('child_process.html')",
])
def test_module_names_used_by_code_block(value):
    h = node(value)
    assert h is not None and h.severity >= Severity.HIGH, (value, h)


@pytest.mark.parametrize("value", ["unicode: Fix utf8_load() error path", "extmem: return correct segment_load() rc"])
def test_c_functions_ending_in_load_pass(value):
    h = node(value)
    assert h is None or h.severity < Severity.HIGH, (value, h)


@pytest.mark.parametrize("value", ["process.mainModule.constructor._load('child_process')",
                                   "module._load('fs')", "require('module')._load('child_process')"])
def test_the_module_loader_still_blocks(value):
    h = node(value)
    assert h is not None and h.severity >= Severity.HIGH, (value, h)
