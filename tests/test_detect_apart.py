"""Weak signals need company nearby: in a long value, weak findings far apart do not add up
(extauthz.detect.pipeline.apart)."""
from __future__ import annotations

from extauthz.decode import Input
from extauthz.detect import DetectorSet
from extauthz.detect.pipeline import APART_MIN, NEAR, _place, apart
from extauthz.finding import Finding, Severity, excerpt
from extauthz.request import Hop, Request
from extauthz.verdict import score

DS = DetectorSet.from_toggles({})
REQUEST = Request(method="POST", path="/notes", query="", authority="notes.example.com", hop=Hop.EDGE)
PROSE = "The committee reviewed the quarterly figures and agreed on the plan for spring. " * 30
# two sentences of package descriptions, each a MEDIUM signal on its own
PATH_SENTENCE = "The tool uses the\ninformation in /etc/os-release instead of relying on the LSB files.\n"
COMMAND_SENTENCE = "\ngrep is a utility to search for text in files; it can be used from scripts.\n"


def scan(text: str) -> list[Finding]:
    return DS.scan(REQUEST, [Input("json", "$.text", text)])


def weak(findings: list[Finding]) -> dict[str, Severity]:
    return {f.rule: f.severity for f in findings if f.rule in ("lfi.restricted-file", "cmdi.chained-command")}


def test_each_sentence_is_a_weak_signal_and_together_they_block():
    assert weak(scan(PATH_SENTENCE)) == {"lfi.restricted-file": Severity.MEDIUM}
    assert weak(scan(COMMAND_SENTENCE)) == {"cmdi.chained-command": Severity.MEDIUM}
    near = scan(PROSE[:600] + PATH_SENTENCE + COMMAND_SENTENCE + PROSE)
    assert set(weak(near).values()) == {Severity.MEDIUM} and len(weak(near)) == 2 and score(near) >= 8


def test_in_a_short_value_they_add_up_wherever_they_are():
    text = PATH_SENTENCE + PROSE[:600] + COMMAND_SENTENCE
    assert len(text) < APART_MIN
    assert score(scan(text)) >= 8


def test_far_apart_in_a_long_text_only_one_counts():
    text = PROSE[:600] + PATH_SENTENCE + PROSE + COMMAND_SENTENCE + PROSE[:600]
    found = scan(text)
    assert sorted(weak(found).values()) == [Severity.INFO, Severity.MEDIUM] and score(found) < 8
    demoted = [f for f in found if f.severity is Severity.INFO and f.rule in weak(found)]
    assert "not counted" in demoted[0].detail and "medium" in demoted[0].detail


def test_far_apart_in_a_text_read_as_windows():
    text = PROSE * 2 + PATH_SENTENCE + PROSE * 3 + COMMAND_SENTENCE + PROSE
    assert len(text) > 3 * 4096
    assert score(scan(text)) < 8


def test_strong_findings_count_wherever_they_are():
    text = PROSE[:600] + PATH_SENTENCE + PROSE + "x' union select password from users-- " + PROSE[:600]
    found = scan(text)
    assert any(f.rule.startswith("sqli.") and f.severity >= Severity.HIGH for f in found)
    assert weak(found) == {"lfi.restricted-file": Severity.MEDIUM}


def test_findings_are_placed_by_their_excerpt():
    value = "a" * 3000 + "line one\nline two /etc/os-release\n" + "b" * 3000
    k = value.find("/etc/os-release")
    assert abs(_place(value, excerpt(value, k, k + 15)) - (k + 7)) <= 2
    assert _place(value, excerpt(value, 10, 12)) in range(0, 100)
    assert _place(value, "[redacted]") == -1


def test_unplaceable_findings_count_as_before():
    value = "word " * 600
    findings = [Finding("lfi", "lfi.x", Severity.MEDIUM, "json:$.t", "[redacted]"),
                Finding("rce", "cmdi.y", Severity.MEDIUM, "json:$.t", excerpt(value, 2900, 2910))]
    apart(findings, [0, 0], [value])
    assert [f.severity for f in findings] == [Severity.MEDIUM, Severity.MEDIUM]


def test_clusters_chain_by_distance():
    value = "".join(f"<{i:04d}>" + "." * (NEAR - 10) for i in range(10))
    spots = [value.find("<0000>"), value.find("<0001>"), value.find("<0007>")]
    findings = [Finding("x", f"r.{i}", Severity.MEDIUM, "json:$.t", excerpt(value, k, k + 6))
                for i, k in enumerate(spots)]
    apart(findings, [0, 0, 0], [value])
    assert [f.severity for f in findings] == [Severity.MEDIUM, Severity.MEDIUM, Severity.INFO]
