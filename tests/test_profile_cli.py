"""`extauthz learn`, `extauthz profile show`, and `eval`/`check --state`."""
from __future__ import annotations

import gzip
import json
import random

from extauthz.cli import main

NAMES = ["ana", "luis", "marta", "jon", "iker", "sara", "pablo", "nerea"]


def _line(i: int, uri: str, label: str = "benign", **extra) -> str:
    return json.dumps({"id": f"t:{i}", "label": label, "category": "benign" if label == "benign" else "other",
                       "method": "GET", "uri": uri, "headers": [["Host", "shop.example"]], "body": "", **extra})


def _corpora(tmp_path):
    rng = random.Random(3)
    train = tmp_path / "train.jsonl.gz"
    with gzip.open(train, "wt") as fh:
        for i in range(400):
            fh.write(_line(i, f"/items/{rng.randint(1, 900)}?id={rng.randint(1, 999)}&sort={rng.choice(['asc', 'desc'])}"
                             f"&user={rng.choice(NAMES)}") + "\n")
        fh.write(_line(999, "/items/1?id=1%27or%271", label="attack") + "\n")  # skipped: labelled attack
    test = tmp_path / "test.jsonl"
    with open(test, "w") as fh:
        for i in range(50):
            fh.write(_line(1000 + i, f"/items/{i + 1}?id={i + 3}&sort=asc&user={NAMES[i % 8]}") + "\n")
        for i, bad in enumerate(["id=12x&sort=asc&user=ana", "id=1&sort=upward&user=ana", "id=1&sort=asc&user=a%3Bb"]):
            fh.write(_line(2000 + i, f"/items/5?{bad}", label="attack") + "\n")
    return train, test


def test_learn_show_and_eval_with_state(tmp_path, capsys):
    train, test = _corpora(tmp_path)
    state = tmp_path / "state"
    assert main(["learn", str(train), "--state", str(state), "--service", "shop"]) == 0
    out = capsys.readouterr().out
    learned = int(out.split(" learned,")[0].rsplit(" ", 1)[1])
    # (a loaded machine may trip the decoder's wall-clock budget on a few: those are not learned)
    assert learned >= 390 and "1 labelled attack skipped" in out and "shop: 1 endpoints" in out

    assert main(["profile", "show", "--state", str(state)]) == 0
    text = capsys.readouterr().out
    assert "GET /items/{int}" in text and "[enforced]" in text
    assert "query:sort" in text and "one of {'asc', 'desc'}" in text and "query:id" in text

    assert main(["profile", "show", "shop", "--state", str(state), "--json"]) == 0
    desc = json.loads(capsys.readouterr().out)
    param = {p["name"]: p for p in desc["endpoints"][0]["params"]}
    assert param["query:id"]["type"] == "int" and param["query:sort"]["values"] == ["asc", "desc"]

    assert main(["eval", str(test), "--state", str(state), "--service", "shop", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)["overall"]
    assert result["tpr"] == 1.0 and result["fpr"] == 0.0
    # without the state, the same test set shows nothing of the profile
    assert main(["eval", str(test), "--service", "shop", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["overall"]["detected_attacks"] == 0

    assert main(["check", "/items/5?id=5x&sort=asc&user=ana", "--service", "shop", "--state", str(state)]) == 1
    assert "profile.param.type" in capsys.readouterr().out


def test_profile_show_names_a_missing_service(tmp_path, capsys):
    train, _ = _corpora(tmp_path)
    main(["learn", str(train), "--state", str(tmp_path / "s"), "--service", "shop"])
    capsys.readouterr()
    assert main(["profile", "show", "nope", "--state", str(tmp_path / "s")]) == 2
    assert "no learned profile for service 'nope'" in capsys.readouterr().err


def test_a_corrupt_state_is_a_clear_error(tmp_path, capsys):
    state = tmp_path / "state"
    state.mkdir()
    (state / "profiles.sqlite3").write_bytes(b"\x00garbage" * 64)
    assert main(["profile", "show", "--state", str(state)]) == 2
    err = capsys.readouterr().err
    assert "state error" in err and "profiles.sqlite3" in err and "move it aside" in err
