from decode_helpers import by_location
from extauthz.decode import DecodeLimits, extract
from extauthz.decode.policy import POLICY
from extauthz.request import Request


def headers(**h):
    return {k.replace("_", "-"): (v,) if isinstance(v, str) else v for k, v in h.items()}


def test_user_data_headers_are_inputs_structural_clean_ones_are_not():
    ex = extract(Request(headers=headers(
        user_agent="Mozilla/5.0", referer="https://a.example/?q=%27", x_forwarded_for="1.2.3.4",
        x_custom="anything", accept="text/html,*/*;q=0.8", accept_language="en-US,en;q=0.9",
        sec_ch_ua='"Chromium";v="131", "Not_A Brand";v="24"', host="shop.example.com",
        content_length="12", x_request_id="abc", traceparent="00-abc-01", x_envoy_internal="true")))
    got = by_location(ex)
    assert set(got) == {"path", "header:user-agent", "header:referer", "header:x-forwarded-for", "header:x-custom"}
    assert got["header:referer"] == ["https://a.example/?q='"]


def test_structural_header_with_injection_characters_is_inspected():
    ex = extract(Request(headers=headers(
        accept="${jndi:ldap://x/a}", content_type="%{(#_='multipart/form-data')}", host="a'.example")))
    got = by_location(ex)
    assert got["header:accept"] == ["${jndi:ldap://x/a}"]
    assert "header:content-type" in got and "header:host" in got


def test_every_value_of_a_repeated_header():
    ex = extract(Request(headers={"x-a": ("one", "two")}))
    assert by_location(ex)["header:x-a"] == ["one", "two"]


def test_policy_file_lists_groups():
    assert "cookie" in POLICY.ignore and "accept" in POLICY.structural and "user-agent" not in POLICY.structural


def test_header_flood_hits_the_limit_and_body_still_read():
    many = {f"x-h{i}": ("v",) for i in range(20000)}
    many["content-type"] = ("application/x-www-form-urlencoded",)
    ex = extract(Request(method="POST", headers=many, body=b"q=%27"), DecodeLimits(time_budget_ms=60_000))
    assert by_location(ex)["form:q"] == ["'"]
    assert any(f.rule == "limit.inputs" for f in ex.findings)
