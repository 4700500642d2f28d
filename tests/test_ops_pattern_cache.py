"""Compiled trigger patterns are shared through EXTAUTHZ_PATTERN_CACHE: the --workers
supervisor compiles once and its workers (other processes) load instead of compiling."""
from __future__ import annotations

import os
import subprocess
import sys

BUILD = """
import sys, hyperscan
if sys.argv[1] == "forbid-compile":
    class NoBigCompile(hyperscan.Database):  # small rule databases elsewhere may compile
        def compile(self, *a, **k):
            if k.get("elements", 0) > 100:
                raise SystemExit("compiled the triggers although a cached database was there")
            return super().compile(*a, **k)
    hyperscan.Database = NoBigCompile
from extauthz.config import Config
from extauthz.engine import Engine
v = Engine(Config()).check(__import__("extauthz.request", fromlist=["Request"]).Request(
    path="/x", query="file=..%2f..%2f..%2f..%2fetc%2fpasswd", service="shop"))
print(v.decision.value)
"""


def run(mode: str, cache: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "EXTAUTHZ_PATTERN_CACHE": cache, "PYTHONHASHSEED": "random"}
    return subprocess.run([sys.executable, "-c", BUILD, mode], capture_output=True, text=True, timeout=300, env=env)


def test_second_process_loads_what_the_first_compiled(tmp_path):
    cache = tmp_path / "patterns"
    first = run("compile", str(cache))
    assert first.returncode == 0 and first.stdout.strip() == "deny", first.stderr
    files = list(cache.glob("triggers-*.hsdb"))
    assert len(files) == 1
    second = run("forbid-compile", str(cache))  # another process, another hash seed
    assert second.returncode == 0 and second.stdout.strip() == "deny", second.stderr
    assert list(cache.glob("triggers-*.hsdb")) == files


def test_a_damaged_cache_file_is_compiled_over(tmp_path):
    cache = tmp_path / "patterns"
    assert run("compile", str(cache)).returncode == 0
    (f,) = cache.glob("triggers-*.hsdb")
    f.write_bytes(b"not a hyperscan database")
    again = run("compile", str(cache))
    assert again.returncode == 0 and again.stdout.strip() == "deny", again.stderr
    assert f.stat().st_size > 1000
