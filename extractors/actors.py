"""Actors: the gazetteer ruler (before NER) and the per-article linker (after).

The ruler marks gazetteer names as entities before the statistical NER runs,
so "Ukraine Defense Contact Group" stays one ORG instead of a GPE plus
leftovers; the NER respects preset entities. The linker then turns entity
mentions into one canonical actor per real-world actor in the article.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any, Callable, Iterable

import spacy
import srsly
from rapidfuzz import fuzz, process
from spacy.language import Language
from spacy.matcher import Matcher
from spacy.pipeline import SpanRuler
from spacy.tokens import Doc, Span

from extractors.acting import acting_names
from extractors.gazetteer import (
    Gazetteer,
    Lexicon,
    load_diminutives,
    load_gazetteer,
    load_lexicon,
    parse_diminutives,
    parse_gazetteer,
    parse_lexicon,
)
from extractors.linking import (
    Cand,
    CorefWords,
    LinkOptions,
    bare_institutions,
    bare_titles,
    genders,
    link_mentions,
)

ACTORS_KEY = "newsmon_actors"
ACTOR_LABELS = frozenset({"PERSON", "ORG", "GPE", "NORP"})
FUZZY_CUTOFF = 90.0

for _name in ("newsmon_actor_info", "newsmon_actor_at", "newsmon_outlets", "newsmon_acting",
              "newsmon_actor_gender"):
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
        # SpanRuler turns pattern strings into Docs with its nlp.pipe; given the
        # full pipeline it would tag and parse a thousand patterns (slow, and
        # impossible while from_disk is still loading weights). Its own
        # tokenizer-only pipeline sharing our vocab and tokenizer is enough.
        tokenize = spacy.blank(nlp.lang, vocab=nlp.vocab)
        tokenize.tokenizer = nlp.tokenizer
        self.ruler = SpanRuler(tokenize, name, spans_key=None, annotate_ents=True, overwrite=True,
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


@Language.factory(
    "newsmon_actor_linker",
    assigns=["doc.spans", "doc._.newsmon_actor_info", "doc._.newsmon_actor_at",
             "doc._.newsmon_outlets", "doc._.newsmon_acting", "doc._.newsmon_actor_gender"],
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
        self.first_names: dict[str, frozenset[str]] = {}
        self.words = CorefWords()
        self.options = LinkOptions(self.gaz, self.fuzzy, fuzzy_cutoff)

    def initialize(self, get_examples: Callable[[], Iterable[Any]], *, nlp: Language | None = None,
                   actors_file: Path | None = None, cues_file: Path | None = None,
                   diminutives_file: Path | None = None) -> None:
        if diminutives_file is not None:
            self.first_names = load_diminutives(diminutives_file)
            self.raw["diminutives"] = Path(diminutives_file).read_text(encoding="utf-8")
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
        self.options = LinkOptions(self.gaz, self.fuzzy, self.fuzzy_cutoff, self.first_names)
        self.words = CorefWords.from_lexicon(self.lex)

    def __call__(self, doc: Doc) -> Doc:
        cands = [c for ent in doc.ents if (c := self._candidate(doc, ent)) is not None]
        cands = self._join_of(doc, cands)
        cands += self._acronym_mentions(doc, cands)
        clusters = link_mentions(doc, cands, self.options)
        self._add_nominals(doc, cands, clusters)
        self._add_titles(doc, cands, clusters)
        cands.sort(key=lambda c: c.start)  # pronoun resolution walks mentions in order
        cands += bare_titles(doc, cands, clusters, self.words, self.lex)
        cands += bare_institutions(doc, cands, clusters, self.lex)
        cands.sort(key=lambda c: c.start)
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
        doc._.newsmon_actor_gender = genders(doc, spans, clusters, self.words)
        # News outlets among the actors: acting.py keeps them only where they act.
        outlets = frozenset(s.kb_id_ for s in spans if s.text in self.gaz.outlets
                            or s.kb_id_ in self.gaz.outlets)
        doc._.newsmon_outlets = outlets
        doc._.newsmon_acting = acting_names(spans, clusters, outlets,
                                            self.lex.state_nouns | self.lex.institution_nouns)
        return doc

    def _candidate(self, doc: Doc, ent: Span) -> Cand | None:
        if ent.label_ not in ACTOR_LABELS:
            return None
        start, end = self._trim(doc, ent)
        canon = ent.ent_id_ or None
        if start >= end:
            return None
        span = doc[start:end]
        if any(t.like_num for t in span) or (canon is None and not self._named(span, ent.label_)):
            return None
        if canon is None and (all(t.lower_ in self.lex.titles for t in span)
                              or span[-1].lower_ in self.gaz.not_actor_heads
                              or span.text.lower() in self.gaz.not_actor_names):
            return None  # a title without a name, an event, a law, a disease
        if (span[0].is_lower and start >= 2 and doc[start - 1].tag_ == "POS"
                and span[-1].lemma_.lower() in self.lex.institution_nouns):
            start = doc[start - 2].left_edge.i  # "China's commerce ministry"
            span = doc[start:end]
        canon = canon or self.gaz.lookup(span.text)
        label = self.gaz.entries[canon].type if canon else ent.label_
        if label == "NORP":
            role = self._norp_role(span, canon)
            if role is None:
                return None
            if role == "state":
                return Cand(start, end, "GPE", self.gaz.entries[canon].state, span.text)
        return Cand(start, end, label, canon, span.text)

    def _trim(self, doc: Doc, ent: Span) -> tuple[int, int]:
        start, end = ent.start, ent.end
        while start < end and (doc[start].lower_ == "the" or doc[start].is_punct):
            start += 1
        while end > start and (doc[end - 1].tag_ == "POS" or doc[end - 1].is_punct
                               or doc[end - 1].lower_ in ("'s", "’s")):
            end -= 1
        if ent.label_ == "PERSON" and not ent.ent_id_:
            # Titles and stray verbs are not part of a name ("Secretary General
            # Jens Stoltenberg", "Questioning Vindman").
            while end - start > 1 and (doc[start].lower_ in self.lex.titles or doc[start].is_punct
                                       or doc[start].pos_ in ("VERB", "ADP", "DET")):
                start += 1
        return start, end

    def _named(self, span: Span, label: str) -> bool:
        """Capitalised like a name; lower-case only for institutions ("commerce ministry")."""
        if any(t.text[:1].isupper() for t in span):
            return True
        return label == "ORG" and span[-1].lemma_.lower() in self.lex.institution_nouns

    def _norp_role(self, span: Span, canon: str | None) -> str | None:
        """A people acts when named as a group ("Ukrainians", "European allies"),
        its state when the adjective qualifies a state noun ("Swedish
        authorities"); the bare adjective ("Ukrainian grain") is no actor."""
        if span[-1].tag_ in ("NNPS", "NNS") or (canon is not None and span.text == canon):
            return "people"
        head = span.root.head
        if span.root.dep_ not in ("amod", "compound", "nmod"):
            return None
        if head.lower_ in self.lex.state_nouns and canon and self.gaz.entries[canon].state:
            return "state"
        return "people" if head.lower_ in self.lex.group_nouns else None

    def _join_of(self, doc: Doc, cands: list[Cand]) -> list[Cand]:
        """Rejoin names the ruler split at a place name: "Diplomatic Academy of"
        + "Vietnam" is one ORG; "Government of" + "Syria" is Syria itself."""
        out: list[Cand] = []
        for cand in cands:
            prev = out[-1] if out else None
            if (prev is not None and prev.end == cand.start and prev.label == "ORG"
                    and doc[prev.end - 1].lower_ == "of" and cand.label == "GPE"):
                if prev.end - prev.start == 2 and doc[prev.start].lower_ in self.lex.state_nouns:
                    out[-1] = Cand(prev.start, cand.end, "GPE", cand.canon, cand.text)
                else:
                    text = doc[prev.start:cand.end].text
                    out[-1] = Cand(prev.start, cand.end, "ORG", self.gaz.lookup(text), text)
                continue
            out.append(cand)
        return out

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

    def _add_titles(self, doc: Doc, cands: list[Cand], clusters: dict[str, Any]) -> None:
        """ "the chancellor" after "Chancellor Gordon Brown" is Gordon Brown, when
        exactly one person in the article carries that title."""
        titles: dict[tuple[str, ...], set[str]] = {}
        for cand in cands:
            if clusters.get(cand.canon, ("",))[0] != "PERSON":
                continue
            start = cand.start
            while start > 0 and doc[start - 1].lower_ in self.lex.titles and doc[start - 1].is_title:
                start -= 1
            words = tuple(t.lower_ for t in doc[start:cand.start] if t.lower_ != "former")
            if start > 0 and doc[start - 1].lower_ == "of":
                continue  # "Secretary of State X": "the state" is no title of X
            if words and words[-1] not in self.lex.honorifics:
                titles.setdefault(words, set()).add(cand.canon)
        if not titles:
            return
        taken = {i for c in cands for i in range(c.start, c.end)}
        for tok in doc:
            # "his chancellor" as much as "the chancellor": a possessive names the post too.
            if tok.lower_ not in ("the", "'s", "’s", "his", "her", "their") or tok.i + 1 in taken:
                continue
            for words, people in titles.items():
                end = tok.i + 1 + len(words)
                if len(people) == 1 and end <= len(doc) and tuple(
                        t.lower_ for t in doc[tok.i + 1:end]) == words and doc[tok.i + 1].is_lower:
                    canon = next(iter(people))
                    cands.append(Cand(tok.i + 1, end, "PERSON", canon, doc[tok.i + 1:end].text))
                    break

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
        self.raw = srsly.read_json(Path(path) / "data.json")
        self.gaz = parse_gazetteer(tomllib.loads(self.raw.get("actors", "")))
        self.lex = parse_lexicon(tomllib.loads(self.raw.get("cues", "")))
        self.first_names = parse_diminutives(tomllib.loads(self.raw.get("diminutives", "")))
        self._compile()
        return self
