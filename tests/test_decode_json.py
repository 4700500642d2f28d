import json

from hypothesis import given, settings, strategies as st

from decode_helpers import by_location, collector, parse_twice, post, rules, values
from extauthz.decode.parsers import PARSERS, Where
from extauthz.decode.parsers.jsondoc import max_nesting


def test_values_by_jsonpath_numbers_skipped():
    ex = post(json.dumps({"order": {"items": [{"name": "x"}, {"qty": 2}], "note": "hi"}}), "application/json")
    got = by_location(ex)
    assert got["json:$.order.items[0].name"] == ["x"]
    assert got["json:$.order.note"] == ["hi"]
    assert "json:$.order.items[1].qty" not in got


def test_notable_keys_become_inputs():
    ex = post('{"user": {"$gt": ""}, "__proto__": {"isAdmin": true}, "a b": "v", "plain": "p"}', "application/json")
    assert set(values(ex, role="key")) == {"$gt", "__proto__", "a b"}
    assert by_location(ex)["json:$['a b']"] == ["a b", "v"]


def test_duplicate_keys_all_kept():
    ex = post('{"role": "user", "role": "admin"}', "application/json")
    assert values(ex, "json:$.role") == ["user", "admin"]


def test_escapes_and_nested_base64_json():
    ex = post('{"a": "\\u003cscript\\u003e", "b": "eyJ4IjoiPHN2Zz4ifQ=="}', "application/json")
    got = by_location(ex)
    assert got["json:$.a"] == ["<script>"]
    assert got["json:$.b$.x"] == ["<svg>"]
    (inner,) = [i for i in ex.inputs if i.location == "json:$.b$.x"]
    assert inner.chain == ("base64", "json")


def test_max_nesting_ignores_brackets_in_strings():
    assert max_nesting('{"a": "[[[[[[", "b": [[1]]}', 100) == 3
    assert max_nesting('["\\"[[[", [2]]', 100) == 2
    assert max_nesting("[" * 50 + "]" * 50, 10) > 10


def test_too_deep_is_a_limit_not_a_crash():
    ex = post("[" * 10000 + '"x"' + "]" * 10000, "application/json")
    assert "limit.depth" in rules(ex)
    assert values(ex, "json:$")  # inspected as text instead


def test_deep_but_allowed():
    ex = post("[" * 30 + '"deep"' + "]" * 30, "application/json")
    assert values(ex) == ["/api", "deep"]


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=8), children, max_size=5),
    max_leaves=40)


@settings(max_examples=150, deadline=None)
@given(json_values)
def test_every_string_reaches_an_input(doc):
    c = collector()
    PARSERS["json"].parse(c, json.dumps(doc), Where("json"))
    strings = []
    pending = [doc]
    while pending:
        node = pending.pop()
        if isinstance(node, str):
            strings.append(node)
        elif isinstance(node, list):
            pending.extend(node)
        elif isinstance(node, dict):
            pending.extend(node.values())
    raws = [i.raw for i in c.inputs if i.role == "value"]
    for s in strings:
        if s:
            assert s in raws or any(s in r for r in raws)


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=300), st.integers(min_value=1, max_value=40))
def test_never_raises_respects_limits_deterministic(text, max_depth):
    first, second = parse_twice("json", text, Where("json"), max_depth=max_depth)
    assert first == second


def test_a_value_holding_json_without_strings_stays_an_input():
    """Hypothesis found it: the JSON string "[null]" (JSON inside a value) left no Input at all."""
    for doc in (["[null]"], {"a": "[1, 2, true]"}, "{}"):
        c = collector()
        PARSERS["json"].parse(c, json.dumps(doc), Where("json"))
        raws = [i.raw for i in c.inputs if i.role == "value"]
        inner = doc[0] if isinstance(doc, list) else doc["a"] if isinstance(doc, dict) else doc
        assert any(inner in r for r in raws), (doc, raws)
