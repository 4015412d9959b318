"""Auth levels and keys through the real ``funchost start``, as a caller sees them."""

from __future__ import annotations

import json
import stat
import urllib.error
import urllib.request
from pathlib import Path

from conftest import APPS, READY, Host, StartHost, free_port, host_env

MASTER = "test-master-key"


def call(url: str, key: str | None = None, *, header: bool = True) -> tuple[int, str]:
    """GET with the key in x-functions-key (or ?code=); status and body, never raising."""
    headers = {"x-functions-key": key} if key and header else {}
    if key and not header:
        url += ("&" if "?" in url else "?") + f"code={key}"
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode()


def enforced(start_host: StartHost, secrets: Path, *args: str, **env: str) -> Host:
    """A host with auth on, keys kept in ``secrets``."""
    return start_host(
        "auth_levels", "--enable-auth", *args, env={"FUNCTIONS_SECRETS_PATH": str(secrets), **env}
    )


def key_file(secrets: Path, name: str) -> dict[str, object]:
    """A secrets file as the Functions host lays it out."""
    return json.loads((secrets / name).read_text())  # type: ignore[no-any-return]


def test_on_loopback_without_enable_auth_every_level_is_served(start_host: StartHost) -> None:
    host = start_host("auth_levels")
    for path, body in (("anon", "anon"), ("func", "func"), ("adm", "adm")):
        assert call(f"{host.base_url}/api/{path}") == (200, body)
    assert "Auth is enforced" not in host.output


def test_missing_or_wrong_key_gives_401_with_empty_body(
    start_host: StartHost, tmp_path: Path
) -> None:
    host = enforced(start_host, tmp_path)
    assert call(f"{host.base_url}/api/anon") == (200, "anon")
    assert call(f"{host.base_url}/api/func") == (401, "")
    assert call(f"{host.base_url}/api/func", "wrong") == (401, "")
    assert call(f"{host.base_url}/api/adm", "wrong", header=False) == (401, "")
    assert f"Auth is enforced: function keys are checked (keys in {tmp_path})" in host.output


def test_master_key_from_environment_opens_every_level(
    start_host: StartHost, tmp_path: Path
) -> None:
    host = enforced(start_host, tmp_path, FUNCTIONS_MASTER_KEY=MASTER)
    assert call(f"{host.base_url}/api/func", MASTER) == (200, "func")
    assert call(f"{host.base_url}/api/func", MASTER, header=False) == (200, "func")
    assert call(f"{host.base_url}/api/adm", MASTER) == (200, "adm")


def test_keys_are_generated_in_the_functions_host_layout_and_reused(
    start_host: StartHost, tmp_path: Path
) -> None:
    first = enforced(start_host, tmp_path)
    host_doc = key_file(tmp_path, "host.json")
    master = host_doc["masterKey"]["value"]  # type: ignore[index]
    default_host_key = host_doc["functionKeys"][0]["value"]  # type: ignore[index]
    own_key = key_file(tmp_path, "func_level.json")["keys"][0]["value"]  # type: ignore[index]
    assert host_doc["masterKey"]["name"] == "master"  # type: ignore[index]
    assert len(master) >= 40 and master != default_host_key != own_key
    assert stat.S_IMODE((tmp_path / "host.json").stat().st_mode) == 0o600
    assert call(f"{first.base_url}/api/adm", master) == (200, "adm")
    first.stop()
    second = enforced(start_host, tmp_path)
    assert key_file(tmp_path, "host.json")["masterKey"]["value"] == master  # type: ignore[index]
    assert call(f"{second.base_url}/api/func", own_key) == (200, "func")


def test_function_key_opens_only_its_function_and_host_key_every_function(
    start_host: StartHost, tmp_path: Path
) -> None:
    host = enforced(start_host, tmp_path)
    own = key_file(tmp_path, "func_level.json")["keys"][0]["value"]  # type: ignore[index]
    host_key = key_file(tmp_path, "host.json")["functionKeys"][0]["value"]  # type: ignore[index]
    assert call(f"{host.base_url}/api/func", own) == (200, "func")
    assert call(f"{host.base_url}/api/func2", own) == (401, "")
    assert call(f"{host.base_url}/api/func2", host_key) == (200, "func2")
    assert call(f"{host.base_url}/api/adm", host_key) == (401, "")


def test_function_key_from_environment_is_a_host_function_key(
    start_host: StartHost, tmp_path: Path
) -> None:
    host = enforced(start_host, tmp_path, FUNCTIONS_FUNCTION_KEY="fkey")
    assert call(f"{host.base_url}/api/func2", "fkey") == (200, "func2")
    assert call(f"{host.base_url}/api/adm", "fkey") == (401, "")


def test_keys_written_by_hand_are_used(start_host: StartHost, tmp_path: Path) -> None:
    doc = {
        "masterKey": {"name": "master", "value": "hand-master", "encrypted": False},
        "functionKeys": [{"name": "default", "value": "hand-host", "encrypted": False}],
    }
    (tmp_path / "host.json").write_text(json.dumps(doc))
    host = enforced(start_host, tmp_path)
    assert call(f"{host.base_url}/api/adm", "hand-master") == (200, "adm")
    assert call(f"{host.base_url}/api/func", "hand-host") == (200, "func")


def test_auth_is_always_enforced_off_loopback(tmp_path: Path) -> None:
    port = free_port()
    env = host_env({"FUNCTIONS_SECRETS_PATH": str(tmp_path), "FUNCTIONS_MASTER_KEY": MASTER})
    args = ["start", "--port", str(port), "--address", "0.0.0.0"]
    host = Host(args, APPS / "auth_levels", env, port)
    try:
        host.wait_for(READY)
        assert call(f"{host.base_url}/api/func") == (401, "")
        assert call(f"{host.base_url}/api/func", MASTER) == (200, "func")
        assert call(f"{host.base_url}/api/anon") == (200, "anon")
    finally:
        assert host.stop() == 0


def test_admin_api_needs_the_master_key_when_enforced(
    start_host: StartHost, tmp_path: Path
) -> None:
    host = enforced(start_host, tmp_path, FUNCTIONS_MASTER_KEY=MASTER)
    assert call(f"{host.base_url}/admin/host/status") == (401, "")
    assert call(f"{host.base_url}/admin/host/ping") == (200, "")
    status, body = call(f"{host.base_url}/admin/host/status", MASTER)
    assert status == 200
    assert json.loads(body)["state"] == "Running"
