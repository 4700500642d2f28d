from detect_helpers import findings, request, rule_set
from extauthz.decode import Input
from extauthz.detect.nosqli import NoSqlInjection, operator_in_name, operator_in_value, where_js
from extauthz.finding import Severity

DET = NoSqlInjection()


def test_operator_keys_in_names():
    assert operator_in_name("user[$ne]") == "ne"
    assert operator_in_name("$.login.password.$regex") == "regex"
    assert operator_in_name("$.price") is None and operator_in_name("total$") is None
    found = findings(DET, request("/login?user[$where]=1"))
    assert found and found[0].severity is Severity.CRITICAL and found[0].location == "query:user[$where]"
    assert rule_set(DET, request("/login", "POST", {"content-type": "application/json"},
                                 '{"user": "a", "password": {"$gt": ""}}')) == {("nosqli.operator-key", "HIGH")}
    assert not findings(DET, request("/shop?price=$5&total$=3"))


def test_operator_objects_and_where_js():
    assert operator_in_value('{"$where": "sleep(100)"}') >= 0
    assert operator_in_value("{$ne: null}") >= 0
    assert where_js("';return true;var a='") >= 0
    assert where_js("db.users.find({})") >= 0


def test_benign_text_passes():
    for v in ("price $gt 5", "costs $in total", "return to sender", "the db.example.com host", "$100 or less"):
        assert operator_in_value(v) < 0 and where_js(v) < 0, v


def test_query_documents_between_mesh_workloads_need_company():
    """A Mongo-style filter one service sends another is ordinary; the user's JSON at the edge
    is not, and server-side JavaScript ($where) is never."""
    import json

    from extauthz.config import parse_config
    from extauthz.engine import Engine
    from extauthz.request import Hop, Peer, Request

    engine = Engine(parse_config(""))
    caller = Peer("10.244.1.5", 40000, "spiffe://cluster.local/ns/prod/sa/reports")

    def decision(doc, hop, source=caller):
        return engine.check(Request(method="POST", path="/api/orders/search", body=json.dumps(doc).encode(),
                                    headers={"content-type": ("application/json",)}, hop=hop, service="orders",
                                    source=source)).decision.value

    query = {"filter": {"status": {"$in": ["paid", "shipped"]}, "total": {"$gt": 100}}}
    assert decision(query, Hop.SIDECAR_INBOUND) == "allow"
    assert decision(query, Hop.EDGE) == "deny"
    assert decision(query, Hop.SIDECAR_INBOUND, Peer("10.244.1.5", 40000)) == "deny"  # no identity
    assert decision({"filter": {"$where": "sleep(5000)"}}, Hop.SIDECAR_INBOUND) == "deny"
