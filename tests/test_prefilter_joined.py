"""One joined trigger scan per request gives every Input at least the candidates of its own scan.

Prefilter.candidates_each scans all of a request's values as one buffer; a
missing candidate would silently skip a detector, so these tests compare it
with the one-value-at-a-time scan (Prefilter.candidates) for every registered
detector's triggers, on attack and benign values in any grouping.
"""
from __future__ import annotations

import functools

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from extauthz.detect import DetectorSet
from extauthz.detect import prefilter
from extauthz.detect.base import Detector
from extauthz.detect.prefilter import SEPARATOR, Prefilter, anchored_at_separator

from fuzz_helpers import hostile_text, value_text

ALL = DetectorSet.from_toggles({})
PF = ALL._prefilter

# Values that hit triggers of many detectors, anchored ones included (leading
# commands, `$`-terminated URLs), and benign values next to them.
SAMPLES = [
    "1' or '1'='1", "<script>alert(1)</script>", "../../etc/passwd", "${jndi:ldap://x/a}",
    "; cat /etc/passwd", "whoami", "  ls -la", "id", "cat", "'ab'c", "if /i", "http??", "https",
    "{{7*7}}", "<?php system($_GET[a]); ?>", "() { :; }; /bin/bash -c id", "$$", "->$x", "a::$b",
    "user_name = 1", "__proto__", "%{#a}", "\r\nSet-Cookie: a=b", "running shoes", "42", "",
    "Mozilla/5.0 (X11; Linux x86_64)", "sqlmap/1.7", "{\"$gt\": \"\"}", "*)(uid=*", "file\n",
    "a" * 300, "ping -c 1 127.0.0.1", "<!ENTITY x SYSTEM \"file:///etc/passwd\">", "\udcff<svg onload=x>",
    "wget\n", "x\x1fwhoami",
]


def _assert_superset(values: list[str]) -> None:
    joined = PF.candidates_each(values)
    assert len(joined) == len(values)
    for value, got in zip(values, joined):
        alone = PF.candidates(value)
        assert alone <= got, (value, sorted(alone - got))


def test_every_sample_alone_and_all_together():
    for v in SAMPLES:
        _assert_superset([v])
    _assert_superset(SAMPLES)
    _assert_superset(list(reversed(SAMPLES)))


def test_anchored_triggers_still_match_in_the_middle_of_a_request():
    """`^`/`$` triggers fire for a value that is neither first nor last in the buffer."""
    for v in ("whoami", "  ls -la", "https", "file\n", "if /i"):
        alone = PF.candidates(v)
        assert alone, v
        assert alone <= PF.candidates_each(["benign", v, "benign too"])[1]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(st.sampled_from(SAMPLES), value_text(), hostile_text()), max_size=12))
def test_joined_scan_never_misses_a_candidate(values):
    _assert_superset(values)


def test_a_flood_of_matches_falls_back_to_exact_per_value_scans():
    values = ["'" * 4000, "../" * 2000, "ok", "<svg onload=x>"]
    assert PF.candidates_each(values) == [PF.candidates(v) for v in values]


def test_a_lone_surrogate_value_is_scanned_on_its_own():
    values = ["\ud800; cat /etc/passwd", "<script>x</script>"]
    got = PF.candidates_each(values)
    assert got[0] == PF.candidates(values[0]) and PF.candidates(values[1]) <= got[1]


def test_no_trigger_matches_the_separator():
    assert PF.candidates_each([SEPARATOR, "", SEPARATOR * 3]) == [set(PF.always)] * 3


class _Anchored(Detector):
    name = "anchored"
    triggers = ("^cmd(?:[ ;]|$)", "end$", "[$^]x")


def test_anchors_are_rewritten_outside_character_classes_only():
    assert anchored_at_separator("^a[^b]$") == "(?:^|\\x1f)a[^b](?:$|\\n?\\x1f)"
    assert anchored_at_separator("[]^$]\\$\\^") == "[]^$]\\$\\^"
    with pytest.raises(ValueError):
        anchored_at_separator("\\Aabc")
    pf = Prefilter([_Anchored()])
    assert pf.candidates_each(["x cmd", "cmd x", "the end", "end.", "$x"]) == [set(), {0}, {0}, set(), {0}]


def test_the_joined_database_is_cached_like_the_single_match_one(tmp_path, monkeypatch):
    monkeypatch.setenv("EXTAUTHZ_CACHE_DIR", str(tmp_path))
    prefilter._CACHE.clear()
    Prefilter([_Anchored()]).candidates_each(["cmd"])
    assert len(list(tmp_path.glob("hs-*.db"))) == 2
    prefilter._CACHE.clear()
    assert Prefilter([_Anchored()]).candidates_each(["cmd"]) == [{0}]
    assert len(list(tmp_path.glob("hs-*.db"))) == 2


def test_word_classes_are_widened_outside_character_classes_only() -> None:
    w = prefilter.widened
    assert w("(?:^|\\W)or\\W") == "(?:^|[^a-z0-9_])or[^a-z0-9_]"
    assert w("json_\\w+\\s*\\(") == "json_[a-z0-9_\\x{80}-\\x{10ffff}]+\\s*\\("
    assert w("[\\w.\\W]x\\\\w") == "[\\w.\\W]x\\\\w"  # inside a class, and an escaped backslash, as written
    assert anchored_at_separator("^\\w$") == "(?:^|\\x1f)[a-z0-9_\\x{80}-\\x{10ffff}](?:$|\\n?\\x1f)"


@functools.lru_cache(maxsize=2)
def _database(patterns: tuple[str, ...]):
    import hyperscan
    db = hyperscan.Database()
    db.compile(expressions=[p.encode() for p in patterns], ids=list(range(len(patterns))),
               elements=len(patterns), flags=[prefilter._FLAGS] * len(patterns))
    return db


def _matches(patterns: tuple[str, ...], value: str) -> set[int]:
    hits: set[int] = set()
    _database(patterns).scan(value.encode("utf-8", "surrogatepass"), match_event_handler=lambda i, *_: hits.add(i))
    return hits


WORDY = tuple(sorted({p for d in ALL.detectors for p in d.triggers or () if "\\w" in p or "\\W" in p}))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(SAMPLES + ["Ñandú or sleep(1)", "éselect", "json_ñ(", "x_schema (", "é union é"])
                | value_text() | hostile_text(), min_size=1, max_size=4).map(" ".join))
def test_widened_triggers_match_wherever_the_unicode_ones_do(value: str) -> None:
    """The word-class triggers (sqli's), compiled as written with UCP and widened: every trigger
    the first matches, the second matches too (a superset: a detector call more, never a miss)."""
    assert WORDY, "the triggers with \\w or \\W moved: update this test"
    assert _matches(WORDY, value) <= _matches(tuple(prefilter.widened(p) for p in WORDY), value)
