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
