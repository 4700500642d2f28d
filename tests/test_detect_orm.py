"""ORM lookup injection in parameter names."""
from __future__ import annotations

import pytest

from extauthz.decode import Input
from extauthz.detect.orm import OrmLookupInjection, assess
from extauthz.finding import Severity


@pytest.mark.parametrize("name,value,severity", [
    ("password__startswith", "a", Severity.HIGH), ("user__profile__icontains", "x", Severity.HIGH),
    ("data__has_key", "is_admin", Severity.HIGH), ("price__gte", "10", Severity.MEDIUM),
])
def test_lookups(name, value, severity):
    assert assess(name, value).severity == severity


@pytest.mark.parametrize("name", ["__proto__", "a__b", "user__profile", "csrf__token__x", "first_name", "__startswith"])
def test_not_lookups(name):
    assert assess(name) is None


def test_reads_key_inputs_only():
    det = OrmLookupInjection()
    inputs = [Input("query", "password__startswith", "a"), Input("query", "password__startswith", "password__startswith",
                                                                 role="key")]
    (f,) = det.scan_request(None, inputs)
    assert (f.cls, f.rule, f.severity) == ("other", "orm.lookup-injection", Severity.HIGH)
    assert list(det.scan_request(None, inputs[:1])) == []
