"""Actors: the gazetteer ruler (before NER) and the per-article linker (after).

The ruler marks gazetteer names as entities before the statistical NER runs,
so "Ukraine Defense Contact Group" stays one ORG instead of a GPE plus
leftovers; the NER respects preset entities. The linker then turns entity
mentions into one canonical actor per real-world actor in the article.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable

import srsly
from rapidfuzz import fuzz, process
from spacy.language import Language
from spacy.matcher import Matcher
from spacy.pipeline import SpanRuler
from spacy.tokens import Doc, Span

from extractors.gazetteer import Gazetteer, Lexicon, load_gazetteer, load_lexicon, parse_gazetteer

ACTORS_KEY = "newsmon_actors"
ACTOR_LABELS = frozenset({"PERSON", "ORG", "GPE", "NORP"})
# Head words of spans that name events, laws or things rather than actors.
NOT_ACTOR_HEADS = frozenset({
    "summit", "conference", "war", "act", "bill", "treaty", "agreement", "accord", "election",
    "talks", "meeting", "olympics", "games", "cup", "day", "week", "budget", "report", "law",
    "programme", "program", "plan", "marketplace", "strategy", "doctrine", "convention",
})
FUZZY_CUTOFF = 90.0

for _name in ("newsmon_actor_info", "newsmon_actor_at"):
    if not Doc.has_extension(_name):
        Doc.set_extension(_name, default=None)


@Language.factory(
    "newsmon_actor_ruler",
    assigns=["doc.ents"],
    requires=[],
    default_config={"phrase_matcher_attr": "ORTH"},
)
def make_actor_ruler(nlp: Language, name: str, *, phrase_matcher_attr: str) -> ActorRuler:
    return ActorRuler(nlp, name, phrase_matcher_attr=phrase_matcher_attr)


class ActorRuler:
    """A span ruler fed from the gazetteer; matches become (preset) entities."""

    def __init__(self, nlp: Language, name: str, *, phrase_matcher_attr: str) -> None:
        self.name = name
        self.ruler = SpanRuler(nlp, name, spans_key=None, annotate_ents=True, overwrite=True,
                               phrase_matcher_attr=phrase_matcher_attr)

    def initialize(self, get_examples: Callable[[], Iterable[Any]], *, nlp: Language | None = None,
                   actors_file: Path | None = None) -> None:
        if actors_file is None:
            return
        gaz = load_gazetteer(actors_file)
        # Peoples (NORP) are left to the NER, which finds them well; as preset
        # entities they would split "British Chambers of Commerce" in two.
        patterns = [p for p in gaz.ruler_patterns() if p["label"] != "NORP"]
        self.ruler.clear()
        self.ruler.add_patterns(patterns)

    def __call__(self, doc: Doc) -> Doc:
        return self.ruler(doc)

    def to_disk(self, path: Path, *, exclude: Iterable[str] = ()) -> None:
        self.ruler.to_disk(path, exclude=exclude)

    def from_disk(self, path: Path, *, exclude: Iterable[str] = ()) -> ActorRuler:
        self.ruler.from_disk(path, exclude=exclude)
        return self


@dataclass(slots=True)
class Cand:
    """One actor mention before linking: token span, NER label, gazetteer name."""

    start: int
    end: int
    label: str
    canon: str | None
    text: str


@Language.factory(
    "newsmon_actor_linker",
    assigns=["doc.spans", "doc._.newsmon_actor_info", "doc._.newsmon_actor_at"],
    requires=["doc.ents", "token.dep", "token.tag"],
    default_config={"fuzzy_cutoff": FUZZY_CUTOFF},
)
def make_actor_linker(nlp: Language, name: str, *, fuzzy_cutoff: float) -> ActorLinker:
    return ActorLinker(nlp, name, fuzzy_cutoff=fuzzy_cutoff)


class ActorLinker:
    """Entity mentions -> one canonical actor per real-world actor per article."""

    def __init__(self, nlp: Language, name: str, *, fuzzy_cutoff: float) -> None:
        self.name = name
        self.vocab = nlp.vocab
        self.fuzzy_cutoff = fuzzy_cutoff
        self.gaz = Gazetteer()
        self.lex = Lexicon()
        self.raw: dict[str, Any] = {}
        self.nominal = Matcher(nlp.vocab)
        self.fuzzy_names: list[str] = []

    def initialize(self, get_examples: Callable[[], Iterable[Any]], *, nlp: Language | None = None,
                   actors_file: Path | None = None, cues_file: Path | None = None) -> None:
        if actors_file is not None:
            self.gaz = load_gazetteer(actors_file)
            self.raw["actors"] = Path(actors_file).read_text(encoding="utf-8")
        if cues_file is not None:
            self.lex = load_lexicon(cues_file)
            self.raw["cues"] = Path(cues_file).read_text(encoding="utf-8")
        self._compile()

    def _compile(self) -> None:
        self.nominal = Matcher(self.vocab)
        for word, canon in self.gaz.nominal.items():
            self.nominal.add(canon, [[{"LOWER": "the"}, {"ORTH": word}]])
        # Only long multi-word names are fuzzy targets: short ones collide.
        self.fuzzy_names = [f for f in self.gaz.surface if " " in f and len(f) >= 12]

    def __call__(self, doc: Doc) -> Doc:
        from extractors.linking import link_mentions  # the clustering rules live apart

        cands = [c for ent in doc.ents if (c := self._candidate(doc, ent)) is not None]
        cands += self._acronym_mentions(doc, cands)
        clusters = link_mentions(doc, cands, self)
        self._add_nominals(doc, cands, clusters)
        spans, at = [], {}
        for cand in cands:
            if cand.canon is None:
                continue
            spans.append(Span(doc, cand.start, cand.end, label=clusters[cand.canon][0],
                              kb_id=cand.canon))
            for i in range(cand.start, cand.end):
                at[i] = cand.canon
        doc.spans[ACTORS_KEY] = spans
        doc._.newsmon_actor_info = clusters
        doc._.newsmon_actor_at = at
        return doc

    def _candidate(self, doc: Doc, ent: Span) -> Cand | None:
        if ent.label_ not in ACTOR_LABELS:
            return None
        start, end = ent.start, ent.end
        while start < end and (doc[start].lower_ == "the" or doc[start].is_punct):
            start += 1
        while end > start and (doc[end - 1].tag_ == "POS" or doc[end - 1].is_punct
                               or doc[end - 1].lower_ in ("'s", "’s")):
            end -= 1
        canon = ent.ent_id_ or None
        if ent.label_ == "PERSON" and canon is None:
            while end - start > 1 and doc[start].lower_ in self.lex.titles:
                start += 1
        if start >= end:
            return None
        span = doc[start:end]
        text = span.text
        if not any(t.is_upper or t.is_title for t in span) or any(t.like_num for t in span):
            return None
        if all(t.lower_ in self.lex.titles for t in span):
            return None  # a title without a name
        if canon is None and span[-1].lower_ in NOT_ACTOR_HEADS:
            return None
        canon = canon or self.gaz.lookup(text)
        label = self.gaz.entries[canon].type if canon else ent.label_
        if label == "NORP" and not self._norp_acts(span, canon):
            return None
        return Cand(start, end, label, canon, text)

    def _norp_acts(self, span: Span, canon: str | None) -> bool:
        """A people acts when named as a group ("Ukrainians", "European allies");
        the bare adjective ("Ukrainian grain", "a Swedish court") is no actor."""
        last = span[-1]
        if last.tag_ in ("NNPS", "NNS") or (canon is not None and span.text == canon):
            return True
        head = span.root.head
        return span.root.dep_ in ("amod", "compound") and head.lower_ in self.lex.group_nouns

    def _acronym_mentions(self, doc: Doc, cands: list[Cand]) -> list[Cand]:
        """Uses of an acronym defined in the text, "Equal Opportunities Commission
        (EOC)", that the NER did not mark as entities."""
        defined: dict[str, Cand] = {}
        for cand in cands:
            if cand.end + 2 < len(doc) and doc[cand.end].text == "(" and doc[cand.end + 2].text == ")":
                acr = doc[cand.end + 1].text
                if acr.isupper() and 2 <= len(acr) <= 6:
                    defined[acr] = cand
        if not defined:
            return []
        covered = {i for c in cands for i in range(c.start, c.end)}
        out = []
        for tok in doc:
            if tok.text in defined and tok.i not in covered:
                src = defined[tok.text]
                out.append(Cand(tok.i, tok.i + 1, src.label, src.canon, tok.text))
        return out

    def _add_nominals(self, doc: Doc, cands: list[Cand], clusters: dict[str, Any]) -> None:
        """ "the alliance" counts as NATO only when NATO is named in the article."""
        taken = {i for c in cands for i in range(c.start, c.end)}
        for match_id, start, end in (self.nominal(doc) if len(self.nominal) else []):
            canon = self.vocab.strings[match_id]
            if canon in clusters and not taken.intersection(range(start + 1, end)):
                cands.append(Cand(start + 1, end, clusters[canon][0], canon, doc[start + 1:end].text))

    def fuzzy(self, text: str) -> str | None:
        """A near-miss of a gazetteer name ("Ukraine Defense Contract Group")."""
        if " " not in text or len(text) < 12:
            return None
        hit = process.extractOne(text, self.fuzzy_names, scorer=fuzz.ratio,
                                 score_cutoff=self.fuzzy_cutoff)
        return self.gaz.surface[hit[0]] if hit else None

    def to_disk(self, path: Path, *, exclude: Iterable[str] = ()) -> None:
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        srsly.write_json(path / "data.json", self.raw)

    def from_disk(self, path: Path, *, exclude: Iterable[str] = ()) -> ActorLinker:
        import tomllib

        from extractors.gazetteer import parse_lexicon

        self.raw = srsly.read_json(Path(path) / "data.json")
        self.gaz = parse_gazetteer(tomllib.loads(self.raw.get("actors", "")))
        self.lex = parse_lexicon(tomllib.loads(self.raw.get("cues", "")))
        self._compile()
        return self
