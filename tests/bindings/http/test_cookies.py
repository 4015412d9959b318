"""bindings/http/cookies.py on its own: the edges of the worker's parse and the host's writing
that an end-to-end case would not reach (tests/bindings/http/test_http_cookies.py has those)."""

from __future__ import annotations

from datetime import datetime
from http.cookies import SimpleCookie

import pytest

from funchost.bindings.http.cookies import (
    CookieRefused,
    RpcCookie,
    cookie_lines,
    header_lines,
    render,
)


def one(header: str) -> str:
    (line,) = header_lines([header])
    return line


def cookie(**fields: object) -> RpcCookie:
    base: dict[str, object] = dict(
        name="n", value="v", domain="", path="", expires=None, secure=False,
        http_only=False, same_site=None, max_age=None,
    )  # fmt: skip
    return RpcCookie(**{**base, **fields})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("max_age", "written"),
    [("0", "0"), ("-5", "-5"), ("1.9", "1"), ("-1.9", "-1"), ("1e3", "1000")],
)
def test_max_age_is_whole_seconds_truncated_toward_zero(max_age: str, written: str) -> None:
    assert one(f"n=v; Max-Age={max_age}") == f"n=v; max-age={written}; domain=; path="
    assert render(cookie(max_age=float(max_age))).split("; ")[1] == f"max-age={written}"


@pytest.mark.parametrize("max_age", [float("nan"), float("inf"), -float("inf"), 1e13])
def test_a_max_age_no_timespan_holds_is_refused(max_age: float) -> None:
    with pytest.raises(CookieRefused, match=r"max-age .* is out of range"):
        render(cookie(max_age=max_age))


def test_the_largest_timespan_is_written() -> None:
    assert render(cookie(max_age=922337203685.0)).split("; ")[1] == "max-age=922337203685"


def test_an_expires_without_a_zone_is_local_time_as_the_worker_reads_it() -> None:
    local = int(datetime(2017, 1, 12, 13, 55, 8).timestamp())
    written = render(cookie(expires=local)).split("; ")[1]
    assert one("n=v; Expires=2017-01-12T13:55:08").split("; ")[1] == written


def test_expires_is_written_in_english_rfc_1123_with_the_weekday_recomputed() -> None:
    # 12 January 2018 was a Friday; the header said Thursday.
    line = one("n=v; Expires=Thu, 12-Jan-2018 13:55:08 GMT")
    assert line == "n=v; expires=Fri, 12 Jan 2018 13:55:08 GMT; domain=; path="
    assert render(cookie(expires=-62_135_596_800)).split("; ")[1] == (
        "expires=Mon, 01 Jan 0001 00:00:00 GMT"
    )


def test_a_value_is_escaped_as_uri_escapedatastring_escapes_it() -> None:
    assert render(cookie(value="é ;!*'()~-._")).startswith("n=%C3%A9%20%3B%21%2A%27%28%29~-._;")
    with pytest.raises(CookieRefused, match="not text UTF-8 can encode"):
        render(cookie(value="\ud800"))


def test_a_name_that_is_no_token_is_refused_without_its_value() -> None:
    with pytest.raises(CookieRefused, match="cookie name 'a:b' is not an HTTP token") as refused:
        one("a:b=secret")
    assert "secret" not in str(refused.value)


def test_the_librarys_parsed_cookies_are_written_the_same_way() -> None:
    # The library's converter hands over SimpleCookie objects; they go the same way.
    parsed = SimpleCookie("n=v; Path=/p; HttpOnly")
    assert cookie_lines([parsed]) == ["n=v; domain=; path=/p; httponly"]
