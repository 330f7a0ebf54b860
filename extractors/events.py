"""Events: typed, coded interactions built from stances, amounts and
interaction verbs, so rows line up with GDELT/ICEWS-style event data.

CAMEO root codes (Gerner et al.) and PLOVER categories are fixed standards,
hence a table in code; which cue produces which event type is data
(``event`` in config/cues.toml).
"""

from __future__ import annotations

from spacy.language import Language
from spacy.matcher import Matcher
from spacy.tokens import Doc

from extractors.gazetteer import LexiconComponent
from extractors.records import Event
from extractors.spans import actor_in, evidence, resolve

if not Doc.has_extension("newsmon_events"):
    Doc.set_extension("newsmon_events", default=None)

# event type -> (CAMEO root code, PLOVER category)
CODES: dict[str, tuple[str, str]] = {
    "statement": ("01", "CONSULT"),     # 01 make public statement
    "appeal": ("02", "REQUEST"),        # 02 appeal
    "propose": ("03", "AGREE"),         # 03 express intent to cooperate (incl. proposals)
    "consult": ("04", "CONSULT"),       # 04 consult (meet, visit, host)
    "support": ("05", "SUPPORT"),       # 05 diplomatic cooperation (praise, endorse, defend)
    "aid": ("07", "AID"),               # 07 provide aid
    "demand": ("10", "REQUEST"),        # 10 demand
    "disapprove": ("11", "DISAPPROVE"), # 11 disapprove (criticise, accuse)
    "reject": ("12", "REJECT"),         # 12 reject (refuse, veto, block)
    "threaten": ("13", "THREATEN"),     # 13 threaten
    "sanction": ("16", "SANCTION"),     # 16 reduce relations (sanctions, fines, tariffs)
}


@Language.factory(
    "newsmon_events",
    assigns=["doc._.newsmon_events"],
    requires=["doc._.newsmon_stances", "doc._.newsmon_amounts"],
    default_config={},
)
def make_events(nlp: Language, name: str) -> EventBuilder:
    return EventBuilder(nlp, name)


class EventBuilder(LexiconComponent):
    def compile(self) -> None:
        neutral = sorted(lemma for (lemma, kind), cue in self.lex.cues.items()
                         if kind == "verb" and cue.polarity == "none" and cue.event == "consult")
        self.matcher = Matcher(self.vocab)
        if neutral:
            self.matcher.add("consult", [[{"LEMMA": {"IN": neutral}, "POS": "VERB"}]])

    def __call__(self, doc: Doc) -> Doc:
        events: list[Event] = []
        for stance in doc._.newsmon_stances or []:
            kind = self._event_type(stance.cue)
            cameo, plover = CODES[kind]
            events.append(Event(kind, cameo, plover, stance.holder, stance.target if
                                stance.target_is_actor else None, None, stance.evidence,
                                stance.confidence))
        for index, amount in enumerate(doc._.newsmon_amounts or []):
            if amount.donor or amount.recipient:
                cameo, plover = CODES["aid"]
                events.append(Event("aid", cameo, plover, amount.donor, amount.recipient, index,
                                    amount.evidence, amount.confidence * 0.8))
        for _, start, _ in self.matcher(doc):
            verb = doc[start]
            subj = next((c for c in verb.children if c.dep_ == "nsubj"), None)
            obj = next((c for c in verb.children if c.dep_ == "dobj"), None)
            source, target = resolve(subj), actor_in(obj)
            if source and target and source != target:
                cameo, plover = CODES["consult"]
                events.append(Event("consult", cameo, plover, source, target, None,
                                    evidence(verb.sent), 0.6))
        doc._.newsmon_events = events
        return doc

    def _event_type(self, lemma: str) -> str:
        for kind in ("verb", "noun", "adj"):
            cue = self.lex.cues.get((lemma, kind))
            if cue is not None and cue.event in CODES:
                return cue.event
        return "statement"
