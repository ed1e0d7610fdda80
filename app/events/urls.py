"""Outbound URLs are the partner's: what a webhook may be sent to (server-side request
forgery). Any environment refuses schemes other than http(s); production
(``ACCTSYNC_ENV=production``) also refuses hosts that resolve to loopback, link-local,
private, shared (CGNAT), multicast, reserved or unspecified addresses, unless
``ACCTSYNC_WEBHOOK_ALLOW_PRIVATE_URLS`` is set. The check runs when a subscription is saved
and again before every delivery (a name may resolve elsewhere later); redirects are never
followed."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from urllib.parse import urlsplit

from app.config import Settings


class UnsafeUrl(ValueError):
    """The URL may not receive webhooks; the message says why."""


def _refused(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return (
        ip.is_loopback
        or ip.is_link_local
        or ip.is_private
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
        or ip in ipaddress.ip_network("100.64.0.0/10")
    )


def check_form(url: str) -> tuple[str, int]:
    """The host and port of an http(s) URL.

    Raises:
        UnsafeUrl: another scheme, no host, or credentials in the URL.
    """
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise UnsafeUrl(f"not a valid URL: {exc}") from None
    if parts.scheme not in ("http", "https"):
        raise UnsafeUrl(f"only http and https URLs receive webhooks, not {parts.scheme or '-'}:")
    if not parts.hostname:
        raise UnsafeUrl("the URL has no host")
    if parts.username or parts.password:
        raise UnsafeUrl("the URL may not carry credentials")
    return parts.hostname, port or (443 if parts.scheme == "https" else 80)


async def check(url: str, settings: Settings) -> None:
    """Refuse ``url`` if it may not receive webhooks under ``settings`` (see the module).

    Raises:
        UnsafeUrl: the reason, naming the address where one was refused.
    """
    host, port = check_form(url)
    if settings.env != "production" or settings.webhook_allow_private_urls:
        return
    try:
        addresses = [ipaddress.ip_address(host.strip("[]"))]
    except ValueError:
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(
                host, port, type=socket.SOCK_STREAM
            )
        except OSError as exc:
            raise UnsafeUrl(f"the host {host} does not resolve: {exc}") from None
        addresses = [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]
    for ip in addresses:
        if _refused(ip):
            raise UnsafeUrl(
                f"the host {host} resolves to {ip}, a loopback, link-local or private address "
                "(refused in production; ACCTSYNC_WEBHOOK_ALLOW_PRIVATE_URLS=1 allows it)"
            )
