"""Everyday API traffic must pass: Faker records of people, orders, files, webhooks in ten locales.

bench/api_corpus.py builds 30,000 of them for `extauthz eval`; here a fixed-seed
sample goes through the default engine, and every one must be allowed. The
families it guards: UK postcodes read as versioned commands (`SG8 8UR`),
generated passwords, company names with `&`, file paths of uploads, user
agents and addresses in audit records.
"""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

from extauthz.config import Config
from extauthz.corpus import request_from_record
from extauthz.eval import build_eval_engine

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
from api_corpus import build  # noqa: E402


@pytest.fixture(scope="module")
def engine():
    return build_eval_engine(Config())


def test_fixed_sample_of_api_records_is_allowed(engine):
    records = build(600, seed=7)
    denied = []
    for raw in records:
        verdict = engine.check(request_from_record(raw))
        if verdict.decision.value != "allow":
            denied.append((raw["id"], [f.rule for f in verdict.findings]))
    assert not denied, denied[:5]


@pytest.mark.parametrize("postcode", ["SG8 8UR", "SG1 2AB", "TW3 1NF", "PS1 4AA"])
def test_uk_postcodes_are_not_versioned_commands(engine, postcode):
    raw = {"id": "t", "label": "benign", "category": "benign", "method": "POST", "uri": "/api/addresses",
           "headers": [["Content-Type", "application/json"]], "body": '{"postcode": "%s"}' % postcode}
    assert engine.check(request_from_record(raw)).decision.value == "allow"
