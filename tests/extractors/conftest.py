"""One real pipeline per test session: loading a spaCy model takes seconds."""

from __future__ import annotations

import pytest
from spacy.language import Language

from config.settings import Settings
from extractors import Analysis, analyze, build_nlp


@pytest.fixture(scope="session")
def nlp() -> Language:
    return build_nlp(Settings())


@pytest.fixture(scope="session")
def run(nlp: Language):
    """Text -> Analysis through the real pipeline."""

    def _run(text: str) -> Analysis:
        return next(analyze(nlp, [("t", text)]))

    return _run
