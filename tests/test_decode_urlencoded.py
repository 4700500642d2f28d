from hypothesis import given, settings, strategies as st

from decode_helpers import by_location, collector, rules
from extauthz.decode import Extraction, extract
from extauthz.decode.parsers import PARSERS, Where
from extauthz.request import Request


def parse(query: str, **limits):
    c = collector(**limits)
    PARSERS["urlencoded"].parse(c, query, Where("query"))
    return Extraction(c.inputs, c.findings())


def test_values_are_decoded_and_repeated_keys_kept():
    ex = parse("q=running+shoes&id=1&id=2&a[]=x&a[b]=%27")
    got = by_location(ex)
    assert got["query:q"] == ["running shoes"]
    assert got["query:id"] == ["1", "2", "1,2"]
    assert got["query:a[]"] == ["x"]
    assert got["query:a[b]"] == ["'"]


def test_parameter_pollution_is_joined_as_aspnet_does():
    ex = parse("q=select+1&x=1&q=2+from+users")
    (joined,) = [i for i in ex.inputs if i.chain[:1] == ("join",)]
    assert joined.value == "select 1,2 from users" and joined.location == "query:q"


def test_unusual_names_are_inputs_too():
    ex = parse("user[$ne]=1&__proto__[admin]=1&%3Cscript%3E=&plain_name=1")
    keys = {i.value for i in ex.inputs if i.role == "key"}
    assert keys == {"user[$ne]", "__proto__[admin]", "<script>"}


def test_double_encoding_is_undone_and_recorded():
    ex = parse("id=%2527%20or%201%3D1")
    (inp,) = ex.inputs
    assert inp.value == "' or 1=1" and inp.chain == ("percent", "percent") and inp.raw == "%2527%20or%201%3D1"


def test_invalid_percent_reported_once_with_count():
    ex = parse("a=100%&b=%zz")
    (f,) = [f for f in ex.findings if f.rule == "decode.invalid-percent"]
    assert f.location == "query:a" and "2 times" in f.detail


def test_json_inside_a_parameter_is_parsed():
    ex = parse("filter=%7B%22user%22%3A%7B%22%24gt%22%3A%22%22%7D%2C%22q%22%3A%22x%22%7D")
    got = by_location(ex)
    assert got["query:filter$.q"] == ["x"]
    assert got["query:filter$.user.$gt"] == ["$gt"]
    assert not any(i.value.startswith("{") for i in ex.inputs)


def test_many_parameters_hit_the_limit():
    ex = parse("&".join(f"a{i}={i}" for i in range(5000)), max_inputs=100)
    assert len(ex.inputs) == 100 and "limit.inputs" in rules(ex)


def test_query_and_graphql_get():
    ex = extract(Request(path="/graphql", query="query=%7Buser(name%3A%22x%27%22)%7Bid%7D%7D"))
    got = by_location(ex)
    assert got["graphql:query.user(name)"] == ["x'"]


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300), st.integers(min_value=1, max_value=50))
def test_never_raises_respects_limits_deterministic(query, max_inputs):
    a = parse(query, max_inputs=max_inputs)
    b = parse(query, max_inputs=max_inputs)
    assert a.inputs == b.inputs and [f.rule for f in a.findings] == [f.rule for f in b.findings]
    assert len(a.inputs) <= 3 * (max_inputs + 1)
