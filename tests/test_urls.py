"""URL canonicalisation: the first dedup key."""

from __future__ import annotations

import pytest

from pipeline.ingest.urls import canonical_url


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        ("HTTPS://WWW.Example.COM/News/A?utm_source=rss&utm_medium=x#top",
         "https://www.example.com/News/A"),
        ("https://example.com:443/a?id=3&fbclid=abc", "https://example.com/a?id=3"),
        ("http://example.com:8080/a", "http://example.com:8080/a"),
        ("https://example.com", "https://example.com/"),
        ("https://user:pw@example.com/a", "https://example.com/a"),
        ("  https://example.com/a?b=1&a=2  ", "https://example.com/a?b=1&a=2"),
        ("javascript:alert(1)", "javascript:alert(1)"),
    ],
)
def test_canonical_url(raw: str, canonical: str):
    assert canonical_url(raw) == canonical


def test_idempotent():
    url = "https://Example.com/x?utm_campaign=a&q=1#f"
    assert canonical_url(canonical_url(url)) == canonical_url(url)
