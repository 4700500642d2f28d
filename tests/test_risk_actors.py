"""`extauthz actors` and the RiskAdmin API (for the admin API)."""
from __future__ import annotations

import json

import pytest

from extauthz.cli import main
from extauthz.risk.admin import RiskAdmin
from extauthz.verdict import Action

from redis_helpers import RedisServer
from risk_helpers import ATTACK, CLEAN, engine, req


def test_admin_blocks_and_unblocks_by_identity():
    eng, clock, rt = engine()
    admin = RiskAdmin(eng.config, rt.state, clock)
    rec = admin.block_identity(seconds=120, ip="198.51.100.9")
    assert rec.blocked_until == clock() + 120 and rec.cause == "manual" and rec.offences == 1
    v = eng.check(req(CLEAN, ip="198.51.100.9"))
    assert v.action is Action.ACTOR_BLOCKED and "cause manual" in v.reason
    assert next(f for f in v.findings if f.rule == "risk.actor-blocked").cls == "other"
    assert [r.id for r in admin.top()] == [rec.id]
    assert admin.unblock(rec.id)
    assert eng.check(req(CLEAN, ip="198.51.100.9")).action is Action.ALLOW


def test_admin_unblock_forgets_risk_so_the_actor_starts_over():
    eng, clock, rt = engine()
    admin = RiskAdmin(eng.config, rt.state, clock)
    for _ in range(6):
        eng.check(req(ATTACK))
    top = admin.as_json(admin.top())
    assert top[0]["blocked"] and top[0]["ip"] == "198.51.100.9" and top[0]["cause"] == "lfi"
    assert admin.unblock(top[0]["id"])
    assert eng.check(req(ATTACK)).action is Action.DENY  # one attack is not a block again


def test_actors_command_explains_the_in_process_store(capsys):
    from extauthz.mesh import free_port
    assert main(["actors", "--admin", f"127.0.0.1:{free_port()}"]) == 2  # nobody listens there
    err = capsys.readouterr().err
    assert "cannot reach the admin API" in err and "store.backend: redis" in err


def _check_from(address: str, ip: str, uri: bytes) -> None:
    import grpc
    from extauthz._wire import ext_authz_pb2 as pb
    from extauthz.server.service import CHECK_METHOD
    msg = pb.CheckRequest()
    msg.attributes.source.address.socket_address.address = ip
    msg.attributes.context_extensions["hop"] = "edge"
    h = msg.attributes.request.http
    h.method, h.path, h.host = "GET", uri, "shop"
    with grpc.insecure_channel(address) as ch:
        ch.unary_unary(CHECK_METHOD, request_serializer=lambda b: b, response_deserializer=lambda b: b)(
            msg.SerializeToString(), timeout=30)


def test_actors_command_asks_a_server_admin_api_for_the_in_process_store(server, capsys, monkeypatch):
    monkeypatch.setenv("EXTAUTHZ_ADMIN_TOKEN", "actors-test")
    s = server("events: {output: 'off'}\n", env={"EXTAUTHZ_ADMIN_TOKEN": "actors-test"})
    for _ in range(6):
        _check_from(s.address, "203.0.113.61", ATTACK.encode())
    admin = s.admin_url.removeprefix("http://")
    capsys.readouterr()
    assert main(["actors", "--admin", admin, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["store"] == "memory" and out["actors"][0]["ip"] == "203.0.113.61" and out["actors"][0]["blocked"]
    assert main(["actors", "--admin", admin, "--unblock", "203.0.113.61"]) == 0
    assert main(["actors", "--admin", admin, "--block-ip", "192.0.2.9", "--seconds", "60"]) == 0
    capsys.readouterr()
    assert main(["actors", "--admin", admin]) == 0
    text = capsys.readouterr().out
    assert "192.0.2.9" in text and "one serving process" in text


@pytest.mark.redis
def test_actors_command_reads_and_changes_the_shared_store(tmp_path, capsys):
    server = RedisServer(tmp_path).start()
    try:
        cfg = tmp_path / "cfg.yaml"
        cfg.write_text(f"store: {{backend: redis, redis: {{url: '{server.url}'}}}}\n")
        from extauthz.config import load_config
        from extauthz.engine import Engine
        from extauthz.runtime import build_runtime
        config = load_config(cfg)
        rt = build_runtime(config)
        try:
            eng = Engine(config, runtime=rt)
            for _ in range(6):
                eng.check(req(ATTACK, ip="203.0.113.50"))
            eng.check(req(CLEAN, ip="198.51.100.1"))
        finally:
            rt.close()  # flushes queued writes
        capsys.readouterr()
        assert main(["actors", "--config", str(cfg), "--json"]) == 0
        out = json.loads(capsys.readouterr().out)
        first = out["actors"][0]
        assert first["ip"] == "203.0.113.50" and first["blocked"] and first["risk"] >= 30
        assert main(["actors", "--config", str(cfg)]) == 0
        text = capsys.readouterr().out
        assert first["id"] in text and "203.0.113.50" in text
        assert main(["actors", "--config", str(cfg), "--unblock", first["id"]]) == 0
        assert main(["actors", "--config", str(cfg), "--block-ip", "192.0.2.77", "--seconds", "90"]) == 0
        capsys.readouterr()
        main(["actors", "--config", str(cfg), "--json"])
        out = json.loads(capsys.readouterr().out)
        assert [a["ip"] for a in out["actors"] if a["blocked"]] == ["192.0.2.77"]
    finally:
        server.stop()
