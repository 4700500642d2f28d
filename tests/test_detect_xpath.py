from hypothesis import given, settings, strategies as st

from detect_helpers import request, rule_set
from extauthz.decode import Input
from extauthz.detect.xpath import XPathInjection, judge_xpath

DET = XPathInjection()


def rule(value):
    found = judge_xpath(value)
    return found and (found[0], found[1].name)


def test_unions_that_close_the_predicate():
    for v in ("345')]|//*|/a[contains(a,'b", '345"]|//*|/a["a', "x'] | //user/*", "a') | //password | ('",
              "')] | //user[name/text()='admin"):
        assert rule(v) == ("xpath.union", "HIGH"), v


def test_blind_probes():
    for v in ("' and count(/*)=1 and '1'='1", "' or string-length(name(/*[1]))=4 or '",
              "x' and substring(name(/*[1]),1,1)='a", "1' and count(/child::node())>0 and '1'='1",
              "admin' or name(/*)='users' or 'a'='b"):
        assert rule(v) == ("xpath.blind", "HIGH"), v


def test_expressions_alone_are_medium():
    assert rule("count(/child::node())") == ("xpath.expression", "MEDIUM")
    assert rule("//user[position()=1]") == ("xpath.expression", "MEDIUM")


def test_sql_tautologies_are_left_to_sqli_and_text_passes():
    for v in ("' or '1'='1", "' or 1=1 or ''='", "admin'--", "a | b", "C++::std", "see /* comment */",
              "count (of items)", "my name(s)", "https://example.com/a|b", "x || /bin/sh", "(a|b)/c",
              "std::vector<int>", "it's (here) | /there"):
        assert judge_xpath(v) is None, v


def test_names_that_end_like_node_tests_are_no_xpath():
    """`gettext()`, `getposition()`, `grandparent::` are functions and names of other languages."""
    for v in ("Perl's access to the gettext() family of functions", "call getposition() and get_last() first",
              "Foo::grandparent::bar", "use $node() here"):
        assert judge_xpath(v) is None, v
    assert rule("the text() node test") == ("xpath.expression", "MEDIUM")


def test_a_quote_a_page_before_the_xpath_syntax_is_no_probe():
    text = "GNU dbm ('gdbm') is a library of database functions. " + "More prose about it. " * 20
    assert rule(text + "Select the node() of the tree.") == ("xpath.expression", "MEDIUM")
    assert rule(text + "x' and count(/*)=1 and '1'='1") == ("xpath.blind", "HIGH")


def test_through_decode():
    assert rule_set(DET, request("/search?q=345%27)%5d|//*|/a%5bcontains(a,%27b")) == {("xpath.union", "HIGH")}
    assert not rule_set(DET, request("/search?q=c%2B%2B%3A%3Aiterator"))
    assert list(DET.scan_input(Input("json", "$.q", "' or count(/*)=1 or '")))[0].cls == "other"


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("'\"]|)(/*:[ andorcuntme1=")), max_size=300))
def test_never_raises_deterministic(s):
    assert judge_xpath(s) == judge_xpath(s)
