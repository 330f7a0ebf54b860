"""Loading the user-edited data: the actor gazetteer, the stance cue lexicon
and the first-name diminutives.

All are TOML in ``config/`` (data, never code). A broken file raises
ConfigError naming the file and the entry, because the daemon cannot do
anything sensible with half a lexicon.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from spacy.matcher import Matcher

from config.errors import ConfigError

ACTOR_TYPES = frozenset({"PERSON", "ORG", "GPE", "NORP"})
POLARITIES = frozenset({"support", "oppose", "none"})
CUE_KINDS = frozenset({"verb", "noun", "adj"})


@dataclass(frozen=True, slots=True)
class GazEntry:
    name: str
    type: str
    aliases: tuple[str, ...]
    nominal: tuple[str, ...]
    wikidata: str | None
    state: str | None = None  # for a people: the state its adjective can stand for


@dataclass(slots=True)
class Gazetteer:
    entries: dict[str, GazEntry] = field(default_factory=dict)
    surface: dict[str, str] = field(default_factory=dict)  # exact form -> canonical
    folded: dict[str, str] = field(default_factory=dict)  # lower-cased form -> canonical
    nominal: dict[str, str] = field(default_factory=dict)  # "alliance" -> "NATO"
    not_actor_heads: frozenset[str] = frozenset()  # "summit": "the NATO summit" is no actor
    not_actor_names: frozenset[str] = frozenset()  # "COVID-19": NER's ORG/PERSON that never act
    outlets: frozenset[str] = frozenset()  # news outlets: actors only when they act

    def ruler_patterns(self) -> list[dict[str, Any]]:
        """Phrase patterns for the span ruler; the id carries the canonical name."""
        return [
            {"label": self.entries[canon].type, "pattern": form, "id": canon}
            for form, canon in self.surface.items()
        ]

    def lookup(self, text: str) -> str | None:
        return self.surface.get(text) or self.folded.get(text.lower())


@dataclass(frozen=True, slots=True)
class Cue:
    lemma: str
    kind: str
    polarity: str
    event: str
    particle: str | None = None
    nonperson_target: bool = False


@dataclass(slots=True)
class Lexicon:
    cues: dict[tuple[str, str], Cue] = field(default_factory=dict)  # (lemma, kind) -> cue
    proposal_nouns: frozenset[str] = frozenset()
    speech_verbs: frozenset[str] = frozenset()
    group_nouns: frozenset[str] = frozenset()
    state_nouns: frozenset[str] = frozenset()
    institution_nouns: frozenset[str] = frozenset()
    titles: frozenset[str] = frozenset()
    give_verbs: frozenset[str] = frozenset()
    receive_verbs: frozenset[str] = frozenset()
    penalty_words: frozenset[str] = frozenset()
    topic_fillers: frozenset[str] = frozenset()
    oppose_when_negated: frozenset[str] = frozenset()
    money_context: frozenset[str] = frozenset()
    weight_verbs: frozenset[str] = frozenset()
    light_verbs: frozenset[str] = frozenset()
    proposing_verbs: frozenset[str] = frozenset()
    refusal_verbs: frozenset[str] = frozenset()
    undergo_verbs: frozenset[str] = frozenset()
    honorifics: frozenset[str] = frozenset()
    quote_verbs: frozenset[str] = frozenset()
    person_titles: frozenset[str] = frozenset()
    male_words: frozenset[str] = frozenset()
    female_words: frozenset[str] = frozenset()

    def lemmas(self, kind: str) -> list[str]:
        return sorted({lemma for (lemma, k) in self.cues if k == kind})


def _read(path: Path, what: str) -> dict[str, Any]:
    try:
        return tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"{what} file {path} does not exist") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{what} file {path}: not valid TOML: {exc}") from exc


def parse_gazetteer(data: dict[str, Any], origin: str = "actors file") -> Gazetteer:
    gaz = Gazetteer()
    for n, raw in enumerate(data.get("actor", []), 1):
        name, typ = raw.get("name"), raw.get("type")
        if not name or typ not in ACTOR_TYPES:
            raise ConfigError(f"{origin}: actor #{n} needs a name and a type in {sorted(ACTOR_TYPES)}")
        if name in gaz.entries:
            raise ConfigError(f"{origin}: actor {name!r} is listed twice")
        entry = GazEntry(name, typ, tuple(raw.get("aliases", ())), tuple(raw.get("nominal", ())),
                         raw.get("wikidata"), raw.get("state"))
        gaz.entries[name] = entry
        for form in (name, *entry.aliases):
            other = gaz.surface.setdefault(form, name)
            if other != name:
                raise ConfigError(f"{origin}: {form!r} names both {other!r} and {name!r}")
            # Case-folded look-up is for NER spans only ("The European Commission");
            # short forms stay case-sensitive so "US" never folds into "us".
            if len(form) > 4:
                gaz.folded.setdefault(form.lower(), name)
        for word in entry.nominal:
            gaz.nominal[word] = name
    words = data.get("words", {})
    gaz.not_actor_heads = frozenset(words.get("not_actor_heads", ()))
    gaz.not_actor_names = frozenset(n.lower() for n in words.get("not_actor_names", ()))
    gaz.outlets = frozenset(words.get("outlets", ()))
    return gaz


def load_gazetteer(path: Path) -> Gazetteer:
    return parse_gazetteer(_read(path, "actors"), f"actors file {path}")


def parse_lexicon(data: dict[str, Any], origin: str = "cues file") -> Lexicon:
    lex = Lexicon()
    for n, raw in enumerate(data.get("cue", []), 1):
        lemma, kind, pol = raw.get("lemma"), raw.get("kind"), raw.get("polarity")
        if not lemma or kind not in CUE_KINDS or pol not in POLARITIES:
            raise ConfigError(
                f"{origin}: cue #{n} needs lemma, kind in {sorted(CUE_KINDS)} "
                f"and polarity in {sorted(POLARITIES)}"
            )
        cue = Cue(lemma, kind, pol, raw.get("event", "statement"), raw.get("particle"),
                  raw.get("target") == "nonperson")
        lex.cues[(lemma, kind)] = cue
    words = data.get("words", {})
    for attr in ("proposal_nouns", "speech_verbs", "group_nouns", "state_nouns",
                 "institution_nouns", "titles", "give_verbs",
                 "receive_verbs", "penalty_words", "topic_fillers", "oppose_when_negated",
                 "money_context", "weight_verbs", "light_verbs", "proposing_verbs",
                 "refusal_verbs", "undergo_verbs", "honorifics", "quote_verbs",
                 "person_titles", "male_words", "female_words"):
        setattr(lex, attr, frozenset(words.get(attr, ())))
    return lex


def load_lexicon(path: Path) -> Lexicon:
    return parse_lexicon(_read(path, "cues"), f"cues file {path}")


def parse_diminutives(data: dict[str, Any],
                      origin: str = "diminutives file") -> dict[str, frozenset[str]]:
    """First name -> the formal names it can stand for (a formal name stands
    for itself): "bill" -> {"william"}, "chris" -> {"christopher", ...}."""
    forms: dict[str, set[str]] = {}
    for formal, shorts in data.get("names", {}).items():
        if not isinstance(shorts, list) or not all(isinstance(x, str) and x for x in shorts):
            raise ConfigError(f"{origin}: names.{formal} must be a list of first names")
        for name in (formal, *shorts):
            forms.setdefault(name.lower(), set()).add(formal.lower())
    return {name: frozenset(formals) for name, formals in forms.items()}


def load_diminutives(path: Path) -> dict[str, frozenset[str]]:
    return parse_diminutives(_read(path, "diminutives"), f"diminutives file {path}")


class LexiconComponent:
    """Shared by the components that read the cue lexicon: load it in
    ``initialize`` and carry it through ``to_disk``/``from_disk`` so a saved
    pipeline works without the config directory."""

    lex: Lexicon
    cues_text: str = ""

    def __init__(self, nlp: Any, name: str) -> None:
        self.name = name
        self.vocab = nlp.vocab
        self.lex = Lexicon()
        self.matcher = Matcher(nlp.vocab)

    def initialize(self, get_examples: Callable[[], Iterable[Any]], *, nlp: Any = None,
                   cues_file: Path | None = None) -> None:
        if cues_file is not None:
            self.load_cues(cues_file)

    def load_cues(self, path: Path) -> None:
        self.lex = load_lexicon(path)
        self.cues_text = Path(path).read_text(encoding="utf-8")
        self.compile()

    def compile(self) -> None:
        """Rebuild matchers from ``self.lex``; components override."""

    def to_disk(self, path: Path, *, exclude: Any = ()) -> None:
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        (path / "cues.toml").write_text(self.cues_text, encoding="utf-8")

    def from_disk(self, path: Path, *, exclude: Any = ()) -> LexiconComponent:
        self.load_cues(Path(path) / "cues.toml")
        return self
