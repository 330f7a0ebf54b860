"""A trained stage for stances: who, in this sentence, supports or opposes something.

The cue lexicon (stances.py) is precise but sees only the cues it lists; news
uses hundreds more ("slammed", "voted to acquit", "called ... a disgrace").
This component asks a small trained classifier about every (sentence, actor)
pair the rules left alone:

    candidates   each sentence x each actor named in it (or speaking in it)
    text         the sentence with that actor written HOLDER, the other actors
                 ACTOR, after a few words for the actor's place in the parse
                 (its relation, its verb's lemma, negation, QUOTE when it speaks)
    classifier   a spaCy bag-of-words text classifier (unigrams and bigrams,
                 classes support / oppose / none), trained on newsmon's own
                 annotated corpus by ``make train`` and shipped in
                 extractors/model/stances (a few hundred kB)
    stance       where support or oppose wins with at least ``threshold``
                 probability; the target is the sentence's other actor in an
                 object role, else the topic the rules would give

Rules stay where they win: a pair the lexicon already decided keeps the rule's
stance, and a holder whose verb is a lexicon cue is the rules' to judge (they
know "questioned the witness" is no stance, "did not criticise" neither). The
model's probability is the stance's confidence.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable

from spacy.language import Language
from spacy.tokens import Doc, Span

from extractors.gazetteer import load_lexicon
from extractors.linear import Linear
from extractors.records import Evidence, Quote, Stance
from extractors.spans import resolve

HERE = Path(__file__).resolve().parent
MODEL_DIR = HERE / "model" / "stances"
WEIGHTS = "weights.npz"
LABELS = ("support", "oppose", "none")
OBJECT_DEPS = frozenset({"dobj", "pobj", "dative", "attr", "nsubjpass"})
CONTENT = frozenset({"VERB", "NOUN", "ADJ", "ADV", "PROPN", "AUX", "ADP"})


@dataclass(frozen=True, slots=True)
class Candidate:
    """One actor in one sentence, and the text the classifier reads for it."""

    sent: Span
    holder: str
    features: tuple[str, ...]
    speaking: bool


def candidates(doc: Doc, quotes: Iterable[Quote] = ()) -> list[Candidate]:
    """Every (sentence, actor) pair: actors named in the sentence, and the speaker
    of a quote inside it (so "..., he said" gives the speaker a candidate)."""
    mentions: dict[int, list[Span]] = {}
    for span in doc.spans.get("newsmon_actors", []):
        mentions.setdefault(span.sent.start, []).append(span)
    speakers: dict[int, set[str]] = {}
    for quote in quotes:
        for sent in doc.sents:
            if sent.start_char < quote.evidence.end and quote.evidence.start < sent.end_char:
                speakers.setdefault(sent.start, set()).add(quote.speaker)
    out: list[Candidate] = []
    for sent in doc.sents:
        spans = mentions.get(sent.start, [])
        speaking = speakers.get(sent.start, set())
        for holder in dict.fromkeys([s.kb_id_ for s in spans] + sorted(speaking)):
            out.append(Candidate(sent, holder, features(sent, spans, holder, holder in speaking),
                                 holder in speaking))
    return out


def _role_words(spans: list[Span], holder: str) -> list[str]:
    """What the parse says of the holder: a bag of words has no other way to know
    which actor the cues belong to ("HOLDER criticised ACTOR" vs the reverse)."""
    words: list[str] = []
    for span in spans:
        if span.kb_id_ != holder:
            continue
        tok = span.root
        while tok.dep_ in ("conj", "compound", "amod", "appos") and tok.head is not tok:
            tok = tok.head
        words.append(f"role_{tok.dep_}")
        verb = tok.head
        hops = 0
        while verb.pos_ not in ("VERB", "AUX") and verb.head is not verb and hops < 4:
            verb, hops = verb.head, hops + 1
        if verb.pos_ in ("VERB", "AUX"):
            words.append(f"verb_{verb.lemma_.lower()}_{tok.dep_}")
            if any(c.dep_ == "neg" for c in verb.children):
                words.append("verb_negated")
    return words


def features(sent: Span, spans: list[Span], holder: str, speaking: bool) -> tuple[str, ...]:
    """What the classifier knows of one candidate: the holder's place in the parse,
    the lemmas around it, and the content lemmas of the sentence."""
    role_at = {}
    for span in spans:
        for i in range(span.start, span.end):
            role_at[i] = "HOLDER" if span.kb_id_ == holder else "ACTOR"
    out = _role_words(spans, holder) + (["QUOTE"] if speaking else [])
    lemmas: list[tuple[int, str]] = []
    for tok in sent:
        if tok.i in role_at:
            if not lemmas or lemmas[-1][1] != role_at[tok.i]:
                lemmas.append((tok.i, role_at[tok.i]))
        elif tok.dep_ == "neg":
            lemmas.append((tok.i, "not"))
        elif tok.pos_ in CONTENT and tok.is_alpha:
            lemmas.append((tok.i, tok.lemma_.lower()))
    out += [f"w={w}" for _, w in lemmas]
    # Lemmas near the holder, and pairs in order: "HOLDER criticise", "not support".
    at = [k for k, (_, w) in enumerate(lemmas) if w == "HOLDER"]
    for k in at:
        for j in range(max(0, k - 3), min(len(lemmas), k + 5)):
            if j != k:
                out.append(f"near{'+' if j > k else '-'}={lemmas[j][1]}")
    out += [f"bi={a[1]}_{b[1]}" for a, b in zip(lemmas, lemmas[1:])]
    return tuple(out)


def decide(cats: dict[str, float], threshold: float) -> tuple[str, float] | None:
    """(polarity, probability) when support or oppose wins with at least ``threshold``."""
    label, prob = max(((lab, cats[lab]) for lab in LABELS[:2]), key=lambda x: x[1])
    if prob < threshold or prob < cats["none"]:
        return None
    return label, prob


def target_in(sent: Span, holder: str) -> tuple[str | None, bool]:
    """Another actor of the sentence in an object role, else the root's object phrase."""
    for span in sent.doc.spans.get("newsmon_actors", []):
        if span.sent.start == sent.start and span.kb_id_ != holder and (
                span.root.dep_ in OBJECT_DEPS or span.root.head.dep_ in OBJECT_DEPS):
            return span.kb_id_, True
    root = sent.root
    obj = next((c for c in root.children if c.dep_ in ("dobj", "xcomp", "ccomp")), None)
    if obj is not None:
        who = resolve(obj)
        if who and who != holder:
            return who, True
        words = [t for t in obj.subtree if not t.is_punct][:6]
        if words and obj.pos_ in ("NOUN", "PROPN"):
            return " ".join(t.text for t in words), False
    return None, False


@Language.factory(
    "newsmon_stance_model",
    assigns=["doc._.newsmon_stances"],
    requires=["doc._.newsmon_stances", "doc._.newsmon_quotes"],
    default_config={"threshold": 0.5, "model_dir": None},
)
def make_stance_model(nlp: Language, name: str, *, threshold: float,
                      model_dir: str | None) -> StanceModel:
    return StanceModel(name, threshold=threshold, model_dir=model_dir)


class StanceModel:
    """Adds the classifier's stances to the rules' (see module docstring)."""

    def __init__(self, name: str, *, threshold: float, model_dir: str | None) -> None:
        self.name = name
        self.threshold = threshold
        self.model_dir = Path(model_dir) if model_dir else MODEL_DIR
        self.clf: Linear | None = None
        self.cue_verbs: frozenset[str] = frozenset()

    def initialize(self, get_examples: Callable[[], Iterable[Any]], *,
                   nlp: Language | None = None, cues_file: Path | None = None) -> None:
        if (self.model_dir / WEIGHTS).exists():
            self.clf = Linear.load(self.model_dir / WEIGHTS)
        if cues_file is not None:
            lex = load_lexicon(cues_file)
            self.cue_verbs = frozenset(lemma for (lemma, kind) in lex.cues if kind == "verb")

    def __call__(self, doc: Doc) -> Doc:
        if self.clf is None:
            return doc
        rules = list(doc._.newsmon_stances or ())
        decided = {(s.holder, s.evidence.sent_start) for s in rules}
        todo = [c for c in candidates(doc, doc._.newsmon_quotes or ())
                if (c.holder, c.sent.start_char) not in decided
                and not self._rules_verb(c)]
        added: list[Stance] = []
        for cand in todo:
            decided_by_model = decide(self.clf.probs(cand.features), self.threshold)
            if decided_by_model is None:
                continue
            label, prob = decided_by_model
            target, is_actor = target_in(cand.sent, cand.holder)
            sent = cand.sent
            ev = Evidence(sentence=sent.text.strip(), sent_start=sent.start_char,
                          sent_end=sent.start_char + len(sent.text.rstrip()),
                          start=sent.start_char, end=sent.start_char + len(sent.text.rstrip()))
            added.append(Stance(cand.holder, label, target, is_actor, "(model)", ev,
                                round(prob, 3)))
        doc._.newsmon_stances = tuple(rules + added)
        return doc

    def _rules_verb(self, cand: Candidate) -> bool:
        """The holder's verb is a lexicon cue: the rules judged it, stance or not."""
        verbs = {f.split("_")[1] for f in cand.features if f.startswith("verb_")
                 and f != "verb_negated"}
        return bool(verbs & self.cue_verbs)
