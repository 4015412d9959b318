"""With keys bypassed on loopback, /admin and the dashboard answer only this machine's pages.

DNS rebinding (a foreign name in ``Host``) is refused for every admin request, a write from
another origin (``Origin``, or Fetch Metadata's ``Sec-Fetch-Site``) too; clients that send no
``Origin`` (curl, ``funchost invoke``) are not affected, and with keys enforced the key rules.
"""

from __future__ import annotations

import pytest
from conftest import APPS, StartHost
from dashboard_helpers import request

from funchost.host.http.origin import host_name, is_local_name, refusal, same_origin

APP = APPS / "ci_mode"
SERVED = ("--functions", "hello", "tick", "--no-azurite")


@pytest.mark.parametrize(
    ("authority", "name"),
    [
        ("localhost:7071", "localhost"),
        ("LocalHost", "localhost"),
        ("[::1]:7071", "::1"),
        ("127.0.0.1", "127.0.0.1"),
        ("evil.example:80", "evil.example"),
        ("a/b@c", "a/b@c"),  # not local, so refused below
        ("", None),
        ("localhost:70x", None),
        ("[::1", None),
        ("[::1]x", None),
        ("localhost:1234567", None),
    ],
)
def test_host_name_reads_the_name_of_a_host_header(authority: str, name: str | None) -> None:
    assert host_name(authority) == name


@pytest.mark.parametrize(
    ("name", "local"),
    [
        ("localhost", True),
        ("app.localhost", True),
        ("127.0.0.1", True),
        ("127.8.9.10", True),
        ("::1", True),
        ("10.0.0.5", False),
        ("0.0.0.0", False),
        ("localhost.evil.example", False),
        ("evil.example", False),
        ("a/b@c", False),
    ],
)
def test_local_names_are_loopback_ones(name: str, local: bool) -> None:
    assert is_local_name(name, "127.0.0.1") is local


def test_the_bound_address_is_local_too() -> None:
    assert is_local_name("myhost.internal", "MyHost.internal")


@pytest.mark.parametrize(
    ("origin", "authority", "same"),
    [
        ("http://localhost:7071", "localhost:7071", True),
        ("http://LOCALHOST:7071", "localhost:7071", True),
        ("http://localhost", "localhost:80", True),
        ("http://localhost:7071", "127.0.0.1:7071", False),
        ("https://localhost:7071", "localhost:7071", False),
        ("http://localhost:3000", "localhost:7071", False),
        ("null", "localhost:7071", False),
    ],
)
def test_same_origin_is_scheme_name_and_port(origin: str, authority: str, same: bool) -> None:
    assert same_origin(origin, authority) is same


def test_a_local_host_and_the_own_origin_are_needed() -> None:
    local = {"Host": "localhost:7071"}
    assert refusal("GET", local, "127.0.0.1") is None
    # Another site's read (which --cors could let it see) is refused; a link followed from
    # another site (a navigation: no Origin on a GET) opens the page.
    assert refusal("GET", {**local, "Origin": "http://evil.example"}, "127.0.0.1") is not None
    assert refusal("GET", {**local, "Sec-Fetch-Site": "cross-site"}, "127.0.0.1") is None
    assert refusal("POST", local, "127.0.0.1") is None  # curl: no Origin
    assert refusal("POST", {**local, "Origin": "http://localhost:7071"}, "127.0.0.1") is None
    refused = refusal("POST", {**local, "Origin": "http://evil.example"}, "127.0.0.1")
    assert refused is not None and "Origin 'http://evil.example'" in refused
    cross = refusal("DELETE", {**local, "Sec-Fetch-Site": "cross-site"}, "127.0.0.1")
    assert cross is not None and "Sec-Fetch-Site" in cross
    rebound = refusal("GET", {"Host": "evil.example:7071"}, "127.0.0.1")
    assert rebound is not None and "Host 'evil.example:7071'" in rebound
    assert refusal("GET", {}, "127.0.0.1") is not None  # no Host at all


def test_a_rebound_host_reaches_neither_admin_nor_the_page(start_host: StartHost) -> None:
    host = start_host(APP, *SERVED)
    base = host.base_url
    evil = {"Host": f"rebound.evil.example:{host.port}"}
    for path in ("/admin/host/status", "/admin/functions", "/admin/ui/", "/admin/ui/api/state"):
        status, text = request(base + path, headers=evil)
        assert status == 403, path
        assert text.startswith(f"refused: Host 'rebound.evil.example:{host.port}'")
    for name in ("localhost", "127.0.0.1", "[::1]", "dash.localhost"):
        local = {"Host": f"{name}:{host.port}"}
        assert request(f"{base}/admin/host/status", headers=local)[0] == 200
    # Function routes are the app's own surface (a tunnel may forward another name): served.
    assert request(f"{base}/api/hello", headers=evil) == (200, "hello nobody")
    # One warning says why, not one per request: a hostile page may send many.
    host.drain()
    assert host.output.count("Admin request refused: Host") == 1


def test_a_cross_origin_write_is_refused_and_changes_nothing(start_host: StartHost) -> None:
    host = start_host(APP, *SERVED)
    base = host.base_url
    plain = {"Content-Type": "text/plain"}  # what a page may post without a preflight
    for headers in (
        {"Origin": "http://evil.example"},
        {"Origin": "null"},
        {"Origin": f"http://localhost:{host.port + 1}"},
        {"Sec-Fetch-Site": "cross-site"},
    ):
        for path in ("/admin/functions/tick", "/admin/host/drain"):
            status, _ = request(base + path, "POST", b'{"input": ""}', {**plain, **headers})
            assert status == 403, (path, headers)
    assert request(f"{base}/admin/host/drain/status") == (200, '{"state": "Disabled"}')
    own = {"Origin": f"http://127.0.0.1:{host.port}", "Sec-Fetch-Site": "same-origin"}
    assert request(f"{base}/admin/functions/tick", "POST", b"{}", own)[0] == 202
    assert request(f"{base}/admin/functions/tick", "POST", b"{}")[0] == 202  # curl
    host.wait_for("Executed 'Functions.tick'")
    host.drain()
    assert host.output.count("Executing 'Functions.tick'") == 2  # the two allowed, no more


def test_with_keys_enforced_the_master_key_decides(start_host: StartHost) -> None:
    key = "k" * 40
    host = start_host(APP, *SERVED, "--enable-auth", env={"FUNCTIONS_MASTER_KEY": key})
    base = host.base_url
    foreign = {"Host": f"funchost.example:{host.port}", "Origin": "http://tool.example"}
    assert request(f"{base}/admin/host/status", headers=foreign)[0] == 401
    keyed = {**foreign, "x-functions-key": key}
    assert request(f"{base}/admin/host/status", headers=keyed)[0] == 200
    assert request(f"{base}/admin/functions/tick", "POST", b"{}", keyed)[0] == 202


def test_cors_opens_the_functions_not_the_dashboards_data(start_host: StartHost) -> None:
    host = start_host(APP, *SERVED, "--cors", "*")
    base = host.base_url
    foreign = {"Origin": "http://evil.example"}
    status, _ = request(f"{base}/api/hello", headers=foreign)
    assert status == 200  # the user allowed every origin for the app's functions
    assert request(f"{base}/admin/ui/api/state", headers=foreign)[0] == 403
    assert request(f"{base}/admin/host/status", headers=foreign)[0] == 403
    own = {"Origin": f"http://127.0.0.1:{host.port}"}
    assert request(f"{base}/admin/ui/api/state", headers=own)[0] == 200
    assert request(f"{base}/admin/ui/api/state")[0] == 200
