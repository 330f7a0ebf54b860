"""Turn what a user names on the command line (file, URL, '-') into text.

``.txt`` files are taken as article text (a title line first, when present,
stays part of the text); ``.html``/``.htm`` (optionally ``.gz``) and URLs go
through the reader, exactly as the daemon would read them.
"""

from __future__ import annotations

import gzip
import sys
from pathlib import Path

from config.errors import ConfigError
from config.settings import Settings
from storage.records import Article


def _fetch(url: str, settings: Settings) -> tuple[bytes, str]:
    from pipeline.ingest.fetch import fetch_sync

    page = fetch_sync(url, settings, kind="page")
    return page.body, page.url


def _is_url(source: str) -> bool:
    return source.startswith(("http://", "https://"))


def _stem(path: Path) -> str:
    name = path.name
    for suffix in (".gz", ".html", ".htm", ".txt"):
        name = name.removesuffix(suffix)
    return name


def load_page(source: str, settings: Settings) -> tuple[str, Article]:
    """Read an HTML page (file, URL or '-') into an Article: (id, article)."""
    from pipeline.ingest.articles import (
        read_article,  # trafilatura is slow to import; .txt skips it
    )

    if _is_url(source):
        body, final = _fetch(source, settings)
        return source, read_article(body, final)
    if source == "-":
        return "-", read_article(sys.stdin.buffer.read(), None)
    path = Path(source)
    if not path.is_file():
        raise ConfigError(f"{source}: no such file")
    data = path.read_bytes()
    if path.suffix == ".gz":
        data = gzip.decompress(data)
    return _stem(path), read_article(data, None)


def load_text(source: str, settings: Settings) -> tuple[str, str]:
    """Article text for extraction: (id, text). .txt and '-' are taken as text."""
    if source == "-":
        return "-", sys.stdin.read()
    if not _is_url(source) and Path(source).suffix == ".txt":
        path = Path(source)
        if not path.is_file():
            raise ConfigError(f"{source}: no such file")
        return _stem(path), path.read_text(encoding="utf-8", errors="replace")
    ident, article = load_page(source, settings)
    return ident, article.text
