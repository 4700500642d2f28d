"""XXE: XML that asks the parser to fetch or expand entities, and XInclude.

A DOCTYPE is harmless by itself; what matters is what it declares:
- an external entity (`<!ENTITY x SYSTEM "file:///etc/passwd">`, `PUBLIC "..." "http://..."`):
  HIGH, CRITICAL when the system id is a local file or a language wrapper;
- a parameter entity (`<!ENTITY % p ...>`, used for out-of-band exfiltration): HIGH;
- an external DTD (`<!DOCTYPE x SYSTEM "http://evil/x.dtd">`): HIGH;
- many internal entities referring to each other (billion laughs): HIGH;
- XInclude (`<xi:include href=...>` / the XInclude namespace): HIGH;
- any entity declared inside a parameter value (query, form field, JSON string, header,
  cookie): HIGH. A document posted as the body may carry internal entities (SVG from
  drawing tools declares `<!ENTITY ns_svg "...">`), but a form field holding
  `<!DOCTYPE x [<!ENTITY foo "bar">]>` is a probe of whether the parser expands them,
  the first step of XXE;
- an XML fragment in a parameter value whose `xsi:schemaLocation` /
  `xsi:noNamespaceSchemaLocation` names a remote schema: HIGH. Validating parsers
  fetch it (out-of-band interaction: the scanner learns the value reached an XML
  parser, and the fetch is an SSRF). Documents posted as the body name schemas
  legitimately and are not judged by this.
Looks at XML bodies and at XML-ish values (a parameter holding a document).
Until the decode stage hands over XML bodies as Inputs, scan_request reads an
XML request body itself.
"""
from __future__ import annotations

from typing import Iterable, Sequence

from extauthz.decode import Input
from extauthz.detect.base import Detector, register
from extauthz.finding import Finding, Severity, excerpt
from extauthz.request import Request
from extauthz.rules import rule_lines

MAX_DOC = 65536
MAX_DECLS = 256
LOCAL_SCHEMES = ("file:", "php:", "expect:", "jar:", "netdoc:", "gopher:", "/", "c:", "\\\\")


def _quoted_after(low: str, i: int) -> str:
    """The first quoted literal at or after low[i] (bounded)."""
    q1, q2 = low.find('"', i, i + 400), low.find("'", i, i + 400)
    qs = [q for q in (q1, q2) if q >= 0]
    if not qs:
        return ""
    q = min(qs)
    end = low.find(low[q], q + 1, q + 2048)
    return low[q + 1:end] if end > q else low[q + 1:q + 2048]


# Input kinds that hold one value, not a document: a DTD there is never content.
PARAMETER_KINDS = frozenset({"query", "form", "json", "header", "cookie", "graphql", "path"})


def judge_xml(text: str, in_parameter: bool = False) -> tuple[str, Severity, int, str] | None:
    """(rule, severity, offset, detail) of the strongest XXE signal in `text`
    (`in_parameter`: the text is one parameter's value, see the module docstring)."""
    low = text[:MAX_DOC].lower()
    best: tuple[str, Severity, int, str] | None = None

    def keep(cand: tuple[str, Severity, int, str]) -> None:
        nonlocal best
        if best is None or cand[1] > best[1]:
            best = cand

    d = low.find("<!doctype")
    if d >= 0:
        head = low[d:d + 400].split("[", 1)[0].split(">", 1)[0]
        if " system" in head or " public" in head:
            keep(_external_dtd(head, d, _uses_entities(low)))
    i = low.find("<!entity")
    internal = 0
    n = 0
    while i >= 0 and n < MAX_DECLS:
        n += 1
        decl = low[i:i + 4096].split(">", 1)[0]
        words = decl[8:].split()
        parameter = bool(words) and words[0] == "%"
        if " system" in decl or " public" in decl:
            sysid = _quoted_after(low, i + decl.rfind(" system" if " system" in decl else " public"))
            if " public" in decl and " system" not in decl:
                rest = decl[decl.find(" public") + 7:]
                lits = [p for p in rest.replace("'", '"').split('"')[1::2]]
                sysid = lits[1] if len(lits) > 1 else (lits[0] if lits else "")
            sev = Severity.CRITICAL if sysid.strip().startswith(LOCAL_SCHEMES) else Severity.HIGH
            keep(("xxe.external-entity", sev, i, f"external entity {sysid[:40]!r}"))
        elif parameter:
            keep(("xxe.parameter-entity", Severity.HIGH, i, "parameter entity"))
        else:
            internal += 1
            if in_parameter and len(words) >= 2:
                keep(("xxe.entity-in-parameter", Severity.HIGH, i, "entity declared in a parameter value"))
        i = low.find("<!entity", i + 8)
    if internal >= 5 and low.count("&", 0, MAX_DOC) >= 10:
        keep(("xxe.entity-expansion", Severity.HIGH, 0, f"{internal} internal entities (entity expansion)"))
    if in_parameter and low.lstrip().startswith("<"):
        s = low.find("schemalocation")
        while s >= 0:
            if low[max(0, s - 24):s].endswith(("xsi:", "xsi:nonamespace")):
                lit = _quoted_after(low, s)
                if "http:" in lit or "https:" in lit or "ftp:" in lit or "file:" in lit:
                    keep(("xxe.remote-schema", Severity.HIGH, s, "parameter value names a remote XML schema"))
                    break
            s = low.find("schemalocation", s + 14)
    x = _xinclude_element(low)
    if x >= 0:
        if not in_parameter and _sibling_includes(low, x):
            keep(("xxe.xinclude", Severity.INFO, x, "XInclude of sibling XML files"))
        else:
            keep(("xxe.xinclude", Severity.HIGH, x, "XInclude"))
    return best


def _standard_hosts() -> frozenset[str]:
    return frozenset(rule_lines("xml_dtd_hosts.txt"))


def _host_of(url: str) -> str:
    """The host a URL's authority names (`\\`, `?`, `#` end it as `/` does; userinfo dropped)."""
    rest = url.split("://", 1)[1] if "://" in url else ""
    for stop in "/\\?#":
        rest = rest.split(stop, 1)[0]
    return rest.rsplit("@", 1)[-1].split(":", 1)[0].strip(".")


_PREDEFINED = frozenset({"amp", "lt", "gt", "quot", "apos"})


def _uses_entities(low: str) -> bool:
    """The document references an entity XML does not predefine (`&x;`): its declaration
    has to come from a DTD (bounded: the first MAX_DECLS references)."""
    i = low.find("&", 0, MAX_DOC)
    n = 0
    while i >= 0 and n < MAX_DECLS:
        n += 1
        end = low.find(";", i + 1, i + 34)
        name = low[i + 1:end] if end > i else ""
        if name and not name.startswith("#") and name not in _PREDEFINED and \
                name.replace("-", "").replace("_", "").replace(".", "").isalnum():
            return True
        i = low.find("&", i + 1, MAX_DOC)
    return False


def _external_dtd(head: str, at: int, uses_entities: bool) -> tuple[str, Severity, int, str]:
    """How far an external DTD reaches. `<!DOCTYPE x SYSTEM "http://evil/x.dtd">` makes a
    parser that loads DTDs fetch the attacker's declarations (HIGH). Two shapes that
    documents carry are a document type, not a fetch (LOW): a formal public identifier
    with its DTD's canonical URL on a standards host (rules/xml_dtd_hosts.txt: SVG,
    XHTML, DocBook, Jetty, Spring configs) and a bare relative file name (`SYSTEM
    "gdb-target.dtd"`, `"log4j.dtd"`: no scheme, no directory, nothing to reach) in a
    document that uses no entity of it (`<!DOCTYPE x SYSTEM "test.dtd"><x>&x;</x>` asks
    the parser to load the DTD and expand what it declares: HIGH)."""
    lits = head.replace("'", '"').split('"')[1::2]
    public = " public" in head and " system" not in head
    sysid = (lits[1] if len(lits) > 1 else "") if public else (lits[0] if lits else "")
    sysid = sysid.strip()
    if public and lits and lits[0].startswith(("-//", "+//", "iso")) and "//" in lits[0][3:]:
        host = _host_of(sysid)
        hosts = _standard_hosts()
        if sysid.startswith(("http://", "https://")) and host and (
                host in hosts or any(host.endswith("." + h) for h in hosts)):
            return ("xxe.external-dtd", Severity.INFO, at, "DOCTYPE names a standard document type")
    if not public and not uses_entities and sysid.endswith(".dtd") and not any(c in sysid for c in "/\\:%&") and ".." not in sysid:
        return ("xxe.external-dtd", Severity.INFO, at, "DOCTYPE names a DTD by a relative file name")
    return ("xxe.external-dtd", Severity.HIGH, at, "DOCTYPE loads an external DTD")


def _sibling_includes(low: str, first: int) -> bool:
    """Every XInclude of the document names a sibling XML file by a bare relative name
    (`<xi:include href="64bit-core.xml"/>`, how gdb target descriptions and DocBook books
    are split) and parses it as XML: no scheme, no directory, no climb, no `parse="text"`
    (which reads any file as text). Bounded: the first MAX_DECLS includes."""
    tag = first
    n = 0
    while tag >= 0 and n < MAX_DECLS:
        n += 1
        end = low.find(">", tag, tag + 1024)
        elem = low[tag:end if end > 0 else tag + 1024]
        h = elem.find("href")
        href = _quoted_after(elem, h) if h >= 0 else ""
        if "parse" in elem or not href.endswith(".xml") or any(c in href for c in "/\\:%&") or ".." in href:
            return False
        tag = low.find(":include", tag + 8, MAX_DOC)
        tag = low.rfind("<", max(0, tag - 32), tag) if tag >= 0 else -1
    return True


def _xinclude_element(low: str) -> int:
    """Where an XInclude element starts: `<xi:include`, or `<p:include` with the XInclude
    namespace declared (http://www.w3.org/2001/XInclude); -1 when there is none. The word
    alone is not one ("fix a broken XInclude in the manpage")."""
    tag = low.find("<xi:include", 0, MAX_DOC)
    if tag >= 0:
        return tag
    ns = low.find("/xinclude", 0, MAX_DOC)
    if ns < 0 or "xmlns" not in low[max(0, ns - 64):ns]:
        return -1
    tag = low.find(":include", 0, MAX_DOC)
    while tag >= 0:
        start = low.rfind("<", max(0, tag - 32), tag)
        if start >= 0 and low[start + 1:tag].replace("-", "").replace("_", "").isalnum():
            return start
        tag = low.find(":include", tag + 8, MAX_DOC)
    return -1


@register
class Xxe(Detector):
    name = "xxe"
    triggers = (r"<!doctype", r"<!entity", r"xinclude", r"xi:include", r"schemalocation")
    kinds = None

    def scan_input(self, inp: Input) -> Iterable[Finding]:
        found = judge_xml(inp.value, inp.kind in PARAMETER_KINDS)
        if found is None:
            return ()
        rule, sev, at, detail = found
        return (Finding("xxe", rule, sev, inp.location, excerpt(inp.value, at, at + 48, inp.location), inp.chain,
                        detail=detail),)

    def scan_request(self, request: Request, inputs: Sequence[Input]) -> Iterable[Finding]:
        body = request.body
        # `<!DOCTYPE`/`<!ENTITY`, or XInclude (`xi:include`, the `.../XInclude` namespace)
        if not body or body.find(b"<", 0, MAX_DOC) < 0 or \
                (body.find(b"<!", 0, MAX_DOC) < 0 and body.find(b"nclude", 0, MAX_DOC) < 0):
            return
        if any(i.kind in ("xml", "body", "multipart") for i in inputs):
            # the decoder handed the body over as Inputs (a multipart body: its parts), the
            # DOCTYPE as one of its own: whether the document uses the entities of a DTD named
            # by a relative file name is only seen in the whole body
            for inp in inputs:
                if inp.name.endswith("!doctype") and body.find(b"&", 0, MAX_DOC) >= 0:
                    low = inp.value[:MAX_DOC].lower()
                    head = low[low.find("<!doctype"):][:400].split("[", 1)[0].split(">", 1)[0]
                    if head and _external_dtd(head, 0, False)[1] < Severity.HIGH and \
                            _external_dtd(head, 0, True)[1] >= Severity.HIGH and \
                            _uses_entities(body[:MAX_DOC].decode("utf-8", "replace").lower()):
                        yield Finding("xxe", "xxe.external-dtd", Severity.HIGH, inp.location,
                                      excerpt(inp.value, 0, 48, inp.location), inp.chain,
                                      detail="DOCTYPE names a DTD whose entities the document uses")
                        return
            return
        text = body[:MAX_DOC].decode("utf-8", "replace")
        yield from self.scan_input(Input("body", "", text))
