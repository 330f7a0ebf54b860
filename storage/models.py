"""SQLAlchemy 2.0 typed models: the tables researchers query.

The schema is a public interface (see README "Schema"). Every extracted row
points at its article, carries the sentence it came from with character
offsets into ``articles.text``, the extractor version that produced it and a
confidence, so a researcher can always check a row against its evidence.
Times are stored as naive UTC (SQLite has no time zones; PostgreSQL columns
are ``timestamp without time zone`` for the same reading on both).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

# Stable constraint names so Alembic migrations are the same on both backends.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

ARTICLE_STATUSES = ("pending", "fetched", "extracted", "skipped", "failed")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Feed(Base):
    """A feed the researcher chose, with the poll state that survives restarts."""

    __tablename__ = "feeds"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    url: Mapped[str] = mapped_column(Text)
    # The feeds-file URL when the feed answered 301 and ``url`` is where it moved.
    moved_from: Mapped[str | None] = mapped_column(Text)
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    interval_s: Mapped[float] = mapped_column(Float)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    # Why a feed stopped being polled: "gone" (410), "parked" (too many errors), "removed".
    disabled_reason: Mapped[str | None] = mapped_column(String(200))
    etag: Mapped[str | None] = mapped_column(Text)
    last_modified: Mapped[str | None] = mapped_column(Text)
    next_due: Mapped[datetime | None] = mapped_column(index=True)
    last_polled: Mapped[datetime | None]
    last_status: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    last_new_items: Mapped[int] = mapped_column(Integer, default=0)
    consecutive_errors: Mapped[int] = mapped_column(Integer, default=0)
    bozo: Mapped[str | None] = mapped_column(Text)  # feedparser's complaint, kept for operators
    created_at: Mapped[datetime]

    articles: Mapped[list[Article]] = relationship(back_populates="feed")


class FetchAttempt(Base):
    """One HTTP request for a feed or a page: the audit trail of every skip."""

    __tablename__ = "fetch_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    feed_id: Mapped[int | None] = mapped_column(ForeignKey("feeds.id", ondelete="CASCADE"))
    article_id: Mapped[int | None] = mapped_column(
        ForeignKey("articles.id", ondelete="CASCADE"), index=True
    )
    url: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(10))  # feed | page
    at: Mapped[datetime] = mapped_column(index=True)
    status: Mapped[int | None] = mapped_column(Integer)
    outcome: Mapped[str] = mapped_column(String(40))  # ok | not_modified | <error reason>
    error: Mapped[str | None] = mapped_column(Text)
    elapsed_s: Mapped[float | None] = mapped_column(Float)
    bytes: Mapped[int | None] = mapped_column(Integer)
    entries: Mapped[int | None] = mapped_column(Integer)  # feed entries read
    # Feed entries not turned into articles (no http(s) link, over the cap); why is in `error`.
    skipped: Mapped[int | None] = mapped_column(Integer)

    __table_args__ = (Index("ix_fetch_attempts_feed_at", "feed_id", "at"),)


class Article(Base):
    """One story, stored once however many feeds or polls bring it."""

    __tablename__ = "articles"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    url: Mapped[str] = mapped_column(Text, unique=True)  # canonical URL, the natural key
    # The link as the feed gave it: what is fetched (None: fetch ``url``).
    fetch_url: Mapped[str | None] = mapped_column(Text)
    guid: Mapped[str | None] = mapped_column(Text, index=True)
    feed_id: Mapped[int | None] = mapped_column(
        ForeignKey("feeds.id", ondelete="SET NULL"), index=True
    )
    title: Mapped[str | None] = mapped_column(Text)
    authors: Mapped[list[str]] = mapped_column(JSON, default=list)
    published: Mapped[datetime | None] = mapped_column(index=True)
    discovered_at: Mapped[datetime] = mapped_column(index=True)
    fetched_at: Mapped[datetime | None]
    language: Mapped[str | None] = mapped_column(String(20))
    text: Mapped[str | None] = mapped_column(Text)
    text_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    status: Mapped[str] = mapped_column(String(20), default="pending", index=True)
    skip_reason: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt: Mapped[datetime | None]
    # Another article with the same text (the same story under another URL).
    duplicate_of: Mapped[int | None] = mapped_column(ForeignKey("articles.id"))
    extractor_version: Mapped[str | None] = mapped_column(String(40))
    extracted_at: Mapped[datetime | None]

    feed: Mapped[Feed | None] = relationship(back_populates="articles")
    sources: Mapped[list[ArticleSource]] = relationship(
        back_populates="article", cascade="all, delete-orphan"
    )

    __table_args__ = (
        CheckConstraint(
            "status IN ('pending','fetched','extracted','skipped','failed')", name="status"
        ),
        Index("ix_articles_status_next", "status", "next_attempt"),
        # Views reach an article's dates, duplicate flag and feed without reading
        # the row, which carries the whole text (migration 0002).
        Index("ix_articles_id_dates", "id", "published", "discovered_at", "duplicate_of",
              "feed_id"),
        Index("ix_articles_duplicate_of", "duplicate_of"),
    )


class ArticleSource(Base):
    """Each feed that carried an article: duplicates fold, their sources stay."""

    __tablename__ = "article_sources"

    article_id: Mapped[int] = mapped_column(
        ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True
    )
    feed_id: Mapped[int] = mapped_column(ForeignKey("feeds.id", ondelete="CASCADE"), primary_key=True)
    entry_url: Mapped[str] = mapped_column(Text)
    guid: Mapped[str | None] = mapped_column(Text)
    seen_at: Mapped[datetime]

    article: Mapped[Article] = relationship(back_populates="sources")


class Actor(Base):
    """One real-world actor across all articles, under its canonical name."""

    __tablename__ = "actors"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    type: Mapped[str] = mapped_column(String(10))  # PERSON | ORG | GPE | NORP
    wikidata: Mapped[str | None] = mapped_column(String(20))

    aliases: Mapped[list[ActorAlias]] = relationship(
        back_populates="actor", cascade="all, delete-orphan"
    )

    __table_args__ = (UniqueConstraint("name", "type", name="uq_actors_name_type"),)


class ActorAlias(Base):
    """A surface form seen for an actor ("the alliance", "Stoltenberg")."""

    __tablename__ = "actor_aliases"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    actor_id: Mapped[int] = mapped_column(ForeignKey("actors.id", ondelete="CASCADE"))
    alias: Mapped[str] = mapped_column(String(300))

    actor: Mapped[Actor] = relationship(back_populates="aliases")

    __table_args__ = (UniqueConstraint("actor_id", "alias", name="uq_actor_aliases_actor_alias"),)


class _Evidence:
    """Columns every extracted row carries: where it came from and how sure we are."""

    sentence: Mapped[str] = mapped_column(Text)
    sent_start: Mapped[int] = mapped_column(Integer)
    sent_end: Mapped[int] = mapped_column(Integer)
    start: Mapped[int] = mapped_column(Integer)
    end: Mapped[int] = mapped_column(Integer)
    confidence: Mapped[float] = mapped_column(Float, default=1.0)
    extractor_version: Mapped[str] = mapped_column(String(40))
    # The article's day (published, else discovered), copied here so that the
    # per-day and per-month questions researchers ask most are answered from
    # one index without visiting a million article rows.
    day: Mapped[date | None] = mapped_column(Date)


class Mention(_Evidence, Base):
    __tablename__ = "mentions"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"))
    actor_id: Mapped[int] = mapped_column(ForeignKey("actors.id", ondelete="CASCADE"))
    text: Mapped[str] = mapped_column(Text)

    __table_args__ = (
        Index("ix_mentions_article", "article_id"),
        Index("ix_mentions_actor", "actor_id", "article_id"),
        Index("ix_mentions_actor_day", "actor_id", "day"),
    )


class Amount(_Evidence, Base):
    __tablename__ = "amounts"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"))
    text: Mapped[str] = mapped_column(Text)
    value: Mapped[float] = mapped_column(Float)
    currency: Mapped[str] = mapped_column(String(3))
    period_years: Mapped[float | None] = mapped_column(Float)
    donor_id: Mapped[int | None] = mapped_column(ForeignKey("actors.id", ondelete="SET NULL"))
    recipient_id: Mapped[int | None] = mapped_column(ForeignKey("actors.id", ondelete="SET NULL"))

    __table_args__ = (
        Index("ix_amounts_article", "article_id"),
        # Covering indexes for "amounts to/from X by month" (migration 0003).
        Index("ix_amounts_recipient_day", "recipient_id", "day", "currency", "value",
              "article_id", "donor_id"),
        Index("ix_amounts_donor_day", "donor_id", "day", "currency", "value", "article_id",
              "recipient_id"),
    )


class Stance(_Evidence, Base):
    __tablename__ = "stances"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"))
    holder_id: Mapped[int] = mapped_column(ForeignKey("actors.id", ondelete="CASCADE"))
    polarity: Mapped[str] = mapped_column(String(10))
    target_id: Mapped[int | None] = mapped_column(ForeignKey("actors.id", ondelete="SET NULL"))
    target_text: Mapped[str | None] = mapped_column(Text)  # topic phrase when no actor owns it
    cue: Mapped[str] = mapped_column(String(100))

    __table_args__ = (
        CheckConstraint("polarity IN ('support','oppose')", name="polarity"),
        Index("ix_stances_article", "article_id"),
        # "Stances on/of X in the last N days" (migration 0003).
        Index("ix_stances_target_day", "target_id", "day"),
        Index("ix_stances_holder_day", "holder_id", "day"),
    )


class Quote(_Evidence, Base):
    """What a named actor said: direct (the quoted words) or reported (the clause)."""

    __tablename__ = "quotes"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"))
    speaker_id: Mapped[int] = mapped_column(ForeignKey("actors.id", ondelete="CASCADE"))
    text: Mapped[str] = mapped_column(Text)
    cue: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(10))

    __table_args__ = (
        CheckConstraint("kind IN ('direct','reported')", name="kind"),
        Index("ix_quotes_article", "article_id"),
        Index("ix_quotes_speaker_day", "speaker_id", "day"),
    )


class Event(_Evidence, Base):
    __tablename__ = "events"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"))
    type: Mapped[str] = mapped_column(String(40))
    cameo: Mapped[str] = mapped_column(String(4))
    plover: Mapped[str] = mapped_column(String(20))
    source_id: Mapped[int | None] = mapped_column(ForeignKey("actors.id", ondelete="SET NULL"))
    target_id: Mapped[int | None] = mapped_column(ForeignKey("actors.id", ondelete="SET NULL"))
    amount_id: Mapped[int | None] = mapped_column(ForeignKey("amounts.id", ondelete="SET NULL"))
    event_date: Mapped[date | None] = mapped_column(Date)

    __table_args__ = (
        Index("ix_events_article", "article_id"),
        Index("ix_events_source", "source_id"),
        Index("ix_events_target", "target_id"),
    )


class AmountMonth(Base):
    """Sums of amounts per recipient, donor, month and currency: a summary table.

    "Money to Y by month" over a million amounts reads tens of thousands of rows
    for a popular recipient; this table answers it from a handful. It is rebuilt
    whole (storage.summaries) by the daemon every few minutes and after
    `newsmon fetch --once` and `newsmon reprocess`, so it may lag by that much.
    """

    __tablename__ = "amount_months"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    recipient_id: Mapped[int | None] = mapped_column(ForeignKey("actors.id", ondelete="CASCADE"))
    donor_id: Mapped[int | None] = mapped_column(ForeignKey("actors.id", ondelete="CASCADE"))
    month: Mapped[str | None] = mapped_column(String(7))  # YYYY-MM
    currency: Mapped[str] = mapped_column(String(3))
    total: Mapped[float] = mapped_column(Float)
    amounts: Mapped[int] = mapped_column(Integer)

    __table_args__ = (
        Index("ix_amount_months_recipient", "recipient_id", "month"),
        Index("ix_amount_months_donor", "donor_id", "month"),
    )


class DigestLog(Base):
    """A digest the SMTP server accepted: the exactly-once record."""

    __tablename__ = "digest_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    day: Mapped[date] = mapped_column(Date)
    recipient: Mapped[str] = mapped_column(String(320))
    message_id: Mapped[str] = mapped_column(String(300))
    sent_at: Mapped[datetime]

    __table_args__ = (UniqueConstraint("day", "recipient", name="uq_digest_log_day_recipient"),)


class SchedulerLock(Base):
    """Lease that lets only one daemon run against a database."""

    __tablename__ = "scheduler_lock"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    holder: Mapped[str] = mapped_column(String(200))
    heartbeat: Mapped[datetime]
    expires: Mapped[datetime]
