"""The records the extractors produce: small frozen values, no spaCy objects.

An ``Analysis`` outlives the ``Doc`` it came from (it is stored, mailed and
printed), so every field is plain data and every row carries its evidence:
the sentence and character offsets into the article text as given.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Evidence:
    """Where a finding was read: its sentence and the span inside the text."""

    sentence: str
    sent_start: int
    sent_end: int
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Mention:
    text: str
    evidence: Evidence


@dataclass(frozen=True, slots=True)
class Actor:
    name: str
    type: str
    wikidata: str | None
    aliases: tuple[str, ...]
    mentions: tuple[Mention, ...]


@dataclass(frozen=True, slots=True)
class Amount:
    text: str
    value: float
    currency: str
    period_years: float | None
    donor: str | None
    recipient: str | None
    evidence: Evidence
    confidence: float


@dataclass(frozen=True, slots=True)
class Stance:
    holder: str
    polarity: str
    target: str | None
    target_is_actor: bool
    cue: str
    evidence: Evidence
    confidence: float


@dataclass(frozen=True, slots=True)
class Event:
    type: str
    cameo: str
    plover: str
    source: str | None
    target: str | None
    amount_index: int | None
    evidence: Evidence
    confidence: float


@dataclass(frozen=True, slots=True)
class Quote:
    """What a named actor said: the quoted words (direct) or the reported clause."""

    speaker: str
    text: str
    cue: str
    kind: str  # direct | reported
    evidence: Evidence  # start/end: the quote's text inside the article
    confidence: float


def _offsets(ev: Evidence) -> dict[str, Any]:
    return {"sentence": ev.sentence, "start": ev.start, "end": ev.end}


def _number(value: float) -> int | float:
    # Whole sums print as integers ("100000000000", not "1e+11").
    return int(value) if float(value).is_integer() else value


@dataclass(frozen=True, slots=True)
class Analysis:
    id: str
    actors: tuple[Actor, ...]
    amounts: tuple[Amount, ...]
    stances: tuple[Stance, ...]
    events: tuple[Event, ...]
    quotes: tuple[Quote, ...] = ()

    def to_spec(self) -> dict[str, Any]:
        """The JSON shape of ``newsmon extract --json`` (../shared/eval/SPEC.md)."""
        return {
            "id": self.id,
            "actors": [
                {"name": a.name, "type": a.type, "wikidata": a.wikidata,
                 "aliases": list(a.aliases), "mentions": len(a.mentions)}
                for a in self.actors
            ],
            "amounts": [self._amount(a) for a in self.amounts],
            "stances": [
                {"holder": s.holder, "polarity": s.polarity, "target": s.target,
                 "target_is_actor": s.target_is_actor, "cue": s.cue,
                 "confidence": round(s.confidence, 3), **_offsets(s.evidence)}
                for s in self.stances
            ],
            "events": [
                {"type": e.type, "source": e.source, "target": e.target, "cameo": e.cameo,
                 "plover": e.plover, "amount_index": e.amount_index,
                 "confidence": round(e.confidence, 3), **_offsets(e.evidence)}
                for e in self.events
            ],
            "quotes": [
                {"speaker": q.speaker, "text": q.text, "cue": q.cue, "kind": q.kind,
                 "confidence": round(q.confidence, 3), **_offsets(q.evidence)}
                for q in self.quotes
            ],
        }

    @staticmethod
    def _amount(a: Amount) -> dict[str, Any]:
        out: dict[str, Any] = {"text": a.text, "value": _number(a.value), "currency": a.currency}
        # SPEC: period, donor and recipient are absent when the text does not say.
        if a.period_years is not None:
            out["period_years"] = _number(a.period_years)
        if a.donor:
            out["donor"] = a.donor
        if a.recipient:
            out["recipient"] = a.recipient
        out["confidence"] = round(a.confidence, 3)
        out.update(_offsets(a.evidence))
        return out
