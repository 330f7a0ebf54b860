"""spaCy-based extraction of actors, amounts, stances and events.

    nlp = build_nlp(settings)                     # once per process
    for analysis in analyze(nlp, [(id, text), ...]):
        print(analysis.to_spec())                  # ../shared/eval/SPEC.md shape
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from spacy.language import Language
from spacy.tokens import Doc

from extractors.acting import not_acting
from extractors.calibration import calibrate
from extractors.errors import ExtractError
from extractors.nlp import build_nlp
from extractors.records import (
    Actor,
    Amount,
    Analysis,
    Event,
    Evidence,
    Mention,
    Quote,
    Stance,
)
from extractors.spans import evidence
from extractors.version import EXTRACTOR_VERSION


def analyze(nlp: Language, items: Iterable[tuple[str, str]], *,
            batch_size: int = 32) -> Iterator[Analysis]:
    """(id, text) pairs -> one Analysis each, in order, via ``nlp.pipe``."""
    pairs = ((text, key) for key, text in items)
    try:
        for doc, key in nlp.pipe(pairs, as_tuples=True, batch_size=batch_size):
            yield to_analysis(key, doc)
    except ExtractError:
        raise
    except (ValueError, KeyError, IndexError, AttributeError) as exc:
        raise ExtractError(f"extraction failed: {exc}") from exc


def to_analysis(key: str, doc: Doc) -> Analysis:
    """The records of one processed Doc."""
    amounts = tuple(doc._.newsmon_amounts or ())
    stances = calibrate(tuple(doc._.newsmon_stances or ()))
    events = tuple(doc._.newsmon_events or ())
    quotes = calibrate(tuple(doc._.newsmon_quotes or ()))
    used = {n for a in amounts for n in (a.donor, a.recipient) if n}
    used |= {n for s in stances for n in (s.holder, s.target if s.target_is_actor else None) if n}
    used |= {n for e in events for n in (e.source, e.target) if n}
    used |= {q.speaker for q in quotes}
    drop = not_acting(doc, used)
    info = {name: v for name, v in (doc._.newsmon_actor_info or {}).items() if name not in drop}
    mentions: dict[str, list[Mention]] = {name: [] for name in info}
    for span in doc.spans.get("newsmon_actors", []):
        if span.kb_id_ in mentions:
            mentions[span.kb_id_].append(Mention(span.text, evidence(span)))
    actors = tuple(
        Actor(name, typ, wikidata, tuple(dict.fromkeys(m.text for m in mentions[name])),
              tuple(mentions[name]))
        for name, (typ, wikidata) in info.items()
    )
    return Analysis(key, actors, amounts, stances, events, quotes)


__all__ = [
    "EXTRACTOR_VERSION",
    "Actor",
    "Amount",
    "Analysis",
    "Event",
    "Evidence",
    "Mention",
    "Quote",
    "Stance",
    "analyze",
    "build_nlp",
    "to_analysis",
]
