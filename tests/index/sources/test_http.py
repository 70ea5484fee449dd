"""Hardening of `index.sources.http` (issue 10): embedded-IPv4 SSRF forms, and one deadline per request.

The slow servers are raw sockets on 127.0.0.1 (random port) that stop on their own after a few seconds, and
when the test ends. No test connects anywhere but 127.0.0.1.
"""

from __future__ import annotations

import contextlib
import ipaddress
import socket
import threading
import time

import pytest

from index.sources.feeds import fetch_page, refresh_feeds
from index.sources.http import (
    Fetcher,
    FetchError,
    FetchPolicy,
    UnsafeURL,
    address_class,
    embedded_ipv4,
    resolve,
)

# --- SSRF: IPv4 addresses inside IPv6 ones ---------------------------------------------------------------


def sixtofour(v4: str, rest: str = "::1") -> str:
    n = int(ipaddress.IPv4Address(v4))
    return str(ipaddress.IPv6Address((0x2002 << 112) | (n << 80) | int(ipaddress.IPv6Address(rest))))


def nat64(v4: str, prefix: str = "64:ff9b::") -> str:
    return str(ipaddress.IPv6Address(int(ipaddress.IPv6Address(prefix)) | int(ipaddress.IPv4Address(v4))))


def nat64_local(v4: str, length: int) -> str:
    """64:ff9b:1::/48 with `v4` at the RFC 6052 position for a prefix of `length` bits (u octet zero)."""
    base, n = int(ipaddress.IPv6Address("64:ff9b:1::")), int(ipaddress.IPv4Address(v4))
    if length == 48:
        embedded = (n >> 16) << 64 | (n & 0xFFFF) << 40
    elif length == 56:
        embedded = (n >> 24) << 64 | (n & 0xFFFFFF) << 32
    elif length == 64:
        embedded = n << 24
    else:
        embedded = n
    return str(ipaddress.IPv6Address(base | embedded))


def teredo(client: str, server: str = "65.54.227.120") -> str:
    """A Teredo address: server in bits 32-63, client (XOR-ed with all ones) in the last 32 bits."""
    s, c = int(ipaddress.IPv4Address(server)), int(ipaddress.IPv4Address(client))
    return str(
        ipaddress.IPv6Address(
            (0x20010000 << 96) | (s << 64) | (0x8000 << 48) | (0xFFFF << 32) | (c ^ 0xFFFFFFFF)
        )
    )


def compatible(v4: str) -> str:
    return str(ipaddress.IPv6Address(int(ipaddress.IPv4Address(v4))))


def translated(v4: str) -> str:
    return str(ipaddress.IPv6Address((0xFFFF << 48) | int(ipaddress.IPv4Address(v4))))  # ::ffff:0:a.b.c.d


INSIDE = {  # IPv4 addresses a fetch must never reach, and their class
    "127.0.0.1": "loopback", "127.255.0.9": "loopback", "10.0.0.1": "private", "192.168.1.20": "private",
    "172.16.5.4": "private", "169.254.169.254": "cloud metadata", "169.254.3.3": "link-local",
    "0.0.0.0": "unspecified", "100.64.1.1": "non-public (shared or special-purpose)", "224.0.0.5": "multicast",
    "240.0.0.1": "reserved",
}  # fmt: skip
WRAPPERS = [
    ("6to4", sixtofour, "6to4-wrapped"),
    ("6to4, other subnet", lambda v4: sixtofour(v4, "::abcd:0:0:1234"), "6to4-wrapped"),
    ("NAT64", nat64, "NAT64-wrapped"),
    ("NAT64 local /96", lambda v4: nat64(v4, "64:ff9b:1::"), "NAT64-wrapped"),
    ("NAT64 local /48", lambda v4: nat64_local(v4, 48), "NAT64-wrapped"),
    ("NAT64 local /56", lambda v4: nat64_local(v4, 56), "NAT64-wrapped"),
    ("NAT64 local /64", lambda v4: nat64_local(v4, 64), "NAT64-wrapped"),
    ("Teredo client", teredo, "Teredo-wrapped"),
    ("Teredo server", lambda v4: teredo("8.8.8.8", server=v4), "Teredo-wrapped"),
    ("IPv4-compatible", compatible, "IPv4-compatible"),
    ("IPv4-translated", translated, "IPv4-translated"),
    ("IPv4-mapped", lambda v4: f"::ffff:{v4}", ""),
]
CASES = [
    pytest.param(wrap(v4), f"{label} {kind}".strip(), id=f"{name}-{v4}")
    for name, wrap, label in WRAPPERS
    for v4, kind in INSIDE.items()
    if not (name == "IPv4-compatible" and v4 == "0.0.0.0")  # that is ::, "unspecified" in its own right
]


@pytest.mark.parametrize(("ip", "kind"), CASES)
def test_embedded_ipv4_is_checked_like_ipv4(ip, kind):
    assert address_class(ipaddress.ip_address(ip)) == kind


@pytest.mark.parametrize(("ip", "kind"), [
    # the examples of the issue, spelled as a resolver or a user would
    ("2002:7f00:1::", "6to4-wrapped loopback"), ("2002:a00:1::1", "6to4-wrapped private"),
    ("2002:a9fe:a9fe::", "6to4-wrapped cloud metadata"), ("2002:A9FE:A9FE:0:0:0:0:1", "6to4-wrapped cloud metadata"),
    ("64:ff9b::127.0.0.1", "NAT64-wrapped loopback"), ("64:ff9b::a9fe:a9fe", "NAT64-wrapped cloud metadata"),
    ("::127.0.0.1", "IPv4-compatible loopback"), ("::ffff:0:10.0.0.1", "IPv4-translated private"),
    ("2001:0:4136:e378:8000:63bf:80ff:fffe", "Teredo-wrapped loopback"),
    # site-local, deprecated but still routed inside some networks
    ("fec0::1", "site-local"), ("fecd:1:2::3", "site-local"), ("feff:ffff::1", "site-local"),
    # :: and ::1 are not IPv4-compatible forms
    ("::", "unspecified"), ("::1", "loopback"),
    # public: the embedded address is public, and the wrapper is (6to4, NAT64 as DNS64 answers)
    ("2002:808:808::1", None), ("64:ff9b::8.8.8.8", None), ("64:ff9b:1::8.8.8.8", None),
    ("::ffff:8.8.8.8", None), ("2606:4700:4700::1111", None),
    # public embedded address in a range that is not public anyway: the IPv6 class stands
    ("::8.8.8.8", "reserved"), ("::ffff:0:8.8.8.8", "reserved"), (teredo("8.8.8.8"), "private"),
])  # fmt: skip
def test_embedded_and_site_local_examples(ip, kind):
    assert address_class(ipaddress.ip_address(ip)) == kind


def test_embedded_ipv4_forms():
    assert embedded_ipv4(ipaddress.IPv6Address("2002:7f00:1::")) == (
        "6to4",
        [ipaddress.IPv4Address("127.0.0.1")],
    )
    form, [client, server] = embedded_ipv4(ipaddress.IPv6Address(teredo("10.1.2.3", "192.0.2.45")))
    assert (form, str(client), str(server)) == ("Teredo", "10.1.2.3", "192.0.2.45")
    assert embedded_ipv4(ipaddress.IPv6Address("2606:4700:4700::1111")) is None
    assert embedded_ipv4(ipaddress.IPv6Address("::1")) is None


@pytest.fixture(autouse=True)
def outside_guard(monkeypatch):
    """Record every outgoing connection; anything but 127.0.0.1 fails instead of leaving the machine."""
    attempts: list[str] = []
    real_connect = socket.socket.connect

    def connect(self, address):
        host = address[0] if isinstance(address, tuple) else str(address)
        attempts.append(str(host))
        if host != "127.0.0.1":
            raise ConnectionRefusedError(f"test guard: connection to {host} blocked")
        return real_connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", connect)
    return attempts


@pytest.mark.parametrize("ip", ["2002:7f00:1::", "2002:a00:1::", "2002:a9fe:a9fe::", "64:ff9b::a9fe:a9fe",
                                "::127.0.0.1", teredo("169.254.169.254"), "fec0::1"])  # fmt: skip
def test_embedded_forms_are_refused_before_any_connection(ip, tmp_path, monkeypatch, outside_guard):
    policy = FetchPolicy(per_host_delay=0.0, timeout=2.0)
    # as a literal host
    _, status = fetch_page(f"http://[{ip}]/latest/meta-data/", tmp_path / "a", policy)
    assert status.status == "refused" and "address" in status.error
    # and as what a name resolves to
    real = socket.getaddrinfo

    def fake_getaddrinfo(host, port, *args, **kwargs):
        if host == "inside.test":
            return [(socket.AF_INET6, socket.SOCK_STREAM, 6, "", (ip, port, 0, 0))]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", fake_getaddrinfo)
    with pytest.raises(UnsafeURL, match=r"inside\.test resolves to"):
        resolve("http://inside.test/", policy)
    [feed] = refresh_feeds(["http://inside.test/feed.xml"], tmp_path / "a", policy)
    assert feed.status == "refused"
    assert outside_guard == []


# --- one deadline per request ----------------------------------------------------------------------------


class SlowServer:
    """A raw HTTP/1.1 server on 127.0.0.1 whose answers are dribbled out; every connection stops by itself
    after `max_seconds`, and all of them when `close()` is called."""

    def __init__(self, max_seconds: float = 6.0):
        self.max_seconds = max_seconds
        self.stop = threading.Event()
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.1)
        self.port = self.sock.getsockname()[1]
        self.requests: list[str] = []
        self.threads: list[threading.Thread] = []
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def close(self) -> None:
        self.stop.set()
        self.thread.join(2)
        for t in self.threads:
            t.join(2)
        self.sock.close()

    def _accept(self) -> None:
        started = time.monotonic()
        while not self.stop.is_set() and time.monotonic() - started < 30:
            try:
                conn, _ = self.sock.accept()
            except (TimeoutError, OSError):
                continue
            t = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            self.threads.append(t)
            t.start()

    def _drip(self, conn: socket.socket, data: bytes, interval: float, until: float) -> bool:
        for i in range(len(data)):
            if self.stop.is_set() or time.monotonic() > until:
                return False
            conn.sendall(data[i : i + 1])
            if self.stop.wait(interval):
                return False
        return True

    def _serve(self, conn: socket.socket) -> None:
        until = time.monotonic() + self.max_seconds
        with contextlib.suppress(OSError), conn:
            conn.settimeout(2)
            request = b""
            while b"\r\n\r\n" not in request:
                chunk = conn.recv(4096)
                if not chunk:
                    return
                request += chunk
            target = request.split(b" ", 2)[1].decode()
            self.requests.append(target)
            body = (
                b"<html><head><title>Slow</title></head><body><p>"
                + b"Slow news. " * 30
                + b"</p></body></html>"
            )
            if target.startswith("/drip-headers"):  # the status line and headers, one byte at a time, forever
                head = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nX-Padding: " + b"x" * 10_000
                self._drip(conn, head, 0.05, until)
            elif target.startswith("/drip-body"):  # headers at once, then the body one byte at a time
                conn.sendall(
                    b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: %d\r\n\r\n" % len(body)
                )
                self._drip(conn, body, 0.05, until)
            elif target.startswith("/hop/"):  # each hop well within the limit, the chain of them not
                n = int(target.split("/")[2])
                if n < 5:
                    head = (
                        f"HTTP/1.1 302 Found\r\nLocation: /hop/{n + 1}\r\nContent-Length: 0\r\n\r\n".encode()
                    )
                    self._drip(conn, head, 0.6 / len(head), until)
                else:
                    head = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: %d\r\n\r\n" % len(
                        body
                    )
                    self._drip(conn, head, 0.6 / len(head), until)
                    conn.sendall(body)
            elif target.startswith("/silent"):  # accepts, reads the request, never answers
                self.stop.wait(self.max_seconds)
            else:
                conn.sendall(
                    b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: %d\r\n\r\n" % len(body)
                )
                conn.sendall(body)


@pytest.fixture
def slow():
    server = SlowServer()
    yield server
    server.close()


TIMEOUT = 1.0
MARGIN = 0.75
SLOW_POLICY = FetchPolicy(allow_hosts=("127.0.0.1",), per_host_delay=0.0, timeout=TIMEOUT)


def timed_get(url: str, policy: FetchPolicy = SLOW_POLICY) -> tuple[float, Exception | None]:
    started = time.monotonic()
    with Fetcher(policy) as fetcher:
        try:
            fetcher.get(url, accept=("text/html",))
        except FetchError as exc:
            return time.monotonic() - started, exc
    return time.monotonic() - started, None


def test_headers_dribbled_slowly_cannot_hold_a_fetch(slow, outside_guard):
    # A byte every 0.05 s never trips a per-read time-out of 1 s: only a deadline for the whole request does.
    elapsed, error = timed_get(slow.url("/drip-headers"))
    assert isinstance(error, FetchError)
    assert "timed out after 1 s" in str(error) and "whole request" in str(error)
    assert TIMEOUT - 0.05 <= elapsed < TIMEOUT + MARGIN
    assert set(outside_guard) == {"127.0.0.1"}


def test_a_body_dribbled_slowly_cannot_hold_a_fetch(slow):
    elapsed, error = timed_get(slow.url("/drip-body"))
    assert isinstance(error, FetchError) and "timed out" in str(error)
    assert elapsed < TIMEOUT + MARGIN


def test_a_silent_server_times_out(slow):
    elapsed, error = timed_get(slow.url("/silent"))
    assert isinstance(error, FetchError) and "timed out" in str(error)
    assert elapsed < TIMEOUT + MARGIN


def test_redirects_share_one_deadline(slow):
    # Five hops of 0.6 s each: every hop alone fits in 1 s, the request as a whole does not.
    elapsed, error = timed_get(slow.url("/hop/1"))
    assert isinstance(error, FetchError) and "timed out" in str(error)
    assert elapsed < TIMEOUT + MARGIN
    assert slow.requests[:2] == ["/hop/1", "/hop/2"] and "/hop/5" not in slow.requests
    # With time enough, the same chain is followed to its end.
    elapsed, error = timed_get(slow.url("/hop/1"), FetchPolicy(allow_hosts=("127.0.0.1",), per_host_delay=0.0,
                                                               timeout=8.0))  # fmt: skip
    assert error is None and slow.requests[-1] == "/hop/5"


def test_the_deadline_does_not_outlive_the_request(slow):
    # A fast fetch right after a timed-out one, in the same thread and on the same client, is unaffected.
    with Fetcher(SLOW_POLICY) as fetcher:
        with pytest.raises(FetchError, match="timed out"):
            fetcher.get(slow.url("/drip-headers"), accept=("text/html",))
        fetched = fetcher.get(slow.url("/fast"), accept=("text/html",))
        assert fetched.status_code == 200 and b"Slow news." in fetched.body
        time.sleep(TIMEOUT + 0.1)  # the earlier deadline has long passed: nothing left of it
        assert fetcher.get(slow.url("/fast"), accept=("text/html",)).status_code == 200


def test_pacing_waits_do_not_count_against_the_deadline(slow):
    policy = FetchPolicy(allow_hosts=("127.0.0.1",), per_host_delay=0.8, timeout=TIMEOUT)
    with Fetcher(policy) as fetcher:
        fetcher.get(slow.url("/fast"), accept=("text/html",))
        started = time.monotonic()
        # This one first waits 0.8 s for its turn, then has its whole second for an answer of 0.6 s.
        assert fetcher.get(slow.url("/hop/5"), accept=("text/html",)).status_code == 200
        assert time.monotonic() - started > TIMEOUT  # longer than the limit, yet within it


def test_a_slow_dns_answer_counts_against_the_deadline(monkeypatch, outside_guard):
    real = socket.getaddrinfo
    release = threading.Event()

    def slow_getaddrinfo(host, port, *args, **kwargs):
        if host == "slow-dns.test":
            release.wait(5)  # bounded: released when the test ends
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", slow_getaddrinfo)
    try:
        elapsed, error = timed_get("http://slow-dns.test:9/", FetchPolicy(allow_hosts=("slow-dns.test",),
                                                                          per_host_delay=0.0, timeout=TIMEOUT))  # fmt: skip
    finally:
        release.set()
    assert (
        isinstance(error, FetchError)
        and "timed out" in str(error)
        and "resolving slow-dns.test" in str(error)
    )
    assert elapsed < TIMEOUT + MARGIN
    assert outside_guard == []


def test_a_feed_behind_a_slow_server_does_not_stall_the_refresh(slow, tmp_path):
    started = time.monotonic()
    [status] = refresh_feeds([slow.url("/drip-headers/feed.xml")], tmp_path / "a", SLOW_POLICY)
    assert status.status == "error" and "timed out" in status.error
    assert time.monotonic() - started < TIMEOUT + MARGIN


def test_a_tls_handshake_that_never_completes_times_out(outside_guard):
    # A listener that accepts and then says nothing: the TLS handshake (through the deadline-aware stream)
    # must end with the request's deadline too.
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)
    port = listener.getsockname()[1]
    try:
        elapsed, error = timed_get(f"https://127.0.0.1:{port}/")
    finally:
        listener.close()
    assert isinstance(error, FetchError) and "timed out" in str(error)
    assert elapsed < TIMEOUT + MARGIN
    assert set(outside_guard) == {"127.0.0.1"}
