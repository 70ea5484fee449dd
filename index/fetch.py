"""Fetching web resources as a careful client: SSRF checks, pinned addresses, size and time limits, politeness.

Used by `index.feeds` for RSS/Atom feeds and article pages. Nothing here knows about articles or the index.

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
"""

from __future__ import annotations

import ipaddress
import logging
import socket
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

import httpx

from .errors import NewsdeskError

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
    timeout: float = 15.0  # seconds: connect, each read, and each request (per redirect hop) in total
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


def address_class(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
    """The class of a non-public address ("loopback", "private"...), or None for a public one."""
    if ip.version == 6 and ip.ipv4_mapped is not None:  # ::ffff:10.0.0.1 is 10.0.0.1
        return address_class(ip.ipv4_mapped)
    if ip in METADATA_ADDRESSES:
        return "cloud metadata"
    if ip.is_unspecified:
        return "unspecified"
    if ip.is_loopback:
        return "loopback"
    if ip.is_link_local:
        return "link-local"
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


def resolve(url: str, policy: FetchPolicy) -> str:
    """Check `url` and return the address to connect to; raises UnsafeURL.

    Every address the host resolves to must be public (a mix of public and private answers is refused: it
    is what a rebinding attack looks like), unless the host is in `policy.allow_hosts`.
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
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
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


def check_url(url: str, policy: FetchPolicy | None = None) -> str:
    """Raise UnsafeURL when `url` would be refused (scheme or address); return it stripped otherwise."""
    resolve(url, policy or FetchPolicy())
    return url.strip()


# --- politeness ------------------------------------------------------------------------------------------


class HostPacer:
    """At least `delay` seconds between the starts of two requests to one host (thread-safe)."""

    def __init__(self, delay: float):
        self.delay = max(0.0, delay)
        self._next: dict[str, float] = {}
        self._lock = threading.Lock()

    def wait(self, host: str) -> None:
        with self._lock:
            now = time.monotonic()
            slot = max(now, self._next.get(host, 0.0))
            self._next[host] = slot + self.delay
        if slot > now:
            time.sleep(slot - now)


# --- fetching --------------------------------------------------------------------------------------------


@dataclass
class Fetcher:
    """Fetches URLs under one policy; share one across the threads of a refresh, then `close()` it."""

    policy: FetchPolicy = field(default_factory=FetchPolicy)

    def __post_init__(self) -> None:
        self._pacer = HostPacer(self.policy.per_host_delay)
        self._clients: dict[str, httpx.Client] = {}
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
                client = httpx.Client(
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
        Raises UnsafeURL (nothing was sent) or FetchError.
        """
        accept = tuple(accept)
        current = url.strip()
        for _hop in range(MAX_REDIRECTS + 1):
            response = self._get_once(current, accept, accept_header, etag, last_modified)
            if response.status_code in REDIRECT_STATUSES:
                location = response.headers.get("location")
                if not location:
                    raise FetchError(current, f"HTTP {response.status_code} redirect without a Location",
                                     response.status_code)  # fmt: skip
                current = urljoin(current, location.strip())
                continue
            return Fetched(response.url, response.status_code, response.headers, response.body, requested=url)
        raise FetchError(url, f"more than {MAX_REDIRECTS} redirects")

    def _get_once(self, url, accept, accept_header, etag, last_modified) -> Fetched:
        scheme, host, port = _split(url)
        address = resolve(url, self.policy)  # raises UnsafeURL before anything is sent
        parsed = httpx.URL(url)
        pinned = parsed.copy_with(host=address, fragment=None)
        headers = {"Host": parsed.netloc.decode("ascii"), "Accept": accept_header}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        extensions = {"sni_hostname": host} if scheme == "https" else {}
        self._pacer.wait(host.lower())
        deadline = time.monotonic() + self.policy.timeout
        client = self._client(f"{scheme}://{host.lower()}:{port}")
        try:
            request = client.build_request("GET", pinned, headers=headers, extensions=extensions)
            response = client.send(request, stream=True)
        except httpx.TimeoutException as exc:
            raise FetchError(url, f"timed out after {self.policy.timeout:g} s") from exc
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

    def _read(self, response: httpx.Response, url: str, headers: dict[str, str], deadline: float) -> bytes:
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
                if time.monotonic() > deadline:
                    raise FetchError(url, f"timed out after {self.policy.timeout:g} s (body too slow)")
                chunks.append(chunk)
        except httpx.TimeoutException as exc:
            raise FetchError(url, f"timed out after {self.policy.timeout:g} s") from exc
        except httpx.HTTPError as exc:
            raise FetchError(url, f"download failed ({exc.__class__.__name__}: {exc})"[:300]) from exc
        return b"".join(chunks)


def _type_ok(ctype: str, accept: tuple[str, ...]) -> bool:
    if not accept:
        return True
    if not ctype:
        return "" in accept
    return any(a and a in ctype for a in accept)
