"""A small, realistic newsmon database, inserted through the ORM models.

The story is the August 2024 Ramstein one the annotation spec uses: NATO's
secretary general proposes a $100 billion fund for Ukraine, the White House
pushes back, Germany pledges air defence, Hungary blocks EU money. Around it:
a duplicate of the lead story on another feed, a URL carried by two feeds,
skipped and failed articles, a failing and a gone feed, and two weeks of
background mentions so week-over-week trends have something to compare.

``ANCHOR`` is the digest time of 2024-08-08 (07:00 Europe/Brussels); the
"last 24 hours" of that digest hold the lead story, its duplicate and the
German pledge. Cookbook examples use these dates and names.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy.orm import Session

from storage.db import Database
from storage.models import (
    Actor,
    Amount,
    Article,
    ArticleSource,
    Event,
    Feed,
    FetchAttempt,
    Mention,
    Quote,
    Stance,
)
from storage.results import article_day
from storage.summaries import refresh_all

ANCHOR = datetime(2024, 8, 8, 5, 0)  # naive UTC == 07:00 in Brussels (CEST)
DIGEST_DAY = date(2024, 8, 8)
VERSION = "test-1"

ACTORS = {
    "Jens Stoltenberg": "PERSON", "NATO": "ORG", "Ukraine": "GPE", "White House": "ORG",
    "Ukraine Defense Contact Group": "ORG", "United States": "GPE", "Germany": "GPE",
    "European": "NORP", "Volodymyr Zelensky": "PERSON", "Hungary": "GPE",
    "Viktor Orban": "PERSON", "European Union": "ORG", "Olaf Scholz": "PERSON",
}
FEEDS = ("Reuters World", "BBC Europe", "Kyiv Independent", "Politico Europe", "Old Wire")

LEAD = [
    "Jens Stoltenberg proposed that NATO coordinate $100 billion in military aid for Ukraine "
    "over the next five years.",
    "However, the plan has faced pushback from the White House, officials said.",
    "Hungary's Viktor Orban rejected the proposal outright.",
    "Germany welcomed the plan at the Ukraine Defense Contact Group meeting.",
]
PLEDGE = [
    "Germany pledged €500 million in air defence for Ukraine on Wednesday.",
    "Volodymyr Zelensky praised Germany for the quick decision.",
    "Olaf Scholz said European allies must do more.",
]
EU_MONEY = [
    "The European Union committed €1.5 billion from frozen Russian assets to Ukraine.",
    "Hungary blocked a second tranche of the package.",
]
VETO = [
    "The White House criticised Hungary over its veto of EU aid to Ukraine.",
    "NATO allies backed the United States in the dispute.",
]


@dataclass
class Dataset:
    """Ids and names the tests refer to."""

    feeds: dict[str, int] = field(default_factory=dict)
    actors: dict[str, int] = field(default_factory=dict)
    articles: dict[str, int] = field(default_factory=dict)


class _Writer:
    def __init__(self, session: Session, data: Dataset) -> None:
        self.s, self.data = session, data

    def article(self, key: str, feed: str, title: str, sentences: list[str], *,
                published: datetime | None, discovered: datetime | None = None,
                status: str = "extracted", skip_reason: str | None = None,
                duplicate_of: str | None = None, url: str | None = None,
                extra_feeds: tuple[str, ...] = ()) -> Article:
        discovered = discovered or (published or ANCHOR) + timedelta(minutes=10)
        text = " ".join(sentences) if status in ("extracted", "fetched") else None
        art = Article(
            url=url or f"https://news.example/{feed.split()[0].lower()}/{key}",
            guid=f"urn:test:{key}", feed_id=self.data.feeds[feed], title=title,
            authors=["Staff"], published=published, discovered_at=discovered,
            fetched_at=discovered if text else None, language="en", text=text,
            status=status, skip_reason=skip_reason, attempts=1,
            duplicate_of=self.data.articles[duplicate_of] if duplicate_of else None,
            extractor_version=VERSION if status == "extracted" else None,
            extracted_at=discovered + timedelta(minutes=5) if status == "extracted" else None,
        )
        self.s.add(art)
        self.s.flush()
        for name in (feed, *extra_feeds):
            self.s.add(ArticleSource(article_id=art.id, feed_id=self.data.feeds[name],
                                     entry_url=art.url, guid=art.guid, seen_at=discovered))
        self.data.articles[key] = art.id
        return art

    def _evidence(self, art: Article, phrase: str) -> dict[str, object]:
        assert art.text is not None
        start = art.text.index(phrase)
        sent_start = art.text.rfind(". ", 0, start)
        sent_start = 0 if sent_start < 0 else sent_start + 2
        sent_end = art.text.find(". ", start)
        sent_end = len(art.text) if sent_end < 0 else sent_end + 1
        return dict(sentence=art.text[sent_start:sent_end], sent_start=sent_start,
                    sent_end=sent_end, start=start, end=start + len(phrase),
                    confidence=0.9, extractor_version=VERSION, article_id=art.id,
                    day=article_day(art))

    def mention(self, art: Article, actor: str, phrase: str | None = None) -> None:
        self.s.add(Mention(actor_id=self.data.actors[actor], text=phrase or actor,
                           **self._evidence(art, phrase or actor)))

    def amount(self, art: Article, phrase: str, value: float, currency: str, donor: str,
               recipient: str, period: float | None = None) -> Amount:
        row = Amount(text=phrase, value=value, currency=currency, period_years=period,
                     donor_id=self.data.actors[donor], recipient_id=self.data.actors[recipient],
                     **self._evidence(art, phrase))
        self.s.add(row)
        self.s.flush()
        return row

    def stance(self, art: Article, holder: str, polarity: str, target: str | None, cue: str,
               target_text: str | None = None) -> None:
        self.s.add(Stance(holder_id=self.data.actors[holder], polarity=polarity,
                          target_id=self.data.actors[target] if target else None,
                          target_text=target_text, cue=cue, **self._evidence(art, cue)))

    def quote(self, art: Article, speaker: str, phrase: str, cue: str, kind: str) -> None:
        self.s.add(Quote(speaker_id=self.data.actors[speaker], text=phrase, cue=cue, kind=kind,
                         **self._evidence(art, phrase)))

    def event(self, art: Article, type_: str, cue: str, cameo: str, plover: str, source: str,
              target: str, amount: Amount | None = None) -> None:
        self.s.add(Event(type=type_, cameo=cameo, plover=plover,
                         source_id=self.data.actors[source], target_id=self.data.actors[target],
                         amount_id=amount.id if amount else None,
                         event_date=art.published.date() if art.published else None,
                         **self._evidence(art, cue)))


def _feeds(s: Session, data: Dataset) -> None:
    for name in FEEDS:
        feed = Feed(name=name, url=f"https://{name.split()[0].lower()}.example/rss",
                    tags=["news"], interval_s=900.0, created_at=ANCHOR - timedelta(days=60),
                    last_polled=ANCHOR - timedelta(minutes=15), last_status=200)
        if name == "Politico Europe":
            feed.last_status, feed.consecutive_errors = 503, 4
            feed.last_error = "HTTP 503 Service Unavailable"
        if name == "Old Wire":
            feed.enabled, feed.disabled_reason, feed.last_status = False, "gone", 410
        s.add(feed)
        s.flush()
        data.feeds[name] = feed.id
        if feed.last_status != 200:
            s.add(FetchAttempt(feed_id=feed.id, url=feed.url, kind="feed", status=feed.last_status,
                               at=ANCHOR - timedelta(hours=1), outcome=f"http_{feed.last_status}",
                               error=feed.last_error))


def _lead_story(w: _Writer) -> None:
    t = ANCHOR - timedelta(hours=15)
    lead = w.article("lead", "Reuters World", "NATO chief proposes $100 billion fund for Ukraine",
                     LEAD, published=t, extra_feeds=("Kyiv Independent",))
    w.article("lead-bbc", "BBC Europe", "Stoltenberg's $100bn Ukraine plan meets US pushback",
              LEAD, published=t + timedelta(minutes=40), duplicate_of="lead")
    for actor, phrase in [("Jens Stoltenberg", None), ("NATO", None), ("Ukraine", None),
                          ("White House", None), ("Hungary", None), ("Viktor Orban", None),
                          ("Germany", None), ("Ukraine Defense Contact Group", None)]:
        w.mention(lead, actor, phrase)
    money = w.amount(lead, "$100 billion", 100e9, "USD", "NATO", "Ukraine", period=5)
    w.stance(lead, "White House", "oppose", "Jens Stoltenberg", "pushback")
    w.stance(lead, "Viktor Orban", "oppose", "Jens Stoltenberg", "rejected")
    w.stance(lead, "Germany", "support", "Jens Stoltenberg", "welcomed")
    w.stance(lead, "Jens Stoltenberg", "support", None, "proposed", target_text="NATO aid fund")
    w.event(lead, "propose", "proposed", "03", "COOPERATE", "Jens Stoltenberg", "NATO", money)
    w.event(lead, "reject", "pushback", "12", "REJECT", "White House", "Jens Stoltenberg")
    w.quote(lead, "White House", "the plan has faced pushback from the White House", "said",
            "reported")


def _other_stories(w: _Writer) -> None:
    pledge = w.article("pledge", "Kyiv Independent", "Germany pledges €500m air defence for Ukraine",
                       PLEDGE, published=ANCHOR - timedelta(hours=9))
    for actor in ("Germany", "Ukraine", "Volodymyr Zelensky", "Olaf Scholz"):
        w.mention(pledge, actor)
    w.mention(pledge, "European", "European allies")
    money = w.amount(pledge, "€500 million", 500e6, "EUR", "Germany", "Ukraine")
    w.stance(pledge, "Volodymyr Zelensky", "support", "Germany", "praised")
    w.event(pledge, "pledge", "pledged", "07", "AID", "Germany", "Ukraine", money)
    eu = w.article("eu-assets", "Reuters World", "EU commits €1.5bn from frozen Russian assets",
                   EU_MONEY, published=datetime(2024, 7, 25, 9, 30))
    for actor in ("European Union", "Ukraine", "Hungary"):
        w.mention(eu, actor)
    w.amount(eu, "€1.5 billion", 1.5e9, "EUR", "European Union", "Ukraine")
    w.stance(eu, "Hungary", "oppose", "European Union", "blocked")
    veto = w.article("veto", "BBC Europe", "White House criticises Hungary's veto",
                     VETO, published=ANCHOR - timedelta(days=3))
    for actor in ("White House", "Hungary", "Ukraine", "NATO", "United States"):
        w.mention(veto, actor)
    w.stance(veto, "White House", "oppose", "Hungary", "criticised")
    w.stance(veto, "NATO", "support", "United States", "backed")


def _background(w: _Writer) -> None:
    """Two weeks of short items: Ukraine steady, Hungary rising, Germany falling."""
    for i in range(14):
        day = ANCHOR - timedelta(days=14 - i, hours=3)
        actors = ["Ukraine"] + (["Hungary"] * (1 + i // 4)) + (["Germany"] if i < 7 else [])
        sentences = [f"Talks on {name} aid continued (day {i})." for name in actors]
        art = w.article(f"bg-{i}", "Reuters World", f"Aid talks, day {i}", sentences,
                        published=day)
        for name in actors:
            w.mention(art, name)
    w.article("paywalled", "BBC Europe", "Subscriber exclusive", [],
              published=ANCHOR - timedelta(hours=5), status="skipped", skip_reason="paywall")
    w.article("french", "Politico Europe", "L'OTAN et l'Ukraine", [],
              published=ANCHOR - timedelta(hours=6), status="skipped", skip_reason="not_english")
    w.article("gone", "Kyiv Independent", "Removed page", [],
              published=ANCHOR - timedelta(hours=7), status="failed", skip_reason="http_404")
    w.article("queued", "Reuters World", "Queued story", [], published=None,
              discovered=ANCHOR - timedelta(minutes=30), status="pending")


def fill_realistic(db: Database) -> Dataset:
    """Insert the whole dataset in one transaction; returns the ids."""
    data = Dataset()
    with db.transaction() as s:
        _feeds(s, data)
        for name, type_ in ACTORS.items():
            actor = Actor(name=name, type=type_)
            s.add(actor)
            s.flush()
            data.actors[name] = actor.id
        w = _Writer(s, data)
        _lead_story(w)
        _other_stories(w)
        _background(w)
    with db.transaction() as s:
        refresh_all(session=s)  # as the daemon's maintenance run would
    return data
