"""The `extauthz` command.

Exit codes: 0 success / allow, 1 deny (check) or a failed target (eval), 2 usage
or configuration error.
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from typing import Callable

from extauthz.config import Config, ConfigError, load_config
from extauthz.store import StoreError

EXIT_OK, EXIT_DENY, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    pass


def _setup_logging(level: str) -> None:
    logging.basicConfig(level=getattr(logging, level.upper(), logging.INFO),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)


def _config(args: argparse.Namespace) -> Config:
    path = getattr(args, "config", None) or os.environ.get("EXTAUTHZ_CONFIG") or None
    return load_config(path)


# ---------------------------------------------------------------- serve


def cmd_serve(args: argparse.Namespace) -> int:
    from extauthz.server.grpc_server import options_from, serve_forever

    config = _config(args)
    workers = args.workers or config.server.workers
    config_path = args.config or os.environ.get("EXTAUTHZ_CONFIG") or None
    if workers > 1 and not args.worker:
        from extauthz.server.supervisor import supervise

        child = ["--log-level", args.log_level, "serve", "--worker", "--workers", "1"]
        if config_path:
            child += ["--config", config_path]
        child += ["--listen", args.listen or config.server.listen]
        from extauthz.admin.api import load_token

        def precompile(run_dir) -> None:
            """Compile the patterns once into the disk cache; the workers then load them."""
            from extauthz.engine import Engine

            if os.environ.get("EXTAUTHZ_CACHE_DIR") == "off":
                os.environ["EXTAUTHZ_CACHE_DIR"] = str(run_dir / "patterns")  # private, gone at exit
            Engine(config).close()

        try:
            return supervise(child, workers, config.server.drain_seconds,
                             args.admin_listen or config.admin.listen, load_token(config.admin), precompile)
        except OSError as exc:
            raise UsageError(str(exc)) from None
    options = options_from(config, config_path, args.listen, reuse_port=args.worker, admin_listen=args.admin_listen)
    try:
        return serve_forever(config, options)
    except OSError as exc:
        raise UsageError(str(exc)) from None


# ---------------------------------------------------------------- check


def _request_from_args(args: argparse.Namespace):
    from extauthz.corpus import request_from_record

    if args.json is not None:
        text = sys.stdin.read() if args.json == "-" else args.json
        try:
            obj = json.loads(text)
        except json.JSONDecodeError as exc:
            raise UsageError(f"--json: not a JSON object ({exc.msg})") from None
        return request_from_record(obj, "--json", args.service)
    if not args.uri:
        raise UsageError("give a URI (e.g. '/search?q=1') or --json LINE")
    headers = []
    for h in args.header or []:
        name, sep, value = h.partition(":")
        if not sep or not name.strip():
            raise UsageError(f"--header {h!r}: expected 'Name: value'")
        headers.append([name.strip(), value.strip()])
    obj = {"method": args.method, "uri": args.uri if args.uri.startswith("/") else "/" + args.uri,
           "headers": headers, "body": args.data or "", "hop": args.hop,
           "source_principal": args.source_principal, "destination_principal": args.destination_principal}
    return request_from_record(obj, "command line", args.service)


def cmd_check(args: argparse.Namespace) -> int:
    from extauthz.corpus import CorpusError
    from extauthz.engine import Engine

    config = _config(args)
    try:
        request = _request_from_args(args)
    except CorpusError as exc:
        raise UsageError(str(exc)) from None
    verdict = _engine(config, args).check(request)
    if args.output == "json":
        print(json.dumps(verdict.as_dict(), indent=2, ensure_ascii=False))
    else:
        print(f"{verdict.decision.value.upper()} ({verdict.action.value}) score {verdict.score}/{verdict.threshold}"
              f"  service={verdict.service} policy={verdict.policy} hop={verdict.hop.value} event={verdict.event_id}")
        if verdict.reason:
            print(f"  {verdict.reason}")
        for f in verdict.findings:
            chain = f" via {'>'.join(f.chain)}" if f.chain else ""
            print(f"  - {f.severity.name.lower():8} {f.rule:32} {f.location}{chain}  {f.excerpt}")
    return EXIT_DENY if verdict.denied else EXIT_OK


def _engine(config: Config, args: argparse.Namespace):
    """An Engine over the learned profiles of --state (or state.dir), read-only."""
    from extauthz.engine import Engine
    from extauthz.runtime import build_runtime

    return Engine(config, runtime=build_runtime(config, state_dir=getattr(args, "state", None), actor_state=False,
                                                learning=False))


# ---------------------------------------------------------------- learn, profile


def cmd_learn(args: argparse.Namespace) -> int:
    from extauthz.corpus import CorpusError
    from extauthz.profile.bootstrap import learn_corpora

    config = _config(args)
    state = args.state or config.state.dir
    if not state:
        raise UsageError("give --state DIR (or state.dir in the config): where the learned profiles go")
    try:
        report = learn_corpora(args.corpus, config, state, service=args.service, split=args.split,
                               progress=sys.stderr)
    except CorpusError as exc:
        raise UsageError(str(exc)) from None
    for line in report.lines():
        print(line)
    return EXIT_OK


def cmd_profile(args: argparse.Namespace) -> int:
    from extauthz.profile.report import describe, format_text

    config = _config(args)
    engine = _engine(config, args)
    book = engine.runtime.profiles
    if book is None:
        raise UsageError("behaviour profiles are off in this config (profile.mode: off everywhere)")
    names = [args.service] if args.service else book.services()
    if args.service and book.live(args.service) is None:
        raise UsageError(f"no learned profile for service {args.service!r} "
                         f"(learned: {', '.join(book.services()) or 'none'})")
    out = [describe(book.live(name), engine.decider_for(name).policy.profile) for name in names]
    if args.json:
        print(json.dumps(out if not args.service else out[0], indent=2, ensure_ascii=False))
    elif not out:
        print("no learned profiles")
    else:
        print("\n\n".join(format_text(d) for d in out))
    return EXIT_OK


# ---------------------------------------------------------------- eval


def cmd_eval(args: argparse.Namespace) -> int:
    from extauthz.corpus import CorpusError
    from extauthz.eval import evaluate, format_report

    config = _config(args)
    errors = open(args.errors, "w", encoding="utf-8") if args.errors else None
    try:
        result = evaluate(args.corpus, config, via=args.via, jobs=args.jobs, errors=errors,
                          state_dir=getattr(args, "state", None), split=args.split,
                          progress=None if args.json else sys.stderr, service=args.service)
    except CorpusError as exc:
        raise UsageError(str(exc)) from None
    finally:
        if errors:
            errors.close()
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        format_report(result)
    return EXIT_OK


# ---------------------------------------------------------------- actors


def cmd_actors(args: argparse.Namespace) -> int:
    from extauthz.risk.actors_cli import run_actors
    return run_actors(_config(args), args, UsageError)


# ---------------------------------------------------------------- config

README_START, README_END = "<!-- config-reference:start -->", "<!-- config-reference:end -->"


def reference_table() -> str:
    from extauthz.config import reference

    lines = ["| key | type | default | meaning |", "|---|---|---|---|"]
    for key, typ, default, text in reference():
        lines.append(f"| `{key}` | {typ} | `{default}` | {text} |" if default else f"| `{key}` | {typ} | | {text} |")
    return "\n".join(lines)


def replace_readme_section(path: str, table: str) -> None:
    with open(path, encoding="utf-8") as fh:
        text = fh.read()
    head, sep, rest = text.partition(README_START)
    _, sep2, tail = rest.partition(README_END)
    if not (sep and sep2):
        raise UsageError(f"{path}: no {README_START} ... {README_END} section")
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(f"{head}{README_START}\n{table}\n{README_END}{tail}")


def cmd_config(args: argparse.Namespace) -> int:
    if args.action == "reference":
        table = reference_table()
        if args.write_readme:
            replace_readme_section(args.write_readme, table)
        else:
            print(table)
        return EXIT_OK
    config = _config(args)
    from extauthz.engine import Engine

    Engine(config)  # compiles detectors and policies: catches what typing alone cannot
    if args.action == "validate":
        print("ok")
    return EXIT_OK


# ---------------------------------------------------------------- demo


def cmd_demo(args: argparse.Namespace) -> int:
    from extauthz import demo
    from extauthz.mesh import MeshError

    try:
        return demo.run(edge_port=args.port, config=args.config, envoy=args.envoy)
    except MeshError as exc:
        raise UsageError(str(exc)) from None


# ---------------------------------------------------------------- parser

Command = Callable[[argparse.Namespace], int]


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="extauthz", description="A WAF for service meshes: Envoy ext_authz server.")
    p.add_argument("--log-level", default=os.environ.get("EXTAUTHZ_LOG_LEVEL", "info"))
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("serve", help="run the ext_authz gRPC server")
    s.add_argument("--config", help="YAML config file (default: built-in defaults; env EXTAUTHZ_CONFIG)")
    s.add_argument("--listen", default=os.environ.get("EXTAUTHZ_LISTEN") or None,
                   help="HOST:PORT (default: env EXTAUTHZ_LISTEN, else from config: 127.0.0.1:9001)")
    s.add_argument("--workers", type=int, help="worker processes (default from config: 1)")
    s.add_argument("--admin-listen", default=os.environ.get("EXTAUTHZ_ADMIN_LISTEN") or None,
                   help="admin API HOST:PORT or 'off' (default: env EXTAUTHZ_ADMIN_LISTEN, else from config: 127.0.0.1:9002)")
    s.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    s.set_defaults(func=cmd_serve)

    c = sub.add_parser("check", help="score one request and print the verdict (exit 0 allow, 1 deny)")
    c.add_argument("uri", nargs="?", help="request target, e.g. '/search?q=x'")
    c.add_argument("--config")
    c.add_argument("-X", "--method", default="GET")
    c.add_argument("-H", "--header", action="append", help="'Name: value' (repeatable)")
    c.add_argument("-d", "--data", help="request body")
    c.add_argument("--json", help="one corpus-format JSON line ('-' reads stdin)")
    c.add_argument("--service", help="service name (default: from the Host header)")
    c.add_argument("--hop", default="edge", choices=["edge", "gateway", "sidecar-inbound", "sidecar-outbound"])
    c.add_argument("--source-principal", default="")
    c.add_argument("--destination-principal", default="")
    c.add_argument("-o", "--output", choices=["text", "json"], default="text")
    c.add_argument("--state", metavar="DIR", help="learned profiles to check against (read-only; default: state.dir)")
    c.set_defaults(func=cmd_check)

    e = sub.add_parser("eval", help="measure detection on labelled corpora")
    e.add_argument("corpus", nargs="+", help="corpus files (.jsonl or .jsonl.gz)")
    e.add_argument("--config")
    e.add_argument("--json", action="store_true", help="print one JSON object")
    e.add_argument("--errors", help="write misjudged requests (JSON lines) to this file")
    e.add_argument("--via", help="send requests over HTTP to a running Envoy, e.g. http://127.0.0.1:8080")
    e.add_argument("--split", choices=["all", "dev", "holdout"], default="all",
                   help="dev: the 80%% to tune on; holdout: the fixed 20%% kept unseen for reported figures")
    e.add_argument("-j", "--jobs", type=int, default=1, help="parallel workers (processes; connections with --via)")
    e.add_argument("--state", metavar="DIR", help="learned profiles to use (read-only; default: state.dir)")
    e.add_argument("--service", help="treat every request as this service (default: from its Host header)")
    e.set_defaults(func=cmd_eval)

    lr = sub.add_parser("learn", help="learn behaviour profiles from recorded traffic (corpus format)")
    lr.add_argument("corpus", nargs="+", help="corpus files (.jsonl or .jsonl.gz); attack-labelled records are skipped")
    lr.add_argument("--state", metavar="DIR", help="state directory to learn into (default: state.dir)")
    lr.add_argument("--service", help="learn every request as this service (default: from its Host header)")
    lr.add_argument("--config")
    lr.add_argument("--split", choices=["all", "dev", "holdout"], default="all", help=argparse.SUPPRESS)
    lr.set_defaults(func=cmd_learn)

    pr = sub.add_parser("profile", help="review learned behaviour profiles")
    pr.add_argument("action", choices=["show"])
    pr.add_argument("service", nargs="?", help="one service (default: all)")
    pr.add_argument("--state", metavar="DIR", help="state directory (default: state.dir)")
    pr.add_argument("--json", action="store_true", help="print JSON")
    pr.add_argument("--config", help="config whose profile policies decide what is enforced")
    pr.set_defaults(func=cmd_profile)

    a = sub.add_parser("actors", help="top actors by risk, block state; block or unblock one (shared store)")
    a.add_argument("--config")
    a.add_argument("--json", action="store_true", help="print JSON")
    a.add_argument("--limit", type=int, default=20)
    a.add_argument("--block", metavar="ACTOR_ID", help="block this actor (see --seconds)")
    a.add_argument("--block-ip", metavar="IP", help="block the actor with this client address (actor_keys: [ip])")
    a.add_argument("--seconds", type=float, help="block length (default: risk.block_seconds)")
    a.add_argument("--unblock", metavar="ACTOR_ID", help="unblock this actor and forget its risk")
    a.add_argument("--admin", metavar="HOST:PORT", help="in-process store: the serving process's admin API "
                                                          "(default: admin.listen)")
    a.set_defaults(func=cmd_actors)

    g = sub.add_parser("config", help="validate a config or print the configuration reference")
    g.add_argument("action", choices=["validate", "reference"])
    g.add_argument("--config")
    g.add_argument("--write-readme", metavar="README", help="reference: update the README's generated section")
    g.set_defaults(func=cmd_config)
    d = sub.add_parser("demo", help="run edge, sidecars, demo services and extauthz on loopback (needs Envoy)")
    d.add_argument("--port", type=int, default=8080, help="edge port on 127.0.0.1 (default 8080)")
    d.add_argument("--config", help="extauthz config (default: the demo policy, examples/extauthz-demo.yaml)")
    d.add_argument("--envoy", help="Envoy binary (default: $EXTAUTHZ_ENVOY, .tools/envoy, or envoy on PATH)")
    d.set_defaults(func=cmd_demo)
    return p


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    _setup_logging(args.log_level)
    try:
        return args.func(args)
    except ConfigError as exc:
        print(f"extauthz: configuration error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except StoreError as exc:
        print(f"extauthz: state error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except UsageError as exc:
        print(f"extauthz: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:
        return EXIT_OK
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
