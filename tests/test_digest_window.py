"""Which rows belong to a day's digest, and in which order its money is listed.

An article belongs to day D when its publication time (else the time newsmon
first saw it) falls in D's window: ``newsmon reprocess`` re-extracts the whole
archive "now", and that must not make old news today's. Amounts are ranked
inside their own currency: 500 billion yen is not more money than 2 billion
dollars.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from config.settings import Settings
from pipeline.digest import build_digest, digest_window
from pipeline.digest.build import TOP_AMOUNTS
from storage.db import Database
from storage.models import Actor, Amount, Article, ArticleSource, Feed, Mention, Stance

DAY = date(2024, 8, 8)


@pytest.fixture
def settings(db_url: str) -> Settings:
    return Settings(database_url=db_url)


def _article(s: Session, feed: Feed, key: str, *, published: datetime | None,
             discovered: datetime, extracted: datetime) -> Article:
    text = f"{key.title()} pledged money. Critics opposed the {key} plan."
    art = Article(url=f"https://news.example/{key}", feed_id=feed.id, title=f"Story {key}",
                  authors=[], published=published, discovered_at=discovered,
                  fetched_at=discovered, text=text, status="extracted",
                  extractor_version="t", extracted_at=extracted)
    s.add(art)
    s.flush()
    s.add(ArticleSource(article_id=art.id, feed_id=feed.id, entry_url=art.url,
                        seen_at=discovered))
    return art


def _evidence(art: Article) -> dict[str, object]:
    assert art.text is not None
    return dict(article_id=art.id, sentence=art.text, sent_start=0, sent_end=len(art.text),
                start=0, end=4, extractor_version="t")


def _rows(s: Session, art: Article, actor: Actor, *, amounts: tuple[tuple[str, float, str], ...]
          = ()) -> None:
    s.add(Mention(actor_id=actor.id, text=actor.name, **_evidence(art)))
    s.add(Stance(holder_id=actor.id, polarity="oppose", target_text=f"{actor.name} plan",
                 cue="opposed", **_evidence(art)))
    for text, value, currency in amounts:
        s.add(Amount(text=text, value=value, currency=currency, **_evidence(art)))


def test_reextracted_old_articles_stay_on_their_own_day(db: Database,
                                                        settings: Settings) -> None:
    start, end = digest_window(DAY, settings)
    reextracted = end - timedelta(minutes=30)  # `newsmon reprocess` ran just now
    old = start - timedelta(days=3) + timedelta(hours=1)
    with db.transaction() as s:
        feed = Feed(name="Wire", url="https://wire.example/rss", interval_s=900.0,
                    created_at=old - timedelta(days=30))
        s.add(feed)
        s.flush()
        names = ("Oldpub", "Olddisc", "Latepub", "Fresh")
        actors = {n: Actor(name=n, type="ORG") for n in names}
        s.add_all(actors.values())
        s.flush()
        # Published days ago (seen today, too late for its own day): not today's news.
        cases = {
            "Oldpub": dict(published=old, discovered=old),
            "Olddisc": dict(published=None, discovered=old),
            "Latepub": dict(published=old, discovered=end - timedelta(hours=2)),
            "Fresh": dict(published=end - timedelta(hours=3),
                          discovered=end - timedelta(hours=2)),
        }
        for name, when in cases.items():
            art = _article(s, feed, name.lower(), extracted=reextracted, **when)
            _rows(s, art, actors[name], amounts=((f"${name}", 1e9, "USD"),))

    with db.session() as s:
        message = build_digest(s, day=DAY, settings=settings)
    assert [a.name for a in message.actors] == ["Fresh"]
    assert [g.target for g in message.stance_groups] == ["Fresh plan"]
    assert [a.text for a in message.amounts] == ["$Fresh"]
    assert [story.title for story in message.stories] == ["Story fresh"]
    # The old articles still count on their own day.
    with db.session() as s:
        then = build_digest(s, day=(old + timedelta(days=1)).date(), settings=settings)
    assert sorted(a.name for a in then.actors) == ["Latepub", "Olddisc", "Oldpub"]


def test_amounts_are_ranked_within_their_currency(db: Database, settings: Settings) -> None:
    start, end = digest_window(DAY, settings)
    when = end - timedelta(hours=3)
    amounts = (*[(f"¥{500 - i} billion", (500 - i) * 1e9, "JPY") for i in range(TOP_AMOUNTS)],
               *[(f"₹{90 - i} billion", (90 - i) * 1e9, "INR") for i in range(TOP_AMOUNTS)],
               ("$2 billion", 2e9, "USD"), ("$1 billion", 1e9, "USD"))
    with db.transaction() as s:
        feed = Feed(name="Wire", url="https://wire.example/rss", interval_s=900.0,
                    created_at=start - timedelta(days=30))
        s.add(feed)
        actor = Actor(name="Treasury", type="ORG")
        s.add(actor)
        s.flush()
        art = _article(s, feed, "money", published=when, discovered=when, extracted=when)
        _rows(s, art, actor, amounts=amounts)

    with db.session() as s:
        listed = [a.text for a in build_digest(s, day=DAY, settings=settings).amounts]
    assert len(listed) == TOP_AMOUNTS and "$2 billion" in listed  # not pushed out
    # Each currency's largest first, then each one's second, and so on.
    assert listed[:3] == ["₹90 billion", "¥500 billion", "$2 billion"]
    assert listed[3:6] == ["₹89 billion", "¥499 billion", "$1 billion"]
    assert listed[6:8] == ["₹88 billion", "¥498 billion"]
    for currency in "₹¥$":
        mine = [t for t in listed if t.startswith(currency)]
        assert mine == sorted(mine, key=lambda t: -float(t[1:].split()[0]))
