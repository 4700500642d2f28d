"""XSLT injection: stylesheets that bind host code, run scripts or read files; stylesheets and prose that do not pass."""
from __future__ import annotations

import pytest

from detect_helpers import request, rule_set
from extauthz.budget import request_cpu
from extauthz.decode import Input
from extauthz.detect.xslt import Xslt, judge_xslt
from extauthz.finding import Severity

DET = Xslt()
XSL = 'xmlns:xsl="http://www.w3.org/1999/XSL/Transform"'

ATTACKS = {
    f'<xsl:stylesheet version="1.0" {XSL} xmlns:php="http://php.net/xsl"><xsl:template match="/">'
    '<xsl:value-of select="php:function(\'passthru\',\'ls -la\')"/></xsl:template></xsl:stylesheet>':
        ("xslt.extension-function", Severity.CRITICAL),
    f"<xsl:stylesheet {XSL} xmlns:p='http://php.net/xsl'><xsl:copy-of select=\"p:functionString('system','id')\"/>":
        ("xslt.extension-function", Severity.CRITICAL),
    f'<xsl:stylesheet {XSL} xmlns:rt="http://xml.apache.org/xalan/java/java.lang.Runtime" '
    'xmlns:ob="http://xml.apache.org/xalan/java/java.lang.Object"><xsl:variable name="r" select="rt:getRuntime()"/>'
    '<xsl:value-of select="rt:exec($r,\'id\')"/>': ("xslt.extension-function", Severity.CRITICAL),
    f'<xsl:stylesheet {XSL} xmlns:msxsl="urn:schemas-microsoft-com:xslt" xmlns:u="urn:my">'
    '<msxsl:script language="C#" implements-prefix="u">public string x(){return "";}</msxsl:script>':
        ("xslt.script", Severity.HIGH),
    f'<xsl:stylesheet {XSL}><xsl:copy-of select="document(\'/etc/passwd\')"/></xsl:stylesheet>':
        ("xslt.file-read", Severity.HIGH),
    '<xsl:value-of select="unparsed-text(\'file:///etc/passwd\', \'utf-8\')"/>': ("xslt.file-read", Severity.HIGH),
    '<xsl:value-of select="system-property(\'xsl:vendor\')"/>': ("xslt.fingerprint", Severity.MEDIUM),
}

BENIGN = [
    f'<xsl:stylesheet version="1.0" {XSL}><xsl:template match="/"><b><xsl:value-of select="title"/></b>'
    '</xsl:template></xsl:stylesheet>',
    '<xsl:copy-of select="document(\'\')/*/data"/>',  # the stylesheet's own data, not a file
    "how do I call php:function('strtoupper', .) from an XSLT stylesheet?",
    "the java: namespace and document('/etc/passwd') in prose",
    f'<xsl:stylesheet {XSL} xmlns:ex="http://exslt.org/common"><xsl:value-of select="ex:node-set($x)"/>',
]


@pytest.mark.parametrize("value,expected", list(ATTACKS.items()))
def test_attacks(value: str, expected: tuple[str, Severity]) -> None:
    hit = judge_xslt(value)
    assert hit is not None and (hit.rule, hit.severity) == expected, hit
    for kind in ("query", "form", "json", "multipart"):
        assert {(f.rule, f.severity) for f in DET.scan_input(Input(kind, "q", value))} == {expected}


@pytest.mark.parametrize("value", BENIGN)
def test_benign(value: str) -> None:
    assert judge_xslt(value) is None


def test_stylesheet_posted_as_xml_body_is_read_whole() -> None:
    body = next(iter(ATTACKS))
    req = request("/transform", "POST", {"content-type": "application/xml"}, body)
    assert ("xslt.extension-function", "CRITICAL") in rule_set(DET, req)


def test_query_through_decode() -> None:
    from urllib.parse import quote
    req = request("/search?q=" + quote(next(iter(ATTACKS))))
    assert rule_set(DET, req) == {("xslt.extension-function", "CRITICAL")}


def test_bounded() -> None:
    value = "<xsl:x " + "xmlns:a='http://php.net/xsl' " * 3000 + "a:" * 20000
    t0 = request_cpu()
    judge_xslt(value)
    assert request_cpu() - t0 < 0.2
