"""Small helpers shared by the components: evidence and actor look-ups on a Doc."""

from __future__ import annotations

from spacy.tokens import Doc, Span, Token

from extractors.records import Evidence

SUBJECTS = frozenset({"nsubj", "nsubjpass", "csubj"})
PRONOUNS_PERSON = frozenset({"he", "she", "him", "her", "his"})
PRONOUNS_GROUP = frozenset({"they", "them", "their", "it", "its"})
PRONOUNS_SPEAKER = frozenset({"i", "we", "me", "us", "my", "our"})


def evidence(span: Span | Token) -> Evidence:
    doc = span.doc
    if isinstance(span, Token):
        span = doc[span.i: span.i + 1]
    sent = span.sent
    return Evidence(sentence=sent.text, sent_start=sent.start_char, sent_end=sent.end_char,
                    start=span.start_char, end=span.end_char)


def actor_at(tok: Token) -> str | None:
    """The canonical actor a token belongs to, if any."""
    at = tok.doc._.newsmon_actor_at
    return at.get(tok.i) if at else None


def actor_in(tok: Token | None, *, depth: int = 3) -> str | None:
    """The actor a phrase names: the head token itself, else the nearest actor
    among its dependents ("NATO allies" -> NATO, "the plan of X" -> X)."""
    if tok is None:
        return None
    found = actor_at(tok)
    if found or depth == 0:
        return found
    for child in tok.children:
        if child.dep_ in ("compound", "amod", "poss", "nmod", "appos", "conj"):
            found = actor_at(child) or actor_in(child, depth=depth - 1)
            if found:
                return found
    for child in tok.children:
        if child.dep_ == "prep" and child.lower_ == "of":
            for pobj in child.children:
                found = actor_in(pobj, depth=depth - 1)
                if found:
                    return found
    return None


def previous_actor(doc: Doc, before: int, types: frozenset[str]) -> str | None:
    """The last actor of one of ``types`` mentioned before token ``before``,
    preferring sentence subjects: a cheap pronoun resolution."""
    info = doc._.newsmon_actor_info or {}
    best = None
    for span in reversed(doc.spans.get("newsmon_actors", [])):
        if span.start >= before or info.get(span.kb_id_, ("",))[0] not in types:
            continue
        if span.root.dep_ in SUBJECTS:
            return span.kb_id_
        best = best or span.kb_id_
    return best


def resolve(tok: Token | None, speaker: str | None = None) -> str | None:
    """An actor for a holder or target token, resolving pronouns backwards."""
    if tok is None:
        return None
    low = tok.lower_
    if low in PRONOUNS_SPEAKER:
        return speaker
    if low in PRONOUNS_PERSON:
        return previous_actor(tok.doc, tok.i, frozenset({"PERSON"}))
    if low in PRONOUNS_GROUP:
        return previous_actor(tok.doc, tok.i, frozenset({"ORG", "GPE", "NORP"}))
    return actor_in(tok)
