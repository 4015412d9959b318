"""The Dockerfile: its shape, and its own steps replayed outside Docker serving an app.

No Docker engine runs here, so the image's steps run in a temporary folder standing for its
root (tests/dockerfile_steps.py): the same COPY (with .dockerignore), the same pip install
into the same venv path, the same settings, working folder and command, as the current user.
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from conftest import APPS, free_port, run_funchost
from dockerfile_steps import DOCKERFILE, Instruction, Rootfs, env_pairs, ignored, parse

APP = "tests/apps/docker_app"
START_TIMEOUT = 60.0


def instructions() -> list[Instruction]:
    return parse(DOCKERFILE.read_text())


def only(keyword: str) -> str:
    found = [i.args for i in instructions() if i.keyword == keyword]
    assert len(found) == 1, f"expected one {keyword}, found {found}"
    return found[0]


def image_env() -> dict[str, str]:
    env: dict[str, str] = {}
    for i in instructions():
        if i.keyword == "ENV":
            env.update(env_pairs(i.args))
    return env


def healthcheck_command() -> list[str]:
    options, _, command = only("HEALTHCHECK").partition(" CMD ")
    assert "--timeout=" in options and "--interval=" in options
    return list(json.loads(command))


def test_base_image_is_a_slim_python_named_by_tag() -> None:
    base = only("FROM")
    assert re.fullmatch(r"python:3\.1[1-9]-slim(-[a-z]+)?", base), base
    assert "@sha256" not in base


def test_runs_as_a_non_root_user_in_the_app_folder() -> None:
    user = only("USER")
    assert user not in ("root", "0") and not user.startswith("0:")
    env = image_env()
    assert only("WORKDIR") == env["AzureWebJobsScriptRoot"] == "/home/site/wwwroot"
    assert env["FUNCTIONS_WORKER_RUNTIME"] == "python"


def test_listens_on_port_80_of_every_address_with_a_healthcheck() -> None:
    assert only("EXPOSE") == "80"
    env = image_env()
    assert (env["FUNCHOST_ADDRESS"], env["FUNCHOST_PORT"]) == ("0.0.0.0", "80")
    assert env["FUNCHOST_RELOAD"] == "0"  # `docker run -t` is a terminal: reload would be on
    assert json.loads(only("CMD")) == ["funchost", "start"]
    assert healthcheck_command() == ["python", "-m", "funchost.host.ci.ping"]


def test_installs_funchost_only_and_no_compiler() -> None:
    runs = " ".join(i.args for i in instructions() if i.keyword == "RUN")
    assert not re.search(r"apt-get|apk |gcc|build-essential|make ", runs)
    installs = re.findall(r"install --no-cache-dir (\S+)", runs)
    # funchost from its source, and the app's own requirements.txt, nothing else.
    assert installs == ["/tmp/funchost", "-r"]
    assert "-r /home/site/wwwroot/requirements.txt" in runs


def test_local_settings_and_tooling_stay_out_of_the_image() -> None:
    from dockerfile_steps import ignore_patterns

    patterns = ignore_patterns()
    assert ignored("examples/hello/local.settings.json", patterns)
    assert ignored("host/__pycache__/cli.cpython-311.pyc", patterns)
    assert not ignored("host/cli.py", patterns)
    assert not ignored(APP, patterns)
    assert ignored(f"{APP}/local.settings.json", patterns)
    assert ignored("tests/host/test_docker.py", patterns)


def replay(root: Path) -> Rootfs:
    """Every step of the Dockerfile but creating the image's user, which needs root."""
    rootfs = Rootfs(root, {"APP": APP})
    for step in instructions():
        if step.keyword == "ARG":
            name, _, default = step.args.partition("=")
            rootfs.args.setdefault(name, default)
        elif step.keyword == "ENV":
            rootfs.set_env(step.args)
        elif step.keyword == "COPY":
            rootfs.copy(step.args)
        elif step.keyword == "RUN" and "useradd" in step.args:
            home = re.search(r"--home-dir (\S+)", step.args)
            assert home is not None
            rootfs.path(home.group(1)).mkdir(parents=True)  # --create-home
        elif step.keyword == "RUN":
            rootfs.run(step.args, sys.executable)
        elif step.keyword == "WORKDIR":
            rootfs.workdir = step.args
    return rootfs


def ping_passes(rootfs: Rootfs, env: dict[str, str]) -> bool:
    command = healthcheck_command()
    found = shutil.which(command[0], path=env["PATH"])
    assert found is not None
    done = subprocess.run([found, *command[1:]], env=env, timeout=30, capture_output=True)
    return done.returncode == 0


@pytest.fixture(scope="module")
def image(tmp_path_factory: pytest.TempPathFactory) -> Rootfs:
    return replay(tmp_path_factory.mktemp("image"))


def test_the_image_steps_serve_the_app_and_pass_the_healthcheck(image: Rootfs) -> None:
    port = free_port()
    # Loopback only in tests: FUNCHOST_ENABLE_AUTH stands for what 0.0.0.0 turns on (keys).
    env = {
        **image.process_env(),
        "FUNCHOST_PORT": str(port),
        "FUNCHOST_ADDRESS": "127.0.0.1",
        "FUNCHOST_ENABLE_AUTH": "1",
    }
    command = json.loads(only("CMD"))
    executable = shutil.which(command[0], path=env["PATH"])
    assert executable is not None and executable.startswith(str(image.root))
    assert not ping_passes(image, env)  # nothing listens yet
    log = image.root / "host.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [executable, *command[1:]],
            cwd=image.path(image.workdir),
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while not ping_passes(image, env):
            assert proc.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/env", timeout=10) as resp:
            seen = json.loads(resp.read())
    finally:
        proc.terminate()
        code = proc.wait(30)
    assert code == 0, log.read_text()
    assert not ping_passes(image, env)
    assert seen == {
        "cwd": str(image.path("/home/site/wwwroot")),
        "hostname": f"localhost:{port}",
        "runtime": "python",
        "amsterdam": "2026-07-01T00:00:00+02:00",
    }
    output = log.read_text()
    assert "env: [GET,POST" in output and "Host started in " in output
    # Keys went to the user's home; the app folder (root's in the image) was not written.
    assert (image.path("/home/funchost/secrets") / "host.json").exists()
    app = image.path("/home/site/wwwroot")
    assert sorted(p.name for p in app.iterdir()) == [
        "function_app.py",
        "host.json",
        "requirements.txt",
    ]


def test_the_image_refuses_an_app_of_another_runtime(image: Rootfs) -> None:
    env = {**image.process_env(), "FUNCTIONS_WORKER_RUNTIME": "node"}
    command = json.loads(only("CMD"))
    executable = shutil.which(command[0], path=env["PATH"])
    assert executable is not None
    done = subprocess.run(
        [executable, *command[1:]],
        cwd=image.path(image.workdir),
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 3
    assert done.stderr == (
        "funchost: app setting: 'FUNCTIONS_WORKER_RUNTIME' is 'node'; expected python "
        "(funchost runs Python apps only), or no value\n"
    )


def test_the_command_line_the_dockerfile_documents() -> None:
    """The header's docker commands name the build argument the file declares."""
    header = DOCKERFILE.read_text().split("FROM", 1)[0]
    assert "--build-arg APP=" in header
    assert any(i.keyword == "ARG" and i.args.startswith("APP=") for i in instructions())
    assert shlex.split(only("ARG"))[0].startswith("APP=")


def test_azure_webjobs_script_root_finds_the_app_from_another_folder(tmp_path: Path) -> None:
    app = APPS / "docker_app"
    result = run_funchost(["check"], tmp_path, env={"AzureWebJobsScriptRoot": str(app)})
    assert result.returncode == 0, result.stderr
    assert "env: [GET,POST" in result.stdout
