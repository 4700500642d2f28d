from hypothesis import given, settings, strategies as st

from decode_helpers import by_location, parse_twice, post, rules, values
from extauthz.decode.parsers import Where
from extauthz.decode.parsers.xmldoc import xml_refs

XXE = ('<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE foo [ <!ENTITY xxe SYSTEM "file:///etc/passwd"> ]>\n'
       '<order id="7" xmlns="urn:x"><note>&xxe;</note><item>a &amp;lt; b</item><item><![CDATA[<script>]]></item></order>')


def test_elements_attributes_prolog_and_doctype():
    got = by_location(post(XXE, "application/xml"))
    assert got["xml:!doctype"] == ['<!DOCTYPE foo [ <!ENTITY xxe SYSTEM "file:///etc/passwd"> ]>']
    assert got["xml:?xml"] == ['xml version="1.0" encoding="UTF-8"']
    assert got["xml:/order/@id"] == ["7"]
    assert got["xml:/order/note"] == ["&xxe;"]  # never expanded
    assert got["xml:/order/item"] == ["a &lt; b", "a < b"]
    assert got["xml:/order/item[2]"] == ["<script>"]
    assert not any(k.endswith("@xmlns") for k in got)


def test_billion_laughs_is_not_expanded():
    lol = ('<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
           + "".join(f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10 if i else "&lol;" * 10}">' for i in range(10))
           + ']><lolz>&lol9;</lolz>')
    ex = post(lol, "application/xml")
    assert values(ex, "xml:/lolz") == ["&lol9;"]
    assert sum(len(v) for v in values(ex)) < 2 * len(lol)


def test_soap_envelope():
    soap = ('<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>'
            '<m:GetUser xmlns:m="urn:u"><m:Name>x\' or 1=1</m:Name></m:GetUser></soap:Body></soap:Envelope>')
    got = by_location(post(soap, "application/soap+xml"))
    assert got["xml:/soap:Envelope/soap:Body/m:GetUser/m:Name"] == ["x' or 1=1"]


def test_tolerant_of_broken_markup():
    got = by_location(post("<a><b>one<c>two</a> 1 < 2 </b><d x='1>2'>three", "application/xml"))
    assert got["xml:/a/b/c"] == ["two"]
    assert got["xml:/a/b"] == ["one"]
    assert got["xml:/d/@x"] == ["1>2"]  # </a> closed b and c too
    assert got["xml:/d"] == ["three"]


def test_deep_nesting_is_flattened_with_a_finding():
    ex = post("<a>" * 1000 + "deep" + "</a>" * 1000, "application/xml")
    assert "limit.depth" in rules(ex) and "deep" in values(ex)
    ex = post("<a>" * 50000, "application/xml")
    assert {"limit.depth", "limit.inputs"} <= rules(ex)


def test_references():
    assert xml_refs("&lt;&#60;&#x3C;&amp;amp;&custom;") == "<<<&amp;&custom;"


def test_xml_inside_a_parameter():
    from extauthz.decode import extract
    from extauthz.request import Request
    ex = extract(Request(query="data=%3C%3Fxml%20version%3D%221.0%22%3F%3E%3C!DOCTYPE%20x%20%5B%3C!ENTITY%20e%20SYSTEM%20%22http%3A%2F%2Fevil%22%3E%5D%3E%3Cx%3E%26e%3B%3C%2Fx%3E"))
    got = by_location(ex)
    assert got["query:data!doctype"] == ['<!DOCTYPE x [<!ENTITY e SYSTEM "http://evil">]>']
    assert got["query:data/x"] == ["&e;"]


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("<>/!?[]-='\"&;# abcxml\n")), max_size=300),
       st.integers(min_value=1, max_value=20))
def test_never_raises_respects_limits_deterministic(text, max_inputs):
    first, second = parse_twice("xml", text, Where("xml"), max_inputs=max_inputs, max_depth=5)
    assert first == second
    assert len(first[0]) <= 3 * max_inputs
