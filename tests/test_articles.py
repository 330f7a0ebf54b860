"""The read stage on real pages: decoding, main text, metadata, refusals."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime

import pytest

from config.settings import Settings
from pipeline.errors import ReadError
from pipeline.ingest.articles import decode, read_article, strip_boilerplate
from pipeline.ingest.fetch import Fetcher
from storage.records import Article
from tests.support.paths import CORPUS, DATA, HAVE_SHARED, needs_shared, shared_params
from tests.support.site import Site, page_html

TRUTH = (json.loads((CORPUS / "extraction" / "ground-truth.json").read_text(encoding="utf-8"))
         if HAVE_SHARED else {})
WSJ = "042bb7b5fedab6eac7db576522b89b93904c237d344bcbe14a6a5ab7f7335856"


# --- decoding -------------------------------------------------------------

HEBREW = "האם תדפיס נייר של אתר אינטרנט"
FRENCH = "L'été à Noël, déjà ça coûte cher"


def test_decode_prefers_bom_then_header_then_meta() -> None:
    assert decode("\ufeff<p>é</p>".encode("utf-8")) == "<p>é</p>"
    latin = f"<p>{FRENCH}</p>".encode("cp1252")
    assert decode(latin, "text/html; charset=windows-1252") == f"<p>{FRENCH}</p>"
    meta = b'<meta charset="windows-1255"><p>' + HEBREW.encode("cp1255") + b"</p>"
    assert HEBREW in decode(meta)
    http_equiv = (b'<meta http-equiv="Content-Type" content="text/html; charset=ISO-8859-1">'
                  + FRENCH.encode("latin-1"))
    assert FRENCH in decode(http_equiv)


def test_wrong_declaration_falls_back_to_utf8() -> None:
    page = f'<meta charset="utf-8"><p>{FRENCH}</p>'.encode()
    assert FRENCH in decode(page, "text/html; charset=us-ascii-typo")
    assert FRENCH in decode(f'<meta charset="x-unknown"><p>{FRENCH}</p>'.encode())


def test_undeclared_legacy_encoding_is_detected() -> None:
    raw = (DATA / "feeds" / "windows-1255-undeclared.xml").read_bytes()
    assert "תדפיס" in decode(raw)


def test_undecodable_bytes_are_a_read_error() -> None:
    with pytest.raises(ReadError) as info:
        read_article(bytes(range(256)) * 4, "http://example.org/x")
    assert info.value.reason == "encoding"


# --- main text and metadata -------------------------------------------------

@needs_shared
def test_real_page_text_and_metadata() -> None:
    truth = TRUTH[WSJ]
    article = read_article(page_html(WSJ), truth["url"])
    assert isinstance(article, Article) and article.url == truth["url"]
    assert article.text.startswith("Gaming used to be so simple.")
    assert truth["articleBody"].split("\n")[-1].strip()[:60] in article.text
    assert article.title and article.title.startswith("Google Stadia, Microsoft xCloud")
    assert article.published == datetime(2019, 11, 19, 13, 3, tzinfo=UTC)
    assert article.authors == ("Sarah E Needleman",)
    assert article.language == "en"


@needs_shared
def test_str_input_gives_the_same_article() -> None:
    raw = page_html(WSJ)
    assert read_article(raw.decode("utf-8"), None).text == read_article(raw, None).text


@pytest.mark.parametrize("key", shared_params(sorted(TRUTH)[:12]))
def test_pages_give_text_with_utc_dates(key: str) -> None:
    article = read_article(page_html(key), TRUTH[key]["url"])
    assert len(article.text) > 100
    assert article.published is None or article.published.tzinfo == UTC
    assert all(isinstance(a, str) and a for a in article.authors)


@pytest.mark.parametrize("html", [
    b"", b"<html><body></body></html>",
    b"<html><body><nav><a href='/'>Home</a> <a href='/x'>News</a></nav></body></html>",
    "<html><body><p>Hi.</p></body></html>",
])
def test_pages_without_article_are_refused(html: bytes | str) -> None:
    with pytest.raises(ReadError) as info:
        read_article(html, "http://example.org/empty")
    assert info.value.reason == "no_text"


def test_boilerplate_lines_are_dropped_but_prose_kept() -> None:
    body = "\n".join([
        "The council voted 7-2 on Tuesday to approve the budget.",
        "Like this story? Share it with a friend!",
        "Related: Council approves last year's budget",
        "Read more about how the council reached its decision, which followed months of "
        "hearings, in a report that runs to three hundred pages and that nobody expected "
        "to be finished before the spring, when the previous budget would have expired and "
        "the city would have been left without any spending authority at all for weeks.",
        "© 2019 Example News. All rights reserved.",
    ])
    kept = strip_boilerplate(body).split("\n")
    assert kept[0].startswith("The council voted") and kept[1].startswith("Read more about")
    assert len(kept) == 2


# --- fetch -> read over real HTTP -------------------------------------------

@needs_shared
def test_fetched_page_reads_like_the_file(site: Site) -> None:
    settings = Settings(allowed_networks=["127.0.0.0/8"], request_deadline=5)

    async def run() -> Article:
        async with Fetcher(settings) as fetcher:
            page = await fetcher.get(site.url(f"/pages/{WSJ}.html"), kind="page")
        return read_article(page.body, page.url, content_type=page.headers.get("content-type"))

    article = asyncio.run(run())
    assert article.url == site.url(f"/pages/{WSJ}.html")
    assert article.text == read_article(page_html(WSJ), None).text
