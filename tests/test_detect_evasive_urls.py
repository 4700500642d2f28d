from hypothesis import given, settings, strategies as st

from extauthz.detect.evasive_urls import evasive_url


def test_reasons():
    assert evasive_url('"h tt\tp://example.com/"') == "blanks inside the scheme or host"
    assert evasive_url("http&#58;//evil&#46;example/") == "character references inside the scheme or host"
    assert evasive_url("http://bank.example@evil.example/") == "a host name in the user-info part"
    assert evasive_url("http://google:ha.ckers.org") == "a port that is not a number"
    assert evasive_url("http://www.gohttp://www.google.com/ogle.com/") == "a second scheme glued to the host"
    assert evasive_url("http://1113982867/") == "an IP address in an unusual spelling"


def test_ordinary_urls():
    for v in ("https://example.com/", "http://user@example.com/", "https://example.com:8443/a?b=c&#38;d",
              "https://web.archive.org/web/2020/https://example.com/", "/relative/path", "mailto:a@b.c",
              "javascript:alert(1)", "http://66.102.7.147/", "//cdn.example/x.js", "news://x//y"):
        assert evasive_url(v) == "", v


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("htp:/@&#;. \t0x1a")), max_size=600) | st.text(max_size=600))
def test_never_raises(s):
    assert isinstance(evasive_url(s), str)
