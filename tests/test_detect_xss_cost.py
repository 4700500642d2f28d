"""XSS detector cost: tag-dense hostile text is read in linear time with a small constant.

A tag starts at every "<" and an unclosed one runs to the end of the text, so naive
reading is quadratic (`<svg onload=` * 700 used to take 30-40 ms of engine time). The
tag scanner shares attribute reads between overlapping tags, each attribute is judged
once, handler reads and <style> bodies are bounded; these tests hold that.
"""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from extauthz.detect.html_tokens import scan_attributes, scan_tags
from extauthz.detect.xss import analyse
from extauthz.finding import Severity

from detect_helpers import best_cpu_ms

TAG_DENSE = ["<svg onload=", "<img src=x onerror=", "<a ", "<?php ", "<style>", "<svg/onload=", "<a b=",
             "<x y='", "<img src=x onerror=alert(1)>", "<style>x</", "</style><style>", "<a onclick=\"",
             "<iframe srcdoc='", "<svg><set attributeName=href to=", "<x a=1 b=2 c=3 "]


def cpu_ms(value: str) -> float:
    return best_cpu_ms(analyse, value)


def fill(unit: str, size: int) -> str:
    return (unit * (size // len(unit) + 1))[:size]


@pytest.mark.parametrize("unit", TAG_DENSE)
def test_8k_of_tag_dense_text_is_cheap(unit: str) -> None:
    # the engine budget is 20 ms per 8 KiB for all detectors together; xss takes ~2-4 ms
    assert cpu_ms(fill(unit, 8192)) < 12


@pytest.mark.parametrize("unit", ["<svg onload=", "<a ", "<style>", "<x y='"])
def test_cost_grows_linearly(unit: str) -> None:
    small, large = cpu_ms(fill(unit, 2048)), cpu_ms(fill(unit, 8192))
    assert large < 4 * small * 1.5 + 2  # quadratic would be 16x


@pytest.mark.parametrize("unit", ["<svg onload=", "<img src=x onerror=", "<svg/onload="])
def test_dense_handlers_still_block(unit: str) -> None:
    v = analyse(fill(unit, 8192))
    assert v is not None and v.severity >= Severity.HIGH and v.rule == "event-handler"


def test_a_late_critical_handler_is_found_after_many_plain_ones() -> None:
    v = analyse("<svg onload=x>" * 20 + "<img src=x onerror=alert(1)>")
    assert v is not None and v.severity is Severity.CRITICAL


def test_style_body_is_read_once_and_still_judged() -> None:
    assert analyse("<style>" * 50 + "body{x:expression(alert(1))}").rule == "css"
    assert analyse("<style></style>" * 50 + "<style>@import 'http://evil/x.css';</style>").rule == "css"


MARKUP = st.sampled_from(["<", ">", "/", " ", "=", '"', "'", "a", "svg", "onload", "x", "\t", "?", "<a"])


@settings(max_examples=300, deadline=None)
@given(st.lists(MARKUP, max_size=120))
def test_shared_attribute_reads_equal_fresh_reads(parts: list[str]) -> None:
    """Each tag's attributes, read with the shared memo, are what a fresh read from its name gives."""
    text = "".join(parts)
    for tag in scan_tags(text):
        if tag.end_tag:
            continue
        k = tag.start + 1 + len(tag.name)
        assert (tag.attrs, tag.end, tag.closed) == scan_attributes(text, k)
