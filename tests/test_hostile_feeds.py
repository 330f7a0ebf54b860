"""Hostile and broken input: feeds, encodings, dates, page content and SQL.

The feed cases are data files in ``tests/data/feeds/*.xml``, each opening
with a comment (feedparser's tests/wellformed style)::

    <!--
    Description: what the case is
    Expect: {"entries": 1, "titles": ["..."], "absent_file": "/etc/passwd"}
    -->

One parametrized test runs every file through ``parse_feed`` and
``record_poll`` into a real database (SQLite and PostgreSQL) and checks the
expectations; adding a case adds a file. Expect keys are listed in ``CHECKS``.
"""

from __future__ import annotations

import ast
import io
import json
import re
import time
import tracemalloc
from datetime import datetime
from pathlib import Path
from typing import Any

import feedparser
import pytest
import sqlalchemy as sa
from sqlalchemy import select

from config.feeds import FeedSpec
from pipeline.errors import FeedError
from pipeline.ingest.feeds import decode_feed, entry_date, parse_feed
from storage import queries
from storage.db import Database
from storage.models import Article, ArticleSource, Feed, FetchAttempt
from storage.records import Article as ReadArticle
from storage.records import FeedEntry, FeedState, PollResult
from tests.support.paths import CORPUS, needs_shared
from tests.support.site import Site

REPO = Path(__file__).resolve().parents[1]
CASES = REPO / "tests" / "data" / "feeds"
NOW = datetime(2024, 8, 8, 12, 0)
BASE = "http://example.org/feed.xml"
LIMITS = queries.PollLimits(60, 3600, 20)
# Every case, bombs included, must stay this cheap: expansion would blow both.
MAX_SECONDS = 3.0
MAX_TRACED_BYTES = 40 * 1024 * 1024
_HEADER = re.compile(r"<!--\s*Description:\s*(?P<d>.*?)\s*Expect:\s*(?P<e>\{.*?\})\s*-->", re.S)


def read_case(path: Path) -> tuple[str, dict[str, Any]]:
    raw = path.read_bytes()
    # The header is ASCII in every encoding used here except UTF-16.
    text = raw.decode("utf-16") if raw[:2] in (b"\xff\xfe", b"\xfe\xff") else raw.decode("latin-1")
    match = _HEADER.search(text)
    if match is None:
        raise AssertionError(f"{path.name}: no Description/Expect header")
    return match.group("d"), json.loads(match.group("e"))


def add_feed(db: Database) -> FeedState:
    with db.transaction() as s:
        queries.sync_feeds([FeedSpec("hostile", BASE)], session=s, default_interval=900)
    with db.session() as s:
        feed = s.scalar(select(Feed))
        return FeedState(feed.id, feed.name, feed.url)


def stored_strings(db: Database) -> list[str]:
    """Every text value in the tables a feed can write to."""
    out: list[str] = []
    with db.session() as s:
        for model in (Article, ArticleSource, Feed, FetchAttempt):
            for row in s.scalars(select(model)):
                for column in model.__table__.columns:
                    value = getattr(row, column.key)
                    if isinstance(value, str):
                        out.append(value)
                    elif isinstance(value, list):
                        out += [str(v) for v in value]
    return out


def parse_and_store(db: Database, body: bytes) -> tuple[PollResult, list[FeedEntry]]:
    feed = add_feed(db)
    try:
        entries, bozo, skipped = parse_feed(body, {"content-type": "application/rss+xml"},
                                            feed=feed, base_url=BASE, max_entries=50, now=NOW)
        result = PollResult(feed.id, 200, entries=tuple(entries), bozo=bozo,
                            skipped_entries=skipped)
    except FeedError as exc:
        entries, result = [], PollResult(feed.id, 200, error=exc.reason, error_detail=str(exc))
    with db.transaction() as s:
        queries.record_poll(result, session=s, limits=LIMITS, now=NOW)
    return result, entries


def _absent_file(value: str, result: PollResult, entries: list, db: Database) -> None:
    secret = Path(value).read_text(errors="replace").strip().splitlines()[0]
    assert len(secret) > 4  # the file must hold something to leak, or the check proves nothing
    assert not any(secret in v for v in stored_strings(db))
    assert not any(secret[:8] in (e.title or "") + (e.summary or "") for e in entries)


CHECKS = {
    "error": lambda v, r, e, db: r.error == v,
    "entries": lambda v, r, e, db: len(e) == v and _count(db, Article) == v,
    "skipped": lambda v, r, e, db: r.skipped_entries == v,
    "titles": lambda v, r, e, db: [x.title for x in e] == v == _stored_titles(db),
    "titles_match": lambda v, r, e, db: all(re.fullmatch(v, x.title or "") for x in e),
    "links": lambda v, r, e, db: [x.link for x in e] == v,
    "published": lambda v, r, e, db: [x.published.isoformat() if x.published else None
                                      for x in e] == v,
    "bozo_contains": lambda v, r, e, db: v in (r.bozo or "") and v in (_feed(db).bozo or ""),
    "bozo_absent": lambda v, r, e, db: v not in (r.bozo or ""),
    "absent": lambda v, r, e, db: not any(s in x for s in v for x in stored_strings(db)),
    "absent_file": lambda v, r, e, db: _absent_file(v, r, e, db) is None,
    "max_title": lambda v, r, e, db: all(len(x.title or "") <= v for x in e),
    "max_guid": lambda v, r, e, db: all(len(x.guid or "") <= v for x in e),
}


def _count(db: Database, model: type) -> int:
    with db.session() as s:
        return s.scalar(select(sa.func.count()).select_from(model))


def _stored_titles(db: Database) -> list[str | None]:
    with db.session() as s:
        return list(s.scalars(select(Article.title).order_by(Article.id)))


def _feed(db: Database) -> Feed:
    with db.session() as s:
        return s.scalar(select(Feed))


@pytest.mark.parametrize("path", sorted(CASES.glob("*.xml")), ids=lambda p: p.stem)
def test_feed_case(db: Database, path: Path) -> None:
    description, expect = read_case(path)
    unknown = set(expect) - set(CHECKS)
    assert not unknown, f"{path.name}: unknown Expect keys {unknown}"
    tracemalloc.start()
    began = time.monotonic()
    try:
        result, entries = parse_and_store(db, path.read_bytes())
        took = time.monotonic() - began
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert took < MAX_SECONDS and peak < MAX_TRACED_BYTES, (description, took, peak)
    if "error" not in expect:
        assert result.ok, (description, result.error, result.error_detail)
    else:
        feed = _feed(db)
        assert feed.consecutive_errors == 1 and feed.last_error.startswith(expect["error"])
    for key, wanted in expect.items():
        assert CHECKS[key](wanted, result, entries, db), (description, key, wanted, entries)
    # Whatever the case, nothing but http(s) links is stored.
    with db.session() as s:
        assert all(u.startswith(("http://", "https://")) for u in s.scalars(select(Article.url)))


def test_cases_are_discovered() -> None:
    names = {p.stem for p in CASES.glob("*.xml")}
    assert {"billion-laughs", "xxe-file-entity", "windows-1255-undeclared", "dates"} <= names


# --- encodings --------------------------------------------------------------

HEBREW = "האם תדפיס נייר של אתר אינטרנט"


@needs_shared
def test_corpus_windows1255_without_declaration_is_decoded() -> None:
    body = (CORPUS / "feeds" / "feedparser-chardet-windows1255-no-decl.xml").read_bytes()
    # feedparser on its own falls back to windows-1252: the test would catch a regression.
    alone = feedparser.parse(io.BytesIO(body)).entries[0].summary
    assert HEBREW not in alone
    utf8, note = decode_feed(body, {"content-type": "application/rss+xml"})
    assert HEBREW in utf8.decode("utf-8")
    assert note and "cp1255" in note
    assert HEBREW in feedparser.parse(io.BytesIO(utf8)).entries[0].summary


def test_declared_http_charset_wins_and_is_not_second_guessed() -> None:
    body = "<rss version='2.0'><channel><item><title>Ærø</title></item></channel></rss>"
    headers = {"Content-Type": "text/xml; charset=windows-1252"}
    utf8, note = decode_feed(body.encode("cp1252"), headers)
    assert note is None and "Ærø" in utf8.decode()


def test_bytes_no_encoding_fits_are_a_recorded_feed_error() -> None:
    feed = FeedState(1, "f", BASE)
    noise = bytes((i * 97 + 13) % 256 for i in range(4096))
    with pytest.raises(FeedError) as info:
        parse_feed(noise, {}, feed=feed, base_url=BASE, max_entries=10)
    assert info.value.reason == "encoding"


# --- dates --------------------------------------------------------------------

def _struct(*fields: int) -> time.struct_time:
    return time.struct_time((*fields, 0, 0, 0))


@pytest.mark.parametrize(("entry", "expected"), [
    ({"published_parsed": _struct(2024, 8, 8, 11, 0, 0)}, datetime(2024, 8, 8, 11)),
    ({"published_parsed": _struct(2024, 8, 9, 11, 0, 0)}, datetime(2024, 8, 9, 11)),  # < 1 day
    ({"published_parsed": _struct(2024, 8, 10, 0, 0, 0)}, None),  # future
    ({"published_parsed": _struct(1970, 1, 1, 0, 0, 0)}, None),  # epoch placeholder
    ({"published_parsed": _struct(99999, 1, 1, 0, 0, 0)}, None),  # overflow
    ({"published_parsed": "Monday-ish"}, None),  # garbage type
    ({}, None),  # missing
    ({"published_parsed": None, "updated_parsed": _struct(2024, 1, 2, 3, 4, 5)},
     datetime(2024, 1, 2, 3, 4, 5)),  # falls back to updated
    ({"published_parsed": "bad", "created_parsed": _struct(2020, 5, 5, 5, 5, 5)},
     datetime(2020, 5, 5, 5, 5, 5)),  # garbage skipped, next key used
])
def test_entry_date(entry: dict[str, Any], expected: datetime | None) -> None:
    assert entry_date(entry, NOW) == expected


# --- no network or file access from inside a feed ----------------------------

def test_external_dtd_and_entities_are_never_fetched(site: Site, tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-TOKEN-4711\n")
    body = (
        f'<?xml version="1.0"?>\n<!DOCTYPE rss SYSTEM "{site.url("/xxe/evil.dtd")}" [\n'
        f'<!ENTITY remote SYSTEM "{site.url("/xxe/entity")}">\n'
        f'<!ENTITY local SYSTEM "file://{secret}">\n'
        f'<!ENTITY % param SYSTEM "{site.url("/xxe/param")}"> %param;\n]>\n'
        '<rss version="2.0"><channel><item><title>&remote; &local;</title>'
        '<link>http://example.org/a</link><description>&local;</description></item>'
        '</channel></rss>'
    ).encode()
    before = site.hits.snapshot()
    entries, _, _ = parse_feed(body, {}, feed=FeedState(1, "f", BASE), base_url=BASE,
                               max_entries=10)
    after = site.hits.snapshot()
    assert {k: v for k, v in after.items() if k.startswith("/xxe/")} == \
        {k: v for k, v in before.items() if k.startswith("/xxe/")} == {}
    assert len(entries) == 1
    assert "TOP-SECRET" not in (entries[0].title or "") + (entries[0].summary or "")


# --- page content into the database ---------------------------------------

def _pending_article(db: Database, url: str = "http://example.org/a") -> int:
    feed = add_feed(db)
    entry = FeedEntry(feed.id, url, "g1", "feed title", None)
    with db.transaction() as s:
        queries.add_entries([entry], session=s, now=NOW)
    with db.session() as s:
        return s.scalar(select(Article.id).where(Article.url == url))


def _last_note(db: Database) -> str:
    with db.session() as s:
        return s.scalar(select(FetchAttempt.error).order_by(FetchAttempt.id.desc()).limit(1)) or ""


def test_oversized_and_control_characters_are_trimmed_with_a_reason(db: Database) -> None:
    article_id = _pending_article(db)
    text = "Officials met\x00 in Brussels.\x1b\x07 " + "Budget talks continued. " * 120_000
    read = ReadArticle(url="http://example.org/a", text=text, title="T\x00itle " + "x" * 5000,
                       authors=tuple(f"Author\x00 {i}" for i in range(500)) + ("a" * 1000,),
                       language="en\x00")
    assert len(text) > queries.MAX_TEXT_CHARS
    with db.transaction() as s:
        assert queries.store_article(article_id, read, session=s) == "fetched"
    with db.session() as s:
        row = s.get(Article, article_id)
        assert len(row.text) == queries.MAX_TEXT_CHARS
        assert row.text.startswith("Officials met in Brussels. Budget")
        assert len(row.title) == queries.MAX_TITLE_CHARS and row.title.startswith("T itle")
        assert len(row.authors) == queries.MAX_AUTHORS
        assert all(len(a) <= queries.MAX_AUTHOR_CHARS and "\x00" not in a for a in row.authors)
        assert row.language == "en"
    note = _last_note(db)
    for reason in ("control_chars_removed", "text_truncated", "title_truncated",
                   "authors_truncated"):
        assert reason in note


def test_clean_page_records_no_note(db: Database) -> None:
    article_id = _pending_article(db)
    read = ReadArticle(url="http://example.org/a", text="Line one.\n\tLine two.", title="Ok")
    with db.transaction() as s:
        queries.store_article(article_id, read, session=s)
    with db.session() as s:
        assert s.get(Article, article_id).text == "Line one.\n\tLine two."
    assert _last_note(db) == ""


INJECTION = "Robert'); DROP TABLE articles; -- \" OR 1=1 /* %s %(x)s :name ? \\"


def test_sql_in_titles_and_text_round_trips_unchanged(db: Database) -> None:
    url = "http://example.org/a?q=1'%3B+DROP+TABLE+articles%3B--"
    article_id = _pending_article(db, url)
    read = ReadArticle(url=url, text=f"{INJECTION} body of the story", title=INJECTION,
                       authors=(INJECTION,), language="en")
    with db.transaction() as s:
        queries.store_article(article_id, read, session=s)
    with db.session() as s:
        row = s.get(Article, article_id)
        assert (row.title, row.authors, row.url) == (INJECTION, [INJECTION], url)
        assert row.text.startswith(INJECTION)
        assert s.scalar(select(sa.func.count()).select_from(Article)) == 1  # table still there
        assert s.scalar(select(Article.id).where(Article.title == INJECTION)) == article_id


# --- every SQL statement in our code is parameterised ---------------------------

_SQL = re.compile(r"\b(SELECT|INSERT|UPDATE|DELETE|PRAGMA|CREATE|DROP|ALTER|WHERE|FROM|"
                  r"VALUES|SET|ATTACH|TRUNCATE|GRANT)\b")
# Built with f-strings from values that never come from input; each says why.
ALLOWED_BUILT_SQL = {
    ("storage/db.py", "PRAGMA busy_timeout="): "a module constant",
    ("storage/export.py", " WHERE "): "column name from storage.views, not the user",
    ("storage/export.py", "SELECT "): "view and column names from storage.views",
    ("storage/readonly.py", "only queries ("): "an error message, not SQL",
}
# Migrations are DDL assembled from constants (view bodies, dialect date
# expressions) and run by operators; no feed, page or user value reaches them.
SKIPPED_DIRS = ("storage/migrations/",)


def _built_sql(tree: ast.AST) -> list[tuple[int, str]]:
    """(line, constant text) of f-strings, % and .format() whose literal part is SQL."""
    found = []
    for node in ast.walk(tree):
        literal = None
        if isinstance(node, ast.JoinedStr) and any(isinstance(v, ast.FormattedValue)
                                                   for v in node.values):
            literal = "".join(v.value for v in node.values if isinstance(v, ast.Constant))
        elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod | ast.Add) and \
                isinstance(node.left, ast.Constant) and isinstance(node.left.value, str):
            literal = node.left.value
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and \
                node.func.attr == "format" and isinstance(node.func.value, ast.Constant):
            literal = str(node.func.value.value)
        if literal and _SQL.search(literal):
            found.append((node.lineno, literal))
    return found


def test_sql_is_never_built_from_values() -> None:
    offenders = []
    for path in sorted([*REPO.glob("storage/**/*.py"), *REPO.glob("pipeline/**/*.py")]):
        rel = path.relative_to(REPO).as_posix()
        if rel.startswith(SKIPPED_DIRS):
            continue
        for line, literal in _built_sql(ast.parse(path.read_text(encoding="utf-8"))):
            if not any(rel == f and marker in literal for f, marker in ALLOWED_BUILT_SQL):
                offenders.append(f"{rel}:{line}: {literal[:80]!r}")
    assert not offenders, "SQL built from values; bind parameters instead:\n" + "\n".join(offenders)


def test_the_sql_scan_catches_an_injectable_query() -> None:
    sample = ('def q(name):\n'
              '    return conn.execute(text(f"SELECT * FROM articles WHERE title = \'{name}\'"))\n')
    assert _built_sql(ast.parse(sample)) != []
    assert _built_sql(ast.parse('x = "SELECT 1 WHERE a = %s" % (v,)')) != []
    assert _built_sql(ast.parse('x = "DELETE FROM t WHERE id={}".format(v)')) != []
    assert _built_sql(ast.parse('x = text("SELECT * FROM t WHERE id = :id")')) == []
