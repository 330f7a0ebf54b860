"""Who holds a stance and what it targets: holders, speakers, proposal owners.

A target that is a proposal ("the plan", "Stoltenberg's proposal") resolves
to the actor whose proposal it is, so researchers can count who opposes whom.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from spacy.tokens import Doc, Span, Token

from extractors.gazetteer import Lexicon
from extractors.spans import (
    PRONOUNS_GROUP,
    PRONOUNS_PERSON,
    actor_at,
    actor_in,
    pronoun_gender,
    resolve,
)
from extractors.topics import NOT_TOPIC_ENTS, is_amount, topic_phrase

QUOTES = frozenset('"“”‘’')
TARGET_PREPS = ("to", "against", "of", "on", "for", "over", "at")
RELATIVE = frozenset({"who", "which", "that"})
THING_PRONOUNS = frozenset({"it", "this", "that"})


@dataclass(slots=True)
class Context:
    """Per-article facts the stance rules consult."""

    doc: Doc
    lex: Lexicon
    owners: list[tuple[int, str, str]] = field(default_factory=list)  # (token, lemma, owner)
    speakers: dict[int, str] = field(default_factory=dict)  # sentence start -> speaker
    proposals: list[Token] = field(default_factory=list)  # proposal nouns, in text order

    def owner_of(self, tok: Token) -> str | None:
        """The proposer of "the plan": its own owner, else the nearest earlier
        owner of the same noun, else the article's first proposer (the lead
        names the plan the rest of the story is about; a nearer "programme"
        is as likely a TV show)."""
        own = [o for i, _, o in self.owners if i == tok.i]
        if own:
            return own[0]
        same = [o for i, lemma, o in self.owners if i < tok.i and lemma == tok.lemma_.lower()]
        if same:
            return same[-1]
        return self.owners[0][2] if self.owners else None

    def recent_proposal(self, tok: Token) -> Token | None:
        """The proposal an "it"/"this" most likely stands for: one named in
        this sentence or the one before."""
        sent = tok.sent
        floor = sent.start if sent.start == 0 else self.doc[sent.start - 1].sent.start
        found = [p for p in self.proposals if floor <= p.i < tok.i]
        return found[-1] if found else None


def collect_owners(ctx: Context, proposal_tokens: list[Token], propose_lemmas: set[str]) -> None:
    ctx.proposals = sorted(proposal_tokens, key=lambda t: t.i)
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
        for child in _subject_first(verb):
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


def _subject_first(verb: Token) -> list[Token]:
    """A verb's children, its subject nearest before it first: where the parser
    hangs two subjects on one verb ("Party leader and Prime Minister Boris
    Johnson said"), the one next to the verb is the speaker."""
    kids = list(verb.children)
    subj = [c for c in kids if c.dep_ == "nsubj" and c.i < verb.i]
    if len(subj) < 2:
        return kids
    return [subj[-1]] + [c for c in kids if c is not subj[-1]]


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
    genders = ctx.doc._.newsmon_actor_gender or {}
    gender = pronoun_gender(subj.lower_)
    if (subj.lower_ in ("he", "she") and info.get(speaker, ("",))[0] == "PERSON"
            and genders.get(speaker, gender) == gender):
        who = speaker  # "X said he would object": the speaker, not the last person named
    else:
        who = resolve(subj, speaker)
    conf = 0.6 if subj.lower_ in PRONOUNS_PERSON | PRONOUNS_GROUP | {"i", "we"} else 0.8
    extra = [a for c in subj.children if c.dep_ == "conj" and (a := actor_in(c))]
    return who, conf, extra


def target_of(tok: Token | None, ctx: Context, holder: str | None = None) -> tuple[str | None, bool]:
    """Target of a stance from the phrase that names it: an actor, a
    proposal's owner, or a short topic phrase. A proposal of the ``holder``
    itself ("insisted his plans were affordable") is named by its topic."""
    if tok is None or tok.ent_type_ in NOT_TOPIC_ENTS:
        return None, False
    low = tok.lower_
    if low in THING_PRONOUNS and (prop := ctx.recent_proposal(tok)) is not None:
        return target_of(prop, ctx, holder)  # "said it was misdirected": it = the plan
    if low in PRONOUNS_PERSON | PRONOUNS_GROUP:
        who = resolve(tok)
        return (who, True) if who else (None, False)
    if tok.lemma_.lower() in ctx.lex.proposal_nouns and not _claim(tok):
        poss = next((c for c in tok.children if c.dep_ == "poss"), None)
        owner = resolve(poss) if poss is not None else ctx.owner_of(tok)
        if owner and owner != holder:
            return owner, True
    who = actor_at(tok) or actor_in(tok)
    if who:
        return who, True
    topic = topic_phrase(tok, ctx.lex)
    return (topic, False) if topic else (None, False)


def _claim(tok: Token) -> bool:
    """ "the idea that the U.S. trains militants" states a claim, not a proposal."""
    return any(c.dep_ == "acl" and any(m.dep_ == "mark" and m.lower_ == "that" for m in c.children)
               for c in tok.children)


def target_of_verb(verb: Token, ctx: Context, passive_subject: Token | None,
                   holder: str | None = None) -> tuple[str | None, bool]:
    if passive_subject is not None:
        return target_of(passive_subject, ctx, holder)
    deps = {c.dep_: c for c in verb.children}
    dobj = deps.get("dobj")
    if dobj is not None and not is_amount(dobj):
        return target_of(dobj, ctx, holder)
    # "promised £4bn in tax cuts", "pledged $5bn to Ukraine": the sum is not the target.
    preps = TARGET_PREPS + ("in",) if dobj is not None else TARGET_PREPS
    for child in verb.children:
        if child.dep_ in ("prep", "prt") and child.lower_ in preps:
            pobj = next((c for c in child.children if c.dep_ == "pobj"), None)
            if pobj is not None and pobj.ent_type_ not in NOT_TOPIC_ENTS:  # "on Monday"
                return target_of(pobj, ctx, holder)
    for key in ("xcomp", "ccomp"):
        if key in deps:
            inner = {c.dep_: c for c in deps[key].children}
            if "dobj" in inner:
                return target_of(inner["dobj"], ctx, holder)
            # "urged Vietnam to push back": the one urged is the target.
            if (who := actor_at(inner["nsubj"]) if "nsubj" in inner else None) and who != holder:
                return who, True
    return None, False
