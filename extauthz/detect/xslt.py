"""XSLT injection: a stylesheet that makes the server's XSLT processor run code or read files.

Apps that transform XML with a stylesheet the client supplies (or splice client
text into one) hand the client a programming language. What turns that into an
attack is the processor's extensions, which a stylesheet names explicitly:

- extension functions bound to the host language: PHP's
  `xmlns:php="http://php.net/xsl"` + `php:function('passthru','id')`, Xalan's Java
  namespaces (`xmlns:rt="http://xml.apache.org/xalan/java/java.lang.Runtime"`,
  `rt:exec(...)`), `xalan://` and `java:` bindings: CRITICAL (rce);
- script blocks: `<msxsl:script>` (.NET), `<xsl:script>`, `<xalan:script>`: HIGH (rce);
- `document('file:///etc/passwd')` / `unparsed-text('/etc/passwd')`: local files or
  URLs read by the processor: HIGH (lfi);
- `system-property('xsl:vendor')`: the processor fingerprinted, the probe before the
  attack: MEDIUM.

Only text that is a stylesheet counts (an `<xsl:...>` element or the XSLT
namespace), so prose about "php:function" passes. Plain str.find over a bounded,
lower-cased copy; no regular expressions on request data.
"""
from __future__ import annotations

from typing import Iterable, NamedTuple, Sequence

from extauthz.decode import Input
from extauthz.detect.base import Detector, register
from extauthz.finding import Finding, Severity, excerpt
from extauthz.request import Request

MAX_TEXT = 65536
_XSLT_MARKERS = ("<xsl:", "/1999/xsl/transform")
# Namespace URIs that bind a prefix to host-language functions.
_CODE_NAMESPACES = ("http://php.net/xsl", "xalan/java", "xalan://", "\"java:", "'java:",
                    "http://saxon.sf.net/java-type", "urn:schemas-microsoft-com:xslt")
_SCRIPT_ELEMENTS = ("<msxsl:script", "<xsl:script", "<xalan:script", "<lxslt:script")
_READERS = ("document(", "unparsed-text(", "unparsed-text-lines(", "doc(", "json-doc(")
_LOCAL_TARGETS = ("file:", "/", "\\\\", "c:", "http:", "https:", "ftp:", "php:", "jar:", "expect:", "netdoc:")


class XsltHit(NamedTuple):
    cls: str
    rule: str
    severity: Severity
    at: int
    detail: str


def judge_xslt(text: str) -> XsltHit | None:
    """The strongest XSLT-injection signal in `text`, or None when it is not a stylesheet."""
    low = text[:MAX_TEXT].lower()
    if not any(m in low for m in _XSLT_MARKERS):
        return None
    for prefix, at in _code_prefixes(low):
        call = low.find(prefix + ":", at)
        while call >= 0:
            k = call + len(prefix) + 1
            while k < len(low) and (low[k].isalnum() or low[k] in "-_."):
                k += 1
            if low.startswith("(", k):
                return XsltHit("rce", "xslt.extension-function", Severity.CRITICAL, call,
                               f"extension function {low[call:k][:40]}() bound to host code")
            call = low.find(prefix + ":", k)
    for element in _SCRIPT_ELEMENTS:
        at = low.find(element)
        if at >= 0:
            return XsltHit("rce", "xslt.script", Severity.HIGH, at, f"{element}> block in a stylesheet")
    for reader in _READERS:
        at = low.find(reader)
        while at >= 0:
            if at == 0 or not (low[at - 1].isalnum() or low[at - 1] in "-_"):
                arg = low[at + len(reader):at + len(reader) + 256].lstrip(" \t\r\n\"'")
                if arg.startswith(_LOCAL_TARGETS):
                    return XsltHit("lfi", "xslt.file-read", Severity.HIGH, at, f"{reader}{arg[:32]}...) read by the processor")
            at = low.find(reader, at + len(reader))
    at = low.find("system-property(")
    if at >= 0 and "xsl:" in low[at:at + 64]:
        return XsltHit("rce", "xslt.fingerprint", Severity.MEDIUM, at, "system-property('xsl:...') probe")
    return None


def _code_prefixes(low: str) -> list[tuple[str, int]]:
    """Namespace prefixes declared for host-language namespaces: (prefix, offset after the declaration)."""
    out: list[tuple[str, int]] = []
    at = low.find("xmlns:")
    seen = 0
    while at >= 0 and seen < 64 and len(out) < 8:
        seen += 1
        eq = low.find("=", at, at + 128)
        if eq > at:
            prefix = low[at + 6:eq].strip()
            uri = low[eq + 1:eq + 200].lstrip()
            quote = uri[:1]
            end = uri.find(quote, 1) if quote in ("'", '"') else -1
            value = uri[:end + 1] if end > 0 else uri[:128]
            if prefix and prefix.replace("-", "").replace("_", "").isalnum() and \
                    any(ns in value for ns in _CODE_NAMESPACES):
                out.append((prefix, eq))
        at = low.find("xmlns:", at + 6)
    return out


@register
class Xslt(Detector):
    name = "xslt"
    triggers = (r"<xsl:", r"/1999/xsl/transform")
    kinds = None

    def scan_input(self, inp: Input) -> Iterable[Finding]:
        hit = judge_xslt(inp.value)
        if hit is None:
            return ()
        return (Finding(hit.cls, hit.rule, hit.severity, inp.location,
                        excerpt(inp.value, hit.at, hit.at + 48, inp.location), inp.chain, detail=hit.detail),)

    def scan_request(self, request: Request, inputs: Sequence[Input]) -> Iterable[Finding]:
        """A stylesheet posted as an XML body: the decode stage hands over its element texts
        and attributes, not the `<xsl:...>` markup that says it is a stylesheet; read the body."""
        body = request.body
        if not body or body.find(b"xsl", 0, MAX_TEXT) < 0 or not any(i.kind == "xml" for i in inputs):
            return
        yield from self.scan_input(Input("body", "", body[:MAX_TEXT].decode("utf-8", "replace")))
