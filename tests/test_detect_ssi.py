"""Server-side include directives in values."""
from __future__ import annotations

import pytest

from extauthz.decode import Input
from extauthz.detect.ssi import ServerSideInclude
from extauthz.finding import Severity

DETECTOR = ServerSideInclude()


def scan(value: str):
    return list(DETECTOR.scan_input(Input("query", "q", value)))


@pytest.mark.parametrize("value", ['<!--#exec cmd="/bin/cat /etc/passwd"-->', 'x"><!--#EXEC cmd="dir "--><',
                                   '<!--#exec cgi="/cgi-bin/x.cgi"-->'])
def test_exec_is_critical(value):
    (f,) = scan(value)
    assert (f.cls, f.rule, f.severity) == ("rce", "ssi.exec", Severity.CRITICAL)


@pytest.mark.parametrize("value", ['<!--#include file="archivo_secreto" -->', '<!--#echo var="DATE_LOCAL" -->',
                                   "<!--#printenv -->", '<!--#include virtual="/etc/passwd"-->'])
def test_directives_are_high(value):
    (f,) = scan(value)
    assert (f.rule, f.severity) == ("ssi.directive", Severity.HIGH)


@pytest.mark.parametrize("value", ["<!-- #1 best seller -->", "<!--#top-->", "<!-- include me -->", "#exec"])
def test_comments_pass(value):
    assert scan(value) == []
