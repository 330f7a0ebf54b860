"""Writing an article's analysis: actors, mentions, amounts, stances, events.

An article's rows are replaced as a whole in the caller's transaction, and the
article flips to ``extracted`` in the same transaction: a crash leaves either
the old rows or the new ones, never a mix, and never a second copy.
Actors are one row per (canonical name, type) across all articles, with every
surface form seen kept as an alias.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from storage.models import Actor, ActorAlias, Amount, Article, Event, Mention, Quote, Stance

if TYPE_CHECKING:
    from extractors.records import Analysis, Evidence


NAME_MAX = Actor.__table__.c.name.type.length or 300


def _evidence(ev: Evidence, version: str, confidence: float = 1.0,
              day: date | None = None) -> dict[str, object]:
    return {"sentence": ev.sentence, "sent_start": ev.sent_start, "sent_end": ev.sent_end,
            "start": ev.start, "end": ev.end, "confidence": confidence,
            "extractor_version": version, "day": day}


def article_day(article: Article | None) -> date | None:
    """The day a row counts under: publication, else discovery (as in the views)."""
    if article is None:
        return None
    when = article.published or article.discovered_at
    return when.date() if when else None


def actor_ids(analysis: Analysis, *, session: Session) -> dict[str, int]:
    """Canonical name -> actors.id, creating actors and aliases on first sight."""
    ids: dict[str, int] = {}
    for found in analysis.actors:
        # NER can run a whole line into one "name"; PostgreSQL refuses what is longer
        # than the column (SQLite would keep it), so both store the same prefix.
        name = found.name[:NAME_MAX]
        actor = session.scalar(select(Actor).where(Actor.name == name,
                                                   Actor.type == found.type))
        if actor is None:
            actor = Actor(name=name, type=found.type, wikidata=found.wikidata)
            session.add(actor)
            session.flush()
        elif found.wikidata and not actor.wikidata:
            actor.wikidata = found.wikidata
        known = set(session.scalars(select(ActorAlias.alias)
                                    .where(ActorAlias.actor_id == actor.id)))
        for alias in {a[:NAME_MAX] for a in (found.name, *found.aliases)} - known:
            session.add(ActorAlias(actor_id=actor.id, alias=alias))
        ids[found.name] = actor.id
    return ids


def clear_analysis(article_id: int, *, session: Session) -> None:
    # Events reference amounts, so they go first.
    for model in (Event, Stance, Quote, Amount, Mention):
        session.execute(delete(model).where(model.article_id == article_id))


def replace_analysis(article_id: int, analysis: Analysis, *, version: str,
                     session: Session) -> None:
    """Replace the article's rows with ``analysis`` and mark it extracted."""
    clear_analysis(article_id, session=session)
    ids = actor_ids(analysis, session=session)
    article = session.get(Article, article_id)
    day = article_day(article)
    for found in analysis.actors:
        session.add_all(
            Mention(article_id=article_id, actor_id=ids[found.name], text=m.text[:500],
                    **_evidence(m.evidence, version, day=day))
            for m in found.mentions
        )
    amount_rows = [
        Amount(article_id=article_id, text=a.text, value=a.value, currency=a.currency,
               period_years=a.period_years, donor_id=ids.get(a.donor or ""),
               recipient_id=ids.get(a.recipient or ""),
               **_evidence(a.evidence, version, a.confidence, day))
        for a in analysis.amounts
    ]
    session.add_all(amount_rows)
    for s in analysis.stances:
        if s.holder not in ids:
            continue  # SPEC: a holder must be an actor of the article
        target_id = ids.get(s.target or "") if s.target_is_actor else None
        session.add(Stance(article_id=article_id, holder_id=ids[s.holder], polarity=s.polarity,
                           target_id=target_id,
                           target_text=None if target_id else s.target, cue=s.cue[:100],
                           **_evidence(s.evidence, version, s.confidence, day)))
    for q in analysis.quotes:
        if q.speaker not in ids:
            continue  # SPEC: a speaker must be an actor of the article
        session.add(Quote(article_id=article_id, speaker_id=ids[q.speaker], text=q.text,
                          cue=q.cue[:100], kind=q.kind,
                          **_evidence(q.evidence, version, q.confidence, day)))
    session.flush()
    for e in analysis.events:
        amount = amount_rows[e.amount_index] if e.amount_index is not None and \
            e.amount_index < len(amount_rows) else None
        session.add(Event(article_id=article_id, type=e.type, cameo=e.cameo, plover=e.plover,
                          source_id=ids.get(e.source or ""), target_id=ids.get(e.target or ""),
                          amount_id=amount.id if amount else None,
                          **_evidence(e.evidence, version, e.confidence, day)))
    if article is not None:
        article.status, article.extractor_version = "extracted", version
        article.extracted_at = datetime.now(UTC).replace(tzinfo=None)
