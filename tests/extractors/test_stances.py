from __future__ import annotations

import json
from pathlib import Path

import pytest

CASES = sorted((Path(__file__).parent / "cases").glob("*.json"))


def stances(analysis) -> set[tuple[str, str]]:
    return {(s.holder, s.polarity) for s in analysis.stances}


def test_subject_of_cue_verb(run) -> None:
    a = run("France criticised the new sanctions on Iran.")
    assert ("France", "oppose") in stances(a)


def test_negated_cue_is_no_stance(run) -> None:
    a = run("Germany did not criticise the new sanctions.")
    assert a.stances == ()


def test_refused_to_back_is_opposition(run) -> None:
    a = run("Hungary refused to back the EU plan.")
    assert stances(a) == {("Hungary", "oppose")}


def test_pushback_from_and_plan_owner(run) -> None:
    a = run("Jens Stoltenberg proposed a plan to fund Ukraine. "
            "However, the plan has faced pushback from the White House.")
    wh = next(s for s in a.stances if s.holder == "White House")
    assert wh.polarity == "oppose" and wh.cue == "pushback"
    assert wh.target == "Jens Stoltenberg" and wh.target_is_actor
    assert 0.0 <= wh.confidence <= 1.0
    assert wh.evidence.sentence.startswith("However")


def test_holder_must_be_named(run) -> None:
    a = run("Officials criticised the plan.")
    assert a.stances == ()


def test_events_have_codes(run) -> None:
    a = run("Japan condemned the missile launch by North Korea.")
    ev = next(e for e in a.events if e.source == "Japan")
    assert (ev.type, ev.cameo, ev.plover) == ("disapprove", "11", "DISAPPROVE")


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_regression_case(run, path: Path) -> None:
    case = json.loads(path.read_text(encoding="utf-8"))
    a = run(case["text"])
    got = stances(a)
    for holder, polarity in case.get("stances", []):
        assert (holder, polarity) in got, case.get("description")
    for holder, polarity, target in case.get("targets", []):
        assert any((s.holder, s.polarity, s.target) == (holder, polarity, target)
                   for s in a.stances), (case.get("description"), a.stances)
    for holder, polarity in case.get("no_stances", []):
        assert (holder, polarity) not in got, case.get("description")
    for speaker, words in case.get("quotes", []):  # [speaker, a phrase of the quote]
        assert any(q.speaker == speaker and words in q.text for q in a.quotes), (
            case.get("description"), [(q.speaker, q.text) for q in a.quotes])
    actor_names = {x.name for x in a.actors}
    for name in case.get("actors", []):
        assert name in actor_names, case.get("description")
    for name in case.get("no_actors", []):
        assert name not in actor_names, (case.get("description"), actor_names)
    if "amounts" in case:  # the exact sums found, as [value, currency]
        got_sums = sorted((round(m.value, 2), m.currency) for m in a.amounts)
        want = sorted((float(v), c) for v, c in case["amounts"])
        assert got_sums == want, case.get("description")
