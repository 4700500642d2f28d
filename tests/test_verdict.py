from extauthz.config import Exclusion, ServicePolicy
from extauthz.finding import Finding, Severity
from extauthz.request import Request
from extauthz.verdict import Action, Decision, PolicyDecider, score


def f(rule, sev, loc="query:q", cls=None):
    return Finding(cls or rule.split(".")[0], rule, sev, loc)


def test_each_rule_counts_once_and_rules_add_up():
    assert score([f("sqli.a", Severity.MEDIUM)] * 5) == 4
    assert score([f("sqli.a", Severity.MEDIUM), f("sqli.a", Severity.HIGH)]) == 8
    assert score([f("sqli.a", Severity.MEDIUM), f("xss.b", Severity.MEDIUM)]) == 8


def test_one_confident_finding_blocks_weak_signals_need_company():
    d = PolicyDecider.of("defaults", ServicePolicy())
    req = Request(service="shop")
    assert d.decide(req, [f("sqli.a", Severity.HIGH)]).decision is Decision.DENY
    assert d.decide(req, [f("sqli.a", Severity.MEDIUM)]).decision is Decision.ALLOW
    assert d.decide(req, [f("sqli.a", Severity.MEDIUM), f("xss.b", Severity.MEDIUM)]).denied


def test_monitor_allows_but_records():
    d = PolicyDecider.of("shop", ServicePolicy(mode="monitor"))
    v = d.decide(Request(service="shop"), [f("sqli.a", Severity.CRITICAL)])
    assert v.decision is Decision.ALLOW and v.action is Action.MONITOR and v.findings


def test_exclusions_match_rule_route_and_parameter():
    pol = ServicePolicy(exclusions=(
        Exclusion(rules=("sqli.quote-*",), routes=("/api/*/notes",), parameters=("json:$.body",)),
        Exclusion(rules=("xss",), routes=("/cms/**",)),
    ))
    d = PolicyDecider.of("shop", pol)
    hit = f("sqli.quote-break", Severity.HIGH, "json:$.body")
    assert not d.decide(Request(path="/api/7/notes", service="shop"), [hit]).denied
    assert d.decide(Request(path="/api/7/notes/x", service="shop"), [hit]).denied
    assert d.decide(Request(path="/api/7/notes", service="shop"), [f("sqli.quote-break", Severity.HIGH, "query:q")]).denied
    assert not d.decide(Request(path="/cms/a/b/c", service="shop"), [f("xss.script", Severity.HIGH)]).denied
    assert d.decide(Request(path="/cmsx", service="shop"), [f("xss.script", Severity.HIGH)]).denied
