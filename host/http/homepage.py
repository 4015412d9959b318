"""The host's home page: what ``/`` answers when no function claims it.

As the Functions host's HomepageMiddleware, which runs after routing found no function: a
request whose path is exactly ``/``, whatever its method, gets an HTML page saying the app
is up (``text/html``, no charset), or an empty 204 when the app setting
``AzureWebJobsDisableHomepage`` is true. The page is funchost's own; its headline is the
host's, which is what people and probes look for.
"""

from __future__ import annotations

from collections.abc import Mapping

from aiohttp import web

from funchost.bindings.base import HttpHandler
from funchost.errors import ConfigError

DISABLE_SETTING = "AzureWebJobsDisableHomepage"

PAGE = b"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Azure Functions app: running</title>
<style>
body { margin: 0; padding: 48px; background: #0b2545; color: #fff;
       font-family: "Segoe UI", Helvetica, Arial, sans-serif; }
h1 { font-weight: 300; font-size: 40px; max-width: 16em; margin: 0 0 16px; }
p { font-size: 18px; max-width: 32em; line-height: 1.5; }
a { color: #9ad1ff; }
</style>
</head>
<body>
<h1>Your Functions 4.0 app is up and running</h1>
<p>This app is served by funchost, which runs Azure Functions Python apps as the Functions
host does. Its HTTP functions answer below their route prefix.</p>
<p><a href="https://learn.microsoft.com/azure/azure-functions/">Azure Functions
documentation</a></p>
</body>
</html>
"""


def handler(settings: Mapping[str, str]) -> HttpHandler:
    """What ``/`` answers: the page, or 204 when AzureWebJobsDisableHomepage is true."""
    return _no_content if _disabled(settings) else _page


def _disabled(settings: Mapping[str, str]) -> bool:
    raw = settings.get(DISABLE_SETTING, "")
    if raw.lower() in ("", "false", "true"):
        return raw.lower() == "true"
    # The host shows the page for anything but "true"; funchost says so instead.
    source = "local.settings.json Values or the environment"
    raise ConfigError(source, DISABLE_SETTING, raw, "true or false")


async def _page(request: web.BaseRequest, params: dict[str, str]) -> web.StreamResponse:
    return web.Response(body=PAGE, content_type="text/html")


async def _no_content(request: web.BaseRequest, params: dict[str, str]) -> web.StreamResponse:
    return web.Response(status=204)
