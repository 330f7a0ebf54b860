"""Small helpers shared by the components: evidence and actor look-ups on a Doc."""

from __future__ import annotations

from spacy.tokens import Doc, Span, Token

from extractors.records import Evidence

SUBJECTS = frozenset({"nsubj", "nsubjpass", "csubj"})
PRONOUNS_PERSON = frozenset({"he", "she", "him", "her", "his"})
PRONOUNS_GROUP = frozenset({"they", "them", "their", "it", "its"})
PRONOUNS_SPEAKER = frozenset({"i", "we", "me", "us", "my", "our"})
# Gendered pronouns: "she said" skips a man named last (see ``previous_actor``).
PRONOUNS_MALE = frozenset({"he", "him", "his", "himself"})
PRONOUNS_FEMALE = frozenset({"she", "her", "hers", "herself"})


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
    # "China's ambassador, Liu Xiaoming," is Liu, not China.
    person = _appositive_person(tok)
    if found or depth == 0 or person:
        return person or found
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


def _info(doc: Doc, name: str) -> str:
    return (doc._.newsmon_actor_info or {}).get(name, ("",))[0]


def _appositive_person(tok: Token) -> str | None:
    """The person an appositive names on a title or group head: "the then UK
    Home Secretary, Sajid Javid," and "a Republican, Mark Amodei," are the
    person; the country or party is only a modifier of the title."""
    if _info(tok.doc, actor_at(tok) or "") == "PERSON":
        return None
    for child in tok.children:
        if child.dep_ == "appos":
            who = actor_at(child)
            if who and _info(tok.doc, who) == "PERSON":
                return who
    return None


def previous_actor(doc: Doc, before: int, types: frozenset[str],
                   gender: str | None = None) -> str | None:
    """The last actor of one of ``types`` mentioned before token ``before``,
    preferring sentence subjects: a cheap pronoun resolution. With a
    ``gender`` ("m"/"f", from the pronoun) a person known to be of the other
    gender is skipped ("Adams met Fuchs. She said ..." is Fuchs)."""
    info = doc._.newsmon_actor_info or {}
    genders = getattr(doc._, "newsmon_actor_gender", None) or {}
    spans = doc.spans.get("newsmon_actors", [])
    best = None
    for span in reversed(spans):
        if span.start >= before or info.get(span.kb_id_, ("",))[0] not in types:
            continue
        if gender and genders.get(span.kb_id_, gender) != gender:
            continue
        if span.root.dep_ in SUBJECTS:
            best = span.kb_id_
            break
        best = best or span.kb_id_
    if gender and best and best not in genders and before < len(doc):
        # A person of the pronoun's gender in this sentence or the one before
        # wins over one whose gender the text does not show.
        sent = doc[before].sent
        floor = doc[sent.start - 1].sent.start if sent.start else 0
        near = [s for s in spans if floor <= s.start < before and genders.get(s.kb_id_) == gender
                and info.get(s.kb_id_, ("",))[0] in types]
        if near:
            subj = [s for s in near if s.root.dep_ in SUBJECTS]
            return (subj or near)[-1].kb_id_
    return best


def resolve(tok: Token | None, speaker: str | None = None) -> str | None:
    """An actor for a holder or target token, resolving pronouns backwards."""
    if tok is None:
        return None
    low = tok.lower_
    if low in PRONOUNS_SPEAKER:
        return speaker
    if low in PRONOUNS_PERSON:
        return previous_actor(tok.doc, tok.i, frozenset({"PERSON"}), pronoun_gender(low))
    if low in PRONOUNS_GROUP:
        return previous_actor(tok.doc, tok.i, frozenset({"ORG", "GPE", "NORP"}))
    return actor_in(tok)


def pronoun_gender(low: str) -> str | None:
    """ "m" or "f" for a gendered personal pronoun, else None."""
    if low in PRONOUNS_MALE:
        return "m"
    return "f" if low in PRONOUNS_FEMALE else None
