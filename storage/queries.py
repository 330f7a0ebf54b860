"""Reads and idempotent writes of the ingestion half (feeds, polls, articles).

Every function takes ``session`` keyword-only and never commits: the job that
calls it opens one transaction for one unit of work, so a crash leaves either
all of a unit or none of it. Writes are upserts on natural keys (feed name,
canonical URL, GUID within a feed, text hash), so a re-poll never duplicates.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from config.feeds import FeedSpec
from storage.models import Article, ArticleSource, Feed, FetchAttempt
from storage.records import Article as ReadArticle
from storage.records import FeedEntry, FeedState, PollResult

# Reasons that will not change if we ask again: give up at once.
PERMANENT_REASONS = frozenset(
    {"http_404", "http_410", "http_401", "http_403", "http_451", "blocked_url", "robots",
     "too_large", "no_text", "encoding", "not_html"}
)


# Caps on what one page may put in the database. 2 MB of text is ~300,000
# words, far beyond any article: more is a mirror, a log or an attack, and
# would cost the extractor minutes. Truncation is recorded, never silent.
MAX_TEXT_CHARS = 2_000_000
MAX_TITLE_CHARS = 1000
MAX_AUTHOR_CHARS = 200
MAX_AUTHORS = 50
# C0 controls except tab, newline and carriage return, and DEL: no reader
# needs them, and PostgreSQL refuses NUL in text outright.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _insert(session: Session):  # noqa: ANN202 - dialect-specific Insert constructor
    return pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert


def text_hash(text: str) -> str:
    """Hash of the text with whitespace and case folded: same story, same hash."""
    return hashlib.sha256(" ".join(text.lower().split()).encode()).hexdigest()


# --- feeds ----------------------------------------------------------------


def sync_feeds(specs: Sequence[FeedSpec], *, session: Session, default_interval: float) -> None:
    """Make the feeds table follow the feeds file, keeping each feed's poll state."""
    now = utcnow()
    existing = {f.name: f for f in session.scalars(select(Feed))}
    for spec in specs:
        interval = spec.interval_s or default_interval
        feed = existing.pop(spec.name, None)
        if feed is None:
            session.add(Feed(name=spec.name, url=spec.url, tags=list(spec.tags),
                             interval_s=interval, enabled=True, next_due=now, created_at=now,
                             last_new_items=0, consecutive_errors=0))
            continue
        feed.tags, feed.interval_s = list(spec.tags), interval
        if feed.disabled_reason == "removed":
            feed.enabled, feed.disabled_reason, feed.next_due = True, None, now
        if spec.url not in (feed.url, feed.moved_from):
            # The researcher changed the URL: old validators belong to the old URL.
            feed.url, feed.etag, feed.last_modified = spec.url, None, None
            feed.moved_from, feed.next_due = None, now
    for feed in existing.values():
        feed.enabled, feed.disabled_reason = False, "removed"


def due_feeds(*, session: Session, now: datetime, limit: int | None = None,
              everything: bool = False) -> list[FeedState]:
    """Enabled feeds whose next poll is due; ``everything``: all enabled feeds, due or not."""
    query = select(Feed).where(Feed.enabled.is_(True))
    if not everything:
        query = query.where((Feed.next_due.is_(None)) | (Feed.next_due <= now))
    query = query.order_by(Feed.next_due).limit(limit)
    return [
        FeedState(f.id, f.name, f.url, f.etag, f.last_modified, f.interval_s,
                  f.consecutive_errors)
        for f in session.scalars(query)
    ]


def _next_poll(feed: Feed, result: PollResult, now: datetime, *, min_interval: float,
               max_backoff: float) -> datetime:
    interval = max(feed.interval_s, min_interval)
    if result.ok:
        return now + timedelta(seconds=interval)
    backoff = min(interval * 2 ** min(feed.consecutive_errors, 16), max_backoff)
    if result.retry_after is not None:
        # The server said when to come back; never sooner, and never beyond our cap.
        backoff = min(max(backoff, result.retry_after), max(max_backoff, interval))
    return now + timedelta(seconds=backoff)


@dataclass(frozen=True, slots=True)
class PollLimits:
    min_interval: float
    max_backoff: float
    park_after: int


def record_poll(result: PollResult, *, session: Session, limits: PollLimits,
                now: datetime | None = None) -> int:
    """Store one poll: its entries and the feed's new validators in ONE transaction.

    The validators must never commit before the entries they cover, or a crash
    in between would make the next conditional GET skip those entries for good.
    Returns the number of new articles.
    """
    now = now or utcnow()
    feed = session.get(Feed, result.feed_id)
    if feed is None:
        return 0
    new = add_entries(result.entries, session=session, now=now) if result.ok else 0
    detail = result.error_detail
    if result.ok and result.skipped_entries:
        detail = (f"{result.skipped_entries} entries skipped: no http(s) link or over "
                  f"max_entries_per_feed")
    session.add(FetchAttempt(
        feed_id=feed.id, url=feed.url, kind="feed", at=now, status=result.status,
        outcome=("not_modified" if result.status == 304 else "ok") if result.ok else result.error,
        error=detail, elapsed_s=result.elapsed, bytes=result.size,
        entries=len(result.entries), skipped=result.skipped_entries,
    ))
    feed.last_polled, feed.last_status = now, result.status
    if result.ok:
        feed.consecutive_errors, feed.last_error = 0, None
        feed.etag, feed.last_modified = result.etag, result.last_modified
        feed.bozo, feed.last_new_items = result.bozo, new
        if result.moved_to and result.moved_to != feed.url:
            # A 301 moves the feed for good; the file's URL is kept to recognise it.
            feed.moved_from = feed.moved_from or feed.url
            feed.url = result.moved_to
    else:
        feed.consecutive_errors += 1
        feed.last_error = f"{result.error}: {result.error_detail or ''}"[:1000]
        feed.last_new_items = 0
        if result.status == 410:
            feed.enabled, feed.disabled_reason = False, "gone (HTTP 410)"
        elif feed.consecutive_errors >= limits.park_after:
            feed.enabled = False
            feed.disabled_reason = f"parked after {feed.consecutive_errors} errors"
    feed.next_due = _next_poll(feed, result, now, min_interval=limits.min_interval,
                               max_backoff=limits.max_backoff)
    return new


def add_entries(entries: Iterable[FeedEntry], *, session: Session, now: datetime) -> int:
    """Upsert one feed's entries as pending articles; returns how many are new.

    Four statements per feed whatever its size (known GUIDs, insert, ids,
    sources): a 500-feed cycle spends its time on the network, not here.
    """
    entries = list(entries)
    if not entries:
        return 0
    insert = _insert(session)
    feed_id = entries[0].feed_id
    guids = [e.guid for e in entries if e.guid]
    # A feed that re-links the same GUID to a new URL is the same story.
    known = dict(session.execute(
        select(ArticleSource.guid, ArticleSource.article_id)
        .where(ArticleSource.feed_id == feed_id, ArticleSource.guid.in_(guids))
    ).all()) if guids else {}
    fresh = [e for e in entries if e.guid not in known]
    new = 0
    if fresh:
        # One statement with the rows as parameters (executemany), not rows baked
        # into the SQL: a statement per row count filled SQLAlchemy's compiled
        # cache with hundreds of variants (the soak saw RSS climb 12 MiB).
        # RETURNING lists only the rows inserted; rowcount is -1 for a multi-row
        # insert on psycopg, so counting returned ids is the portable way.
        inserted = session.execute(
            insert(Article).on_conflict_do_nothing(index_elements=["url"])
            .returning(Article.id),
            [{"url": e.link, "fetch_url": e.raw_link, "guid": e.guid, "feed_id": e.feed_id,
              "title": e.title,
              "published": e.published, "discovered_at": now, "status": "pending",
              "attempts": 0, "authors": []} for e in fresh],
        ).all()
        new = len(inserted)
        ids = dict(session.execute(
            select(Article.url, Article.id).where(Article.url.in_([e.link for e in fresh]))
        ).all())
    else:
        ids = {}
    sources = {}
    for e in entries:
        article_id = known.get(e.guid) if e.guid in known else ids.get(e.link)
        if article_id is not None:
            sources.setdefault(article_id, {"article_id": article_id, "feed_id": feed_id,
                                            "entry_url": e.raw_link or e.link, "guid": e.guid,
                                            "seen_at": now})
    if sources:
        session.execute(insert(ArticleSource)
                        .on_conflict_do_nothing(index_elements=["article_id", "feed_id"]),
                        list(sources.values()))
    return new


# --- articles -------------------------------------------------------------


def _due(now: datetime):  # noqa: ANN202 - a SQL condition
    """No retry is scheduled for later and no worker holds the article."""
    return Article.next_attempt.is_(None) | (Article.next_attempt <= now)


def claim_pending(*, session: Session, now: datetime, limit: int) -> list[tuple[int, str]]:
    """Articles whose page should be fetched now: (id, url).

    ``next_attempt`` in the future means a retry is scheduled or a worker has it.
    """
    query = (
        select(Article.id, func.coalesce(Article.fetch_url, Article.url).label("url"))
        .where(Article.status == "pending", _due(now))
        .order_by(Article.discovered_at, Article.id)
        .limit(limit)
    )
    return [(row.id, row.url) for row in session.execute(query)]


def store_article(article_id: int, read: ReadArticle, *, session: Session,
                  now: datetime | None = None, languages: Sequence[str] = ()) -> str:
    """Save a read page; returns the new status (fetched, or skipped with a reason).

    ``languages``: primary language codes the extractors handle; a page the reader
    found to be in another language is stored but not analysed.
    """
    now = now or utcnow()
    row = session.get(Article, article_id)
    if row is None:
        return "missing"
    if row.status != "pending":  # a redelivered task: another copy got here first
        return row.status
    read, notes = fit_article(read)
    digest = text_hash(read.text)
    twin = session.scalar(
        select(Article.id).where(Article.text_hash == digest, Article.id != article_id).limit(1)
    )
    row.title = read.title or row.title
    # The page's own date wins over the feed's: feeds often stamp every item with
    # the time of the export, which filed a whole 2019 archive under one day.
    page_date = (read.published.astimezone(UTC).replace(tzinfo=None)
                 if read.published and read.published.tzinfo else read.published)
    row.published = page_date or row.published
    row.authors, row.language = list(read.authors), read.language
    row.text, row.text_hash, row.fetched_at = read.text, digest, now
    row.next_attempt = None  # a retry schedule or a worker's claim ends here
    row.attempts += 1
    if twin is not None:
        # The same story under another URL: keep the row (its source counts) but
        # analyse only the first copy, so counts are not inflated.
        row.status, row.skip_reason, row.duplicate_of = "skipped", "duplicate_text", twin
    elif languages and read.language and _primary(read.language) not in languages:
        row.status, row.skip_reason = "skipped", f"language_{_primary(read.language)}"
    else:
        row.status, row.skip_reason = "fetched", None
    session.add(FetchAttempt(article_id=article_id, url=row.url, kind="page", at=now,
                             status=200, outcome="ok", bytes=len(read.text),
                             error="; ".join(notes) or None))
    return row.status


def skip_reason(article_id: int, *, session: Session) -> str | None:
    row = session.get(Article, article_id)
    return row.skip_reason if row is not None else None


def _primary(language: str) -> str:
    return language.replace("_", "-").split("-")[0].lower()


def fit_article(read: ReadArticle) -> tuple[ReadArticle, list[str]]:
    """``read`` with control characters removed and fields capped, and a note per change."""
    notes: list[str] = []
    text = _CONTROL.sub("", read.text)
    if len(text) != len(read.text):
        notes.append(f"control_chars_removed: {len(read.text) - len(text)}")
    if len(text) > MAX_TEXT_CHARS:
        notes.append(f"text_truncated: {len(text)} -> {MAX_TEXT_CHARS} chars")
        text = text[:MAX_TEXT_CHARS]
    title = " ".join(_CONTROL.sub(" ", read.title or "").split())
    if len(title) > MAX_TITLE_CHARS:
        notes.append(f"title_truncated: {len(title)} chars")
    authors = [" ".join(_CONTROL.sub(" ", a).split())[:MAX_AUTHOR_CHARS] for a in read.authors]
    authors = [a for a in dict.fromkeys(authors) if a]
    if len(authors) > MAX_AUTHORS:
        notes.append(f"authors_truncated: {len(authors)}")
    language = _CONTROL.sub("", read.language or "")[:20] or None
    fitted = replace(read, text=text, title=title[:MAX_TITLE_CHARS] or None,
                     authors=tuple(authors[:MAX_AUTHORS]), language=language)
    return fitted, notes


def record_page_failure(article_id: int, reason: str, detail: str, *, session: Session,
                        status: int | None, max_attempts: int, retry_after: float | None = None,
                        now: datetime | None = None) -> str:
    """A page could not be fetched or read: retry later, or give up with the reason."""
    now = now or utcnow()
    row = session.get(Article, article_id)
    if row is None:
        return "missing"
    if row.status != "pending":  # fetched or extracted meanwhile: a late copy's failure
        return row.status
    row.attempts += 1
    session.add(FetchAttempt(article_id=article_id, url=row.url, kind="page", at=now,
                             status=status, outcome=reason, error=detail[:1000]))
    if reason in PERMANENT_REASONS:
        row.status, row.skip_reason = "skipped", reason
    elif row.attempts >= max_attempts:
        row.status, row.skip_reason = "failed", f"{reason} after {row.attempts} attempts"
    else:
        delay = max(retry_after or 0.0, 300.0 * 2 ** (row.attempts - 1))
        row.next_attempt = now + timedelta(seconds=delay)
        row.skip_reason = f"retrying: {reason}"
    return row.status


def pending_extraction(*, session: Session, now: datetime, limit: int) -> list[tuple[int, str]]:
    """Fetched articles waiting for analysis: (id, text).

    ``next_attempt`` in the future means a worker has it (see pipeline.daemon.tasks).
    """
    query = select(Article.id, Article.text).where(Article.status == "fetched", _due(now))
    return [(r.id, r.text or "") for r in session.execute(query.order_by(Article.id).limit(limit))]


def skip_reasons(*, session: Session, limit: int = 10) -> list[tuple[str, str, int, str | None]]:
    """(status, reason, articles, latest error message) of skipped and failed articles.

    The message is the newest recorded for that reason; refusals name their fix
    there (the setting to change), so ``newsmon status`` can show it."""
    groups = session.execute(
        select(Article.status, Article.skip_reason, func.count(), func.max(Article.id))
        .where(Article.status.in_(["skipped", "failed"]))
        .group_by(Article.status, Article.skip_reason)
        .order_by(func.count().desc()).limit(limit)
    ).all()
    out = []
    for status, reason, count, example in groups:
        detail = session.scalar(select(FetchAttempt.error)
                                .where(FetchAttempt.article_id == example,
                                       FetchAttempt.error.is_not(None))
                                .order_by(FetchAttempt.id.desc()).limit(1))
        out.append((status, reason or "-", count, detail))
    return out


def status_counts(*, session: Session) -> dict[str, int]:
    rows = session.execute(select(Article.status, func.count()).group_by(Article.status))
    return {status: count for status, count in rows}


def reset_for_reprocess(*, session: Session, since: datetime | None,
                        keep_version: str | None = None) -> int:
    """Mark extracted articles for a new extraction run (their rows are replaced then).

    ``keep_version``: leave the articles already extracted by that version alone."""
    stmt = update(Article).where(Article.status == "extracted")
    if since is not None:
        stmt = stmt.where(Article.discovered_at >= since)
    if keep_version is not None:
        stmt = stmt.where((Article.extractor_version.is_(None))
                          | (Article.extractor_version != keep_version))
    return session.execute(stmt.values(status="fetched")).rowcount or 0


def hold(article_ids: Sequence[int], *, session: Session, until: datetime) -> None:
    """Keep articles out of claim_pending/pending_extraction until ``until``.

    Dispatching work to Celery workers sets this so the next tick does not send
    the same article again; if a worker dies, the hold expires and it is re-sent.
    """
    if article_ids:
        session.execute(update(Article).where(Article.id.in_(list(article_ids)))
                        .values(next_attempt=until))


def extraction_due_ids(*, session: Session, now: datetime, limit: int) -> list[int]:
    """Ids of fetched articles waiting for analysis and not held by a worker."""
    return list(session.scalars(
        select(Article.id)
        .where(Article.status == "fetched", _due(now))
        .order_by(Article.id).limit(limit)
    ))


def still_pending(article_ids: Sequence[int], *, session: Session) -> set[int]:
    """Those of these articles whose page is still to be fetched."""
    return set(session.scalars(select(Article.id).where(Article.id.in_(list(article_ids)),
                                                        Article.status == "pending")))


def texts_of(article_ids: Sequence[int], *, session: Session) -> list[tuple[int, str]]:
    """(id, text) of these articles that are still waiting for analysis."""
    rows = session.execute(select(Article.id, Article.text)
                           .where(Article.id.in_(list(article_ids)), Article.status == "fetched")
                           .order_by(Article.id))
    return [(r.id, r.text or "") for r in rows]


def record_extract_failure(article_id: int, detail: str, *, session: Session) -> None:
    """The NLP pipeline failed on this article: keep its text, record why, move on."""
    row = session.get(Article, article_id)
    if row is not None:
        row.status, row.skip_reason = "failed", f"extract_failed: {detail}"[:1000]
