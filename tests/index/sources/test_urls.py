"""`index.sources.urls.clean_url`: untrusted URLs made safe to store and to show, or refused. No network."""

from __future__ import annotations

import re

import pytest

from index.sources.urls import MAX_URL_LENGTH, clean_url

# Characters that must never appear raw in a cleaned URL (but for the brackets of an IPv6 host): they could
# end a Markdown link and start another, format a Discord message, or hide what the link is.
DANGEROUS = set("()[]<>\"'`|*_~\\{}^ ")


@pytest.mark.parametrize(("raw", "clean"), [
    # plain URLs: normalized, otherwise unchanged
    ("https://news.example.com/2025/05/harbour-market", "https://news.example.com/2025/05/harbour-market"),
    ("HTTPS://News.Example.COM:443/a/b?id=7&page=2", "https://news.example.com/a/b?id=7&page=2"),
    ("http://example.com", "http://example.com/"),
    ("http://example.com:80/x", "http://example.com/x"),
    ("http://example.com:8080/x", "http://example.com:8080/x"),
    ("https://example.com./x", "https://example.com/x"),
    ("  https://example.com/x \n", "https://example.com/x"),
    ("http://127.0.0.1:8000/a", "http://127.0.0.1:8000/a"),
    ("http://[2001:DB8::0001]:8080/a", "http://[2001:db8::1]:8080/a"),
    ("https://example.com/a?q=a%20b#top", "https://example.com/a?q=a%20b#top"),
    ("https://example.com/a;b,c/!$+=@:", "https://example.com/a;b,c/!$+=@:"),
    # IDNA hosts, non-ASCII paths
    ("https://Bücher.example/straße", "https://xn--bcher-kva.example/stra%C3%9Fe"),
    ("https://xn--bcher-kva.example/", "https://xn--bcher-kva.example/"),
    ("https://例え.テスト/記事", "https://xn--r8jz45g.xn--zckzah/%E8%A8%98%E4%BA%8B"),
    # the injection: with a space it is refused; without, every Markdown character is encoded
    ("https://ok.test/a&gt;)[FAKE LINK](https://evil.test/steal", None),
    ("https://ok.test/a>)[FAKE%20LINK](https://evil.test/steal",
     "https://ok.test/a%3E%29%5BFAKE%20LINK%5D%28https://evil.test/steal"),
    ("https://ok.test/<script>", "https://ok.test/%3Cscript%3E"),
    ('https://ok.test/"onmouseover="x', "https://ok.test/%22onmouseover=%22x"),
    ("https://ok.test/it's", "https://ok.test/it%27s"),
    ("https://ok.test/`code`", "https://ok.test/%60code%60"),
    ("https://ok.test/a|b", "https://ok.test/a%7Cb"),
    ("https://ok.test/**bold**", "https://ok.test/%2A%2Abold%2A%2A"),
    ("https://ok.test/__u__", "https://ok.test/%5F%5Fu%5F%5F"),
    ("https://ok.test/~~s~~", "https://ok.test/%7E%7Es%7E%7E"),
    ("https://ok.test/a\\b", "https://ok.test/a%5Cb"),
    ("https://ok.test/{x}^", "https://ok.test/%7Bx%7D%5E"),
    ("https://ok.test/a?x=[1](2)", "https://ok.test/a?x=%5B1%5D%282%29"),
    ("https://ok.test/a#frag#ment)", "https://ok.test/a#frag%23ment%29"),
    # percent signs: escapes kept, stray ones encoded
    ("https://ok.test/100%", "https://ok.test/100%25"),
    ("https://ok.test/%zz%41%e9", "https://ok.test/%25zz%41%e9"),
    # schemes
    ("javascript:alert(1)", None),
    ("JAVASCRIPT://example.com/%0Aalert(1)", None),
    ("data:text/html,<b>x</b>", None),
    ("file:///etc/passwd", None),
    ("ftp://example.com/", None),
    ("//example.com/x", None),
    ("/relative/path", None),
    ("https:example.com", None),
    ("https:/example.com", None),
    ("", None),
    ("   ", None),
    # hosts
    ("https:///path", None),
    ("https://exa_mple.com/", None),
    ("https://-example.com/", None),
    ("https://example..com/", None),
    ("https://" + "a" * 64 + ".com/", None),
    ("https://ex%61mple.com/", None),
    ("https://example.com%2F@evil.test/", None),
    ("http://127.1/", None),
    ("http://0x7f.0.0.1/", None),
    ("http://2130706433/", None),
    ("http://0177.0.0.1/", None),
    ("http://1.2.3.4.5/", None),
    ("http://[::1/", None),
    ("http://[fe80::1%25eth0]/", None),
    ("http://[1.2.3.4]/", None),
    ("http://[v1.x]/", None),
    ("http://ex[am]ple.com/", None),
    # user info, backslash tricks
    ("https://ok.test@evil.test/", None),
    ("https://user:pass@example.com/", None),
    ("https://evil.test\\@ok.test/", None),
    ("https://evil.test\\.ok.test/", None),
    # ports
    ("http://example.com:0/", None),
    ("http://example.com:65536/", None),
    ("http://example.com:+80/", None),
    ("http://example.com:0080/", None),
    ("http://example.com:8o/", None),
    ("http://example.com:/", "http://example.com/"),
    # whitespace, control and invisible characters inside
    ("https://ok.test/a b", None),
    ("https://ok.test/a\tb", None),
    ("https://ok.test/a\nb", None),
    ("https://ok.test/a\rb", None),
    ("https://ok.test/a\x00b", None),
    ("https://ok.test/a\x7fb", None),
    ("https://ok.test/a\u00a0b", None),
    ("https://ok.test/a\u2028b", None),
    ("https://ok.test/\u202egnp.exe", None),
    ("https://ok.test/a\u200bb", None),
    ("https://ok\u200b.test/", None),
    ("https://ok.test/\ufeff", None),
])  # fmt: skip
def test_clean_url(raw, clean):
    assert clean_url(raw) == clean


@pytest.mark.parametrize("raw", [
    "https://ok.test/a>)[FAKE%20LINK](https://evil.test/steal",
    "https://Bücher.example/straße?q=é&x=(1)#:~:text=café",
    "https://ok.test/100%/%zz/%41",
    "http://[::FFFF:1.2.3.4]:81/?a=<b>&c='d'",
    "https://ok.test/" + "".join(sorted(DANGEROUS - {" "})),
])  # fmt: skip
def test_clean_url_is_idempotent_ascii_and_free_of_markdown(raw):
    once = clean_url(raw)
    assert once is not None and once.isascii()
    assert clean_url(once) == once
    after_host = once.split("]", 1)[-1] if "://[" in once else once  # an IPv6 host keeps its brackets
    assert not DANGEROUS & set(after_host)
    assert re.fullmatch(r"https?://[a-z0-9.\-\[\]:]+/[A-Za-z0-9\-./!$&+,;=:@?%#]*", once)


def test_clean_url_refuses_non_strings_and_overlong_urls():
    assert clean_url(None) is None  # type: ignore[arg-type]
    assert clean_url(b"https://ok.test/") is None  # type: ignore[arg-type]
    assert clean_url("https://ok.test/" + "a" * (MAX_URL_LENGTH - len("https://ok.test/"))) is not None
    assert clean_url("https://ok.test/" + "a" * MAX_URL_LENGTH) is None
    assert clean_url("https://ok.test/" + "(" * (MAX_URL_LENGTH // 3)) is None  # too long once encoded
