"""URL validation for anything that ends up in an article header, the index, or a Discord message.

`clean_url` is the single gate: it turns an untrusted URL (a feed item's link, a page's rel=canonical, a URL
a member typed) into a safe absolute http(s) URL, or refuses it. "Safe" here means safe to store and to show,
not safe to fetch: whether a host may be *fetched* (SSRF: private, loopback, metadata addresses) is decided
by `index.sources.http.resolve`, after DNS resolution. `canonical_url` gives one spelling per article
(no tracking parameters, no fragment, no default port), and `clean_link` is both in turn.
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from urllib.parse import quote, unquote, urlsplit

__all__ = ["MAX_URL_LENGTH", "canonical_url", "clean_link", "clean_url", "invalid_link", "same_site",
           "shown_url"]  # fmt: skip

MAX_URL_LENGTH = 2048  # of the cleaned URL

# Characters kept as they are in the path, query and fragment. Everything else is percent-encoded (UTF-8),
# including characters that are legal in URLs but dangerous in Markdown or Discord messages:
# ( ) [ ] < > " ' ` | * _ ~ \ { } ^ and non-ASCII. "%" is kept only as the start of a valid %XX escape.
_SAFE = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-./!$&+,;=:@?")
_ESCAPE = re.compile(r"%[0-9A-Fa-f]{2}")
_LABEL = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
_NUMERIC_LABEL = re.compile(r"^(?:0x[0-9a-f]*|[0-9]+)$")
_EDGE_SPACE = " \t\r\n\f\v"

TRACKING_PARAMS = frozenset({
    "fbclid", "gclid", "dclid", "gbraid", "wbraid", "msclkid", "yclid", "twclid", "ttclid", "igshid",
    "mc_cid", "mc_eid", "mkt_tok", "ref", "ref_src", "ref_url", "_ga", "_gl", "_hsenc", "_hsmi", "cmpid",
    "ocid", "smid", "sr_share", "spm", "share", "s_cid", "at_medium", "at_campaign", "at_custom1",
})  # fmt: skip
TRACKING_PREFIXES = ("utm_", "pk_", "mtm_", "ga_")


def clean_url(value: str) -> str | None:
    """A safe absolute http(s) URL for `value`, or None when it cannot be made one.

    Refused (None): anything that is not a string; a scheme other than http or https; no host or an invalid
    one (host names must be LDH labels, IDNA is converted to its `xn--` form; IPv4 only as a dotted quad,
    so `0x7f.1` or `2130706433` are refused; IPv6 only in brackets, without a zone); user info
    (`https://good.test@evil.test/`); a backslash in the authority; an invalid port; whitespace, control or
    invisible format characters (bidi overrides, zero-width) anywhere after trimming the ends; a result
    longer than MAX_URL_LENGTH.

    Normalized: leading and trailing whitespace is trimmed, the scheme and host lower-cased, a default port
    dropped, an empty path becomes "/", and every character of the path, query and fragment outside
    `A-Z a-z 0-9 - . / ! $ & + , ; = : @ ?` is percent-encoded as UTF-8 (so `( ) [ ] < > " ' | * _ ~ \\`
    and backticks never appear raw: a URL can never close a Markdown link or start one). Existing `%XX`
    escapes are kept as they are; a stray `%` becomes `%25`. The result is ASCII and
    `clean_url(clean_url(x)) == clean_url(x)`.
    """
    if not isinstance(value, str):
        return None
    url = value.strip(_EDGE_SPACE)
    if not url or len(url) > 4 * MAX_URL_LENGTH:
        return None
    for ch in url:
        if ch.isspace() or unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"):
            return None
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:  # a bad port, or an unbalanced "[" in the host
        return None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not url[len(parts.scheme) :].startswith("://"):
        return None
    netloc = parts.netloc
    if "@" in netloc or "\\" in netloc or "%" in netloc:
        return None
    host = _clean_host(netloc.rsplit(":", 1)[0] if not netloc.endswith("]") and ":" in netloc else netloc)
    if host is None:
        return None
    if port is not None:
        if not 0 < port < 65536:
            return None
        if netloc.rsplit(":", 1)[-1] != str(port):  # "ok.test:+80", "ok.test:0080": not a plain port
            return None
    if port is not None and (scheme, port) not in (("http", 80), ("https", 443)):
        host = f"{host}:{port}"
    path = _encode(parts.path) or "/"
    query = _encode(parts.query)
    fragment = _encode(parts.fragment, extra="#")
    out = f"{scheme}://{host}{path}{'?' + query if query else ''}{'#' + fragment if fragment else ''}"
    return out if len(out) <= MAX_URL_LENGTH else None


def _clean_host(host: str) -> str | None:
    """The host of a netloc (port removed) in canonical form, or None when it is not a valid host."""
    if host.startswith("["):
        if not host.endswith("]"):
            return None
        try:
            ip = ipaddress.IPv6Address(host[1:-1])  # a zone ("%eth0") was refused with "%" above
        except ValueError:
            return None
        return f"[{ip.compressed}]"
    if "[" in host or "]" in host:
        return None
    host = host.rstrip(".") if host.endswith(".") and not host.endswith("..") else host
    if not host:
        return None
    if not host.isascii():
        try:
            import idna

            host = idna.encode(host, uts46=True).decode("ascii")
        except (ImportError, UnicodeError, ValueError):
            try:
                host = host.encode("idna").decode("ascii")
            except UnicodeError:
                return None
    host = host.lower()
    if len(host) > 253:
        return None
    labels = host.split(".")
    if not all(_LABEL.match(label) for label in labels):
        return None
    if _NUMERIC_LABEL.match(labels[-1]):
        # A numeric last label makes the host an IPv4 address for browsers and resolvers ("127.1",
        # "0x7f.0.0.1"): only the plain dotted quad is accepted, so what is shown is what is connected to.
        try:
            return str(ipaddress.IPv4Address(host))
        except ValueError:
            return None
    for label in labels:
        if label.startswith("xn--"):
            try:
                import idna

                idna.decode(label)
            except ImportError:
                pass
            except (UnicodeError, ValueError):
                return None
    return host


def _encode(component: str, extra: str = "") -> str:
    out = []
    i = 0
    while i < len(component):
        ch = component[i]
        if ch == "%" and _ESCAPE.match(component, i):
            out.append(component[i : i + 3])
            i += 3
            continue
        if ch in _SAFE and ch not in extra:
            out.append(ch)
        else:
            out.extend(f"%{b:02X}" for b in ch.encode("utf-8"))
        i += 1
    return "".join(out)


def canonical_url(url: str) -> str:
    """`url` without tracking parameters and fragment, with lower-case scheme and host, no default port."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").rstrip(".")
    if ":" in host:
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:
        port = None
    netloc = host if port is None or (scheme, port) in (("http", 80), ("https", 443)) else f"{host}:{port}"
    kept = []
    for piece in parts.query.split("&"):
        if not piece:
            continue
        key = unquote(piece.split("=", 1)[0]).lower()
        if key in TRACKING_PARAMS or key.startswith(TRACKING_PREFIXES):
            continue
        kept.append(piece)
    path = parts.path or "/"
    query = "&".join(kept)
    return f"{scheme}://{netloc}{path}{'?' + query if query else ''}"


def clean_link(url: str) -> str | None:
    """`url` made safe (`clean_url`) and canonical (`canonical_url`), or None when it is not a valid URL."""
    safe = clean_url(url)
    return clean_url(canonical_url(safe)) if safe else None


def shown_url(url: str) -> str:
    """A refused URL as it may appear in a log line or a status: one line, short, nothing raw to click."""
    return quote(str(url)[:200], safe="/:?&=#%+,;@!$")


def invalid_link(url: str) -> str:
    """Why `clean_url` refused `url`, in the words `index.sources.http` uses for a refused scheme."""
    try:
        scheme = urlsplit(str(url).strip()).scheme.lower()
    except ValueError:
        scheme = ""
    if scheme not in ("http", "https"):
        return f"only http and https URLs can be fetched, not {scheme or 'a URL without scheme'}"
    return "not a valid URL (bad host or port, user info, whitespace or control characters)"


def _site(host: str) -> str:
    return host.lower().rstrip(".").removeprefix("www.")


def same_site(a: str, b: str) -> bool:
    """True for one host, or one a subdomain of the other (amp.example.com and www.example.com)."""
    a, b = _site(urlsplit(a).hostname or ""), _site(urlsplit(b).hostname or "")
    return bool(a and b) and (a == b or a.endswith("." + b) or b.endswith("." + a))
