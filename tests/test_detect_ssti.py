"""Template injection: object walks and code blocks block; bare placeholders pass; probes are weak in text."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from extauthz.detect.prefilter import Prefilter
from extauthz.detect.ssti import TemplateInjection, assess
from extauthz.finding import Severity

PREFILTER = Prefilter([TemplateInjection()])


def hit(value: str):
    return assess(value) if PREFILTER.candidates(value) else None


@pytest.mark.parametrize("value,rule", [
    ("{{''.__class__.__mro__[1].__subclasses__()}}", "ssti.object-walk"),
    ("{{config.items()}}", "ssti.object-walk"), ("{{lipsum.__globals__.os.popen('id').read()}}", "ssti.object-walk"),
    ("{{_self.env.registerUndefinedFilterCallback('exec')}}", "ssti.object-walk"),
    ("{% import os %}{{ os.popen('id').read() }}", "ssti.code-block"), ("<% system('id') %>", "ssti.code-block"),
    ('<#assign ex="freemarker.template.utility.Execute"?new()>${ex("id")}', "ssti.code-block"),
    ("#set($x = $class.inspect('java.lang.Runtime'))", "ssti.code-block"), ("#{runtime.exec('id')}", "ssti.code-block"),
    ("__${T(java.lang.Runtime).getRuntime().exec('id')}__::.x", "ssti.code-block"),
    ("{% if True %}49{% endif %}", "ssti.statement"), ("<%= if True %>49<% endif %>", "ssti.statement"),
    ('{{#with "s" as |string|}}{{#with "e"}}{{this.constructor.constructor}}{{/with}}{{/with}}', "ssti.code-block"),
])
def test_attacks_block(value, rule):
    h = hit(value)
    assert h is not None and h.rule == rule and h.severity >= Severity.HIGH, (value, h)


@pytest.mark.parametrize("value", ["{{7*7}}", "${7*7}", "#{7*7}", "<%= 7*7 %>", "{{7*'7'}}", " {{1337*1337}} "])
def test_probe_as_the_whole_value_blocks(value):
    h = hit(value)
    assert h is not None and (h.rule, h.severity) == ("ssti.probe", Severity.HIGH), (value, h)


@pytest.mark.parametrize("value", ["total {{7*7}} items", "x=${7*7}", "{{1+1}}", "${2-1}", "see #{3*4} below"])
def test_probes_in_text_or_without_multiplication_are_medium(value):
    h = hit(value)
    assert h is not None and (h.rule, h.severity) == ("ssti.probe", Severity.MEDIUM), (value, h)


@pytest.mark.parametrize("value", ["{{username}}", "<%=title%>", "#{name}", "Hello {{ user.first_name }}!",
                                   "${amount} USD", "{% raw %}", "50% {off} %}", "{{ price | currency }}"])
def test_placeholders_pass(value):
    h = hit(value)
    assert h is None or h.severity < Severity.HIGH, (value, h)


@given(st.text(alphabet=st.sampled_from(list("{}%#$<>*_.()'\"=7 classmropen")), max_size=300))
@settings(max_examples=300, deadline=None)
def test_property_never_raises(value):
    assess(value)


@pytest.mark.parametrize("value", ["{{config}}", "{{ self }}", "{{_self}}", "{{settings.SECRET_KEY}}",
                                   "{{config.SECRET_KEY}}", " {{ config }} "])
def test_engine_objects_asked_for_as_the_whole_value_block(value):
    h = hit(value)
    assert h is not None and (h.rule, h.severity) == ("ssti.probe", Severity.HIGH), (value, h)


@pytest.mark.parametrize("value,severity", [
    ("Hello {{config}}", Severity.MEDIUM), ("{{configuration}}", None), ("{{ user.settings_url }}", None),
    ("{{selfie}}", None), ("{config}", None), ("${config}", None), ("{{ config | tojson }}", None),
])
def test_engine_objects_in_text_are_weak_and_look_alikes_pass(value, severity):
    h = hit(value)
    assert (h.severity if h is not None else None) == severity, (value, h)


@pytest.mark.parametrize("value", ["${{7*7}}", "{{7*7}}[[5*5]]", "{{7*7}} ${7*7}", "{% debug %}", "${{<%[%'\"}}%\\.",
                                   "{{dump(app)}}"])
def test_probe_combinations_and_polyglots_block(value):
    h = hit(value)
    assert h is not None and h.severity >= Severity.HIGH, (value, h)


@pytest.mark.parametrize("value", ["Total: {{7*7}} [[note]]", "{% debug %} is a Django tag", "{{ a }} <% b %> text",
                                   "{{x}}{%y%}<%z%>[%w%] many words of text around these"])
def test_probes_with_other_text_stay_weak(value):
    h = hit(value)
    assert h is None or h.severity < Severity.HIGH, (value, h)


@pytest.mark.parametrize("value,rule", [
    ("${applicationScope}", "ssti.probe"), ("${pageContext.request.serverName}", "ssti.probe"),
    ("#{facesContext.externalContext}", "ssti.probe"), ("{{ ['id']|map('passthru') }}", "ssti.object-walk"),
    ("{{ app.request.query.filter(0,0,1024,{'options':'system'}) }}", "ssti.code-block"),
    ('{{ [\"id\"] | sort(\"system\") }}', "ssti.object-walk"),
])
def test_el_implicit_objects_and_command_callbacks_block(value, rule):
    h = hit(value)
    assert h is not None and h.rule == rule and h.severity >= Severity.HIGH, (value, h)


@pytest.mark.parametrize("value", ["${pageTitle}", "{{ 'system status' }}", "{{ item.exec_time }}", "${scope}",
                                   "see ${applicationScope} in the JSP docs for details on scopes"])
def test_el_look_alikes_pass(value):
    h = hit(value)
    assert h is None or h.severity < Severity.HIGH, (value, h)


@pytest.mark.parametrize("value,rule", [
    ("{{ 'id'|system }}", "ssti.code-block"), ("{{ 'id' | passthru }}", "ssti.code-block"),
    ("{% set cmd = 'id' %}{% set output = cmd|shell_exec %}", "ssti.code-block"),
    ('@(System.Diagnostics.Process.Start("cmd.exe","/c whoami"))', "ssti.code-block"),
    ("{$smarty.version}", "ssti.probe"), ("${request.getSession().getServletContext()}", "ssti.object-walk"),
])
def test_command_filters_razor_process_and_smarty_probe_block(value, rule):
    h = hit(value)
    assert h is not None and h.rule == rule and h.severity >= Severity.HIGH, (value, h)


@pytest.mark.parametrize("value", ["{{ name|systemize }}", "{{ job.exec_time|round }}", "{{ 'system' ~ 'atic' }}x y z",
                                   "Smarty uses {$smarty.now} for the time", "{{ a || b }}"])
def test_filter_and_smarty_look_alikes_stay_below_high(value):
    h = hit(value)
    assert h is None or h.severity < Severity.HIGH, (value, h)


@pytest.mark.parametrize("value", ["{{ 'system'|trans }}", "{{ \"exec\" }}", "{{ labels['system'] }}x y z w"])
def test_command_names_as_plain_strings_pass(value):
    h = hit(value)
    assert h is None or h.severity < Severity.HIGH, (value, h)


@pytest.mark.parametrize("value", ['${facesContext.getExternalContext().redirect("http://x")}',
                                   "#{pageContext.getServletContext()}"])
def test_el_server_object_methods_block(value):
    h = hit(value)
    assert h is not None and h.severity >= Severity.HIGH, (value, h)
