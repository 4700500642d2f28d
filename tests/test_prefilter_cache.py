"""Compiled trigger databases are cached on disk, keyed by their patterns."""
from __future__ import annotations

import subprocess
import sys

from extauthz.detect import prefilter
from extauthz.detect.base import Detector


class _Fake(Detector):
    name = "fake"
    triggers = ("union\\s+select", "<script")


def test_cache_roundtrip_and_order_independence(tmp_path, monkeypatch):
    monkeypatch.setenv("EXTAUTHZ_CACHE_DIR", str(tmp_path))
    prefilter._CACHE.clear()
    pf = prefilter.Prefilter([_Fake()])
    files = list(tmp_path.glob("hs-*.db"))
    assert len(files) == 1
    assert pf.candidates("1 UNION  SELECT 2") == {0}
    prefilter._CACHE.clear()
    _Fake.triggers = ("<script", "union\\s+select")  # same patterns, other order: same key
    try:
        pf2 = prefilter.Prefilter([_Fake()])
    finally:
        _Fake.triggers = ("union\\s+select", "<script")
    assert list(tmp_path.glob("hs-*.db")) == files
    assert pf2.candidates("<SCRIPT>") == {0} and pf2.candidates("hello") == set()


def test_corrupt_cache_file_is_ignored_and_replaced(tmp_path, monkeypatch):
    monkeypatch.setenv("EXTAUTHZ_CACHE_DIR", str(tmp_path))
    prefilter._CACHE.clear()
    prefilter.Prefilter([_Fake()])
    (path,) = tmp_path.glob("hs-*.db")
    path.write_bytes(b"not a database")
    prefilter._CACHE.clear()
    pf = prefilter.Prefilter([_Fake()])
    assert pf.candidates("union select") == {0}
    assert path.read_bytes() != b"not a database"


def test_trigger_text_does_not_depend_on_hash_seed():
    dump = "from extauthz.detect import REGISTRY\nfor n, c in sorted(REGISTRY.items()):\n" \
           "    print(n, sorted(c.triggers or ()))"
    outs = {subprocess.run([sys.executable, "-c", dump], env={"PYTHONHASHSEED": seed}, capture_output=True,
                           text=True, check=True).stdout for seed in ("1", "2")}
    assert len(outs) == 1
