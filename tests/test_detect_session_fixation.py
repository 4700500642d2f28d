from extauthz.decode import Input
from extauthz.detect.session_fixation import SessionFixation, cookie_setting
from extauthz.request import Request

DET = SessionFixation()


def found(referer=None, name="jsessionid", host="app.example.com"):
    h = {"host": (host,)}
    if referer:
        h["referer"] = (referer,)
    return list(DET.scan_request(Request(headers=h, authority=host, query=f"{name}=74B0CB41"),
                                 [Input("query", name, "74B0CB41")]))


def test_session_param_from_elsewhere_is_fixation():
    assert found()
    assert found("https://attacker.example.com/")
    assert found("https://app.example.com.evil.net/")


def test_generic_names_need_an_offsite_referrer_to_block():
    assert found(None, name="session_id")[0].severity.name == "MEDIUM"
    assert found("https://evil.example/", name="session_id")[0].severity.name == "HIGH"


def test_same_site_referer_and_other_params_pass():
    assert not found("https://app.example.com/previous-page")
    assert not found(None, name="username")


def test_cookie_setting_values():
    assert cookie_setting('<script>document.cookie="sessionid=1234; domain=.example.dom";</script>') >= 0
    assert cookie_setting(".cookie;expires=") >= 0
    assert cookie_setting('<meta http-equiv="Set-Cookie" content="a=b">') >= 0
    assert cookie_setting("we use cookies; see the cookie policy") < 0


def test_through_decode_json_and_encoded_names():
    from detect_helpers import request, rule_set
    assert rule_set(DET, request("/login", "POST", {"content-type": "application/json"},
                                 '{"user": {"PHPSESSID": "abc"}}')) == {("session.fixation-param", "HIGH")}
    assert rule_set(DET, request("/x?PHPSESS%49D=abc")) == {("session.fixation-param", "HIGH")}
    assert not rule_set(DET, request("/x?q=sessionid"))
    assert not rule_set(DET, request("/x", headers={"cookie": "PHPSESSID=abc"}))
