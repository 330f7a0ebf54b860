"""Within-article linking: which mentions name the same real-world actor.

Rules, in order (each only fills mentions still unlinked):
1. gazetteer names and aliases (already on the candidate);
2. fuzzy near-misses of long gazetteer names;
3. person surnames back to a full name ("Stoltenberg" -> "Jens Stoltenberg"),
   and first-name variants of one surname: a diminutive from
   config/diminutives.toml ("Vince"/"Vincent Cable") or an initial ("J. Smith");
   other first names are other people ("Mary Kelly" is not "Mark Kelly");
4. acronyms to the organisation whose initials they spell ("EOC");
5. a bare head word to the one organisation it ends ("the Commission");
6. fuzzy merge of multi-word organisation names spelled two ways.

After linking, references without a name join the actor they stand for
(``bare_titles``, ``bare_institutions``), and persons get a gender where the
text shows one (``genders``), so "she said" skips the man named last.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from rapidfuzz import fuzz
from spacy.tokens import Doc, Span, Token

from extractors.gazetteer import Gazetteer, Lexicon
from extractors.spans import pronoun_gender

STOP_INITIALS = frozenset({"of", "for", "and", "the", "on", "in", "de", "&"})
# A two-letter state or province code, or D.C., as written after a city.
STATE_CODE = re.compile(r"^(?:[A-Z]{2}|D\.\s?C\.?)$")
QUALIFIED_PLACE = re.compile(r"^(.+?),\s*(?:[A-Z]{2}|D\.\s?C\.?)$")


@dataclass(slots=True)
class Cand:
    """One actor mention before linking: token span, NER label, gazetteer name."""

    start: int
    end: int
    label: str
    canon: str | None
    text: str


def _no_fuzzy(text: str) -> str | None:
    return None


@dataclass(frozen=True, slots=True)
class LinkOptions:
    """What the rules consult: the gazetteer, its fuzzy look-up and cut-off."""

    gaz: Gazetteer = field(default_factory=Gazetteer)
    fuzzy: Callable[[str], str | None] = _no_fuzzy
    fuzzy_cutoff: float = 90.0
    # lower-case first name -> the formal names it can stand for
    first_names: Mapping[str, frozenset[str]] = field(default_factory=dict)


def link_mentions(doc: Doc, cands: list[Cand], linker: LinkOptions) -> dict[str, Any]:
    """Set ``cand.canon`` on every candidate; return canonical name -> (type, wikidata)."""
    for cand in cands:
        if cand.canon is None and cand.label != "PERSON":
            cand.canon = linker.fuzzy(cand.text)
    surnames = _person_names(cands, linker)
    for cand in cands:
        if cand.canon is None and " " not in cand.text:
            cand.canon = _surname(cand, surnames) or _acronym(cand, cands) or _head_word(cand, cands)
    _merge_spellings(cands, linker.fuzzy_cutoff)
    _fold_qualifiers(doc, cands)
    for cand in cands:
        if cand.canon is None:
            cand.canon = cand.text
    return _clusters(cands, linker)


def _fold_qualifiers(doc: Doc, cands: list[Cand]) -> None:
    """"Washington, DC" and "Portland, OR" name one place: the code after the
    comma qualifies the place before it, so it joins that place's actor."""
    for cand in cands:  # NER may take "Washington, DC" as one entity
        qualified = QUALIFIED_PLACE.match(cand.text)
        if cand.label == "GPE" and cand.canon is None and qualified:
            cand.canon = qualified.group(1)
    ordered = sorted(cands, key=lambda c: c.start)
    for place, code in zip(ordered, ordered[1:], strict=False):
        if (place.label == "GPE" and code.label == "GPE" and code.start == place.end + 1
                and doc[place.end].text == "," and STATE_CODE.match(code.text)
                and code.canon is None):  # "Britain, US and France": US is an actor itself
            code.canon = place.canon or place.text


def _person_names(cands: list[Cand], linker: LinkOptions) -> dict[str, list[tuple[int, str]]]:
    """Surname -> [(token position, full name)] of full-name persons in the article.

    A full name joins an earlier person of its surname only when its first
    name agrees with every first name written for that person, so "Chris"
    can join "Christopher" or "Christine" but not both."""
    surnames: dict[str, list[tuple[int, str]]] = {}
    written: dict[str, set[str]] = {}  # canonical name -> the full names written for it
    for cand in cands:
        name = cand.canon or cand.text
        is_gaz_person = cand.canon and linker.gaz.entries.get(cand.canon, None) is not None \
            and linker.gaz.entries[cand.canon].type == "PERSON"
        if not (is_gaz_person or (cand.canon is None and cand.label == "PERSON")):
            continue
        parts = name.split()
        if len(parts) < 2:
            continue
        if cand.canon is None:
            known = dict.fromkeys(full for _, full in surnames.get(parts[-1], []))
            same = [full for full in known
                    if all(_variant(w, name, linker.first_names) for w in written[full])]
            if same:
                name = same[0]
                if _initial(name) and not _initial(cand.text):
                    # "J. Smith" then "John Smith": the written-out name is canonical.
                    _rename(cands, surnames[parts[-1]], written, name, cand.text)
                    name = cand.text
            cand.canon = name
            written.setdefault(name, set()).add(cand.text)
        else:
            written.setdefault(name, set()).add(name)
        surnames.setdefault(parts[-1], []).append((cand.start, name))
    return surnames


def _initial(name: str) -> bool:
    return len(name.split()[0].rstrip(".")) == 1


def _rename(cands: list[Cand], entries: list[tuple[int, str]], written: dict[str, set[str]],
            old: str, new: str) -> None:
    for other in cands:
        if other.canon == old:
            other.canon = new
    entries[:] = [(pos, new if full == old else full) for pos, full in entries]
    written[new] = written.pop(old) | written.get(new, set())


def _variant(a: str, b: str, first_names: Mapping[str, frozenset[str]]) -> bool:
    """Two full names (same surname) of one person: the same first name, an
    initial of it, or diminutives of one formal name ("Bill"/"William")."""
    fa, fb = a.split()[0].rstrip(".").lower(), b.split()[0].rstrip(".").lower()
    if fa == fb:
        return True
    if len(fa) == 1 or len(fb) == 1:
        return fa[0] == fb[0]
    return bool(first_names.get(fa, frozenset({fa})) & first_names.get(fb, frozenset({fb})))


def _surname(cand: Cand, surnames: dict[str, list[tuple[int, str]]]) -> str | None:
    text = cand.text
    found = surnames.get(text) or (surnames.get(text[:-1]) if text.endswith("s") else None)
    if not found and cand.label == "PERSON":
        # A first name alone ("Joe") after the full name of exactly one person.
        firsts = {full for entries in surnames.values() for _, full in entries
                  if full.split()[0] == text}
        return firsts.pop() if len(firsts) == 1 else None
    if not found:
        return None
    before = [full for pos, full in found if pos <= cand.start]
    cand.label = "PERSON"
    # The most recent full name wins when two people share a surname
    # ("Biden" after "Hunter Biden" and "Joe Biden").
    return before[-1] if before else found[0][1]


def _initials(name: str) -> str:
    return "".join(w[0] for w in name.replace("-", " ").split() if w.lower() not in STOP_INITIALS).upper()


def _acronym(cand: Cand, cands: list[Cand]) -> str | None:
    if not (cand.text.isupper() and 2 <= len(cand.text) <= 6):
        return None
    for other in cands:
        name = other.canon or other.text
        if other.label == "ORG" and " " in name and _initials(name) == cand.text:
            return name
    return None


def _head_word(cand: Cand, cands: list[Cand]) -> str | None:
    if cand.label != "ORG":
        return None
    owners = {(o.canon or o.text) for o in cands
              if o.label == "ORG" and " " in o.text and o.text.split()[-1] == cand.text}
    return owners.pop() if len(owners) == 1 else None


def _merge_spellings(cands: list[Cand], cutoff: float) -> None:
    seen: list[str] = []
    for cand in cands:
        if cand.canon is not None or cand.label != "ORG" or " " not in cand.text:
            continue
        match = next((s for s in seen if fuzz.ratio(s, cand.text) >= cutoff), None)
        cand.canon = match or cand.text
        if match is None:
            seen.append(cand.text)


def _clusters(cands: list[Cand], linker: LinkOptions) -> dict[str, Any]:
    labels: dict[str, Counter[str]] = {}
    for cand in cands:
        labels.setdefault(cand.canon, Counter())[cand.label] += 1
    out: dict[str, Any] = {}
    for canon, counts in labels.items():
        entry = linker.gaz.entries.get(canon)
        if entry is not None:
            out[canon] = (entry.type, entry.wikidata)
        elif counts.get("PERSON") and " " in canon:
            out[canon] = ("PERSON", None)
        else:
            out[canon] = (counts.most_common(1)[0][0], None)
    return out


# --- references without a name --------------------------------------------------


@dataclass(frozen=True, slots=True)
class CorefWords:
    """The word lists of title and pronoun resolution (config/cues.toml [words])."""

    person_titles: frozenset[str] = frozenset()  # posts one person holds: "the minister"
    male_words: frozenset[str] = frozenset()  # "Mr", "spokesman"
    female_words: frozenset[str] = frozenset()  # "Mrs", "spokeswoman"

    @classmethod
    def from_lexicon(cls, lex: Lexicon) -> CorefWords:
        return cls(*(frozenset(w.lower() for w in getattr(lex, key))
                     for key in ("person_titles", "male_words", "female_words")))


def _person_titles(doc: Doc, cands: list[Cand], clusters: dict[str, Any], words: CorefWords,
                   lex: Lexicon) -> dict[str, list[tuple[int, str, frozenset[str]]]]:
    """Title noun -> [(position, person, words of the whole title)] of the
    persons the article gives that post: before the name ("Senate Majority
    Leader X") or in apposition ("X, the foreign minister", "China's
    ambassador, X")."""
    out: dict[str, list[tuple[int, str, frozenset[str]]]] = {}
    for cand in cands:
        if clusters.get(cand.canon, ("",))[0] != "PERSON" or cand.canon is None:
            continue
        chain = []
        i = cand.start - 1
        while i >= 0 and (doc[i].lower_ in lex.titles or doc[i].lower_ in words.person_titles
                          or doc[i].is_title and doc[i].pos_ in ("PROPN", "NOUN")):
            chain.append(doc[i])
            i -= 1
        heads = [t for t in chain if t.lemma_.lower() in words.person_titles]
        found = [(h, frozenset(t.lower_ for t in chain)) for h in heads]
        root = doc[cand.start:cand.end].root
        appos = [c for c in root.children if c.dep_ == "appos"]
        if root.dep_ == "appos":
            appos.append(root.head)
        found += [(a, frozenset(t.lower_ for t in a.subtree if t.i < a.i or t.i == a.i))
                  for a in appos]
        for head, title in found:
            word = head.lemma_.lower()
            if word in words.person_titles:
                out.setdefault(word, []).append((cand.start, cand.canon, title))
    return out


def _determined(tok: Token) -> Token | None:
    """The definite determiner or possessor of a noun ("the", "his", "China's")."""
    det = next((c for c in tok.children if c.dep_ in ("det", "poss")), None)
    if det is None or det.dep_ == "det" and det.lower_ not in ("the", "this", "that"):
        return None
    return det


def bare_titles(doc: Doc, cands: list[Cand], clusters: dict[str, Any], words: CorefWords,
                lex: Lexicon) -> list[Cand]:
    """ "the minister", "China's ambassador", "the spokesman" without a name:
    the person the article gives that post (the latest before it), else, for
    "the <title>" as a subject, the person a sentence back who holds no other
    post ("Liz Truss flew to Delhi. The minister rejected ...")."""
    titled = _person_titles(doc, cands, clusters, words, lex)
    posts: dict[str, set[str]] = {}
    for word, people in titled.items():
        for _, who, _ in people:
            posts.setdefault(who, set()).add(word)
    taken = {i for c in cands for i in range(c.start, c.end)}
    out: list[Cand] = []
    for tok in doc:
        word = tok.lemma_.lower()
        if (tok.i in taken or tok.tag_ != "NN" or word not in words.person_titles
                or tok.dep_ in ("compound", "amod", "appos")
                or any(c.dep_ == "appos" for c in tok.children)):
            continue
        det = _determined(tok)
        if det is None or (tok.i + 1 < len(doc) and doc[tok.i + 1].pos_ == "PROPN"):
            continue
        # "the majority leader" is not the minority leader: its modifiers must
        # be words of the person's title.
        mods = {c.lower_ for c in tok.children if c.dep_ in ("amod", "compound")
                and c.lower_ not in lex.topic_fillers}
        earlier = [who for pos, who, title in titled.get(word, []) if pos < tok.i and mods <= title]
        who = earlier[-1] if earlier else None
        if who is None and not mods and det.lower_ == "the" and tok.dep_ in ("nsubj", "nsubjpass"):
            who = _previous_subject(doc, tok, cands, clusters,
                                    lambda name: posts.get(name, {word}) >= {word})
        if who:
            out.append(Cand(tok.i, tok.i + 1, "PERSON", who, tok.text))
    return out


def _previous_subject(doc: Doc, tok: Token, cands: list[Cand], clusters: dict[str, Any],
                      fits: Callable[[str], bool]) -> str | None:
    """The person named in the sentence before ``tok``'s, its subject first."""
    sent = tok.sent
    if sent.start == 0:
        return None
    prev = doc[sent.start - 1].sent
    people = [c for c in cands if prev.start <= c.start < prev.end and c.canon
              and clusters.get(c.canon, ("",))[0] == "PERSON" and fits(c.canon)]
    if not people:
        return None
    subj = [c for c in people if doc[c.start:c.end].root.dep_ in ("nsubj", "nsubjpass")]
    return (subj or people)[-1].canon


def bare_institutions(doc: Doc, cands: list[Cand], clusters: dict[str, Any],
                      lex: Lexicon) -> list[Cand]:
    """ "the department", "the ministry", "the committee": the latest
    organisation named before it whose name has that word ("State Department")."""
    taken = {i for c in cands for i in range(c.start, c.end)}
    orgs = [c for c in cands if c.canon and clusters.get(c.canon, ("",))[0] == "ORG"]
    out: list[Cand] = []
    for tok in doc:
        word = tok.lemma_.lower()
        if (tok.i in taken or tok.tag_ not in ("NN", "NNP") or word not in lex.institution_nouns
                or tok.dep_ in ("compound", "amod") or _determined(tok) is None
                or _determined(tok).lower_ != "the"
                or any(c.dep_ in ("compound", "amod", "prep") for c in tok.children)):
            continue
        named = [c for c in orgs if c.end <= tok.i
                 and word in {w.lower() for w in (c.canon or "").split() + c.text.split()}]
        if named:
            out.append(Cand(tok.i, tok.i + 1, "ORG", named[-1].canon, tok.text))
    return out


def genders(doc: Doc, spans: list[Span], clusters: dict[str, Any],
            words: CorefWords) -> dict[str, str]:
    """Person -> "m" or "f" where the text shows it: a gendered title or form of
    address at a mention ("Mrs Patel", "X, a spokeswoman"), else the pronouns
    of sentences in which that person is the only one named before them."""
    votes: dict[str, Counter[str]] = {}
    # Named mentions only: "the minister" linked to X says nothing of X's pronouns.
    people = [s for s in spans if clusters.get(s.kb_id_, ("",))[0] == "PERSON"
              and s.text[:1].isupper()]

    def mark(tok: Token, name: str, weight: int) -> None:
        low = tok.lower_
        if low in words.male_words or low in words.female_words:
            votes.setdefault(name, Counter())["m" if low in words.male_words else "f"] += weight

    for span in people:
        for i in range(max(0, span.start - 2), span.start):
            mark(doc[i], span.kb_id_, 3)
        root = span.root
        if root.dep_ == "appos":
            mark(root.head, span.kb_id_, 3)
        for child in root.children:
            if child.dep_ == "appos":
                mark(child, span.kb_id_, 3)
    named = {s.root.i: s.kb_id_ for s in people}
    for tok in doc:
        gender = pronoun_gender(tok.lower_)
        if gender is None:
            continue
        if tok.dep_ in ("nsubj", "nsubjpass") and tok.head.dep_ in ("ccomp", "conj", "advcl"):
            verb = tok.head.head  # "X said she would ...": she is X
        elif tok.dep_ in ("dobj", "pobj") and tok.lower_.endswith("self"):
            verb = tok.head if tok.dep_ == "dobj" else tok.head.head  # "X called himself"
        else:
            continue
        subj = next((c for c in verb.children if c.dep_ == "nsubj"), None)
        if subj is not None and subj.i in named:
            votes.setdefault(named[subj.i], Counter())[gender] += 1
    out = {}
    for name, count in votes.items():
        (top, n), *rest = count.most_common()
        if not rest or n >= 2 * rest[0][1]:
            out[name] = top
    return out
