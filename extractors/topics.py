"""Topic phrases: the short name of a stance target that is no actor.

Researchers group stances by target, so a topic is the head noun phrase
("maternity pay plan", "deletion of e-mails"), not the clause around it:
no determiner or possessor, no leading filler adjective ("a new points
system" -> "points system"), at most one prepositional complement
("allegations against Vice President Biden"), never a relative clause.
"""

from __future__ import annotations

from spacy.tokens import Token

from extractors.gazetteer import Lexicon

MAX_WORDS = 8
# Complements that say what the noun is about; "in"/"at"/"with" mostly add place or manner.
TOPIC_PREPS = frozenset({"of", "for", "against", "on", "to", "over", "into", "by"})
NP_LEFT = frozenset({"compound", "amod", "nmod", "nummod", "npadvmod", "quantmod", "advmod"})
CLAUSE_DEPS = frozenset({"prep", "relcl", "acl", "conj", "cc", "advcl", "appos"})
NOT_TOPIC_ENTS = frozenset({"DATE", "TIME", "ORDINAL", "CARDINAL", "PERCENT"})


def is_amount(tok: Token) -> bool:
    """A sum or a number rather than a thing ("pounds 4bn", "$5 billion")."""
    return tok.ent_type_ == "MONEY" or any(ch.isdigit() for ch in tok.text) or any(
        c.like_num or c.tag_ == "$" for c in tok.children if c.dep_ in ("compound", "nummod", "quantmod"))


def not_topic(tok: Token) -> bool:
    """Dates, times and bare numbers name when or how much, not what."""
    return tok.ent_type_ in NOT_TOPIC_ENTS or tok.pos_ in ("PRON", "NUM")


def topic_phrase(tok: Token, lex: Lexicon) -> str | None:
    if not_topic(tok):
        return None
    words = _head_np(tok, lex) if tok.pos_ != "VERB" else _verb_phrase(tok)
    prep = next((c for c in tok.rights if c.dep_ == "prep" and c.lower_ in TOPIC_PREPS), None)
    pobjs = [c for c in prep.children if c.dep_ == "pobj"] if prep is not None else []
    if pobjs and tok.pos_ != "VERB":
        inner = _inner_np(pobjs[0])
        # "e-mails" can come out as three objects "e", "-", "mails".
        last = max(inner[-1].i, pobjs[-1].i) if len(pobjs) > 1 and pobjs[-1].i - pobjs[0].i < 3 \
            else inner[-1].i
        words += [prep, *tok.doc[inner[0].i: last + 1]]
    words = [w for w in words if not (w.is_punct or w.is_quote)][:MAX_WORDS]
    if not words:
        return None
    return tok.doc[words[0].i: words[-1].i + 1].text


def _head_np(tok: Token, lex: Lexicon) -> list[Token]:
    """The head noun with its left modifiers, minus determiners, possessors
    and leading filler adjectives."""
    mods = [c for c in tok.lefts if c.dep_ in NP_LEFT]
    start = min((m.left_edge.i for m in mods), default=tok.i)
    words = [t for t in tok.doc[start: tok.i + 1] if t.dep_ not in ("det", "poss", "case", "predet")]
    while len(words) > 1 and (words[0].lower_ in lex.topic_fillers or words[0].is_punct
                              or words[0].lower_ in ("'s", "’s")):
        words.pop(0)
    return words


def _inner_np(tok: Token) -> list[Token]:
    """The object of the complement as written ("the new rules", "e-mails"),
    without its own clauses, complements or conjuncts."""
    cut = {t.i for c in tok.children if c.dep_ in CLAUSE_DEPS or c.text in (",", ";", "(")
           for t in c.subtree}
    words = []
    for t in tok.doc[tok.left_edge.i: tok.right_edge.i + 1]:
        if t.i in cut:
            break
        words.append(t)
    return words


def _verb_phrase(tok: Token) -> list[Token]:
    """ "roll back existing tariffs": the verb, its particle, its object phrase."""
    words = [tok] + [c for c in tok.children if c.dep_ == "prt"]
    dobj = next((c for c in tok.children if c.dep_ == "dobj"), None)
    if dobj is not None:
        words += _inner_np(dobj)
    return sorted(words, key=lambda t: t.i)
