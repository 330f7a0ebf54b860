"""Stances: who supports or opposes whom, from the cue lexicon and the parse.

Cue words are found with a Matcher (lemma and part of speech); the few cue
tokens an article has are then read locally in the dependency tree:
subject of a cue verb, "pushback/criticism from X", "X's opposition to Y",
an evaluative adjective inside a speaker's quote. Negated cues are no
stance ("did not criticise"); a support cue under "refuse" is opposition.
"""

from __future__ import annotations

from spacy.language import Language
from spacy.matcher import DependencyMatcher, Matcher
from spacy.tokens import Doc, Token

from extractors.gazetteer import Cue, Lexicon, LexiconComponent
from extractors.records import Stance
from extractors.roles import (
    Context,
    collect_owners,
    collect_speakers,
    has_quote,
    holder_of,
    subjects,
    target_of,
    target_of_verb,
)
from extractors.spans import actor_at, actor_in, evidence, resolve
from extractors.topics import NOT_TOPIC_ENTS, topic_phrase

if not Doc.has_extension("newsmon_stances"):
    Doc.set_extension("newsmon_stances", default=None)
if not Doc.has_extension("newsmon_stance_cues"):
    Doc.set_extension("newsmon_stance_cues", default=None)

HOLDER_PREPS = frozenset({"from", "by", "among"})


@Language.factory(
    "newsmon_stances",
    assigns=["doc._.newsmon_stances", "doc._.newsmon_stance_cues"],
    requires=["token.dep", "token.lemma", "doc._.newsmon_actor_at"],
    default_config={"min_confidence": 0.0},
)
def make_stances(nlp: Language, name: str, *, min_confidence: float) -> StanceFinder:
    return StanceFinder(nlp, name, min_confidence=min_confidence)


class StanceFinder(LexiconComponent):
    def __init__(self, nlp: Language, name: str, *, min_confidence: float) -> None:
        self.name = name
        self.vocab = nlp.vocab
        self.min_confidence = min_confidence
        self.lex = Lexicon()
        self.matcher = Matcher(nlp.vocab)
        self.noun_holders = DependencyMatcher(nlp.vocab)

    def compile(self) -> None:
        lex = self.lex
        self.matcher = Matcher(self.vocab)
        for kind, pos in (("verb", ["VERB"]), ("noun", ["NOUN"]), ("adj", ["ADJ", "VERB"])):
            lemmas = lex.lemmas(kind)
            if lemmas:
                self.matcher.add(kind, [[{"LEMMA": {"IN": lemmas}, "POS": {"IN": pos}}]])
        self.matcher.add("proposal", [[{"LEMMA": {"IN": sorted(lex.proposal_nouns)}, "POS": "NOUN"}]])
        self.matcher.add("speech", [[{"LEMMA": {"IN": sorted(lex.speech_verbs)}, "POS": "VERB"}]])
        # "does not want higher taxes": verbs that are no cue unless negated.
        plain = sorted(lex.oppose_when_negated - set(lex.lemmas("verb")))
        if plain:
            self.matcher.add("negated", [[{"LEMMA": {"IN": plain}, "POS": "VERB"}]])
        # "pushback from X", "criticism by X": the holder hangs off the cue noun.
        self.noun_holders = DependencyMatcher(self.vocab)
        self.noun_holders.add("from", [[
            {"RIGHT_ID": "cue", "RIGHT_ATTRS": {"LEMMA": {"IN": lex.lemmas("noun") or ["_"]},
                                                "POS": "NOUN"}},
            {"LEFT_ID": "cue", "REL_OP": ">", "RIGHT_ID": "prep",
             "RIGHT_ATTRS": {"DEP": "prep", "LOWER": {"IN": sorted(HOLDER_PREPS)}}},
            {"LEFT_ID": "prep", "REL_OP": ">", "RIGHT_ID": "holder", "RIGHT_ATTRS": {"DEP": "pobj"}},
        ]])

    def __call__(self, doc: Doc) -> Doc:
        found: dict[str, list[Token]] = {}
        for match_id, start, _ in self.matcher(doc):
            found.setdefault(self.vocab.strings[match_id], []).append(doc[start])
        ctx = Context(doc, self.lex)
        collect_speakers(ctx, found.get("speech", []))
        propose = {lemma for (lemma, kind), cue in self.lex.cues.items()
                   if kind == "verb" and cue.event == "propose"}
        collect_owners(ctx, found.get("proposal", []), propose)
        from_holders = {m[1][0]: m[1][2] for m in self.noun_holders(doc)}
        stances: list[tuple[Stance, Token]] = []
        for tok in found.get("verb", []):
            stances += self._verb(tok, ctx, self._cue(tok, "verb"))
        for tok in found.get("negated", []):
            stances += self._verb(tok, ctx, Cue(tok.lemma_.lower(), "verb", "oppose", "reject"))
        for tok in found.get("noun", []):
            stances += self._noun(tok, ctx, from_holders.get(tok.i))
        for tok in found.get("adj", []):
            stances += self._adj(tok, ctx)
        stances += self._proposals(found.get("proposal", []), ctx)
        doc._.newsmon_stances, doc._.newsmon_stance_cues = _dedup(stances, self.min_confidence)
        return doc

    def _cue(self, tok: Token, kind: str) -> Cue | None:
        cue = self.lex.cues.get((tok.lemma_.lower(), kind))
        if cue is None or cue.polarity == "none":
            return None
        if cue.particle:
            wanted = set(cue.particle.split("|"))
            found = [c for c in tok.children if c.dep_ in ("prt", "prep", "advmod") and c.lower_ in wanted]
            if not found or (found[0].lower_ == "with" and not self._punitive(found[0])):
                return None
        return cue

    def _polarity(self, tok: Token) -> str | None:
        """The lexicon polarity of a verb cue; None for a verb that is a cue
        only when negated."""
        cue = self.lex.cues.get((tok.lemma_.lower(), "verb"))
        return cue.polarity if cue is not None else None

    def _punitive(self, prep: Token) -> bool:
        """ "hit X with a fine/tariffs" is a stance; "hit X with a helmet" is not."""
        for tok in prep.subtree:  # "with a 797.72-million euro (...) fine" parses oddly
            lemma = tok.lemma_.lower()
            cue = self.lex.cues.get((lemma, "noun"))
            if lemma in self.lex.penalty_words or (cue is not None and cue.polarity == "oppose"):
                return True
        return False

    def _verb(self, tok: Token, ctx: Context, cue: Cue | None) -> list[tuple[Stance, Token]]:
        if cue is None:
            return []
        polarity = cue.polarity
        if _negated(tok) or cue.polarity != self._polarity(tok):
            # "does not want/accept/support X" opposes X; other negated cues
            # are no stance, and without a nominal object ("did not want to
            # criticise") neither is this.
            if not (_negated(tok) and tok.lemma_.lower() in self.lex.oppose_when_negated
                    and any(c.dep_ == "dobj" for c in tok.children)):
                return []
            polarity = "oppose"
        if tok.dep_ == "xcomp" and tok.head.lemma_.lower() in self.lex.refusal_verbs:
            if polarity == "support":
                return []  # the refusal itself is the (opposing) stance
        if tok.lemma_.lower() in self.lex.refusal_verbs and _xcomp_support(tok, self.lex):
            polarity = "oppose"
        holder, conf, extra = holder_of(tok, ctx)
        if holder is None:
            return []
        subj, passive = subjects(tok)
        target = target_of_verb(_xcomp_or(tok), ctx, subj if passive else None, holder)
        if cue.nonperson_target and target[1] and _info(tok.doc, target[0]) == "PERSON":
            return []
        return [_stance(h, polarity, target, cue, tok, conf) for h in [holder, *extra]]

    def _noun(self, tok: Token, ctx: Context, from_holder: int | None) -> list[tuple[Stance, Token]]:
        cue = self._cue(tok, "noun")
        if cue is None or _negated(tok.head) and tok.dep_ == "dobj":
            return []
        doc, holder, conf = tok.doc, None, 0.75
        if from_holder is not None:
            holder = resolve(doc[from_holder])
        poss = next((c for c in tok.children if c.dep_ == "poss"), None)
        verb = tok.head if tok.dep_ in ("dobj", "nsubj", "attr") else None
        if holder is None and poss is not None:
            if poss.pos_ == "PRON" and verb is not None:  # "allies stepped up their support"
                holder = resolve(subjects(verb)[0])
                conf = 0.6
            holder = holder or resolve(poss)
        if holder is None and verb is not None and tok.dep_ in ("dobj", "attr") and (
                verb.lemma_.lower() in self.lex.light_verbs or tok.dep_ == "attr"):
            holder = resolve(subjects(verb)[0])
            conf = 0.6
        if holder is None or (cue.event == "propose" and poss is None):
            return []
        target = self._noun_target(tok, verb, ctx, holder)
        return [_stance(holder, cue.polarity, target, cue, tok, conf)]

    def _noun_target(self, tok: Token, verb: Token | None, ctx: Context,
                     holder: str) -> tuple[str | None, bool]:
        for child in tok.children:
            if child.dep_ == "prep" and child.lower_ in ("to", "for", "of", "against", "on", "over"):
                pobj = next((c for c in child.children if c.dep_ == "pobj"), None)
                if pobj is not None and pobj.ent_type_ not in NOT_TOPIC_ENTS:
                    return target_of(pobj, ctx, holder)
        if verb is not None and verb.lemma_.lower() in self.lex.undergo_verbs:
            return target_of(subjects(verb)[0], ctx, holder)
        if verb is not None:
            for child in verb.children:
                if child.dep_ == "prep" and child.lower_ in ("on", "against", "to"):
                    pobj = next((c for c in child.children if c.dep_ == "pobj"), None)
                    if pobj is not None and pobj.ent_type_ not in NOT_TOPIC_ENTS:
                        return target_of(pobj, ctx, holder)
        return None, False

    def _proposals(self, nouns: list[Token], ctx: Context) -> list[tuple[Stance, Token]]:
        """The proposer supports its own proposal: "X published plans for Y",
        "proposals announced by X"."""
        out = []
        cue = Cue("propose", "verb", "support", "propose")
        proposing = self.lex.proposing_verbs
        for tok in nouns:
            verb = tok.head
            holder = None
            if tok.dep_ == "dobj" and verb.lemma_.lower() in proposing and not _negated(verb):
                holder, conf = holder_of(verb, ctx)[:2]
            elif any(c.dep_ == "acl" and c.lemma_.lower() in proposing for c in tok.children):
                holder, conf = ctx.owner_of(tok) if any(i == tok.i for i, _, _ in ctx.owners) else None, 0.7
            if holder:
                out.append(_stance(holder, "support", _proposal_topic(tok, ctx), cue, tok, conf))
        return out

    def _adj(self, tok: Token, ctx: Context) -> list[tuple[Stance, Token]]:
        cue = self._cue(tok, "adj")
        if cue is None:
            return []
        holder = _saying(tok, self.lex)
        verb = _as_verb(tok)
        if verb is not None:  # "The Tories dismissed the plan as 'reckless'"
            holder = resolve(subjects(verb)[0]) or holder
        if holder is None and has_quote(tok.sent):
            holder = ctx.speakers.get(tok.sent.start)
        if holder is None:
            return []
        polarity = cue.polarity
        base = tok.head if tok.dep_ == "conj" and tok.head.pos_ in ("ADJ", "VERB") else tok
        if _negated(tok) or (base.dep_ == "acomp" and _negated(base.head)):
            polarity = "oppose" if polarity == "support" else "support"
        target = target_of(_evaluated(tok, base, verb), ctx, holder)
        return [_stance(holder, polarity, target, cue, tok, 0.55)]


def _as_verb(tok: Token) -> Token | None:
    """The verb of "<verb> X as ADJ" (dismiss, describe, brand): its subject
    evaluates its object. Copulas and clauses inside a noun do not count."""
    prep = tok.head
    if prep.lower_ != "as" or prep.dep_ != "prep":
        return None
    verb = prep.head
    if verb.pos_ != "VERB" or verb.lemma_.lower() == "be" or verb.dep_ in ("acl", "relcl"):
        return None
    return verb if any(c.dep_ == "dobj" for c in verb.children) else None


def _evaluated(tok: Token, base: Token, verb: Token | None) -> Token | None:
    """The phrase an evaluative adjective is said of: the object of "dismissed
    X as ...", the subject of "X is ...", the noun it modifies."""
    if verb is not None:
        return next(c for c in verb.children if c.dep_ == "dobj")
    if base.dep_ in ("acomp", "attr"):
        return subjects(base.head)[0]
    if tok.pos_ == "VERB" and tok.dep_ != "amod":  # "said it was misdirected"
        return subjects(tok)[0]
    if tok.dep_ == "amod" and tok.head.lower_ == "as":
        node = tok.head.head  # "described the idea that ... as absurd"
        while node.dep_ in ("acl", "relcl") and node.head is not node:
            node = node.head
        return node if node.pos_ in ("NOUN", "PROPN") else None
    return tok.head if tok.dep_ == "amod" else None


def _proposal_topic(tok: Token, ctx: Context) -> tuple[str | None, bool]:
    """What a proposer's own plan is about: the actor it is for ("a plan for
    the alliance to control aid" -> NATO), else what it proposes ("plans for
    a new points system" -> "points system"), else the plan itself."""
    prep = next((c for c in tok.rights if c.dep_ == "prep" and c.lower_ in ("for", "to", "on")), None)
    pobj = next((c for c in prep.children if c.dep_ == "pobj"), None) if prep is not None else None
    if pobj is not None:
        who = actor_at(pobj) or actor_in(pobj)
        if who:
            return who, True
        return topic_phrase(pobj, ctx.lex), False
    return topic_phrase(tok, ctx.lex), False


def _info(doc: Doc, name: str | None) -> str | None:
    return (doc._.newsmon_actor_info or {}).get(name, (None,))[0]


def _negated(tok: Token) -> bool:
    if any(c.dep_ == "neg" or c.lower_ in ("never", "no") for c in tok.children):
        return True
    # "did not want to criticise": negation on the governing verb.
    return tok.dep_ == "xcomp" and any(c.dep_ == "neg" for c in tok.head.children)


def _xcomp_support(tok: Token, lex: Lexicon) -> bool:
    return any(c.dep_ == "xcomp" for c in tok.children)


def _xcomp_or(tok: Token) -> Token:
    """For "refused to back the plan" the target hangs off "back"; in "urged
    Vietnam to push back" it is the object of "urged" itself."""
    if any(c.dep_ == "dobj" and actor_in(c) for c in tok.children):
        return tok
    return next((c for c in tok.children if c.dep_ == "xcomp"), tok)


def _saying(tok: Token, lex: Lexicon) -> str | None:
    """The actor whose said-clause holds ``tok`` ("the Lib Dems said it was misdirected")."""
    node = tok
    for _ in range(4):
        if node.head is node:
            return None
        node = node.head
        if node.lemma_.lower() in lex.speech_verbs and node.pos_ == "VERB":
            subj = next((c for c in node.children if c.dep_ == "nsubj"), None)
            return resolve(subj) if subj is not None else None
    return None


def _stance(holder: str, polarity: str, target: tuple[str | None, bool], cue: Cue, tok: Token,
            conf: float) -> tuple[Stance, Token]:
    name, is_actor = target
    if name == holder:
        name, is_actor = None, False
    return Stance(holder, polarity, name, is_actor, cue.lemma, evidence(tok.sent), conf), tok


def _dedup(found: list[tuple[Stance, Token]], floor: float) -> tuple[list[Stance], list[str]]:
    """One stance per holder and polarity per sentence: several cues in one
    sentence ("is proposing a plan ..., suggesting ...") state one position.
    The reading with an actor target and the higher confidence is kept."""
    best: dict[tuple[str, str, int], tuple[Stance, Token]] = {}
    for stance, tok in found:
        if stance.confidence < floor:
            continue
        key = (stance.holder, stance.polarity, stance.evidence.sent_start)
        old = best.get(key)
        rank = (stance.target_is_actor, stance.target is not None, stance.confidence, -tok.i)
        if old is None or rank > (old[0].target_is_actor, old[0].target is not None,
                                  old[0].confidence, -old[1].i):
            best[key] = (stance, tok)
    kept = sorted(best.values(), key=lambda st: st[1].i)
    return [st for st, _ in kept], [tok.lemma_.lower() for _, tok in kept]
