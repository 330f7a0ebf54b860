"""Which places and outlets act: named only as a location or a credit, they are no actor.

SPEC: an actor is a named person, organisation, country, city or state
*acting as a political body*. "Talks resumed in Geneva", "Vermont Sen. Bernie
Sanders", a "WASHINGTON (AP) -" dateline name places, not actors. A place
counts when some mention of it acts: a subject ("Iran denied ..."), a
possessor ("Iran's plan"), an object or agent ("sanctioned Iran", "blocked by
Hungary"), the modifier of a state noun that acts ("Swedish authorities
dropped the case"), or when any extractor gave it a role (holder, target,
donor, recipient, speaker, event party). A news outlet counts only as a
subject or an agent ("CNN reported", "first reported by POLITICO"): "told
Reuters" and a byline make it the messenger.
"""

from __future__ import annotations

from collections.abc import Iterable

from spacy.tokens import Doc, Span, Token

PLACE_TYPES = frozenset({"GPE"})
ACTING_DEPS = frozenset({"nsubj", "nsubjpass", "poss", "dobj", "dative", "appos", "attr"})
AGENT_PREPS = frozenset({"by", "from", "against", "with", "between"})
SUBJECT_DEPS = frozenset({"nsubj", "nsubjpass"})


def _role_token(span: Span, state_heads: frozenset[str]) -> Token:
    """The token whose dependency says what the mention does: through conjunctions
    ("Iran and Iraq denied") and state nouns ("Swedish authorities")."""
    tok = span.root
    for _ in range(3):
        if tok.dep_ == "conj" and tok.head is not tok:
            tok = tok.head
        elif tok.dep_ in ("amod", "compound", "nmod") and (
                tok.head.lower_ in state_heads or tok.head.lemma_.lower() in state_heads):
            tok = tok.head
        else:
            break
    return tok


def acts(span: Span, state_heads: frozenset[str], *, outlet: bool = False) -> bool:
    tok = _role_token(span, state_heads)
    if tok.dep_ == "pobj" and tok.head.lower_ == "by":
        return True
    if outlet:
        return tok.dep_ in SUBJECT_DEPS
    if tok.dep_ in ACTING_DEPS or tok.dep_ == "agent":
        return True
    return tok.dep_ == "pobj" and tok.head.lower_ in AGENT_PREPS


def acting_names(spans: Iterable[Span], info: dict[str, tuple[str, str | None]],
                 outlets: frozenset[str], state_heads: frozenset[str]) -> frozenset[str]:
    """Places and outlets with at least one acting mention."""
    out = set()
    for span in spans:
        name = span.kb_id_
        if name in outlets:
            if acts(span, state_heads, outlet=True):
                out.add(name)
        elif info.get(name, ("",))[0] in PLACE_TYPES and acts(span, state_heads):
            out.add(name)
    return frozenset(out)


def not_acting(doc: Doc, referenced: Iterable[str]) -> set[str]:
    """Places and outlets to leave out: no mention acts and no extractor gave them a role."""
    info = doc._.newsmon_actor_info or {}
    candidates = {name for name, (typ, _w) in info.items() if typ in PLACE_TYPES}
    candidates |= set(doc._.newsmon_outlets or ()) & set(info)
    return candidates - set(doc._.newsmon_acting or ()) - set(referenced)
