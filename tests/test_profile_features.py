"""Value features of the behaviour profile: classes, types (a lattice), shapes, templates."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from extauthz.profile.features import (PUNCT_BIT, TYPE_ID, TYPE_NAMES, UPPER, accepts, class_mask, features, join,
                                       punctuation_counts, shape)
from extauthz.profile.paths import crowded_prefixes, normalize_name, retemplate, template


@pytest.mark.parametrize("value,kind", [
    ("123", "int"), ("-4.5", "float"), ("true", "bool"), ("off", "bool"),
    ("3f2b8c1e-9a7d-4e21-8f00-1c2d3e4f5a6b", "uuid"), ("1F767F17239C9B670A39E9B10C3825F4", "hex"),
    ("2024-01-02", "datetime"), ("2024-01-02T10:00:00Z", "datetime"), ("10:30", "datetime"),
    ("ana@example.es", "email"), ("127.0.0.1", "ip"), ("::1", "ip"), ("https://example.com/a?b=1", "url"),
    ("aGVsbG8gd29ybGQgaGVsbG8=", "base64"), ("shing-mi", "token"), ("Jamón Ibérico", "text"),
    ("jade@antiviru@sgra@tuitos.gs", "text"), ("x' or 1=1--", "text"), ("2/", "text"),
])
def test_value_types(value, kind):
    assert TYPE_NAMES[features(value)[2]] == kind


def test_type_lattice_joins_to_the_most_specific_common_type():
    t = TYPE_ID
    assert join(t["int"], t["int"]) == t["int"]
    assert join(t["int"], t["float"]) == t["float"]
    assert join(t["int"], t["hex"]) == t["token"]
    assert join(t["float"], t["token"]) == t["text"]
    assert accepts(t["float"], t["int"]) and not accepts(t["int"], t["float"])
    assert accepts(t["text"], t["email"]) and not accepts(t["email"], t["text"])


@given(st.sampled_from(range(len(TYPE_NAMES))), st.sampled_from(range(len(TYPE_NAMES))),
       st.sampled_from(range(len(TYPE_NAMES))))
def test_join_is_a_lattice_join(a, b, c):
    assert join(a, b) == join(b, a)
    assert join(join(a, b), c) == join(a, join(b, c))
    assert accepts(join(a, b), a) and accepts(join(a, b), b)


def test_classes_tell_punctuation_apart():
    assert class_mask("ab") != class_mask("a'b")
    assert class_mask("A1") & UPPER
    assert class_mask("a'b") & PUNCT_BIT["'"]
    assert dict(punctuation_counts("a@b@c.d", class_mask("a@b@c.d"))) == {
        "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~".index("@"): 2, "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~".index("."): 1}


def test_shapes_collapse_runs_of_one_class():
    assert shape("09082221G") == "0A"
    assert shape("5A958042P") == "0A0A"
    assert shape("ana@ej.es") == "a@a.a"
    assert shape("x" * 500) == "~"


@settings(max_examples=300)
@given(st.text(max_size=3000))
def test_features_of_any_text_are_bounded_and_total(value):
    length, mask, vtype, punct = features(value)
    assert length == len(value)
    assert mask >= 0 and -1 <= vtype < len(TYPE_NAMES)
    assert all(c >= 1 for _, c in punct)
    assert len(shape(value)) <= 24


@pytest.mark.parametrize("path,tpl", [
    ("/users/123", "/users/{int}"),
    ("/users/3f2b8c1e-9a7d-4e21-8f00-1c2d3e4f5a6b/orders", "/users/{uuid}/orders"),
    ("/img/1F767F17239C9B670A39E9B10C3825F4.png", "/img/{hex}.png"),
    ("/d/2024-01-02", "/d/{date}"),
    ("/x/aZ3kP9qL2mN8vB4xC7tY1", "/x/{token}"),
    ("/tienda1/publico/anadir.jsp", "/tienda1/publico/anadir.jsp"),
    ("/a/{int}", "/a/{str}"),  # a literal brace is not a placeholder
    ("/" + "/".join("s" for _ in range(20)), "/" + "/".join(["s"] * 12 + ["{rest}"])),
])
def test_templates(path, tpl):
    assert template(path) == tpl


def test_crowded_prefix_collapses_to_slug():
    tpls = [f"/posts/post-number-{w}" for w in "abcdefghijklmnopqrstuvwxyz"]
    crowded = crowded_prefixes(tpls, 10)
    assert crowded == {"/posts"}
    assert {retemplate(t, frozenset(crowded)) for t in tpls} == {"/posts/{slug}"}
    assert template("/posts/another-one", frozenset(crowded)) == "/posts/{slug}"
    assert template("/posts/<script>", frozenset(crowded)) == "/posts/{str}"


def test_parameter_names_generalize_indices_and_ids():
    assert normalize_name("$.items[2].sku") == "$.items[*].sku"
    assert normalize_name("$.prices.12345") == "$.prices.{int}"
    assert normalize_name("ids[0]") == "ids[*]"
    assert normalize_name("/order/item[3]/@id") == "/order/item[*]/@id"
    assert normalize_name("q") == "q"
