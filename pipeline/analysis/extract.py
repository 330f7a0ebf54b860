"""Stage 5, extract: stored article text -> Analysis -> rows.

The spaCy pipeline is built once per process (it takes seconds and hundreds
of MB) and shared by every cycle; ``nlp.pipe`` runs over a batch at a time.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, ClassVar

from sqlalchemy.orm import Session

from config.settings import Settings
from storage.results import replace_analysis

if TYPE_CHECKING:
    from spacy.language import Language

    from extractors.records import Analysis


class Extractor:
    _shared: ClassVar[dict[tuple[str, str, str], Extractor]] = {}
    _lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, settings: Settings) -> None:
        from extractors import EXTRACTOR_VERSION, build_nlp

        self.nlp: Language = build_nlp(settings)
        self.version: str = EXTRACTOR_VERSION
        self.batch_size = settings.extract_batch_size

    @classmethod
    def shared(cls, settings: Settings) -> Extractor:
        key = (settings.spacy_model, str(settings.actors_file), str(settings.cues_file))
        with cls._lock:
            if key not in cls._shared:
                cls._shared[key] = cls(settings)
            return cls._shared[key]

    def run(self, items: Iterable[tuple[int | str, str]]) -> Iterator[tuple[int | str, Analysis]]:
        from extractors import analyze

        items = list(items)
        analyses = analyze(self.nlp, ((str(i), text) for i, text in items),
                           batch_size=self.batch_size)
        for (item_id, _text), analysis in zip(items, analyses, strict=True):
            yield item_id, analysis

    def store(self, article_id: int, analysis: Analysis, *, session: Session) -> None:
        replace_analysis(article_id, analysis, version=self.version, session=session)
