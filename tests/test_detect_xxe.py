from extauthz.decode import Input
from extauthz.detect.xxe import Xxe, judge_xml
from extauthz.finding import Severity
from extauthz.request import Request


def test_external_and_parameter_entities():
    r = judge_xml('<!DOCTYPE foo [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><foo>&xxe;</foo>')
    assert r[0] == "xxe.external-entity" and r[1] is Severity.CRITICAL
    assert judge_xml('<!DOCTYPE a [<!ENTITY % p SYSTEM "http://x/e.dtd"> %p;]>')[1] is Severity.HIGH
    assert judge_xml('<!DOCTYPE a [<!ENTITY % p "<!ENTITY x \'y\'>">]>')[0] == "xxe.parameter-entity"
    assert judge_xml('<!DOCTYPE a SYSTEM "http://evil/x.dtd"><a/>')[0] == "xxe.external-dtd"
    assert judge_xml('<a xmlns:xi="http://www.w3.org/2001/XInclude"><xi:include href="/etc/passwd"/></a>')[0] == "xxe.xinclude"


def test_xinclude_is_an_element_not_the_word():
    ns = 'xmlns:x="http://www.w3.org/2001/XInclude"'
    assert judge_xml(f'<doc {ns}><x:include parse="text" href="file:///etc/passwd"/></doc>')[0] == "xxe.xinclude"
    assert judge_xml('<xi:include href="file:///etc/passwd" parse="text"/>')[0] == "xxe.xinclude"
    for text in ("add unbreak-xinclude-in-manpage.patch to fix a broken XInclude",
                 "use-after-free in xmlXIncludeAddNode() (Closes: #1094238)",
                 "xmllint --xinclude --dropdtd (CVE-2021-3518)",
                 "see http://www.w3.org/2001/XInclude for the include rules"):
        assert judge_xml(text) is None, text


def test_billion_laughs():
    ents = "".join(f'<!ENTITY l{i} "&l{i-1};&l{i-1};">' for i in range(1, 8))
    assert judge_xml(f'<!DOCTYPE a [<!ENTITY l0 "lol">{ents}]><a>&l7;</a>')[0] == "xxe.entity-expansion"


def test_plain_documents_pass():
    assert judge_xml("<!DOCTYPE html><html><body>hi</body></html>") is None
    assert judge_xml('<?xml version="1.0"?><order><id>1</id></order>') is None


def test_raw_body_until_decode_provides_xml_inputs():
    body = b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/hosts">]><r>&x;</r>'
    req = Request(method="POST", body=body, headers={"content-type": ("application/xml",)})
    assert list(Xxe().scan_request(req, []))
    assert not list(Xxe().scan_request(req, [Input("xml", "/r", "x")]))


def test_entity_declared_in_a_parameter_is_a_probe():
    det = Xxe()
    for v in ('<!DOCTYPE xxe [<!ENTITY foo "aaaaaa">]><root>&foo;</root>',
              '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]>', '[<!ENTITY nbsp "\'">]',
              '<!doctype r [ <!entity  greeting  \'hi\' > ]><r>&greeting;</r>'):
        for kind in ("query", "form", "json", "cookie"):
            found = list(det.scan_input(Input(kind, "q", v)))
            assert [(f.rule, f.severity) for f in found] == [("xxe.entity-in-parameter", Severity.HIGH)], (v, kind)
    # a document posted whole (SVG from drawing tools declares internal entities) is judged as before
    svg = '<!DOCTYPE svg [<!ENTITY ns_svg "http://www.w3.org/2000/svg">]><svg xmlns="&ns_svg;"/>'
    assert not list(det.scan_input(Input("multipart", "file", svg)))
    assert not list(det.scan_input(Input("body", "", svg)))
    # words about entities are not declarations
    assert not list(det.scan_input(Input("query", "q", "what does <!ENTITY> mean")))


def test_remote_schema_in_a_parameter_is_an_out_of_band_probe():
    det = Xxe()
    probe = ('<aai xmlns="http://a.b/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
             'xsi:schemaLocation="http://a.b/ http://c5ipg3yq.oast.example/aai.xsd">aai</aai>')
    for v in (probe, probe.replace(" xmlns=", "\nxmlns="),
              "<r xsi:noNamespaceSchemaLocation='https://oob.example/x.xsd'/>"):
        assert [(f.rule, f.severity) for f in det.scan_input(Input("form", "var", v))] == \
            [("xxe.remote-schema", Severity.HIGH)], v
    # a document posted whole names its schema legitimately; words about schemas are not XML
    assert not list(det.scan_input(Input("body", "", probe)))
    assert not list(det.scan_input(Input("query", "q", "set xsi:schemaLocation to http://x/y.xsd")))
    assert not list(det.scan_input(Input("query", "q", '<r xsi:schemaLocation="urn:a a.xsd"/>')))


def test_multipart_xml_part_is_judged_as_its_part_not_the_whole_body():
    """The engine hands a multipart body over as its parts: an XXE part is found there,
    and the raw body (a photo next to it) is not decoded and read again."""
    from extauthz.config import parse_config
    from extauthz.engine import Engine
    xml = '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>'
    body = (b'--b\r\nContent-Disposition: form-data; name="doc"; filename="a.xml"\r\nContent-Type: text/xml\r\n\r\n'
            + xml.encode() + b'\r\n--b--\r\n')
    req = Request(method="POST", path="/up", body=body,
                  headers={"content-type": ("multipart/form-data; boundary=b",)})
    verdict = Engine(parse_config("")).check(req)
    assert any(f.rule.startswith("xxe.") and f.location.startswith("multipart:") for f in verdict.findings)
    assert not list(Xxe().scan_request(req, [Input("multipart", "doc", xml)]))


def test_standard_document_types_are_no_fetch():
    # SVG from drawing tools, XHTML, Jetty/Spring configs, gdb target descriptions
    for doc in ('<?xml version="1.0"?>\n<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" '
                '"http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd">\n<svg/>',
                '<!DOCTYPE Configure PUBLIC "-//Jetty//Configure//EN" "https://www.eclipse.org/jetty/configure_10_0.dtd">',
                '<!DOCTYPE beans PUBLIC "-//SPRING//DTD BEAN//EN" "http://www.springframework.org/dtd/spring-beans.dtd">',
                '<!DOCTYPE feature SYSTEM "gdb-target.dtd">\n<feature name="org.gnu.gdb.i386.core"/>',
                "<!DOCTYPE log4j:configuration SYSTEM 'log4j.dtd'>"):
        assert judge_xml(doc)[1] is Severity.INFO, doc


def test_external_dtds_an_attacker_controls_still_block():
    for doc in ('<!DOCTYPE a SYSTEM "http://evil/x.dtd"><a/>',
                '<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "http://evil.example/svg11.dtd">',
                '<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "http://www.w3.org.evil.example/x.dtd">',
                '<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "http://www.w3.org@evil.example/x.dtd">',
                '<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "http://evil.example\\\\@www.w3.org/x.dtd">',
                '<!DOCTYPE a PUBLIC "x" "http://www.w3.org/x.dtd">',          # no formal public identifier
                '<!DOCTYPE a SYSTEM "file:///etc/passwd">', '<!DOCTYPE a SYSTEM "/var/x.dtd">',
                '<!DOCTYPE a SYSTEM "../../x.dtd">', '<!DOCTYPE a SYSTEM "php://filter/resource=x.dtd">',
                '<?xml-stylesheet type="text/css"?><!DOCTYPE x SYSTEM "test.dtd"><x>&x;</x>'):
        assert judge_xml(doc)[1] >= Severity.HIGH, doc
    # a standard DOCTYPE does not cover what its internal subset declares
    doc = ('<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd" '
           '[<!ENTITY x SYSTEM "file:///etc/passwd">]><svg>&x;</svg>')
    assert judge_xml(doc)[:2] == ("xxe.external-entity", Severity.CRITICAL)


def test_xinclude_of_sibling_xml_files_in_a_document_is_weak():
    doc = '<target>\n  <xi:include href="64bit-core.xml"/>\n  <xi:include href="64bit-sse.xml"/>\n</target>'
    assert judge_xml(doc)[:2] == ("xxe.xinclude", Severity.INFO)
    assert judge_xml(doc, in_parameter=True)[1] is Severity.HIGH  # a probe in a parameter value
    for doc in ('<r><xi:include href="a.xml"/><xi:include href="/etc/passwd" parse="text"/></r>',
                '<r><xi:include href="config.php" parse="text"/></r>', '<r><xi:include href="a.xml" parse="text"/></r>',
                '<r><xi:include href="file:///etc/x.xml"/></r>', '<r><xi:include href="../../x.xml"/></r>',
                '<r><xi:include href="http://evil.example/x.xml"/></r>'):
        assert judge_xml(doc)[1] is Severity.HIGH, doc
