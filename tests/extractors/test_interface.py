from __future__ import annotations

import dataclasses

import pytest

import extractors
from config.errors import ConfigError
from config.settings import Settings


def test_exported_members() -> None:
    assert set(extractors.__all__) >= {
        "build_nlp", "analyze", "EXTRACTOR_VERSION", "Actor", "Amount", "Analysis", "Event",
        "Evidence", "Mention", "Quote", "Stance",
    }


def test_records_are_frozen(run) -> None:
    a = run("Canada pledged C$500 million to Ukraine.")
    with pytest.raises(dataclasses.FrozenInstanceError):
        a.id = "x"  # type: ignore[misc]


def test_to_spec_shape_and_offsets(run) -> None:
    text = "Canada pledged C$500 million to Ukraine."
    spec = run(text).to_spec()
    assert set(spec) == {"id", "actors", "amounts", "stances", "events", "quotes"}
    amount = spec["amounts"][0]
    assert amount["value"] == 500000000 and amount["currency"] == "CAD"
    assert text[amount["start"]:amount["end"]] == amount["text"]
    assert {"name", "type"} <= set(spec["actors"][0])


def test_pipeline_is_built_once(nlp) -> None:
    assert extractors.build_nlp(Settings()) is nlp


def test_missing_model_names_the_setting() -> None:
    with pytest.raises(ConfigError, match="NEWSMON_SPACY_MODEL"):
        extractors.build_nlp(Settings(spacy_model="no_such_model_xyz"))


def test_broken_gazetteer_is_a_config_error(tmp_path) -> None:
    bad = tmp_path / "actors.toml"
    bad.write_text("[[actor]]\nname = 'X'\ntype = 'PLANET'\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="actor #1"):
        extractors.build_nlp(Settings(actors_file=bad))


def test_to_disk_round_trip(nlp, tmp_path) -> None:
    import spacy

    nlp.to_disk(tmp_path / "pipe")
    again = spacy.load(tmp_path / "pipe")
    a = next(extractors.analyze(again, [("x", "NATO allies pledged $5bn to Ukraine.")]))
    assert {x.name for x in a.actors} >= {"NATO", "Ukraine"}
