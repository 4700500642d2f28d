import pytest

from extauthz.config import Config, ConfigError, parse_config, reference


def test_builtin_defaults_block():
    cfg = Config()
    assert cfg.defaults.mode == "block"
    assert cfg.server.listen == "127.0.0.1:9001"


def test_service_inherits_defaults_and_overrides():
    cfg = parse_config("""
defaults:
  threshold: 12
  detectors: {sqli: true}
  exclusions: [{rules: [xss], routes: [/cms/**]}]
services:
  checkout:
    mode: monitor
    detectors: {xss: false}
    exclusions: [{rules: [sqli.*], parameters: ["query:q"]}]
    aliases: [checkout.shop.svc]
""")
    pol = cfg.services["checkout"]
    assert pol.mode == "monitor" and pol.threshold == 12
    assert dict(pol.detectors) == {"sqli": True, "xss": False}
    assert [e.rules for e in pol.exclusions] == [("xss",), ("sqli.*",)]
    assert pol.aliases == ("checkout.shop.svc",)
    assert cfg.defaults.aliases == ()


@pytest.mark.parametrize("text,key,words", [
    ("defaults:\n  mode: blok\n", "defaults.mode", "one of block, monitor, off"),
    ("services:\n  a:\n    treshold: 3\n", "services.a.treshold", "unknown key"),
    ("defaults:\n  threshold: high\n", "defaults.threshold", "expected an integer"),
    ("defaults:\n  threshold: 0\n", "defaults.threshold", "greater than 0"),
    ("server:\n  listen: nowhere\n", "server.listen", "HOST:PORT"),
    ("defaults:\n  deny_status: 99\n", "defaults.deny_status", "HTTP status"),
    ("version: 2\n", "version", "format version"),
    ("- a\n- b\n", "", "must be a mapping"),
    ("defaults: {mode: [\n", "", "not valid YAML"),
    ("services:\n  a:\n    aliases: [b]\n  b: {}\n", "services.a.aliases", "already names"),
])
def test_errors_name_the_key(text, key, words):
    with pytest.raises(ConfigError) as err:
        parse_config(text, source="t.yaml")
    assert err.value.key == key
    assert words in str(err.value)
    assert str(err.value).startswith("t.yaml: ")


def test_reference_covers_every_policy_key():
    keys = {row[0] for row in reference()}
    for k in ("defaults.mode", "defaults.threshold", "defaults.exclusions[].rules", "services", "server.workers"):
        assert k in keys


def test_a_bare_off_in_yaml_is_the_word_off():
    cfg = parse_config("defaults:\n  mode: off\n  profile: {mode: off}\n")
    assert cfg.defaults.mode == "off" and cfg.defaults.profile.mode == "off"
