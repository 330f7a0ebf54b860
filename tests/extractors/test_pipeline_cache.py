"""One pipeline per process and data files, keyed by what it was built from."""

from __future__ import annotations

import gc
import os
import re
import shutil
import weakref
from pathlib import Path

from config.settings import Settings
from extractors import analyze, build_nlp
from extractors.nlp import DIMINUTIVES_FILE, pipeline_fingerprint

NEW_ACTOR = """
# Test entry: a body the statistical NER cannot know by this name.
[[actor]]
name = "Quorvath Tariff Board"
type = "ORG"
aliases = ["QTB"]
"""


def _copies(tmp_path: Path) -> tuple[Path, Path, Path]:
    settings = Settings()
    actors = Path(shutil.copy(settings.actors_file, tmp_path / "actors.toml"))
    cues = Path(shutil.copy(settings.cues_file, tmp_path / "cues.toml"))
    diminutives = Path(shutil.copy(DIMINUTIVES_FILE, tmp_path / "diminutives.toml"))
    return actors, cues, diminutives


def test_fingerprint_follows_content_not_mtime(tmp_path: Path) -> None:
    actors, cues, diminutives = _copies(tmp_path)
    model = Settings().spacy_model
    first = pipeline_fingerprint(model, actors, cues, diminutives)
    assert re.fullmatch(r"[0-9a-f]{12}", first)
    os.utime(actors, (1, 1))  # touched, same bytes
    assert pipeline_fingerprint(model, actors, cues, diminutives) == first
    for path in (actors, cues, diminutives):
        before = path.read_bytes()
        path.write_bytes(before + b"\n# edited\n")
        assert pipeline_fingerprint(model, actors, cues, diminutives) != first, path.name
        path.write_bytes(before)
    assert pipeline_fingerprint(model, actors, cues, diminutives) == first
    assert pipeline_fingerprint("another_model", actors, cues, diminutives) != first


def test_edited_gazetteer_replaces_the_cached_pipeline(tmp_path: Path) -> None:
    actors, _, _ = _copies(tmp_path)
    settings = Settings(actors_file=actors)
    old = build_nlp(settings)
    assert build_nlp(settings) is old
    old_print = old.meta["newsmon_fingerprint"]
    text = "The QTB criticised the plan."
    assert "Quorvath Tariff Board" not in {a.name for a in next(analyze(old, [("t", text)])).actors}

    actors.write_text(actors.read_text(encoding="utf-8") + NEW_ACTOR, encoding="utf-8")
    new = build_nlp(settings)
    assert new is not old
    assert new.meta["newsmon_fingerprint"] != old_print
    assert new.meta["newsmon_fingerprint"] == pipeline_fingerprint(
        settings.spacy_model, actors, settings.cues_file)
    assert "Quorvath Tariff Board" in {a.name for a in next(analyze(new, [("t", text)])).actors}
    assert build_nlp(settings) is new

    # The stale pipeline is dropped from the cache, not kept beside the new one.
    gone = weakref.ref(old)
    del old
    gc.collect()
    assert gone() is None
