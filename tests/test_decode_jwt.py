import base64
import json

from hypothesis import given, settings, strategies as st

from decode_helpers import by_location
from extauthz.decode import extract
from extauthz.decode.layers.jwt import decode_jwt
from extauthz.request import Request


def seg(obj) -> str:
    return base64.urlsafe_b64encode(json.dumps(obj).encode()).decode().rstrip("=")


TOKEN = seg({"alg": "HS256", "kid": "../../dev/null"}) + "." + seg({"sub": "admin' --"}) + ".c2ln"


def test_header_and_claims_become_json():
    assert json.loads(decode_jwt(TOKEN).value) == [{"alg": "HS256", "kid": "../../dev/null"}, {"sub": "admin' --"}]


def test_not_a_token():
    assert decode_jwt("eyJhbGciOi.notjson.x") is None
    assert decode_jwt("plain.text.here") is None
    assert decode_jwt(seg([1, 2]) + "." + seg({}) + ".x") is None


def test_tokens_in_cookies_and_bearer_and_basic_credentials():
    basic = base64.b64encode(b"admin' or 1=1--:s3cret").decode()
    got = by_location(extract(Request(headers={"cookie": (f"jwt={TOKEN}",), "authorization": (f"Bearer {TOKEN}",),
                                               "proxy-authorization": (f"Basic {basic}",)})))
    assert got["cookie:jwt$[0].kid"] == ["../../dev/null"]
    assert got["header:authorization$[1].sub"] == ["admin' --"]
    assert got["header:proxy-authorization.user"] == ["admin' or 1=1--"]
    assert got["header:proxy-authorization.password"] == ["s3cret"]


@settings(deadline=None)
@given(st.text(max_size=200))
def test_never_raises(text):
    decode_jwt("eyJ" + text)
    decode_jwt(text)
