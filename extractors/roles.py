"""Who holds a stance and what it targets: holders, speakers, proposal owners.

A target that is a proposal ("the plan", "Stoltenberg's proposal") resolves
to the actor whose proposal it is, so researchers can count who opposes whom.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from spacy.tokens import Doc, Span, Token

from extractors.gazetteer import Lexicon
from extractors.spans import PRONOUNS_GROUP, PRONOUNS_PERSON, actor_at, actor_in, resolve

QUOTES = frozenset('"“”‘’')
TARGET_PREPS = ("to", "against", "of", "on", "for", "over", "at")
# Verbs whose subject receives a reaction rather than holding it.
UNDERGO = frozenset({"face", "receive", "draw", "attract", "meet", "spark", "provoke", "trigger",
                     "prompt", "encounter", "suffer"})
RELATIVE = frozenset({"who", "which", "that"})


@dataclass(slots=True)
class Context:
    """Per-article facts the stance rules consult."""

    doc: Doc
    lex: Lexicon
    owners: list[tuple[int, str, str]] = field(default_factory=list)  # (token, lemma, owner)
    speakers: dict[int, str] = field(default_factory=dict)  # sentence start -> speaker

    def owner_of(self, tok: Token) -> str | None:
        """The proposer of "the plan": its own owner, else the nearest earlier one."""
        own = [o for i, _, o in self.owners if i == tok.i]
        if own:
            return own[0]
        before = [o for i, lemma, o in self.owners if i < tok.i]
        same = [o for i, lemma, o in self.owners if i < tok.i and lemma == tok.lemma_.lower()]
        if same or before:
            return (same or before)[-1]
        return self.owners[0][2] if self.owners else None


def collect_owners(ctx: Context, proposal_tokens: list[Token], propose_lemmas: set[str]) -> None:
    for tok in proposal_tokens:
        owner = None
        for child in tok.children:
            if child.dep_ == "poss":
                owner = resolve(child)
            elif child.dep_ == "prep" and child.lower_ in ("by", "from"):
                owner = next((actor_in(p) for p in child.children if p.dep_ == "pobj"), None)
            elif child.dep_ == "acl":  # "plans announced by X"
                owner = owner or _agent_of(child)
            if owner:
                break
        head = tok.head
        if owner is None and tok.dep_ in ("dobj", "nsubjpass") and head.lemma_.lower() in propose_lemmas:
            owner = holder_of(head, ctx)[0] if tok.dep_ == "dobj" else _agent_of(head)
        if owner:
            ctx.owners.append((tok.i, tok.lemma_.lower(), owner))


def _agent_of(verb: Token) -> str | None:
    for child in verb.children:
        if child.dep_ == "agent":
            return next((actor_in(p) for p in child.children if p.dep_ == "pobj"), None)
    return None


def collect_speakers(ctx: Context, speech_tokens: list[Token]) -> None:
    """Sentence -> the actor who says it ("..., said Mr Howard"); quoted
    sentences without their own attribution inherit the previous speaker."""
    unknown: set[int] = set()
    for tok in speech_tokens:
        subj = next((c for c in tok.children if c.dep_ == "nsubj"), None)
        who = resolve(subj) if subj is not None and subj.lower_ not in ("i", "we") else None
        if who:
            ctx.speakers.setdefault(tok.sent.start, who)
        elif subj is not None:
            unknown.add(tok.sent.start)  # someone we cannot name speaks here
    last = None
    for sent in ctx.doc.sents:
        if sent.start in ctx.speakers:
            last = ctx.speakers[sent.start]
        elif sent.start in unknown:
            last = None
        elif last and has_quote(sent):
            ctx.speakers[sent.start] = last
        elif not has_quote(sent):
            last = None


def has_quote(sent: Span) -> bool:
    return any(ch in QUOTES for ch in sent.text)


def subjects(verb: Token) -> tuple[Token | None, bool]:
    """The subject of a verb, climbing through xcomp/conj/relcl; and whether
    the clause is passive (then the subject is the target)."""
    for _ in range(3):
        for child in verb.children:
            if child.dep_ == "nsubj":
                if child.lower_ in RELATIVE and verb.dep_ == "relcl":
                    return verb.head, False
                return child, False
            if child.dep_ == "nsubjpass":
                return child, True
        if verb.dep_ == "relcl":
            return verb.head, False
        if verb.dep_ not in ("xcomp", "conj", "advcl", "ccomp") or verb.head is verb:
            return None, False
        verb = verb.head
    return None, False


def holder_of(verb: Token, ctx: Context) -> tuple[str | None, float, list[str]]:
    """Holder of a verb cue, its confidence, and holders conjoined with it."""
    subj, passive = subjects(verb)
    if passive:
        agent = _agent_of(verb)
        return agent, 0.75, []
    if subj is None:
        return None, 0.0, []
    speaker = ctx.speakers.get(verb.sent.start)
    info = ctx.doc._.newsmon_actor_info or {}
    if subj.lower_ in ("he", "she") and info.get(speaker, ("",))[0] == "PERSON":
        who = speaker  # "X said he would object": the speaker, not the last person named
    else:
        who = resolve(subj, speaker)
    conf = 0.6 if subj.lower_ in PRONOUNS_PERSON | PRONOUNS_GROUP | {"i", "we"} else 0.8
    extra = [a for c in subj.children if c.dep_ == "conj" and (a := actor_in(c))]
    return who, conf, extra


def target_of(tok: Token | None, ctx: Context) -> tuple[str | None, bool]:
    """Target of a stance from the phrase that names it: an actor, a
    proposal's owner, or a short topic phrase."""
    if tok is None:
        return None, False
    low = tok.lower_
    if low in PRONOUNS_PERSON | PRONOUNS_GROUP:
        who = resolve(tok)
        return (who, True) if who else (None, False)
    if tok.lemma_.lower() in ctx.lex.proposal_nouns:
        poss = next((c for c in tok.children if c.dep_ == "poss"), None)
        owner = resolve(poss) if poss is not None else ctx.owner_of(tok)
        if owner:
            return owner, True
    who = actor_at(tok) or actor_in(tok)
    if who:
        return who, True
    words = [t for t in tok.subtree if not t.is_punct][:8]
    if not words:
        return None, False
    text = tok.doc[words[0].i: words[-1].i + 1].text
    return text, False


def target_of_verb(verb: Token, ctx: Context, passive_subject: Token | None) -> tuple[str | None, bool]:
    if passive_subject is not None:
        return target_of(passive_subject, ctx)
    deps = {c.dep_: c for c in verb.children}
    if "dobj" in deps:
        return target_of(deps["dobj"], ctx)
    for child in verb.children:
        if child.dep_ in ("prep", "prt") and child.lower_ in TARGET_PREPS:
            pobj = next((c for c in child.children if c.dep_ == "pobj"), None)
            if pobj is not None:
                return target_of(pobj, ctx)
    for key in ("xcomp", "ccomp"):
        if key in deps:
            inner = {c.dep_: c for c in deps[key].children}
            if "dobj" in inner:
                return target_of(inner["dobj"], ctx)
    return None, False
