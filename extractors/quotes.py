"""Quotes: who said what, direct ("...," X said) or reported (X said that ...).

1. direct    spans between quotation marks (curly or straight, paired within a
             paragraph) of at least three words; the attribution is a
             reporting verb outside the quotes in the sentences the quote
             touches, nearest first ("..., X said"; X said: "..."). A quote
             split by its attribution ("We will," he said, "act") is one quote.
             A quoted paragraph with no attribution continues the previous
             paragraph's quote when that ended the paragraph before (one quote
             per paragraph, same speaker).
2. reported  a reporting verb with a clausal complement outside quotation
             marks (X said that ...; X told reporters ...), or "according to X"
             heading a clause.
3. speaker   the verb's subject (climbing through xcomp and conj), resolved to
             an actor: a named actor, a pronoun to the last fitting actor
             before it, a bare title ("the minister", "the spokesman") to the
             last person before it. No actor, no quote (SPEC).

Results go on ``doc._.newsmon_quotes`` as ``Quote`` records.
"""

from __future__ import annotations

import re

from spacy.language import Language
from spacy.matcher import Matcher
from spacy.tokens import Doc, Span, Token

from extractors.gazetteer import LexiconComponent
from extractors.records import Evidence, Quote
from extractors.roles import subjects
from extractors.spans import PRONOUNS_PERSON, actor_in, previous_actor, pronoun_gender, resolve

if not Doc.has_extension("newsmon_quotes"):
    Doc.set_extension("newsmon_quotes", default=None)

# Opening mark -> closing marks. Straight quotes pair with themselves.
_PAIRS = {"“": "”", '"': '"', "‘": "’"}
_QUOTED = re.compile(r"“[^“”\n]*”|\"[^\"\n]*\"")
MIN_WORDS = 3
REPORTED_DEPS = frozenset({"ccomp", "parataxis"})


@Language.factory(
    "newsmon_quotes",
    assigns=["doc._.newsmon_quotes"],
    requires=["token.dep", "token.lemma", "doc._.newsmon_actor_at"],
    default_config={},
)
def make_quotes(nlp: Language, name: str) -> QuoteFinder:
    return QuoteFinder(nlp, name)


class QuoteFinder(LexiconComponent):
    def compile(self) -> None:
        self.matcher = Matcher(self.vocab)
        verbs = sorted(self.lex.quote_verbs) or ["say"]
        self.matcher.add("verb", [[{"LEMMA": {"IN": verbs}, "POS": {"IN": ["VERB", "AUX"]}}]])
        self.matcher.add("according", [[{"LOWER": "according"}, {"LOWER": "to"}]])

    def __call__(self, doc: Doc) -> Doc:
        spans = quoted_spans(doc)
        inside = {t for s in spans for t in range(s.start, s.end)}
        verbs, according = [], []
        for match_id, start, _end in self.matcher(doc):
            (verbs if self.vocab.strings[match_id] == "verb" else according).append(doc[start])
        verbs = [v for v in verbs if v.i not in inside]
        quotes: list[Quote] = []
        used: set[int] = set()
        direct, lone = self._direct(spans, verbs, used)
        quotes += direct
        quotes += self._reported(verbs, inside, used)
        quotes += self._according(according, inside)
        quotes += _continued(lone, quotes)
        doc._.newsmon_quotes = tuple(sorted(quotes, key=lambda q: q.evidence.start))
        return doc

    # --- direct ---------------------------------------------------------------
    def _direct(self, spans: list[Span], verbs: list[Token],
                used: set[int]) -> tuple[list[Quote], list[Span]]:
        """Attributed quotes, and the quoted spans with no attribution of their own."""
        out: list[Quote] = []
        groups: dict[int, list[Span]] = {}  # verb index -> the quote spans it attributes
        speakers: dict[int, str] = {}
        lone: list[Span] = []
        for span in spans:
            verb = self._attribution(span, verbs)
            if verb is not None and _embedded(span, verb):
                continue  # "said the move was 'not about the laws'": a reported quote
            who = self.speaker_of(verb) if verb is not None else None
            if verb is not None and who:
                groups.setdefault(verb.i, []).append(span)
                speakers[verb.i] = who
                used.add(verb.i)
            elif verb is None:
                lone.append(span)
        found: list[tuple[Span, str, str]] = []
        for vi, parts in groups.items():
            doc = parts[0].doc
            # One attribution inside one paragraph: the parts are one quote.
            by_para: dict[int, list[Span]] = {}
            for part in parts:
                by_para.setdefault(_paragraph(doc, part.start), []).append(part)
            for para_parts in by_para.values():
                found.append((_join(para_parts), speakers[vi], _cue_text(doc[vi])))
        for span, who, cue in found:
            out.append(_quote(span, who, cue, "direct", 0.8))
        return out, lone


    def _attribution(self, span: Span, verbs: list[Token]) -> Token | None:
        """The reporting verb of a quote: outside the quote, in a sentence it
        touches, closest to it."""
        doc = span.doc
        first, last = doc[span.start].sent, doc[span.end - 1].sent
        para = _paragraph(doc, span.start)
        candidates = [v for v in verbs
                      if first.start <= v.i < last.end and _paragraph(doc, v.i) == para]
        if not candidates:
            return None
        return min(candidates, key=lambda v: min(abs(v.i - span.start), abs(v.i - span.end)))

    # --- reported -------------------------------------------------------------
    def _reported(self, verbs: list[Token], inside: set[int], used: set[int]) -> list[Quote]:
        out: list[Quote] = []
        for verb in verbs:
            if verb.i in used:
                continue
            span = _content(verb)
            if span is None:
                continue
            words = [t for t in span if t.i not in inside]
            if len([t for t in words if t.is_alpha]) < MIN_WORDS or len(words) < len(span) / 2:
                continue  # mostly inside quotation marks: a direct quote's business
            who = self.speaker_of(verb)
            if not who:
                continue
            out.append(_quote(span, who, _cue_text(verb), "reported", 0.6))
        return out

    def _according(self, matches: list[Token], inside: set[int]) -> list[Quote]:
        """ "According to X, S" / "S, according to X": S is what X says."""
        out: list[Quote] = []
        for tok in matches:
            if tok.i in inside:
                continue
            to = tok.doc[tok.i + 1] if tok.i + 1 < len(tok.doc) else None
            pobj = next((c for c in (to.children if to is not None else []) if c.dep_ == "pobj"),
                        None)
            who = actor_in(pobj) if pobj is not None else None
            if not who or pobj is None:
                continue
            sent = tok.sent
            phrase = range(tok.i, pobj.right_edge.i + 1)
            words = [t for t in sent if t.i not in phrase and not (t.is_space or t.is_punct
                                                                    and t.i in (sent.start,
                                                                                sent.end - 1))]
            if len([t for t in words if t.is_alpha]) < MIN_WORDS:
                continue
            if tok.i == sent.start or tok.i - 1 == sent.start:
                span = sent.doc[pobj.right_edge.i + 1:sent.end]
            else:
                span = sent.doc[sent.start:tok.i]
            span = _trim(span)
            if len(span) >= MIN_WORDS:
                out.append(_quote(span, who, "according to", "reported", 0.6))
        return out

    # --- speakers -------------------------------------------------------------
    def speaker_of(self, verb: Token | None) -> str | None:
        if verb is None:
            return None
        subj, passive = subjects(verb)
        if subj is None or passive:
            return None
        who = resolve(subj)
        if who is None and subj.lemma_.lower() in self.lex.titles and subj.pos_ == "NOUN":
            # "the minister said": the last person named before it.
            who = previous_actor(subj.doc, subj.i, frozenset({"PERSON"}))
        if who is None and subj.lower_ in PRONOUNS_PERSON:
            who = previous_actor(subj.doc, subj.i, frozenset({"PERSON"}),
                                 pronoun_gender(subj.lower_))
        return who


def _continued(lone: list[Span], quotes: list[Quote]) -> list[Quote]:
    """A quoted paragraph with no attribution of its own, right after a
    paragraph whose last quote has a speaker, continues that speaker."""
    out: list[Quote] = []
    for span in lone:
        doc = span.doc
        para = _paragraph(doc, span.start)
        before = [q for q in quotes + out if q.evidence.end <= span.start_char]
        if not before:
            continue
        last = max(before, key=lambda q: q.evidence.end)
        between = doc.text[last.evidence.end:span.start_char]
        last_para = _paragraph(doc, doc.char_span(last.evidence.start, last.evidence.end,
                                                  alignment_mode="expand").start)
        if para == last_para + 1 or (para == last_para and not re.search(r"\w", between)):
            out.append(_quote(span, last.speaker, last.cue, "direct", 0.6))
    return out


def _has_subject(tok: Token) -> bool:
    return any(c.dep_ in ("nsubj", "nsubjpass", "expl") for c in tok.children)


def _content(verb: Token) -> Span | None:
    """What a reporting verb reports: its clausal complement ("said (that) S"),
    or for "accuse X of Y" / "urge X to Y" the object and its complement.

    Conjoined clauses with a subject of their own belong to the report
    ("insisted the plans were affordable and he could afford ..."), even where
    the parser hangs them on the reporting verb; a conjoined verb without one
    is the speaker doing something else ("denied X but refused Y", "said X
    and added Y") and ends the report."""
    doc = verb.doc
    clause = next((c for c in verb.children if c.dep_ in REPORTED_DEPS and c.i > verb.i), None)
    if clause is not None:
        start, end = clause.left_edge.i, clause.right_edge.i + 1
        while start < clause.i and doc[start].dep_ in ("mark", "punct"):
            start += 1  # "that" is the cue's, not the content's
    else:
        obj = next((c for c in verb.children if c.dep_ == "dobj" and c.i > verb.i), None)
        comp = [c for c in verb.children if c.i > verb.i and (
            c.dep_ in ("xcomp", "prep") and c.lower_ != "by" or c.dep_ == "advcl")]
        if obj is None or not comp:
            return None
        start, end = obj.left_edge.i, max(c.right_edge.i for c in comp) + 1
    for conj in verb.children:
        if conj.dep_ == "conj" and conj.i >= end and _has_subject(conj):
            end = max(end, conj.right_edge.i + 1)
    for tok in doc[start:end]:
        if tok.dep_ == "conj" and tok.pos_ in ("VERB", "AUX") and not _has_subject(tok):
            cut = next((c.i for c in tok.head.children
                        if c.dep_ == "cc" and start < c.i < tok.i), tok.i)
            end = min(end, cut)
            break
    while end > start + 1 and (doc[end - 1].is_punct or doc[end - 1].is_space):
        end -= 1
    return doc[start:end] if end > start else None


def _embedded(span: Span, verb: Token) -> bool:
    """The quoted words are a fragment inside the verb's reported clause."""
    content = _content(verb)
    if content is None or not (content.start <= span.start and span.end <= content.end):
        return False
    outside = [t for t in content if not span.start <= t.i < span.end and t.is_alpha]
    return len(outside) >= MIN_WORDS


def quoted_spans(doc: Doc) -> list[Span]:
    """Token spans of the text between quotation marks, marks excluded, one
    paragraph at most, MIN_WORDS words or more."""
    out: list[Span] = []
    for match in _QUOTED.finditer(doc.text):
        start, end = match.start() + 1, match.end() - 1
        span = doc.char_span(start, end, alignment_mode="expand")
        if span is None:
            continue
        span = _trim(span)
        if len([t for t in span if t.is_alpha]) >= MIN_WORDS:
            out.append(span)
    return out


def _trim(span: Span) -> Span:
    """Without the outer punctuation and spaces: the words of the quote."""
    start, end = span.start, span.end
    doc = span.doc
    while start < end and (doc[start].is_punct or doc[start].is_space):
        start += 1
    while end > start and (doc[end - 1].is_space or doc[end - 1].is_punct
                           and doc[end - 1].text not in "?!"):
        end -= 1
    return doc[start:end]


def _paragraph(doc: Doc, i: int) -> int:
    """Which paragraph (blank-line separated) token i is in."""
    breaks = doc.user_data.get("newsmon_paragraph_starts")
    if breaks is None:
        breaks = [t.i for t in doc if t.is_space and t.text.count("\n") >= 1]
        doc.user_data["newsmon_paragraph_starts"] = breaks
    return sum(1 for b in breaks if b < i)


def _join(parts: list[Span]) -> Span:
    """Parts of one quote split by its attribution: the first part's span,
    the text joined (see ``_quote``)."""
    return parts[0] if len(parts) == 1 else _Joined(parts)  # type: ignore[return-value]


class _Joined:
    """Several spans read as one quote: text joined by a space, evidence over all."""

    def __init__(self, parts: list[Span]) -> None:
        self.parts = sorted(parts, key=lambda p: p.start)
        self.doc = parts[0].doc
        self.start, self.end = self.parts[0].start, self.parts[-1].end
        self.text = " ".join(p.text for p in self.parts)
        self.start_char, self.end_char = self.parts[0].start_char, self.parts[-1].end_char


def _cue_text(verb: Token) -> str:
    """The cue as written: the verb with its particle ("point out")."""
    particle = next((c for c in verb.children if c.dep_ == "prt"), None)
    return f"{verb.text} {particle.text}" if particle is not None else verb.text


def _quote(span: Span | _Joined, who: str, cue: str, kind: str, confidence: float) -> Quote:
    doc = span.doc
    first, last = doc[span.start].sent, doc[span.end - 1].sent
    text = span.text.strip()
    sentence = doc.text[first.start_char:last.end_char]
    ev = Evidence(sentence=sentence.strip(), sent_start=first.start_char,
                  sent_end=first.start_char + len(sentence.rstrip()), start=span.start_char,
                  end=span.end_char)
    return Quote(speaker=who, text=text, cue=cue, kind=kind, evidence=ev, confidence=confidence)
