"""Detection by family: CRS rule families, httpparams placements, benign FPs.

    python bench/family_report.py CORPUS... [--split dev|holdout|all] [-j 2]
                                  [--only 920,921] [--misses FILE]

`extauthz eval` reports by corpus category; this splits further, the way the
corpora are built: CRS regression tests by rule family (`crs:920180-1` →
920) and rule, httpparams by category and placement (query, form, json), the
rest by category. Every group prints attacks detected / attacks (TPR) and
benign flagged / benign (FP). `--misses` writes each misjudged request with
its findings (JSON lines) for reading. Runs the whole engine in-process, as
`extauthz eval` does.
"""
from __future__ import annotations

import argparse
import collections
import json
import multiprocessing
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from extauthz.config import Config  # noqa: E402
from extauthz.corpus import read_corpus  # noqa: E402
from extauthz.eval import build_eval_engine, detected  # noqa: E402

_ENGINE = None


def _init() -> None:
    global _ENGINE
    _ENGINE = build_eval_engine(Config())


def groups_of(rid: str, raw: dict) -> tuple[str, ...]:
    """The groups a record counts in: family and finer."""
    src, _, rest = rid.partition(":")
    if src == "crs":
        rule = rest.split("-", 1)[0]
        return (f"crs {rule[:3]}", f"crs {rule}")
    cat = raw.get("category") or "?"
    placement = raw.get("placement")
    if placement:
        return (f"{src} {cat}", f"{src} {cat} @{placement}")
    return (f"{src} {cat}",)


def _judge(raw_line: tuple[str, str, dict]) -> tuple[str, str, dict, bool, list]:
    rid, label, raw = raw_line
    from extauthz.corpus import request_from_record
    v = _ENGINE.check(request_from_record(raw))
    hit = detected(v.action)
    findings = [(f.rule, f.severity.name, f.location, f.excerpt) for f in v.findings]
    return rid, label, raw, hit, findings


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("corpus", nargs="+")
    ap.add_argument("--split", default="dev")
    ap.add_argument("-j", type=int, default=2)
    ap.add_argument("--only", default="", help="comma-separated group prefixes to print and dump (e.g. 'crs 92')")
    ap.add_argument("--misses")
    ap.add_argument("--fine", action="store_true", help="print the finer groups too (rule, placement)")
    args = ap.parse_args()
    only = tuple(s.strip() for s in args.only.split(",") if s.strip())
    items = []
    for path in args.corpus:
        for rec in read_corpus(path, split=args.split):
            gs = groups_of(rec.id, rec.raw)
            if only and not any(g.startswith(only) for g in gs):
                continue
            items.append((rec.id, rec.label, rec.raw))
    tally: dict[str, list[int]] = collections.defaultdict(lambda: [0, 0, 0, 0])  # attacks, tp, benign, fp
    out = open(args.misses, "w", encoding="utf-8") if args.misses else None
    with multiprocessing.get_context("fork").Pool(args.j, _init) as pool:
        for rid, label, raw, hit, findings in pool.imap(_judge, items, chunksize=64):
            for g in groups_of(rid, raw):
                cell = tally[g]
                if label == "attack":
                    cell[0] += 1
                    cell[1] += hit
                else:
                    cell[2] += 1
                    cell[3] += hit
            if out is not None and hit != (label == "attack"):
                out.write(json.dumps({"id": rid, "label": label, "method": raw.get("method"), "uri": raw.get("uri"),
                                      "headers": raw.get("headers"), "body": (raw.get("body") or "")[:1500],
                                      "findings": findings}, ensure_ascii=False) + "\n")
    for g in sorted(tally):
        fine = (g.startswith("crs ") and len(g) > 7) or "@" in g
        if fine and not args.fine:
            continue
        a, tp, b, fp = tally[g]
        parts = [f"{g:34}"]
        if a:
            parts.append(f"TPR {100 * tp / a:6.1f}% ({tp}/{a})")
        if b:
            parts.append(f"FP {fp}/{b} ({100 * fp / b:.2f}%)")
        print("  ".join(parts))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
