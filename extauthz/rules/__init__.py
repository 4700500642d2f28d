"""Rule data the detectors load: plain text and YAML files beside this module.

Data (keyword lists, file names, user agents) lives here rather than in code so
that it can be reviewed and extended without touching a detector. Each file is
read once per process; callers keep what they build from it.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

RULES_DIR = Path(__file__).resolve().parent


@lru_cache(maxsize=None)
def rule_lines(name: str) -> tuple[str, ...]:
    """Non-empty lines of a text rule file, without `#` comments or surrounding blanks."""
    out = []
    for line in (RULES_DIR / name).read_text(encoding="utf-8").splitlines():
        line = line.split(" #", 1)[0].strip() if not line.startswith("#") else ""
        if line:
            out.append(line)
    return tuple(out)


@lru_cache(maxsize=None)
def rule_yaml(name: str) -> Any:
    """A YAML rule file, parsed."""
    with open(RULES_DIR / name, encoding="utf-8") as fh:
        return yaml.safe_load(fh)


@lru_cache(maxsize=None)
def rule_words(name: str, key: str) -> frozenset[str]:
    """One list of a YAML rule file as a set of lower-case words."""
    return frozenset(str(w).lower() for w in rule_yaml(name)[key])
