from hypothesis import given, settings, strategies as st

from extauthz.detect.ldapi import find_breakout


def test_breakouts_found():
    for v in ("bar)(&)", "printer)(uid=*)", "*)(uid=*))(|(uid=*", "eb9adbd87d)!(sn=*", "aaa*aaa)(cn>=bob)",
              "value)(gidNumber<=100", "john)(sn~=smith", "admin)(|", "val)&(cn=admin", "test)\t(\t|"):
        assert find_breakout(v) >= 0, v


def test_balanced_filters_and_text_pass():
    for v in ("(&(objectCategory=computer)(userAccountControl:1.2.840.113556.1.4.803:=8192))",
              "(objectSID=S-1-5-21-73586283-152049171-839522115-1111)", "(a+b)*c", "(1+2)+(3+4)",
              ":)(hi there", "f(x)(y=2)", "smile :) (see above)"):
        assert find_breakout(v) < 0, v


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("()&|!=*<>~: abc1")), max_size=300))
def test_never_raises(s):
    assert find_breakout(s) == find_breakout(s)


def test_parameter_names_are_inspected_through_decode():
    from detect_helpers import request, rule_set
    from extauthz.detect.ldapi import LdapInjection
    assert rule_set(LdapInjection(), request("/x?x)(%7C(cn=1")) == {("ldapi.filter-breakout", "HIGH")}


def test_a_wildcard_then_a_composite_filter():
    """`*(|(mail=*))`: the application's (mail=…) becomes a match-all and a filter of the attacker's."""
    from extauthz.config import parse_config
    from extauthz.engine import Engine
    from extauthz.request import Request
    from urllib.parse import quote_plus

    engine = Engine(parse_config(""))
    for value in ("*(|(mail=*))", "*(|(objectClass=*))", "*(&(uid=admin)(userPassword=*))", " * ( | (cn=*))"):
        v = engine.check(Request(path="/login", query="user=" + quote_plus(value)))
        assert v.decision.value == "deny" and "ldapi.filter-breakout" in v.rules, value
    for value in ("(|(cn=*))", "*(deprecated)", "* (see notes)", "*(|)", "5*(3+4)"):
        v = engine.check(Request(path="/login", query="user=" + quote_plus(value)))
        assert "ldapi.filter-breakout" not in v.rules, value
