"""The SSRF guard for webhook URLs, applied when an endpoint is registered and again
before every attempt.

A member chooses the URL, so without it the worker could be made to call the cloud
metadata service (169.254.169.254), our own databases or anything else on the private
network. Every address the host resolves to is checked (one bad address refuses the
URL: resolvers rotate their answers), and the request then goes to the very address that
was checked, so a second lookup cannot answer differently (DNS rebinding).
"""

import asyncio
import ipaddress
import socket
from dataclasses import dataclass

import httpx

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

RESOLVE_TIMEOUT_SECONDS = 5.0
ALLOWED_SCHEMES = ("http", "https")

_V4 = ipaddress.IPv4Network
_V6 = ipaddress.IPv6Network
# Checked in this order; the first match names the rule the URL broke.
_IPV4_RULES: tuple[tuple[str, tuple[ipaddress.IPv4Network, ...]], ...] = (
    ("unspecified", (_V4("0.0.0.0/8"),)),
    ("loopback", (_V4("127.0.0.0/8"),)),
    ("link-local", (_V4("169.254.0.0/16"),)),
    ("private", (_V4("10.0.0.0/8"), _V4("172.16.0.0/12"), _V4("192.168.0.0/16"))),
    ("cgnat", (_V4("100.64.0.0/10"),)),
    ("multicast", (_V4("224.0.0.0/4"),)),
    ("reserved", (_V4("240.0.0.0/4"),)),
)
_IPV6_RULES: tuple[tuple[str, tuple[ipaddress.IPv6Network, ...]], ...] = (
    ("unspecified", (_V6("::/128"),)),
    ("loopback", (_V6("::1/128"),)),
    ("link-local", (_V6("fe80::/10"),)),
    ("unique-local", (_V6("fc00::/7"),)),
    ("multicast", (_V6("ff00::/8"),)),
    # Site-local (deprecated) and the local-use NAT64 prefix.
    ("reserved", (_V6("fec0::/10"), _V6("64:ff9b:1::/48"))),
)
# IPv6 forms that carry an IPv4 address in their last 32 bits.
_IPV4_COMPATIBLE = _V6("::/96")
_NAT64 = _V6("64:ff9b::/96")
# IPv4-mapped (::ffff:0:0/96) and IPv4-translated (::ffff:0:0:0/96, RFC 2765 and 6052):
# a dual-stack socket or a stateless translator turns them into IPv4 traffic that no
# IPv6 rule describes, and a public receiver is reachable by its IPv4 address anyway, so
# both are refused whatever they embed.
_IPV4_TRANSLATED = (_V6("::ffff:0:0/96"), _V6("::ffff:0:0:0/96"))

DESCRIPTIONS = {
    "unspecified": "the unspecified address",
    "loopback": "a loopback address (this machine)",
    "link-local": "a link-local address (169.254.0.0/16 or fe80::/10, where cloud metadata "
    "services answer)",
    "private": "a private network address (10/8, 172.16/12 or 192.168/16)",
    "cgnat": "a carrier-grade NAT address (100.64.0.0/10)",
    "unique-local": "a unique-local IPv6 address (fc00::/7)",
    "multicast": "a multicast address",
    "reserved": "a reserved address",
    "ipv4-translated": "an IPv4-mapped or IPv4-translated IPv6 address (::ffff:0:0/96 or "
    "::ffff:0:0:0/96); give the IPv4 address itself",
    "non-public": "a special-purpose address that is not publicly routable",
}


class UnsafeUrl(Exception):
    """The URL breaks ``rule``: a scheme, userinfo, resolution or address rule."""

    def __init__(self, rule: str, detail: str) -> None:
        super().__init__(detail)
        self.rule = rule
        self.detail = detail


@dataclass(frozen=True)
class Target:
    """Where to send: the checked address, and what to tell the server about the host."""

    url: httpx.URL
    host_header: str
    sni_hostname: str | None
    address: IPAddress


def parse(url: str) -> httpx.URL:
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL as exc:
        raise UnsafeUrl("malformed", f"The URL cannot be parsed: {exc}.") from exc
    if parsed.scheme not in ALLOWED_SCHEMES:
        raise UnsafeUrl("scheme", "Only http:// and https:// URLs can receive webhooks.")
    if parsed.userinfo:
        raise UnsafeUrl(
            "userinfo",
            "Credentials in the URL (user:password@) are not allowed; verify "
            "the webhook signature instead.",
        )
    if not parsed.host:
        raise UnsafeUrl("malformed", "The URL has no host.")
    return parsed


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address inside an IPv4-mapped, IPv4-translated, IPv4-compatible, NAT64 or
    6to4 address."""
    if address.sixtofour is not None:
        return address.sixtofour
    in_compatible = address in _IPV4_COMPATIBLE and int(address) > 1  # not :: or ::1
    if in_compatible or address in _NAT64 or _translated(address):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def _translated(address: ipaddress.IPv6Address) -> bool:
    return any(address in network for network in _IPV4_TRANSLATED)


def refused_rule(address: IPAddress, allow_loopback: bool) -> str | None:
    """The rule ``address`` breaks, or None when it may receive webhooks."""
    if isinstance(address, ipaddress.IPv6Address):
        inner = _embedded_ipv4(address)
        if inner is not None:
            # Even with allow_loopback: only the plain 127/8 and ::1 are development
            # addresses. A refused inner address names the rule: it says what was hidden.
            inner_rule = refused_rule(inner, allow_loopback=False)
            if inner_rule is not None or _translated(address):
                return inner_rule or "ipv4-translated"
            return None
        matched = next(
            (rule for rule, nets in _IPV6_RULES if any(address in n for n in nets)), None
        )
    else:
        matched = next(
            (rule for rule, nets in _IPV4_RULES if any(address in n for n in nets)), None
        )
    if matched == "loopback" and allow_loopback:
        return None
    if matched is None and not address.is_global:
        matched = "non-public"  # documentation, benchmarking and other IANA special ranges
    return matched


def _describe(host: str, address: IPAddress, rule: str) -> str:
    inner = _embedded_ipv4(address) if isinstance(address, ipaddress.IPv6Address) else None
    what = f"{DESCRIPTIONS[rule]}; webhooks only go to public addresses."
    if inner is not None and rule != "ipv4-translated":
        what = f"embeds {inner}, {what}"
        return f"{host} {what}" if _is_ip(host) else f"{host} resolves to {address}, which {what}"
    return f"{host} is {what}" if _is_ip(host) else f"{host} resolves to {address}, {what}"


async def _lookup(host: str, port: int) -> list[IPAddress]:
    loop = asyncio.get_running_loop()
    try:
        async with asyncio.timeout(RESOLVE_TIMEOUT_SECONDS):
            infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, TimeoutError) as exc:
        raise UnsafeUrl("unresolvable", f"{host} cannot be resolved ({exc}).") from exc
    # A link-local IPv6 answer may carry a zone ("fe80::1%eth0"); the address is what counts.
    found = [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]
    return list(dict.fromkeys(found))


async def resolve(url: str, allow_loopback: bool) -> Target:
    """Check ``url`` and every address its host resolves to; raise ``UnsafeUrl`` naming the
    broken rule, or return the target to connect to."""
    parsed = parse(url)
    host = parsed.raw_host.decode("ascii")
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    addresses = await _lookup(host, port)
    if not addresses:
        raise UnsafeUrl("unresolvable", f"{host} has no address.")
    for address in addresses:
        rule = refused_rule(address, allow_loopback)
        if rule is not None:
            raise UnsafeUrl(rule, _describe(parsed.host, address, rule))
    address = addresses[0]
    return Target(
        url=parsed.copy_with(host=str(address)),
        host_header=parsed.netloc.decode("ascii"),
        # The certificate must match the name the member registered, not the address.
        sni_hostname=host if parsed.scheme == "https" and not _is_ip(host) else None,
        address=address,
    )


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True
