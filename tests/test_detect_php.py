"""PHP code injection: tags, calls through evasions, dynamic calls, objects, wrappers."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from extauthz.decode import Input
from extauthz.detect.php import PhpInjection, assess
from extauthz.detect.prefilter import Prefilter
from extauthz.finding import Severity
from extauthz.lang.php import tokenize

DETECTOR = PhpInjection()
PREFILTER = Prefilter([DETECTOR])


def hit(value: str, kind: str = "query"):
    if not PREFILTER.candidates(value):
        return None
    return assess(value, code=kind != "path")


@pytest.mark.parametrize("value,rule", [
    ("<?php system('id'); ?>", "php.open-tag"), ("<?=$_GET['x']?>", "php.open-tag"),
    ("<? echo 'hello'; ?>", "php.open-tag"), ("<?xml :exec('cat /etc/passwd');", "php.open-tag"),
    ("{php}test{/php}", "php.open-tag"), ("system(whoami)", "php.function-call"),
    ("@exec('test')", "php.function-call"), ("exec /*comment*/ ()", "php.function-call"),
    ("exec #comment\n (blah)", "php.function-call"), ("base64_decode(", "php.function-call"),
    ("FOOcall_user_func()", "php.function-call"), ("array_diff (", "php.function-call"),
    ("printf(foo)", "php.function-call"), ("pi\x0b()", "php.function-call"),
    ("I don't like gzuncompress/*comment*/()", "php.function-call"),
    ("$a(1)", "php.dynamic-call"), ("@$__[o](4)", "php.dynamic-call"), ("${'a'}(11)", "php.dynamic-call"),
    ("$_aB_4c[5]['d'] /*lol*/ (17)", "php.dynamic-call"), ("$foo->$funcname()", "php.dynamic-call"),
    ('"\\x73y\\x73tem"(ls);', "php.dynamic-call"), ("(sy.(st).em)('uname');", "php.dynamic-call"),
    ("[system][0](ls);", "php.dynamic-call"), ("(['system'])[0]('uname');", "php.dynamic-call"),
    ("$y = 'sys'.'tem';($y)('uname');", "php.concatenated-name"), ("x='sys' . 'tem'", "php.concatenated-name"),
    ("$_SERVER['test'];", "php.superglobal"), ("$ {'_VAR'.'IABLE_NAME'}", "php.variable-variable"),
    ('O:8:"stdClass":1:{s:1:"a";i:2;}', "php.object-injection"), ("php://filter/read=convert.base64-encode/resource=x", "php.wrapper"),
    ("phar://phpinfo.zip/phpinfo.txt", "php.wrapper"), ("allow_url_include = On", "php.ini-directive"),
])
def test_attacks(value, rule):
    h = hit(value)
    assert h is not None and h.rule == rule and h.severity >= Severity.HIGH, (value, h)


@pytest.mark.parametrize("value", [
    "the files (yep)", "exec (", "executor()", "cheval($foo)", "the system is down()", "ecosystem()", "systems()",
    "system something()", "Upload your file(s)", "Select the date(s)", "max(a, b)", "round(2.5)",
    '<?xml version="1.0" encoding="UTF-8"?>', "<?xpacket begin=\"?\" id=\"x\"?>", "richard.php@my-email.com",
    "Is this a test? What do you think?", "expr=result = (x < 5) ? yes : no", "(foo)bar or foo(bar)",
    "this is a \"dog\" (not a cat)", "$5 (approx)", "operating system (OS)", "/wiki/Date_(fruit)",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko)", "costs $ 5 {approx}",
    "email=user@[192.168.1.1]", "O:8 some text", "price: 5 (incl. tax)",
])
def test_benign(value):
    h = hit(value)
    assert h is None or h.severity < Severity.HIGH, (value, h)


def test_path_kind_checks_calls_but_not_dynamic_syntax():
    assert hit("/get/substr()", kind="path").severity >= Severity.HIGH
    assert hit("/a/$b(1)", kind="path") is None


def test_finding_shape():
    (f,) = DETECTOR.scan_input(Input("form", "code", "<?php eval($_POST['c']); ?>"))
    assert (f.cls, f.rule, f.location) == ("rce", "php.open-tag", "form:code")


def test_tokenizer_undoes_string_escapes():
    toks = [t for t in tokenize('"\\x73y\\163tem"') if t.kind == "string"]
    assert toks[0].text == "system"


@given(st.text(alphabet=st.sampled_from(list("abcsystem$_()[]{}'\".#/*\n <?php:O1\\")), max_size=300))
@settings(max_examples=400, deadline=None)
def test_property_never_raises(value):
    assess(value)
    tokenize(value)
