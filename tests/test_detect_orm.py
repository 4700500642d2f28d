"""ORM lookup injection in parameter names."""
from __future__ import annotations

import pytest

from extauthz.decode import Input
from extauthz.detect.orm import OrmLookupInjection, assess, json_member_names
from extauthz.finding import Severity
from extauthz.request import Request


@pytest.mark.parametrize("name,value,severity", [
    ("password__startswith", "a", Severity.HIGH), ("user__profile__icontains", "x", Severity.HIGH),
    ("data__has_key", "is_admin", Severity.HIGH), ("price__gte", "10", Severity.MEDIUM),
])
def test_lookups(name, value, severity):
    assert assess(name, value).severity == severity


@pytest.mark.parametrize("name", ["__proto__", "a__b", "user__profile", "csrf__token__x", "first_name", "__startswith"])
def test_not_lookups(name):
    assert assess(name) is None


def test_reads_plain_names_and_keys():
    """Plain names are not key Inputs (decode keeps only unusual ones): the Inputs' names are read."""
    det = OrmLookupInjection()
    (f,) = det.scan_request(None, [Input("query", "password__startswith", "a")])
    assert (f.cls, f.rule, f.severity, f.location) == ("other", "orm.lookup-injection", Severity.HIGH,
                                                        "query:password__startswith")
    (f,) = det.scan_request(None, [Input("json", "$['x']", "user__profile__icontains", role="key")])
    assert f.severity == Severity.HIGH
    assert list(det.scan_request(None, [Input("query", "first_name", "a"), Input("header", "x__gte", "1")])) == []


def test_json_members_without_string_values():
    """{"password__isnull": true} yields no Input; the body's member names are scanned."""
    det = OrmLookupInjection()
    req = Request(method="POST", headers={"content-type": ("application/json",)},
                  body=b'{"a": 1, "password__isnull": true, "note": "x__gte"}')
    (f,) = det.scan_request(req, [])
    assert (f.severity, f.location) == (Severity.HIGH, "json:$.password__isnull")
    assert list(json_member_names('{"a__b": "c__gte", "price__gte" : 3}')) == ["a__b", "price__gte"]
    plain = Request(method="POST", headers={"content-type": ("text/plain",)}, body=b'{"password__isnull": true}')
    assert list(det.scan_request(plain, [])) == []


def test_engine_blocks_secret_lookup_in_query():
    from extauthz.config import Config
    from extauthz.engine import Engine
    v = Engine(Config()).check(Request(path="/users", query="password__startswith=a"))
    assert "orm.lookup-injection" in {f.rule for f in v.findings} and v.score >= 8
    v = Engine(Config()).check(Request(path="/products", query="price__gte=10&__VIEWSTATE=x"))
    assert v.score < 8


def test_screen_is_compiled_with_the_detector():
    """The raw-text screen's Hyperscan database is built at construction, not on a first request."""
    det = OrmLookupInjection()
    assert det._screen._db is not None
    assert det._screen.occurs_in(b"a__startswith=") and not det._screen.occurs_in(b"__VIEWSTATE=x")
