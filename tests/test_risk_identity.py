"""Actor identity: client address through trusted hops only, hashed credentials."""
from __future__ import annotations

import base64
import json

from extauthz.config import parse_config
from extauthz.risk.identity import ActorIdentifier, client_ip, jwt_subject, normalize_ip

from risk_helpers import req


def ident(text: str = "") -> ActorIdentifier:
    return ActorIdentifier(parse_config(text).risk)


def test_source_address_without_trusted_hops_ignores_forwarded_for():
    r = req(ip="203.0.113.5", headers={"x-forwarded-for": "1.2.3.4"})
    assert client_ip(r, 0) == "203.0.113.5"


def test_forwarded_for_through_trusted_hops_only():
    # client spoofs 6.6.6.6; a trusted proxy appends the real client; Envoy appends that proxy
    r = req(ip="10.0.0.2", headers={"x-forwarded-for": "6.6.6.6, 198.51.100.7, 10.0.0.1"})
    assert client_ip(r, 1) == "10.0.0.1"
    assert client_ip(r, 2) == "198.51.100.7"
    assert client_ip(req(ip="10.0.0.2", headers={"x-forwarded-for": "198.51.100.7"}), 2) == "10.0.0.2"
    assert client_ip(req(ip="10.0.0.2", headers={"x-forwarded-for": "junk, 10.0.0.1"}), 2) == "10.0.0.2"


def test_repeated_forwarded_for_headers_are_one_list():
    r = req(ip="10.0.0.2", headers={"x-forwarded-for": ("6.6.6.6", "198.51.100.7, 10.0.0.1")})
    assert client_ip(r, 2) == "198.51.100.7"


def test_addresses_are_normalized():
    assert normalize_ip("::ffff:192.0.2.1") == "192.0.2.1"
    assert normalize_ip("[2001:db8::1]:443") == "2001:db8::1"
    assert normalize_ip("192.0.2.1:8080") == "192.0.2.1"
    assert normalize_ip("not an ip") == ""


def test_actor_keys_choose_what_identifies_an_actor():
    by_ip = ident()
    a, b = by_ip.identify(req(ua="curl/8")), by_ip.identify(req(ua="Mozilla/5.0"))
    assert a.id == b.id and len(a.id) == 20
    by_ua = ident("risk: {actor_keys: [ip, user_agent]}")
    assert by_ua.identify(req(ua="curl/8")).id != by_ua.identify(req(ua="Mozilla/5.0")).id
    assert by_ip.identify(req(ip="", principal="")).id == ""  # nothing identifies it


def test_api_keys_are_hashed_never_kept():
    i = ident("risk: {actor_keys: [ip, api_key]}")
    a = i.identify(req(headers={"x-api-key": "sk_live_SECRET123"}))
    b = i.identify(req(headers={"x-api-key": "sk_live_OTHER"}))
    assert a.id != b.id
    assert a.label.credential.startswith("api_key:") and "SECRET" not in repr(a)


def _jwt(claims: dict) -> str:
    enc = lambda d: base64.urlsafe_b64encode(json.dumps(d).encode()).rstrip(b"=").decode()  # noqa: E731
    return f"{enc({'alg': 'none'})}.{enc(claims)}.sig"


def test_jwt_subject_identifies_and_is_hashed():
    assert jwt_subject("Bearer " + _jwt({"sub": "alice"})) == "alice"
    assert jwt_subject("Bearer not.a.jwt!") == ""
    assert jwt_subject("Basic dXNlcjpwYXNz") == ""
    assert jwt_subject("Bearer " + "a." * 5000) == ""
    i = ident("risk: {actor_keys: [jwt_subject]}")
    a = i.identify(req(ip="1.1.1.1", headers={"authorization": "Bearer " + _jwt({"sub": "alice"})}))
    b = i.identify(req(ip="2.2.2.2", headers={"authorization": "Bearer " + _jwt({"sub": "alice"})}))
    assert a.id == b.id and a.label.credential.startswith("jwt:") and "alice" not in repr(a)
