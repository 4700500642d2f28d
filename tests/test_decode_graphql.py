from hypothesis import given, settings, strategies as st

from decode_helpers import by_location, collector, post
from extauthz.decode.parsers import PARSERS, Where


def test_json_request_document_arguments_variables():
    body = '{"query": "query Q($id: ID) { user(name: \\"admin\' --\\", id: $id) { posts(filter: {title: \\"x\\"}) { id } } }", "variables": {"id": "1 or 1=1"}, "operationName": "Q"}'
    got = by_location(post(body, "application/json", path="/graphql"))
    assert got["graphql:query.user(name)"] == ["admin' --"]
    assert got["graphql:query.posts(title)"] == ["x"]
    assert got["graphql:variables.id"] == ["1 or 1=1"]
    assert got["graphql:operationName"] == ["Q"]
    assert "graphql:query" in got


def test_batch_and_application_graphql():
    got = by_location(post('[{"query": "{ a(x: \\"1\\") }"}, {"query": "{ b(y: \\"2\\") }"}]', "application/json"))
    assert got["graphql:[0].query.a(x)"] == ["1"] and got["graphql:[1].query.b(y)"] == ["2"]
    got = by_location(post('mutation { m(t: """block\nstring""") } # "not a string"', "application/graphql"))
    assert got["graphql:query.m(t)"] == ["block\nstring"]
    assert not any("not a string" in v for vs in got.values() for v in vs if not v.startswith("mutation"))


def test_plain_json_with_a_query_key_is_not_graphql():
    got = by_location(post('{"query": "red shoes"}', "application/json"))
    assert got == {"path": ["/api"], "json:$.query": ["red shoes"]}


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=200))
def test_never_raises_deterministic(text):
    runs = []
    for _ in range(2):
        c = collector(max_inputs=20)
        PARSERS["graphql"].parse(c, text, Where("graphql"))
        runs.append(c.inputs)
    assert runs[0] == runs[1]
