"""The trained stance stage: shipped with the repository, added after the rules, never doubling them."""

from __future__ import annotations

import json

from extractors.linear import Linear
from extractors.stance_model import MODEL_DIR, WEIGHTS, candidates

TEXT = ("Tomasz Wierzbicki voted to acquit Henrik Dahl on both charges.\n\n"
        "Maria Lindqvist slammed the tariff plan as reckless.\n\n"
        "Amara Okafor called the agreement a disgrace for Kenya.")


def test_the_model_ships_with_its_scores_and_loads(nlp) -> None:  # noqa: ANN001
    assert (MODEL_DIR / WEIGHTS).exists() and (MODEL_DIR / "scores.json").exists()
    scores = json.loads((MODEL_DIR / "scores.json").read_text())
    assert scores["train_articles"] >= 90 and not scores["provisional_labels"]
    assert "newsmon_stance_model" in nlp.pipe_names
    assert nlp.pipe_names[-1] == "newsmon_stance_model"  # after the rules it complements
    probs = Linear.load(MODEL_DIR / WEIGHTS).probs(["role_nsubj", "w=criticise"])
    assert set(probs) == {"support", "oppose", "none"} and abs(sum(probs.values()) - 1) < 1e-5


def test_model_stances_add_to_the_rules_and_never_double_them(run, nlp) -> None:  # noqa: ANN001
    analysis = run(TEXT)
    threshold = nlp.get_pipe("newsmon_stance_model").threshold
    seen = set()
    for s in analysis.stances:
        key = (s.holder, s.evidence.sent_start)
        assert key not in seen, f"two stances for one holder in one sentence: {s}"
        seen.add(key)
        if s.cue == "(model)":  # calibrated: the precision such stances had on dev
            assert 0.0 < s.confidence <= 1.0 and threshold > 0
    assert any(s.cue == "(model)" for s in analysis.stances)  # "voted to acquit" is no lexicon cue


def test_every_actor_in_a_sentence_is_a_candidate(nlp) -> None:  # noqa: ANN001
    doc = nlp("Maria Lindqvist met Henrik Dahl in Oslo.")
    holders = {c.holder for c in candidates(doc)}
    assert {"Maria Lindqvist", "Henrik Dahl"} <= holders
    assert all(any(f.startswith("role_") for f in c.features) for c in candidates(doc))
