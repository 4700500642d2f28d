"""Decode policy data from extauthz/rules/decode.yaml, loaded once.

Which headers carry user data (and so become Inputs), which are structural
(inspected only when their value leaves their grammar's character set), which
are never inspected, and the words that make a parameter name notable.
"""
from __future__ import annotations

import string
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

import yaml

RULES_FILE = Path(__file__).resolve().parent.parent / "rules" / "decode.yaml"

_CLASSES = {"alnum": string.ascii_letters + string.digits}


@dataclass(frozen=True)
class HeaderPolicy:
    ignore: frozenset[str]
    ignore_prefixes: tuple[str, ...]
    structural: Mapping[str, str]  # header -> characters its clean values use
    notable_name_words: tuple[str, ...]


def _charset(spec: str) -> str:
    out = spec
    for cls, chars in _CLASSES.items():
        out = out.replace("{" + cls + "}", chars)
    return out


def load_policy(path: Path = RULES_FILE) -> HeaderPolicy:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    headers = data["headers"]
    charsets = {name: _charset(spec) for name, spec in headers["charsets"].items()}
    structural: dict[str, str] = {}
    for cs_name, names in headers["structural"].items():
        for name in names:
            structural[name.lower()] = charsets[cs_name]
    ignore = [h.lower() for h in headers["ignore"]]
    return HeaderPolicy(
        ignore=frozenset(h for h in ignore if not h.endswith("*")),
        ignore_prefixes=tuple(h[:-1] for h in ignore if h.endswith("*")),
        structural=structural,
        notable_name_words=tuple(w.lower() for w in data["notable_name_words"]),
    )


POLICY = load_policy()
