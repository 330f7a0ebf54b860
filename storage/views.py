"""The researcher views (``*_v``): names, column meanings and column types.

The SQL lives in migration 0002 (frozen); this module is the description of
that public surface, used by the export (column types for Parquet), the
schema document and ``tests/test_views.py``, which fails if a view's real
columns differ from what is written here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

ColumnType = Literal["int", "float", "text", "timestamp", "date"]


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    type: ColumnType
    doc: str


@dataclass(frozen=True, slots=True)
class View:
    name: str
    doc: str
    columns: tuple[Column, ...]
    # The column `newsmon export --since` filters on.
    since_column: str = "day"

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]


def _c(name: str, type_: ColumnType, doc: str) -> Column:
    return Column(name, type_, doc)


_EVIDENCE = (
    _c("sentence", "text", "the sentence the row was read from"),
    _c("char_start", "int", "offset of the matched text in articles.text"),
    _c("char_end", "int", "end offset (exclusive) of the matched text"),
    _c("confidence", "float", "extractor confidence, 0..1"),
    _c("extractor_version", "text", "version of the extractor that produced the row"),
)
_ARTICLE = (
    _c("url", "text", "canonical URL of the article"),
    _c("title", "text", "article title"),
    _c("published", "timestamp", "publication time (UTC), when known"),
    _c("day", "date", "publication day (UTC), or discovery day when unknown"),
    _c("feed", "text", "name of the feed that first brought the article"),
)

VIEWS: dict[str, View] = {
    v.name: v
    for v in (
        View("articles_v", "One row per stored article, duplicates included.", (
            _c("id", "int", "article id (articles.id)"),
            _c("url", "text", "canonical URL"),
            _c("title", "text", "article title"),
            _c("published", "timestamp", "publication time (UTC), when known"),
            _c("discovered_at", "timestamp", "when newsmon first saw the article (UTC)"),
            _c("day", "date", "publication day, or discovery day when unknown"),
            _c("feed", "text", "feed that first brought the article"),
            _c("language", "text", "detected language code"),
            _c("status", "text", "pending, fetched, extracted, skipped or failed"),
            _c("skip_reason", "text", "why the article was skipped or failed"),
            _c("duplicate_of", "int", "id of the article this one duplicates, else empty"),
            _c("sources", "int", "number of feeds that carried this URL"),
            _c("extractor_version", "text", "extractor version of its rows"),
        )),
        View("actor_mentions_v", "Every mention of an actor, with its sentence.", (
            _c("mention_id", "int", "mentions.id"),
            _c("article_id", "int", "article the mention is in"),
            _c("actor_id", "int", "actors.id"),
            _c("actor", "text", "canonical actor name"),
            _c("actor_type", "text", "PERSON, ORG, GPE or NORP"),
            _c("mention", "text", "the words used in the text"),
            *_EVIDENCE, *_ARTICLE,
        )),
        View("amounts_v", "Sums of money with donor and recipient.", (
            _c("amount_id", "int", "amounts.id"),
            _c("article_id", "int", "article the amount is in"),
            _c("value", "float", "value in units of the currency"),
            _c("currency", "text", "ISO 4217 code"),
            _c("period_years", "float", "years the sum is spread over, when stated"),
            _c("donor_id", "int", "actors.id of the donor"),
            _c("donor", "text", "donor's canonical name, when stated"),
            _c("recipient_id", "int", "actors.id of the recipient"),
            _c("recipient", "text", "recipient's canonical name, when stated"),
            _c("text", "text", "the amount as written"),
            *_EVIDENCE, *_ARTICLE,
            _c("month", "text", "publication month as YYYY-MM"),
        )),
        View("stances_v", "Who supports or opposes whom, with the cue and sentence.", (
            _c("stance_id", "int", "stances.id"),
            _c("article_id", "int", "article the stance is in"),
            _c("holder_id", "int", "actors.id of the holder"),
            _c("holder", "text", "canonical name of who takes the stance"),
            _c("polarity", "text", "support or oppose"),
            _c("target_id", "int", "actors.id of the target, when an actor"),
            _c("target", "text", "canonical name of the target actor"),
            _c("target_text", "text", "topic phrase when no actor owns the target"),
            _c("target_label", "text", "target, or target_text when there is no actor"),
            _c("cue", "text", "the cue word (pushback, condemn, back, ...)"),
            *_EVIDENCE, *_ARTICLE,
        )),
        View("events_v", "Coded events (CAMEO and PLOVER) between actors.", (
            _c("event_id", "int", "events.id"),
            _c("article_id", "int", "article the event is in"),
            _c("type", "text", "event type (propose, pledge, criticise, ...)"),
            _c("cameo", "text", "CAMEO code"),
            _c("plover", "text", "PLOVER category"),
            _c("source_id", "int", "actors.id of the source"),
            _c("source", "text", "source actor's canonical name"),
            _c("target_id", "int", "actors.id of the target"),
            _c("target", "text", "target actor's canonical name"),
            _c("amount_value", "float", "value of the linked amount, if any"),
            _c("amount_currency", "text", "currency of the linked amount"),
            _c("event_date", "date", "date the event happened, when stated"),
            *_EVIDENCE, *_ARTICLE,
        )),
        View("actor_daily_v", "Mentions per actor per day (duplicates excluded).", (
            _c("actor_id", "int", "actors.id"),
            _c("actor", "text", "canonical actor name"),
            _c("actor_type", "text", "PERSON, ORG, GPE or NORP"),
            _c("day", "date", "publication day, or discovery day when unknown"),
            _c("mentions", "int", "mentions of the actor that day"),
            _c("articles", "int", "distinct articles mentioning the actor that day"),
        )),
    )
}


def view(name: str) -> View:
    """The view called ``name``; KeyError lists the known ones."""
    try:
        return VIEWS[name]
    except KeyError:
        raise KeyError(f"no view {name!r}; known: {', '.join(VIEWS)}") from None
