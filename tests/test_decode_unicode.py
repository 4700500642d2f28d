from hypothesis import given, settings, strategies as st

from extauthz.decode.layers.unicode import normalise_nfkc


def test_fullwidth_lookalikes_become_ascii():
    assert normalise_nfkc("＜ｓｃｒｉｐｔ＞").value == "<script>"
    assert normalise_nfkc("１＇ ｏｒ １＝１").value == "1' or 1=1"


def test_ascii_and_stable_text_untouched():
    assert normalise_nfkc("plain") is None
    assert normalise_nfkc("Belén") is None


@settings(deadline=None)
@given(st.text(max_size=100))
def test_never_raises_and_idempotent(text):
    res = normalise_nfkc(text)
    if res is not None:
        again = normalise_nfkc(res.value)
        assert again is None or again.value == res.value
