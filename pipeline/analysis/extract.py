"""Stage 5, extract: stored article text -> Analysis -> rows.

The spaCy pipeline is built once per process (it takes seconds and hundreds
of MB) and shared by every cycle; ``nlp.pipe`` runs over a batch at a time.
``extractors.build_nlp`` rebuilds it when the model or a data file (gazetteer,
cue lexicon) changes, so an edit reaches a running daemon at its next batch.
Every row carries ``<EXTRACTOR_VERSION>+<fingerprint>`` of the pipeline that
produced it, so rows from before and after an edit can be told apart in SQL.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from config.settings import Settings
from storage.results import replace_analysis

if TYPE_CHECKING:
    from spacy.language import Language

    from extractors.records import Analysis


def version_of(settings: Settings) -> str:
    """What rows produced with these settings' model and data files are labelled."""
    from extractors import EXTRACTOR_VERSION
    from extractors.nlp import pipeline_fingerprint

    fingerprint = pipeline_fingerprint(settings.spacy_model, settings.actors_file,
                                       settings.cues_file)
    return f"{EXTRACTOR_VERSION}+{fingerprint}"


class Extractor:
    """The pipeline of the current data files, with the version label of its rows."""

    def __init__(self, nlp: Language, batch_size: int) -> None:
        from extractors import EXTRACTOR_VERSION
        from extractors.nlp import FINGERPRINT_META

        self.nlp = nlp
        self.version: str = f"{EXTRACTOR_VERSION}+{nlp.meta[FINGERPRINT_META]}"
        self.batch_size = batch_size

    @classmethod
    def shared(cls, settings: Settings) -> Extractor:
        """The process's pipeline for these settings (rebuilt if a data file changed).

        Cheap to call per batch: ``build_nlp`` hashes the small data files and
        returns the cached pipeline unless they changed."""
        # Deferred: importing spaCy costs seconds, and commands that never
        # extract (status, sql, feeds) import this module too.
        from extractors import build_nlp

        return cls(build_nlp(settings), settings.extract_batch_size)

    def run(self, items: Iterable[tuple[int | str, str]]) -> Iterator[tuple[int | str, Analysis]]:
        from extractors import analyze

        items = list(items)
        analyses = analyze(self.nlp, ((str(i), text) for i, text in items),
                           batch_size=self.batch_size)
        for (item_id, _text), analysis in zip(items, analyses, strict=True):
            yield item_id, analysis

    def store(self, article_id: int, analysis: Analysis, *, session: Session) -> None:
        replace_analysis(article_id, analysis, version=self.version, session=session)
