"""Fetching web resources as a careful client: SSRF checks, pinned addresses, size and time limits, politeness.

Used by `index.sources.feeds` for RSS/Atom feeds and article pages. Nothing here knows about articles or the index.

Safety model (server-side request forgery): the bot fetches URLs that users and feeds hand it, from a machine
that may sit next to private services and a cloud metadata endpoint. So:

* only http and https URLs are fetched;
* before every request, and before every redirect hop (redirects are followed here, never by httpx), the host
  is resolved and every address it resolves to must be public: loopback, private, link-local, multicast,
  reserved, unspecified, shared (CGNAT) and the cloud metadata addresses are refused, unless the host is listed
  in `FetchPolicy.allow_hosts` (exact, case-insensitive host match);
* DNS rebinding: a name could resolve to a public address when checked and to 127.0.0.1 a moment later when
  the HTTP library resolves it again. To close that gap the connection is pinned to the address that was
  checked: the request goes to `scheme://<checked ip>:port/...` with the original `Host` header and, for
  https, the original name as TLS SNI and certificate host name (httpx's `sni_hostname` extension). One
  httpx client per host name keeps a pooled connection from being reused for another name;
* environment proxies are ignored (`trust_env=False`): through a proxy the checked address would not be the
  one connected to.

Time limit: `FetchPolicy.timeout` is ONE deadline for a whole `Fetcher.get`: DNS resolution, connect, TLS,
sending, response headers, body, and every redirect hop together (waits imposed by our own per-host pacing
are not counted). httpx's own time-outs apply per socket operation, so a server that sends its headers one
byte a second would never trip them; here every socket operation is capped at the time left before the
deadline (a network backend under httpx's connection pool, `_DeadlineBackend`), and past the deadline the
next operation fails. A slow server can therefore never hold a fetch, or the bot's scheduled refresh, longer
than the timeout.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
import ssl
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

import httpcore
import httpx

from index.errors import NewsdeskError

log = logging.getLogger(__name__)

MAX_REDIRECTS = 5
REDIRECT_STATUSES = (301, 302, 303, 307, 308)
ALLOWED_SCHEMES = ("http", "https")
# Cloud instance metadata endpoints (AWS, GCP, Azure, OpenStack...): the classic SSRF target.
METADATA_ADDRESSES = frozenset(
    {ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254")}
)

FEED_TYPES = ("xml", "rss", "atom", "json")  # any content type containing one of these is a feed candidate
PAGE_TYPES = ("text/html", "application/xhtml+xml")


@dataclass(frozen=True)
class FetchPolicy:
    """How to fetch: which hosts may be private, limits, politeness."""

    allow_hosts: tuple[str, ...] = ()  # hosts allowed even if they resolve to private/loopback addresses
    timeout: float = 15.0  # seconds for a whole request: DNS, connect, headers, body and every redirect
    max_bytes: int = 5 * 1024 * 1024  # of the decoded body
    per_host_delay: float = 1.0  # seconds between two requests to one host
    concurrency: int = 4
    user_agent: str = "NewsdeskBot/0.1 (+https://github.com/newsdesk; news Q&A bot)"
    max_entries: int = 50  # entries read from one feed (newest first, as the feed lists them)

    def allows(self, host: str) -> bool:
        host = host.lower().strip("[]").rstrip(".")
        return any(host == h.lower().strip("[]").rstrip(".") for h in self.allow_hosts)


class UnsafeURL(NewsdeskError):
    """A URL refused before any connection: a scheme other than http(s), or a non-public address."""

    def __init__(self, url: str, reason: str):
        self.url = url
        self.reason = reason
        super().__init__(f"Refused {url}: {reason}.")


class FetchError(NewsdeskError):
    """A fetch that failed: HTTP error, timeout, wrong content type, too large, too many redirects..."""

    def __init__(self, url: str, reason: str, status_code: int | None = None):
        self.url = url
        self.reason = reason
        self.status_code = status_code
        super().__init__(f"Cannot fetch {url}: {reason}.")


@dataclass(frozen=True)
class Fetched:
    """A response: `url` is the final URL (after redirects), `body` empty for a 304."""

    url: str
    status_code: int
    headers: dict[str, str]
    body: bytes = b""
    requested: str = ""

    @property
    def not_modified(self) -> bool:
        return self.status_code == 304

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";", 1)[0].strip().lower()

    @property
    def charset(self) -> str | None:
        for part in self.headers.get("content-type", "").split(";")[1:]:
            key, _, value = part.partition("=")
            if key.strip().lower() == "charset" and value.strip():
                return value.strip().strip("\"'")
        return None

    @property
    def etag(self) -> str | None:
        return self.headers.get("etag") or None

    @property
    def last_modified(self) -> str | None:
        return self.headers.get("last-modified") or None


# --- address checks --------------------------------------------------------------------------------------


# IPv6 ranges that carry an IPv4 address a tunnel or translator would deliver to: the IPv4 address is checked
# with the IPv4 rules, so 2002:7f00:1:: (6to4 for 127.0.0.1) is as loopback as 127.0.0.1 itself.
_6TO4 = ipaddress.ip_network("2002::/16")
_TEREDO = ipaddress.ip_network("2001::/32")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")  # well-known prefix (RFC 6052)
_NAT64_LOCAL = ipaddress.ip_network("64:ff9b:1::/48")  # local-use prefix (RFC 8215), any RFC 6052 length
_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")  # deprecated ::a.b.c.d (RFC 4291)
_IPV4_TRANSLATED = ipaddress.ip_network("::ffff:0:0:0/96")  # SIIT ::ffff:0:a.b.c.d (RFC 2765)
_SITE_LOCAL = ipaddress.ip_network("fec0::/10")  # deprecated (RFC 3879), still routed inside some sites


def embedded_ipv4(ip: ipaddress.IPv6Address) -> tuple[str, list[ipaddress.IPv4Address]] | None:
    """(form, IPv4 addresses) for an IPv6 address that embeds IPv4 ones, else None.

    Forms: "IPv4-mapped" ::ffff:a.b.c.d, "IPv4-translated" ::ffff:0:a.b.c.d, "IPv4-compatible" ::a.b.c.d
    (not :: or ::1), "6to4" 2002:AABB:CCDD::/48, "NAT64" 64:ff9b::a.b.c.d and the local-use 64:ff9b:1::/48
    (where the operator's prefix length is unknown, the address at every RFC 6052 position: /48, /56, /64,
    /96), "Teredo" 2001:0::/32 (the server address and the client address, stored XOR-ed).
    """
    n = int(ip)
    if ip.ipv4_mapped is not None:
        return "IPv4-mapped", [ip.ipv4_mapped]
    if ip in _IPV4_TRANSLATED:
        return "IPv4-translated", [ipaddress.IPv4Address(n & 0xFFFFFFFF)]
    if ip in _IPV4_COMPATIBLE:
        return ("IPv4-compatible", [ipaddress.IPv4Address(n)]) if n > 1 else None
    if ip in _6TO4:
        return "6to4", [ipaddress.IPv4Address((n >> 80) & 0xFFFFFFFF)]
    if ip in _NAT64:
        return "NAT64", [ipaddress.IPv4Address(n & 0xFFFFFFFF)]
    if ip in _NAT64_LOCAL:
        if (n >> 32) & ((1 << 48) - 1) == 0:  # 64:ff9b:1::a.b.c.d, the /96 form
            return "NAT64", [ipaddress.IPv4Address(n & 0xFFFFFFFF)]
        candidates = [  # (IPv4 address at that position, whether the bits after it are zero as they must be)
            (((n >> 64) & 0xFFFF) << 16 | (n >> 40) & 0xFFFF, n & (1 << 40) - 1 == 0),  # /48: 48-63, 72-87
            (((n >> 64) & 0xFF) << 24 | (n >> 32) & 0xFFFFFF, n & (1 << 32) - 1 == 0),  # /56: 56-63, 72-95
            ((n >> 24) & 0xFFFFFFFF, n & (1 << 24) - 1 == 0),  # /64: bits 72-103
            (n & 0xFFFFFFFF, False),  # /96 with a non-zero prefix after 64:ff9b:1::/48
        ]
        # All of them are checked; the likeliest (well-formed, shortest prefix) first, for the reason given.
        ordered = [c for c, fits in candidates if fits] + [c for c, fits in candidates if not fits]
        return "NAT64", [ipaddress.IPv4Address(c) for c in ordered]
    if ip in _TEREDO:
        server, client = ip.teredo  # type: ignore[misc]  # client = the last 32 bits XOR 0xffffffff
        return "Teredo", [client, server]
    return None


def address_class(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
    """The class of a non-public address ("loopback", "private"...), or None for a public one.

    An IPv6 address that embeds an IPv4 address (see `embedded_ipv4`) is as non-public as the address it
    embeds: "6to4-wrapped loopback" for 2002:7f00:1::, plain "loopback" for ::ffff:127.0.0.1. Embedding a
    public IPv4 address, a NAT64 address is public (it is what DNS64 answers on an IPv6-only network); the
    other forms keep the class of their IPv6 range.
    """
    if ip.version == 6:
        embedded = embedded_ipv4(ip)  # type: ignore[arg-type]
        if embedded is not None:
            form, inner = embedded
            for v4 in inner:
                kind = address_class(v4)
                if kind:
                    if form == "IPv4-mapped":
                        return kind
                    return f"{form} {kind}" if form.startswith("IPv4-") else f"{form}-wrapped {kind}"
            if form in ("IPv4-mapped", "NAT64"):
                return None
    if ip in METADATA_ADDRESSES:
        return "cloud metadata"
    if ip.is_unspecified:
        return "unspecified"
    if ip.is_loopback:
        return "loopback"
    if ip.is_link_local:
        return "link-local"
    if ip.version == 6 and ip in _SITE_LOCAL:
        return "site-local"
    if ip.is_multicast:
        return "multicast"
    if ip.is_reserved:  # before is_private, which also covers 240.0.0.0/4
        return "reserved"
    if ip.is_private:
        return "private"
    if not ip.is_global:
        return "non-public (shared or special-purpose)"
    return None


def _split(url: str) -> tuple[str, str, int]:
    """(scheme, host, port) of an http(s) URL; raises UnsafeURL for anything else."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise UnsafeURL(url, f"not a valid URL ({exc})") from exc
    scheme = parts.scheme.lower()
    if scheme not in ALLOWED_SCHEMES:
        raise UnsafeURL(url, f"only http and https URLs can be fetched, not {scheme or 'a URL without scheme'}")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise UnsafeURL(url, "the URL has no host")
    return scheme, host, port or (443 if scheme == "https" else 80)


def resolve(url: str, policy: FetchPolicy, deadline: Deadline | None = None) -> str:
    """Check `url` and return the address to connect to; raises UnsafeURL (or FetchError).

    Every address the host resolves to must be public (a mix of public and private answers is refused: it
    is what a rebinding attack looks like), unless the host is in `policy.allow_hosts`. With a `deadline`,
    a DNS lookup still unanswered when it passes is a FetchError.
    """
    _scheme, host, port = _split(url)
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    if literal is not None:
        addresses = [literal]
    else:
        try:
            infos = _getaddrinfo(url, host, port, deadline)
        except (socket.gaierror, UnicodeError) as exc:
            raise FetchError(url, f"cannot resolve host {host} ({exc})") from exc
        addresses = []
        for info in infos:
            ip = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
            if ip not in addresses:
                addresses.append(ip)
        if not addresses:
            raise FetchError(url, f"host {host} has no address")
    if not policy.allows(host):
        for ip in addresses:
            kind = address_class(ip)
            if kind:
                where = f"{host} is" if literal is not None else f"{host} resolves to {ip}, which is"
                raise UnsafeURL(url, f"{where} a {kind} address (allow the host explicitly if this is intended)")
    return str(addresses[0])


def _getaddrinfo(url: str, host: str, port: int, deadline: Deadline | None) -> list:
    if deadline is None:
        return socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    # getaddrinfo cannot be interrupted: it runs in a daemon thread that is left to finish on its own (the
    # system resolver's own time-outs bound it) when the deadline passes first.
    box: dict = {}

    def lookup() -> None:
        try:
            box["infos"] = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except BaseException as exc:  # handed to the caller
            box["error"] = exc

    thread = threading.Thread(target=lookup, name="newsdesk-resolve", daemon=True)
    thread.start()
    thread.join(max(0.0, deadline.left()))
    if thread.is_alive():
        raise FetchError(url, f"{deadline.message()} (resolving {host})")
    if "error" in box:
        raise box["error"]
    return box["infos"]


def check_url(url: str, policy: FetchPolicy | None = None) -> str:
    """Raise UnsafeURL when `url` would be refused (scheme or address); return it stripped otherwise."""
    resolve(url, policy or FetchPolicy())
    return url.strip()


# --- one deadline per request ---------------------------------------------------------------------------


class Deadline:
    """The time budget of one request, redirects included; `extend` adds back time we chose to wait."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.at = time.monotonic() + seconds

    def left(self) -> float:
        return self.at - time.monotonic()

    def extend(self, seconds: float) -> None:
        self.at += max(0.0, seconds)

    def message(self) -> str:
        return f"timed out after {self.seconds:g} s (the limit for the whole request, redirects included)"


_current = threading.local()  # .deadline: the Deadline of the request this thread is making, if any


def _capped(timeout: float | None, error: type[Exception]) -> float | None:
    """`timeout` for one socket operation, cut to the time left before this thread's deadline."""
    deadline: Deadline | None = getattr(_current, "deadline", None)
    if deadline is None:
        return timeout
    left = deadline.left()
    if left <= 0:
        raise error("the request deadline has passed")
    return left if timeout is None else min(timeout, left)


class _DeadlineStream(httpcore.NetworkStream):
    """A network stream whose every read, write and TLS handshake ends by the request's deadline."""

    def __init__(self, inner: httpcore.NetworkStream):
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, timeout=_capped(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, timeout=_capped(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(self, ssl_context, server_hostname: str | None = None, timeout: float | None = None):
        timeout = _capped(timeout, httpcore.ConnectTimeout)
        return _DeadlineStream(self._inner.start_tls(ssl_context, server_hostname, timeout))

    def get_extra_info(self, info: str):
        return self._inner.get_extra_info(info)


class _DeadlineBackend(httpcore.NetworkBackend):
    """httpcore's synchronous backend, with connections opened by the deadline and `_DeadlineStream`s."""

    def __init__(self) -> None:
        self._inner = httpcore.SyncBackend()

    def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        timeout = _capped(timeout, httpcore.ConnectTimeout)
        return _DeadlineStream(self._inner.connect_tcp(host, port, timeout, local_address, socket_options))

    def connect_unix_socket(self, path, timeout=None, socket_options=None):  # not used: no uds
        timeout = _capped(timeout, httpcore.ConnectTimeout)
        return _DeadlineStream(self._inner.connect_unix_socket(path, timeout, socket_options))

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


def _transport(ssl_context: ssl.SSLContext) -> httpx.HTTPTransport:
    """httpx's transport with its connection pool on `_DeadlineBackend`.

    httpx does not take a network backend, so the pool it made is swapped for one built the same way (the
    defaults of httpx's Client: 100 connections, 20 kept alive for 5 s); refused loudly if a future httpx
    keeps its pool elsewhere, rather than silently losing the deadline.
    """
    transport = httpx.HTTPTransport(verify=ssl_context, trust_env=False)
    if not isinstance(getattr(transport, "_pool", None), httpcore.ConnectionPool):
        raise RuntimeError("unsupported httpx version: HTTPTransport has no httpcore connection pool")
    transport._pool.close()
    transport._pool = httpcore.ConnectionPool(
        ssl_context=ssl_context,
        max_connections=100,
        max_keepalive_connections=20,
        keepalive_expiry=5.0,
        network_backend=_DeadlineBackend(),
    )
    return transport


# --- politeness ------------------------------------------------------------------------------------------


class HostPacer:
    """At least `delay` seconds between the starts of two requests to one host (thread-safe)."""

    def __init__(self, delay: float):
        self.delay = max(0.0, delay)
        self._next: dict[str, float] = {}
        self._lock = threading.Lock()

    def wait(self, host: str) -> float:
        """Sleep until `host` may be asked again; return the seconds slept."""
        with self._lock:
            now = time.monotonic()
            slot = max(now, self._next.get(host, 0.0))
            self._next[host] = slot + self.delay
        if slot > now:
            time.sleep(slot - now)
            return slot - now
        return 0.0


# --- fetching --------------------------------------------------------------------------------------------


@dataclass
class Fetcher:
    """Fetches URLs under one policy; share one across the threads of a refresh, then `close()` it."""

    policy: FetchPolicy = field(default_factory=FetchPolicy)

    def __post_init__(self) -> None:
        self._pacer = HostPacer(self.policy.per_host_delay)
        self._clients: dict[str, httpx.Client] = {}
        self._ssl_context: ssl.SSLContext | None = None  # one for all clients: loading CA certificates is slow
        self._lock = threading.Lock()

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        with self._lock:
            clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            client.close()

    def _client(self, host: str) -> httpx.Client:
        # One client (one connection pool) per host name: a pooled connection opened for one name (its TLS
        # certificate checked for that name) is never reused for another name served from the same address.
        with self._lock:
            client = self._clients.get(host)
            if client is None:
                if self._ssl_context is None:
                    self._ssl_context = httpx.create_ssl_context(trust_env=False)
                client = httpx.Client(
                    transport=_transport(self._ssl_context),
                    timeout=httpx.Timeout(self.policy.timeout),
                    follow_redirects=False,
                    trust_env=False,
                    headers={"User-Agent": self.policy.user_agent},
                )
                self._clients[host] = client
            return client

    def get(
        self,
        url: str,
        *,
        accept: Iterable[str],
        accept_header: str = "*/*",
        etag: str | None = None,
        last_modified: str | None = None,
    ) -> Fetched:
        """GET `url`, following up to MAX_REDIRECTS redirects, each hop checked; conditional when asked.

        `accept` lists content-type fragments that are acceptable (a 2xx with another type is a FetchError).
        The whole call, every redirect hop included, has `policy.timeout` seconds (module docstring).
        Raises UnsafeURL (nothing was sent) or FetchError.
        """
        accept = tuple(accept)
        current = url.strip()
        deadline = Deadline(self.policy.timeout)
        outer = getattr(_current, "deadline", None)
        _current.deadline = deadline
        try:
            for _hop in range(MAX_REDIRECTS + 1):
                response = self._get_once(current, accept, accept_header, etag, last_modified, deadline)
                if response.status_code in REDIRECT_STATUSES:
                    location = response.headers.get("location")
                    if not location:
                        raise FetchError(current, f"HTTP {response.status_code} redirect without a Location",
                                         response.status_code)  # fmt: skip
                    current = urljoin(current, location.strip())
                    continue
                body = response.body
                return Fetched(response.url, response.status_code, response.headers, body, requested=url)
            raise FetchError(url, f"more than {MAX_REDIRECTS} redirects")
        finally:
            _current.deadline = outer

    def _get_once(self, url, accept, accept_header, etag, last_modified, deadline: Deadline) -> Fetched:
        scheme, host, port = _split(url)
        address = resolve(url, self.policy, deadline)  # raises UnsafeURL before anything is sent
        parsed = httpx.URL(url)
        pinned = parsed.copy_with(host=address, fragment=None)
        headers = {"Host": parsed.netloc.decode("ascii"), "Accept": accept_header}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        extensions = {"sni_hostname": host} if scheme == "https" else {}
        client = self._client(f"{scheme}://{host.lower()}:{port}")  # before pacing: requests leave on time
        deadline.extend(self._pacer.wait(host.lower()))  # our own politeness is not the server's time
        if deadline.left() <= 0:
            raise FetchError(url, deadline.message())
        try:
            request = client.build_request("GET", pinned, headers=headers, extensions=extensions)
            response = client.send(request, stream=True)
        except httpx.TimeoutException as exc:
            raise FetchError(url, deadline.message()) from exc
        except httpx.HTTPError as exc:
            raise FetchError(url, f"connection failed ({exc.__class__.__name__}: {exc})"[:300]) from exc
        try:
            resp_headers = {k.lower(): v for k, v in response.headers.items()}
            status = response.status_code
            if status in REDIRECT_STATUSES or status == 304:
                return Fetched(url, status, resp_headers)
            if status >= 400:
                reason = response.reason_phrase or ""
                raise FetchError(url, f"HTTP {status}{f' {reason}' if reason else ''}", status)
            if not 200 <= status < 300:
                raise FetchError(url, f"unexpected HTTP status {status}", status)
            ctype = resp_headers.get("content-type", "").split(";", 1)[0].strip().lower()
            if not _type_ok(ctype, accept):
                raise FetchError(url, f"unexpected content type {ctype or '(none)'}", status)
            body = self._read(response, url, resp_headers, deadline)
            return Fetched(url, status, resp_headers, body)
        finally:
            response.close()

    def _read(self, response: httpx.Response, url: str, headers: dict[str, str], deadline: Deadline) -> bytes:
        limit = self.policy.max_bytes
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            raise FetchError(url, f"too large ({int(declared):,} bytes; the limit is {limit:,})")
        chunks: list[bytes] = []
        size = 0
        try:
            # iter_bytes decodes gzip/deflate: the limit applies to the decoded size (no decompression bombs).
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > limit:
                    raise FetchError(url, f"too large (over the limit of {limit:,} bytes)")
                if deadline.left() <= 0:
                    raise FetchError(url, deadline.message())
                chunks.append(chunk)
        except httpx.TimeoutException as exc:
            raise FetchError(url, deadline.message()) from exc
        except httpx.HTTPError as exc:
            raise FetchError(url, f"download failed ({exc.__class__.__name__}: {exc})"[:300]) from exc
        return b"".join(chunks)


def _type_ok(ctype: str, accept: tuple[str, ...]) -> bool:
    if not accept:
        return True
    if not ctype:
        return "" in accept
    return any(a and a in ctype for a in accept)
