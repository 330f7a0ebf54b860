"""Build the daily digest: database rows -> one typed, already-clean message.

``build_digest`` only reads. Everything that came from a feed (titles,
sentences, names, URLs) is cleaned here, once: control characters removed,
whitespace folded, length capped, and a URL kept as a link only when it is
http(s). The renderers can then trust the record; HTML escaping is still the
template's job (autoescape).

The digest of day D covers the 24 hours before D at ``digest_time`` in
``digest_tz``. An article belongs to that window when its publication time,
else the time newsmon first saw it, falls in it (the views' day rule); the
rows extracted from it (stances, amounts, mentions) go with it. When it was
extracted does not count: ``newsmon reprocess`` re-extracts the whole archive
at once, and that is not news.

Amounts are ranked inside their currency and the currencies interleaved (each
one's largest, then each one's second, ...): raw values across currencies say
nothing (500 billion yen is less than 5 billion dollars).
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, aliased

from config.settings import Settings
from pipeline.digest.chart import chart_png
from storage.models import Actor, Amount, Article, ArticleSource, Feed, Mention, Stance

TOP_STORIES = 10
TOP_ACTORS = 10
TOP_AMOUNTS = 20
MAX_STANCES = 60
_SPACE = re.compile(r"\s+")


# --- records ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Evidence:
    """Where an item comes from: the article (link only if http/https) and its sentence."""

    sentence: str
    title: str
    url: str | None  # safe to use as a link
    url_text: str  # the URL as text, whatever its scheme
    feed: str


@dataclass(frozen=True, slots=True)
class StanceItem:
    holder: str
    polarity: str  # support | oppose
    target: str
    cue: str
    evidence: Evidence


@dataclass(frozen=True, slots=True)
class StanceGroup:
    target: str
    items: tuple[StanceItem, ...]  # oppositions first


@dataclass(frozen=True, slots=True)
class AmountItem:
    text: str
    value: float
    currency: str
    period_years: float | None
    donor: str | None
    recipient: str | None
    evidence: Evidence


@dataclass(frozen=True, slots=True)
class ActorTrend:
    name: str
    type: str
    mentions: int  # in the digest's 24 hours
    previous_daily: float  # mean per day over the 7 days before
    change_pct: float | None  # None: not mentioned in the 7 days before
    evidence: Evidence | None  # its latest mention


@dataclass(frozen=True, slots=True)
class Story:
    title: str
    quote: str
    url: str | None
    url_text: str
    sources: tuple[str, ...]  # feeds that carried it, copies included
    copies: int  # other articles folded into this one


@dataclass(frozen=True, slots=True)
class DigestMessage:
    day: date
    window_start: datetime  # naive UTC
    window_end: datetime
    generated_at: datetime  # aware UTC
    subject: str
    stance_groups: tuple[StanceGroup, ...]
    amounts: tuple[AmountItem, ...]
    actors: tuple[ActorTrend, ...]
    stories: tuple[Story, ...]
    week_top: tuple[tuple[str, int], ...]  # the chart's data
    chart_png: bytes | None

    @property
    def empty(self) -> bool:
        return not (self.stance_groups or self.amounts or self.stories or self.actors)


# --- cleaning ------------------------------------------------------------------


def clean(value: Any, limit: int = 500) -> str:
    """Feed text made safe for one line: no control characters, folded, capped."""
    text = "" if value is None else str(value)
    text = "".join(" " if unicodedata.category(c) in ("Cc", "Zl", "Zp") else c for c in text)
    text = "".join(c for c in text if unicodedata.category(c) != "Cf" or c == "\u200d")
    text = _SPACE.sub(" ", text).strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def safe_url(value: str | None) -> str | None:
    """The URL if it is an absolute http(s) URL, else None (then shown as text only)."""
    url = clean(value, 2000)
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() in ("http", "https") and parts.netloc and " " not in url:
        return url
    return None


def _evidence(sentence: Any, title: Any, url: Any, feed: Any) -> Evidence:
    return Evidence(clean(sentence, 600), clean(title, 200), safe_url(url), clean(url, 300),
                    clean(feed, 100))


# --- the window ------------------------------------------------------------------


def digest_window(day: date, settings: Settings) -> tuple[datetime, datetime]:
    """(start, end) in naive UTC: the 24 hours before ``day`` at digest_time."""
    local_end = datetime.combine(day, settings.digest_time, tzinfo=settings.zone)
    end = local_end.astimezone(timezone.utc).replace(tzinfo=None)
    return end - timedelta(hours=24), end


# The article's time: published, else first seen (as storage.results.article_day).
_ARTICLE_TIME = func.coalesce(Article.published, Article.discovered_at)


def _published_in(stmt: Select[Any], start: datetime, end: datetime) -> Select[Any]:
    return stmt.where(_ARTICLE_TIME >= start, _ARTICLE_TIME < end,
                      Article.duplicate_of.is_(None))


# --- queries (read only; the caller owns the session) ----------------------------


def stance_groups(*, session: Session, start: datetime, end: datetime) -> tuple[StanceGroup, ...]:
    holder, target = aliased(Actor), aliased(Actor)
    stmt = (
        select(Stance.polarity, Stance.cue, Stance.sentence, Stance.target_text, holder.name,
               target.name, Article.url, Article.title, Feed.name)
        .join(holder, holder.id == Stance.holder_id)
        .outerjoin(target, target.id == Stance.target_id)
        .join(Article, Article.id == Stance.article_id)
        .outerjoin(Feed, Feed.id == Article.feed_id)
        .order_by(Stance.id)
        .limit(MAX_STANCES)
    )
    groups: dict[str, list[StanceItem]] = defaultdict(list)
    for pol, cue, sent, ttext, hname, tname, url, title, feed in session.execute(
            _published_in(stmt, start, end)):
        label = clean(tname or ttext or "unspecified", 200)
        groups[label].append(StanceItem(clean(hname, 200), pol, label, clean(cue, 100),
                                        _evidence(sent, title, url, feed)))

    def opposed_first(item: StanceItem) -> int:
        return 0 if item.polarity == "oppose" else 1

    ordered = sorted(groups.items(), key=lambda kv: (min(map(opposed_first, kv[1])), kv[0]))
    return tuple(StanceGroup(k, tuple(sorted(v, key=opposed_first))) for k, v in ordered)


def amount_items(*, session: Session, start: datetime, end: datetime) -> tuple[AmountItem, ...]:
    """The window's amounts: each currency's largest, then each one's second, ..."""
    rank = func.row_number().over(partition_by=Amount.currency,
                                  order_by=(Amount.value.desc(), Amount.id))
    ranked = _published_in(
        select(Amount.id, rank.label("rank")).join(Article, Article.id == Amount.article_id),
        start, end,
    ).subquery()
    donor, recipient = aliased(Actor), aliased(Actor)
    stmt = (
        select(Amount, donor.name, recipient.name, Article.url, Article.title, Feed.name)
        .join(ranked, ranked.c.id == Amount.id)
        .outerjoin(donor, donor.id == Amount.donor_id)
        .outerjoin(recipient, recipient.id == Amount.recipient_id)
        .join(Article, Article.id == Amount.article_id)
        .outerjoin(Feed, Feed.id == Article.feed_id)
        .order_by(ranked.c.rank, Amount.currency, Amount.id)
        .limit(TOP_AMOUNTS)
    )
    return tuple(
        AmountItem(clean(a.text, 100), a.value, clean(a.currency, 3), a.period_years,
                   clean(d, 200) or None, clean(r, 200) or None,
                   _evidence(a.sentence, title, url, feed))
        for a, d, r, url, title, feed in session.execute(stmt)
    )


def _mention_counts(session: Session, start: datetime, end: datetime) -> Counter[int]:
    stmt = _published_in(
        select(Mention.actor_id, func.count()).join(Article, Article.id == Mention.article_id),
        start, end,
    ).group_by(Mention.actor_id)
    return Counter({actor_id: n for actor_id, n in session.execute(stmt)})


def _latest_mention(session: Session, actor_id: int, start: datetime,
                    end: datetime) -> Evidence | None:
    stmt = _published_in(
        select(Mention.sentence, Article.title, Article.url, Feed.name)
        .join(Article, Article.id == Mention.article_id)
        .outerjoin(Feed, Feed.id == Article.feed_id)
        .where(Mention.actor_id == actor_id), start, end,
    ).order_by(_ARTICLE_TIME.desc(), Mention.id).limit(1)
    row = session.execute(stmt).first()
    return _evidence(*row) if row else None


def actor_trends(*, session: Session, start: datetime, end: datetime) -> tuple[ActorTrend, ...]:
    now = _mention_counts(session, start, end)
    before = _mention_counts(session, start - timedelta(days=7), start)
    top = [actor_id for actor_id, _ in now.most_common(TOP_ACTORS)]
    actors = {a.id: a for a in session.scalars(select(Actor).where(Actor.id.in_(top)))}
    trends = []
    for actor_id in top:
        daily = before[actor_id] / 7
        change = None if daily == 0 else (now[actor_id] - daily) / daily * 100
        actor = actors[actor_id]
        trends.append(ActorTrend(clean(actor.name, 200), actor.type, now[actor_id], daily, change,
                                 _latest_mention(session, actor_id, start, end)))
    return tuple(trends)


def week_top(*, session: Session, end: datetime, limit: int = 8) -> tuple[tuple[str, int], ...]:
    counts = _mention_counts(session, end - timedelta(days=7), end)
    top = counts.most_common(limit)
    rows = session.execute(select(Actor.id, Actor.name).where(Actor.id.in_([i for i, _ in top])))
    names = {actor_id: name for actor_id, name in rows}
    return tuple((clean(names[i], 60), n) for i, n in top)


def _first_sentence(text: str | None, title: str | None = None) -> str:
    """The lead's first sentence; a first line that only repeats the headline is skipped."""
    lines = [line for line in (text or "").splitlines() if line.strip()]
    if len(lines) > 1 and title and clean(lines[0], 300) == clean(title, 300):
        lines = lines[1:]
    body = clean("\n".join(lines), 2000)
    match = re.search(r"(?<=[.!?])\s", body)
    return clean(body[: match.start()] if match else body, 300)


def top_stories(*, session: Session, start: datetime, end: datetime) -> tuple[Story, ...]:
    stmt = _published_in(
        select(Article).where(Article.status.in_(("fetched", "extracted"))), start, end,
    ).order_by(_ARTICLE_TIME, Article.id)
    stories = []
    for art in session.scalars(stmt):
        copies = session.scalars(select(Article.id).where(Article.duplicate_of == art.id)).all()
        feeds = session.scalars(
            select(Feed.name).join(ArticleSource, ArticleSource.feed_id == Feed.id)
            .where(ArticleSource.article_id.in_([art.id, *copies])).distinct().order_by(Feed.name)
        ).all()
        stories.append(Story(clean(art.title or art.url, 200), _first_sentence(art.text, art.title),
                             safe_url(art.url), clean(art.url, 300),
                             tuple(clean(f, 100) for f in feeds), len(copies)))
    stories.sort(key=lambda s: (-len(s.sources), -s.copies))
    return tuple(stories[:TOP_STORIES])


def _subject(day: date, stories: tuple[Story, ...]) -> str:
    head = stories[0].title if stories else "nothing new"
    # clean() already removed CR/LF, so feed text cannot start a header line.
    return clean(f"newsmon digest {day.isoformat()}: {head}", 120)


def build_digest(session: Session, *, day: date, settings: Settings,
                 now: datetime | None = None) -> DigestMessage:
    """The digest of ``day``: reads only, returns a clean typed message."""
    start, end = digest_window(day, settings)
    generated = now or datetime.now(timezone.utc)
    stories = top_stories(session=session, start=start, end=end)
    top_week = week_top(session=session, end=end)
    return DigestMessage(
        day=day, window_start=start, window_end=end, generated_at=generated,
        subject=_subject(day, stories),
        stance_groups=stance_groups(session=session, start=start, end=end),
        amounts=amount_items(session=session, start=start, end=end),
        actors=actor_trends(session=session, start=start, end=end),
        stories=stories, week_top=top_week,
        chart_png=chart_png(top_week, day) if top_week else None,
    )
