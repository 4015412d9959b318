"""Who may reach the admin API and the dashboard while function keys are bypassed.

On loopback without ``--enable-auth`` no key is asked for, so the address is the only
protection, and two kinds of web page get around it: a page whose name an attacker re-points
at 127.0.0.1 (DNS rebinding: the browser sends that name as ``Host``), and any page posting
to ``http://localhost:7071/admin/...`` (a ``text/plain`` POST needs no CORS preflight). So,
while keys are bypassed, ``/admin/*`` and ``/admin/ui/`` answer only a request whose ``Host``
is a loopback name or the bound address and whose ``Origin``, when it has one, is the host's
own (so ``--cors`` cannot open the dashboard's data to other sites either); a change of state
(any method but GET, HEAD, OPTIONS) is refused as well when Fetch Metadata says another
site's page sent it. A link followed from another site (a navigation: no ``Origin``) still
opens the page. Non-browser clients (curl, ``funchost invoke``) send no ``Origin`` and are
not affected. With keys enforced the master key is the protection, as in the Functions host.
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Mapping

log = logging.getLogger("funchost.server")

_READS = frozenset({"GET", "HEAD", "OPTIONS"})
# What Fetch Metadata says of a request another site's page made (browsers since 2020-23).
_OTHER_SITES = frozenset({"cross-site", "same-site"})
_warned: set[str] = set()  # one warning per kind of refusal: a hostile page may send many


def host_name(authority: str) -> str | None:
    """The name in a ``Host`` value (``[::1]:7071`` -> ``::1``), lower-cased; None if malformed."""
    authority = authority.strip().lower()
    if authority.startswith("["):
        name, bracket, rest = authority[1:].partition("]")
        if not bracket or (rest and not _port(rest)):
            return None
        return name
    name, colon, port = authority.partition(":")
    if not name or (colon and not _port(colon + port)):
        return None
    return name


def _port(text: str) -> bool:
    return text.startswith(":") and text[1:].isdigit() and len(text) <= 6


def is_local_name(name: str, bound_address: str) -> bool:
    """localhost (and ``*.localhost``, which browsers never look up), a loopback IP, or ours."""
    if name in ("localhost", bound_address.lower()) or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def same_origin(origin: str, authority: str) -> bool:
    """Whether an ``Origin`` header names the host the request was sent to (plain HTTP)."""
    return origin.strip().lower() == f"http://{authority.strip().lower()}".removesuffix(":80")


def refusal(method: str, headers: Mapping[str, str], bound_address: str) -> str | None:
    """Why a keyless request may not reach the admin API or the dashboard; None: it may."""
    authority = headers.get("Host", "")
    name = host_name(authority)
    if name is None or not is_local_name(name, bound_address):
        return _refused("host", f"Host '{authority}' is not a loopback name or {bound_address}")
    origin = headers.get("Origin")
    if origin is not None and not same_origin(origin, authority):
        return _refused("origin", f"Origin '{origin}' is not this host's (http://{authority})")
    if method.upper() in _READS:
        return None
    if headers.get("Sec-Fetch-Site", "").lower() in _OTHER_SITES:
        return _refused("origin", "the request came from another site's page (Sec-Fetch-Site)")
    return None


def _refused(kind: str, why: str) -> str:
    text = f"refused: {why}; keys are bypassed on loopback, so only this machine's own pages may"
    text += " reach /admin (use --enable-auth and the master key otherwise)"
    level = logging.DEBUG if kind in _warned else logging.WARNING
    _warned.add(kind)
    log.log(level, "Admin request %s", text)
    return text
