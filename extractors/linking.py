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
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from rapidfuzz import fuzz
from spacy.tokens import Doc

from extractors.gazetteer import Gazetteer

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
