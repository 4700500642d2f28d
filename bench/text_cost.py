"""Detection CPU per KiB of long text, and which detector spends it.

    python bench/text_cost.py CORPUS.jsonl.gz [--split dev] [--records 400]

Each record is decoded once; then DetectorSet.scan (every detector, windows,
no budget) runs on its Inputs, timed with this thread's CPU clock. Prints µs
per KiB of values, the median of the requests whose values total about 8 KiB
(the issue's "8 KiB input" scale), and each detector's share (its scan_input
calls timed inside the same run). Build the corpora with
bench/document_corpus.py and bench/prose_corpus.py --source articles; compare
two trees by running this from each in the same minute (the machine is noisy).
"""
from __future__ import annotations

import argparse
import collections
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from extauthz.config import Config  # noqa: E402
from extauthz.corpus import read_corpus  # noqa: E402
from extauthz.decode import extract  # noqa: E402
from extauthz.detect import DetectorSet  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("corpus")
    ap.add_argument("--split", default="dev")
    ap.add_argument("--records", type=int, default=400)
    args = ap.parse_args()
    cfg = Config()
    ds = DetectorSet.from_toggles({})
    spent: collections.Counter[str] = collections.Counter()
    for d in ds.detectors:
        def timed(inp, scan=d.scan_input, name=d.name):
            t = time.thread_time()
            try:
                return list(scan(inp))
            finally:
                spent[name] += time.thread_time() - t
        d.scan_input = timed
    work = []
    for k, rec in enumerate(read_corpus(args.corpus, split=args.split)):
        if k >= args.records:
            break
        ex = extract(rec.request, cfg.limits, 1 << 20)
        work.append((rec.request, ex.inputs, sum(len(i.value) for i in ex.inputs)))
    total, size, eight = 0.0, 0, []
    for request, inputs, n in work:
        t = time.thread_time()
        ds.scan(request, inputs, 0)
        dt = time.thread_time() - t
        total, size = total + dt, size + n
        if 7000 <= n <= 9500:
            eight.append(dt * 1000)
    kib = max(size, 1) / 1024
    print(f"{Path(args.corpus).name} ({args.split}): {len(work)} requests, {kib:.0f} KiB of values: "
          f"{total * 1e6 / kib:.0f} µs per KiB")
    if eight:
        print(f"  requests of ~8 KiB: n={len(eight)}, median {statistics.median(eight):.1f} ms")
    for name, s in spent.most_common(8):
        print(f"  {name:16s} {s * 1e6 / kib:6.0f} µs per KiB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
